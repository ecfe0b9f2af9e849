using EcsReflex.Core.Hosting;
using System.CommandLine;
using EcsReflex.Engine.Replay;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Cli;

/// <summary>
/// <c>reflex replay --lambda [--handler NAME] [--bootstrap FILE]</c>: the same replay, through the real
/// bootstrap binary against the project's Runtime API emulator (its in-memory store and embedded cluster).
/// </summary>
public sealed class CliLambda
{
    private readonly Option<bool> _lambda = new("--lambda")
    {
        Description = "Run the real Native AOT bootstrap against the Runtime API emulator (one process per handler, sharing the emulator's in-memory store and embedded cluster; nothing reaches AWS) instead of in process. Publishes the bootstrap unless --bootstrap is given.",
    };
    private readonly Option<string?> _handler = new("--handler")
    {
        Description = "With --lambda: send every event to this handler's bootstrap. Default: each event to its detail type's handler, deferred work to relaunch-due.",
    };
    private readonly Option<string?> _bootstrap = new("--bootstrap")
    {
        Description = "With --lambda: the bootstrap to run (a published binary, or bootstrap.dll to run it on the JIT) instead of publishing one.",
    };

    public static CliLambda AddOptions(Command replay)
    {
        var c = new CliLambda();
        c._handler.AcceptOnlyFromAmong([.. HandlerNames.All]);
        replay.Options.Add(c._lambda);
        replay.Options.Add(c._handler);
        replay.Options.Add(c._bootstrap);
        return c;
    }

    public bool Requested(ParseResult parse) =>
        parse.GetValue(_lambda) || parse.GetValue(_handler) is not null || parse.GetValue(_bootstrap) is not null;

    public async Task<int> ReplayAsync(ParseResult parse, CliApp.ReplayOptions o, TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct)
    {
        if (!parse.GetValue(_lambda))
        {
            stderr.WriteLine("--handler and --bootstrap go with --lambda: add --lambda to run the bootstrap");
            return CliApp.UsageError;
        }
        if (!CliApp.TryLoadPolicy(o.Policy, stderr, out _)) return CliApp.UsageError;
        if (!ReplaySetup.TryLoadSnapshot(o.Snapshot, stderr, out var snapshot)) return CliApp.UsageError;

        IReadOnlyList<string> files;
        try
        {
            files = ReplayInputs.ResolveFiles(o.Paths.Length > 0 ? o.Paths : [CliApp.DefaultEvents]);
        }
        catch (InputPathException ex)
        {
            foreach (var p in ex.Problems) stderr.WriteLine(p);
            return CliApp.UsageError;
        }

        BootstrapCommand command;
        if (parse.GetValue(_bootstrap) is { } given)
        {
            if (!File.Exists(given))
            {
                stderr.WriteLine($"{given}: no such bootstrap");
                return CliApp.UsageError;
            }
            command = given.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? BootstrapCommand.Jit(given) : BootstrapCommand.Native(given);
        }
        else
        {
            var root = BootstrapPublisher.FindRepositoryRoot(Directory.GetCurrentDirectory());
            if (root is null)
            {
                stderr.WriteLine("--lambda publishes the bootstrap from the repository, and no Serverless.sln is above this folder: run it from the repository, or give --bootstrap FILE");
                return CliApp.UsageError;
            }
            try
            {
                command = BootstrapCommand.Native((await BootstrapPublisher.PublishAsync(root, stderr, ct)).BootstrapPath);
            }
            catch (InvalidOperationException ex)
            {
                stderr.WriteLine(ex.Message);
                return CliApp.InternalError;
            }
        }

        await using var replay = new LambdaReplay(new LambdaReplayOptions
        {
            Bootstrap = command, PolicyPath = o.Policy, Snapshot = snapshot, Handler = parse.GetValue(_handler),
        }) { Until = o.Until };
        ReplaySummary summary;
        var inputs = RawInputs.Merge(files.Select(f => RawInputs.Read(f, Path.GetRelativePath(Directory.GetCurrentDirectory(), f))).ToList());
        try
        {
            summary = await ReplayPrinter.PrintAsync(replay.RunAsync(inputs, ct), o.Format, stdout, stderr, rawStdout, ct);
        }
        catch (IOException ex)
        {
            stderr.WriteLine($"cannot read an input: {ex.Message}");
            return CliApp.UsageError;
        }
        catch (LambdaReplayException ex)
        {
            stderr.WriteLine($"reflex replay --lambda: {ex.Message}");
            return CliApp.InternalError;
        }
        foreach (var f in replay.Functions.Values.OrderBy(f => f.Handler, StringComparer.Ordinal))
        {
            var d = f.InvokeDurations;
            stderr.WriteLine($"lambda {f.Handler}: {command} — init (exec to first next) {f.InitDuration.TotalMilliseconds:F1} ms, "
                + $"{d.Count} invocation{(d.Count == 1 ? "" : "s")}" + (d.Count > 0 ? $", mean {d.Average(x => x.TotalMilliseconds):F2} ms, max {d.Max(x => x.TotalMilliseconds):F2} ms" : ""));
        }
        if (replay.Local.DeadLetters.Count > 0)
            stderr.WriteLine($"lambda: {replay.Local.DeadLetters.Count} input(s) dead-lettered (see the rejected rows)");
        return o.ExitCode(summary, stderr);
    }
}
