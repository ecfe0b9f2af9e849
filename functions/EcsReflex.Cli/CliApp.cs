using System.CommandLine;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Observed;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Cli;

/// <summary>
/// The <c>reflex</c> command line. Exit codes: 0 when every input was processed (rejected inputs
/// included), 2 for a usage problem (a path that cannot be opened, an invalid policy or snapshot),
/// 1 for an internal error.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int UsageError = 2;

    public const string DefaultPolicy = "reflex.policy.json";
    public const string DefaultSnapshot = "events/cluster.snapshot.json";
    public const string DefaultEvents = "events";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Stream rawStdout)
    {
        var policyOption = new Option<string>("--policy") { Description = "The policy file.", DefaultValueFactory = _ => DefaultPolicy };

        var validate = new Command("validate", "Load and validate the policy; print every problem with its path. Exit 0 when valid, 2 when not.");
        validate.Options.Add(policyOption);
        validate.SetAction((parse, ct) => Task.FromResult(Validate(parse.GetValue(policyOption)!, stdout, stderr)));

        var snapshotOption = new Option<string?>("--snapshot") { Description = $"The cluster snapshot the embedded cluster starts from (default {DefaultSnapshot} when it exists)." };
        var formatOption = new Option<string>("--format") { Description = "table (default) or jsonl: one JSON object per processed event or fired timer.", DefaultValueFactory = _ => "table" };
        formatOption.AcceptOnlyFromAmong("table", "jsonl");
        var pathsArgument = new Argument<string[]>("PATH") { Description = $"Event files (.json: one event; .jsonl: one per line) or folders. Default: {DefaultEvents}/.", Arity = ArgumentArity.ZeroOrMore };

        var replay = new Command("replay", "Replay events on the embedded cluster: no AWS account needed.");
        replay.Options.Add(policyOption);
        replay.Options.Add(snapshotOption);
        replay.Options.Add(formatOption);
        replay.Arguments.Add(pathsArgument);
        var lambda = CliLambda.AddOptions(replay);
        replay.SetAction((parse, ct) =>
        {
            var o = new ReplayOptions(parse.GetValue(policyOption)!, parse.GetValue(snapshotOption), parse.GetValue(formatOption)!, parse.GetValue(pathsArgument) ?? []);
            return lambda.Requested(parse) ? lambda.ReplayAsync(parse, o, stdout, stderr, rawStdout, ct) : Replay(o, stdout, stderr, rawStdout, ct);
        });

        var root = new RootCommand("EcsReflex: automatic reactions to Amazon ECS cluster events.");
        root.Subcommands.Add(validate);
        root.Subcommands.Add(replay);

        var parsed = root.Parse(args);
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await stderr.WriteLineAsync($"reflex: internal error: {ex}");
            return InternalError;
        }
    }

    public static int Validate(string policyPath, TextWriter stdout, TextWriter stderr)
    {
        if (!TryLoadPolicy(policyPath, stderr, out _)) return UsageError;
        stdout.WriteLine($"{policyPath}: valid");
        return Ok;
    }

    public static bool TryLoadPolicy(string path, TextWriter stderr, out ReflexPolicy policy)
    {
        policy = null!;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{path}: cannot read the policy: {ex.Message}");
            return false;
        }
        var (p, errors) = PolicyLoader.TryLoad(bytes);
        if (errors.Count > 0)
        {
            stderr.WriteLine($"{path}: the policy is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):");
            foreach (var e in errors) stderr.WriteLine($"  {e}");
            return false;
        }
        policy = p!;
        return true;
    }

    public sealed record ReplayOptions(string Policy, string? Snapshot, string Format, string[] Paths);

    public static async Task<int> Replay(ReplayOptions o, TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct)
    {
        if (!TryLoadPolicy(o.Policy, stderr, out var policy)) return UsageError;

        var snapshot = ClusterSnapshot.Empty;
        var snapshotPath = o.Snapshot ?? (File.Exists(DefaultSnapshot) ? DefaultSnapshot : null);
        if (snapshotPath is not null)
        {
            try
            {
                snapshot = SnapshotReader.Parse(File.ReadAllBytes(snapshotPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{snapshotPath}: cannot read the snapshot: {ex.Message}");
                return UsageError;
            }
            catch (SnapshotInvalidException ex)
            {
                stderr.WriteLine($"{snapshotPath}: {ex.Message}");
                return UsageError;
            }
        }

        IReadOnlyList<string> files;
        try
        {
            var paths = o.Paths.Length > 0 ? o.Paths : [DefaultEvents];
            files = ReplayInputs.ResolveFiles(paths);
        }
        catch (InputPathException ex)
        {
            foreach (var p in ex.Problems) stderr.WriteLine(p);
            return UsageError;
        }

        var engine = new ReplayEngine(policy, new EmbeddedCluster(snapshot));
        var items = ReplayInputs.Merge(files.Select(f => ReplayInputs.Read(f, Path.GetRelativePath(Directory.GetCurrentDirectory(), f))).ToList());
        var summary = new ReplaySummary();
        try
        {
            if (o.Format == "jsonl")
            {
                using var w = new JsonLinesWriter(rawStdout);
                await foreach (var r in engine.RunAsync(items, ct))
                {
                    summary.Add(r);
                    w.Write(r);
                }
                rawStdout.Flush();
                stderr.WriteLine(summary.ToString());
            }
            else
            {
                var table = new TableWriter(stdout);
                await foreach (var r in engine.RunAsync(items, ct))
                {
                    summary.Add(r);
                    table.Write(r);
                }
                stdout.WriteLine();
                stdout.WriteLine(summary.ToString());
            }
        }
        catch (IOException ex)
        {
            stderr.WriteLine($"cannot read an input: {ex.Message}");
            return UsageError;
        }
        return Ok;
    }
}
