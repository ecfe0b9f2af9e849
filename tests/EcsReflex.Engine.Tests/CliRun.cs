using System.Text;
using EcsReflex.Cli;

namespace EcsReflex.Engine.Tests;

/// <summary>Runs the <c>reflex</c> command in process and captures what it printed: the one way the command-line tests call it.</summary>
internal static class CliRun
{
    /// <returns>The exit code, standard output, standard error, and the raw standard output stream (the JSON lines) as text.</returns>
    public static async Task<(int Code, string Out, string Err, string Raw)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var raw = new MemoryStream();
        var code = await CliApp.RunAsync(args, stdout, stderr, raw);
        return (code, stdout.ToString(), stderr.ToString(), Encoding.UTF8.GetString(raw.ToArray()));
    }
}
