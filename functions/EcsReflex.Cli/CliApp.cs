using System.CommandLine;
using EcsReflex.Aws.Config;
using EcsReflex.Core.Policy;
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

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Stream rawStdout, ITerminal? terminal = null, IEnvironment? environment = null)
    {
        terminal ??= RedirectedTerminal.Instance;
        var policyOption = new Option<string>("--policy") { Description = "The policy file.", DefaultValueFactory = _ => DefaultPolicy };

        var validate = new Command("validate", "Load and validate the policy; print every problem with its path. Exit 0 when valid, 2 when not.");
        validate.Options.Add(policyOption);
        validate.SetAction((parse, ct) => Task.FromResult(Validate(parse.GetValue(policyOption)!, stdout, stderr)));

        var snapshotOption = new Option<string?>("--snapshot") { Description = $"The cluster snapshot the embedded cluster starts from: a JSON file (one AWS CLI output, or an array of them) or a folder of *.json outputs (default {DefaultSnapshot} when it exists)." };
        var formatOption = new Option<string>("--format") { Description = "table (default) or jsonl: one JSON object per processed event or fired timer.", DefaultValueFactory = _ => "table" };
        formatOption.AcceptOnlyFromAmong("table", "jsonl");
        var pathsArgument = new Argument<string[]>("PATH") { Description = $"Event files (.json: one event; .jsonl: one per line) or folders. Default: {DefaultEvents}/.", Arity = ArgumentArity.ZeroOrMore };

        var replay = new Command("replay", "Replay events on the embedded cluster: no AWS account needed.");
        replay.Options.Add(policyOption);
        replay.Options.Add(snapshotOption);
        replay.Options.Add(formatOption);
        replay.Arguments.Add(pathsArgument);
        AwsReplay.AddTo(replay);
        var lambda = CliLambda.AddOptions(replay);
        replay.SetAction((parse, ct) =>
        {
            var options = new ReplayOptions(parse.GetValue(policyOption)!, parse.GetValue(snapshotOption), parse.GetValue(formatOption)!, parse.GetValue(pathsArgument) ?? []);
            var aws = AwsReplay.Read(parse);
            var wantsAws = aws is not { Aws: false, Execute: false, Region: null, Profile: null };
            if (wantsAws && lambda.Requested(parse))
            {
                stderr.WriteLine("reflex replay: --aws and --lambda cannot be combined: --lambda runs the real binary on the embedded cluster, --aws observes a real account");
                return Task.FromResult(UsageError);
            }
            if (lambda.Requested(parse)) return lambda.ReplayAsync(parse, options, stdout, stderr, rawStdout, ct);
            return wantsAws
                ? AwsReplay.RunAsync(options, aws, environment ?? new ProcessEnvironment(), stdout, stderr, rawStdout, ct)
                : Replay(options, stdout, stderr, rawStdout, ct, terminal);
        });

        var root = new RootCommand("EcsReflex: automatic reactions to Amazon ECS cluster events.");
        root.Subcommands.Add(validate);
        root.Subcommands.Add(replay);
        root.Subcommands.Add(ReportCommand.Create(policyOption, snapshotOption, pathsArgument, stdout, stderr, terminal));

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

    public static async Task<int> Replay(ReplayOptions o, TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct, ITerminal? terminal = null)
    {
        var plan = ReplaySetup.TryPrepare(o.Policy, o.Snapshot, o.Paths, stderr);
        if (plan is null) return UsageError;

        var engine = plan.NewEngine();
        var progress = ReplayProgress.Create(terminal ?? RedirectedTerminal.Instance, stderr, plan.TotalBytes);
        // Rows written to the terminal the bar is drawn on go above it.
        var sharesTerminal = progress.Enabled && !(terminal?.IsOutputRedirected ?? true);
        var items = plan.Items(progress.OnBytesRead);
        try
        {
            await ReplayPrinter.PrintAsync(engine.RunAsync(items, ct), o.Format, stdout, stderr, rawStdout, ct, progress, sharesTerminal);
        }
        catch (IOException ex)
        {
            progress.Finish();
            stderr.WriteLine($"cannot read an input: {ex.Message}");
            return UsageError;
        }
        return Ok;
    }
}
