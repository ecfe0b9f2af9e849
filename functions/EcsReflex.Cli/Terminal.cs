namespace EcsReflex.Cli;

/// <summary>What the command line needs to know about its console, behind an interface so tests can pose as any terminal.</summary>
public interface ITerminal
{
    /// <summary>True when standard error is not a terminal (a file, a pipe).</summary>
    bool IsErrorRedirected { get; }
    /// <summary>True when standard output is not a terminal.</summary>
    bool IsOutputRedirected { get; }
    /// <summary>Columns of the terminal (80 when it cannot tell).</summary>
    int Width { get; }
    string? GetEnvironmentVariable(string name);
}

/// <summary>The real console.</summary>
public sealed class SystemTerminal : ITerminal
{
    public bool IsErrorRedirected => Console.IsErrorRedirected;
    public bool IsOutputRedirected => Console.IsOutputRedirected;

    public int Width
    {
        get
        {
            try
            {
                var w = Console.WindowWidth;
                return w > 0 ? w : 80;
            }
            catch (Exception ex) when (ex is IOException or PlatformNotSupportedException or InvalidOperationException)
            {
                return 80;
            }
        }
    }

    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);
}

/// <summary>A terminal that is never interactive: what a test, a pipe or CI looks like.</summary>
public sealed class RedirectedTerminal : ITerminal
{
    public static readonly RedirectedTerminal Instance = new();
    public bool IsErrorRedirected => true;
    public bool IsOutputRedirected => true;
    public int Width => 80;
    public string? GetEnvironmentVariable(string name) => null;
}
