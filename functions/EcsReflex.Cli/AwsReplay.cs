using System.CommandLine;
using EcsReflex.Aws;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Ports;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Cli;

/// <summary>
/// <c>reflex replay --aws [--region R] [--profile P] [--execute]</c>: the same replay, observing the real account
/// through the project's AWS clients (credentials from the default chain or the profile, endpoints from
/// <c>AWS_ENDPOINT_URL_*</c>). The actuator runs in dry-run unless <c>--execute</c>: the table then shows each exact
/// request that would be (or was) sent.
/// </summary>
public static class AwsReplay
{
    public sealed record Options(bool Aws, string? Region, string? Profile, bool Execute);

    public static readonly Option<bool> AwsOption = new("--aws") { Description = "Observe the real AWS account (default credential chain) instead of the embedded cluster; the actuator runs in dry-run unless --execute." };
    public static readonly Option<string?> RegionOption = new("--region") { Description = "With --aws: the region (default: AWS_REGION, then the profile's)." };
    public static readonly Option<string?> ProfileOption = new("--profile") { Description = "With --aws: a named profile of the shared AWS config and credentials files." };
    public static readonly Option<bool> ExecuteOption = new("--execute") { Description = "With --aws: send the actions for real (default: dry-run, nothing is sent)." };

    /// <summary>Adds the options to the replay command.</summary>
    public static void AddTo(Command replay)
    {
        replay.Options.Add(AwsOption);
        replay.Options.Add(RegionOption);
        replay.Options.Add(ProfileOption);
        replay.Options.Add(ExecuteOption);
    }

    public static Options Read(ParseResult parse) =>
        new(parse.GetValue(AwsOption), parse.GetValue(RegionOption), parse.GetValue(ProfileOption), parse.GetValue(ExecuteOption));

    public static async Task<int> RunAsync(CliApp.ReplayOptions o, Options aws, IEnvironment environment, TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct)
    {
        if (!aws.Aws)
        {
            stderr.WriteLine("--region, --profile and --execute apply to --aws only: add --aws to replay against the account");
            return CliApp.UsageError;
        }
        if (o.Snapshot is not null)
        {
            stderr.WriteLine("--snapshot describes the embedded cluster; with --aws the cluster is the real one: drop one of them");
            return CliApp.UsageError;
        }
        if (!CliApp.TryLoadPolicy(o.Policy, stderr, out var policy)) return CliApp.UsageError;

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

        AwsClients clients;
        try
        {
            clients = AwsClients.Create(environment, aws.Region, aws.Profile);
        }
        catch (AwsConfigurationException ex)
        {
            stderr.WriteLine($"reflex: {ex.Message}");
            return CliApp.UsageError;
        }

        using (clients)
        {
            var dryRun = !aws.Execute;
            stderr.WriteLine($"reflex: replaying against AWS in {clients.Region}; {(dryRun ? "dry run: nothing is sent (add --execute to send)" : "--execute: actions ARE SENT")}");
            var engine = new ReplayEngine(policy, new AwsEcsApi(clients.Ecs), new AwsClusterObserver(clients.Ecs), dryRun: dryRun) { Until = o.Until };
            var items = ReplayInputs.Merge(files.Select(f => ReplayInputs.Read(f, Path.GetRelativePath(Directory.GetCurrentDirectory(), f))).ToList());
            try
            {
                // Each table row is followed by the exact requests: against a real account, that is what matters.
                var summary = await ReplayPrinter.PrintAsync(engine.RunAsync(items, ct), o.Format, stdout, stderr, rawStdout, ct,
                    afterRow: r =>
                    {
                        foreach (var a in r.Actions)
                            stdout.WriteLine($"    {a.Action.Service} {a.Action.Operation} [{a.Status}{(a.Detail is null ? "" : $": {a.Detail}")}] {ActionJson.ToJson(a.Action.Request)}");
                    });
                return o.ExitCode(summary, stderr);
            }
            catch (ApiCallException ex)
            {
                stderr.WriteLine($"reflex: AWS: {ex.Message}");
                return CliApp.InternalError;
            }
            catch (IOException ex)
            {
                stderr.WriteLine($"cannot read an input: {ex.Message}");
                return CliApp.UsageError;
            }
        }
    }
}
