using System.Text;
using EcsReflex.Cli;
using EcsReflex.Aws.Config;

namespace EcsReflex.TestSupport;

/// <summary>Runs the <c>reflex</c> command in process and captures what it printed: the one way the tests call the command.</summary>
public static class CliRun
{
    /// <returns>The exit code, standard output, standard error, and the raw standard output stream (the JSON lines) as text.</returns>
    public static Task<(int Code, string Out, string Err, string Raw)> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>The same with the environment the command reads (AWS endpoints, region, credentials) given by the test.</summary>
    public static async Task<(int Code, string Out, string Err, string Raw)> RunAsync(IEnvironment? environment, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var raw = new MemoryStream();
        var code = await CliApp.RunAsync(args, stdout, stderr, raw, environment: environment);
        return (code, stdout.ToString(), stderr.ToString(), Encoding.UTF8.GetString(raw.ToArray()));
    }
}
