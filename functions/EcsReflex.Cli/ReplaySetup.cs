using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Cli;

/// <summary>
/// What a replay needs, loaded once and the same way for <c>reflex replay</c> and <c>reflex report</c>:
/// the policy, the snapshot of the embedded cluster and the input files.
/// </summary>
public sealed record ReplayPlan(ReflexPolicy Policy, ClusterSnapshot Snapshot, IReadOnlyList<string> Files)
{
    /// <summary>Sum of the input files' sizes, for the progress bar's time left.</summary>
    public long TotalBytes => Files.Sum(f =>
    {
        try { return new FileInfo(f).Length; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0L; }
    });

    /// <summary>How an input file is named in the output: relative to the current folder.</summary>
    public static string Label(string file) => Path.GetRelativePath(Directory.GetCurrentDirectory(), file);

    public IReadOnlyList<string> Labels => [.. Files.Select(Label)];

    /// <summary>The inputs merged in event time order; <paramref name="bytesRead"/> hears the bytes as they are read.</summary>
    public IEnumerable<InputItem> Items(Action<long>? bytesRead = null) =>
        ReplayInputs.Merge([.. Files.Select(f => ReplayInputs.Read(f, Label(f), bytesRead))]);

    /// <param name="until">Where periodic work stops (<c>--until</c>); null: the last input's time.</param>
    public ReplayEngine NewEngine(DateTimeOffset? until = null) => new(Policy, new EmbeddedCluster(Snapshot)) { Until = until };
}

public static class ReplaySetup
{
    /// <summary>Loads the policy, the snapshot and the input list; prints every problem on <paramref name="stderr"/> and returns null when one is found.</summary>
    public static ReplayPlan? TryPrepare(string policyPath, string? snapshotOption, IReadOnlyList<string> paths, TextWriter stderr)
    {
        if (!CliApp.TryLoadPolicy(policyPath, stderr, out var policy)) return null;

        if (!TryLoadSnapshot(snapshotOption, stderr, out var snapshot)) return null;

        try
        {
            return new ReplayPlan(policy, snapshot, ReplayInputs.ResolveFiles(paths.Count > 0 ? paths : [CliApp.DefaultEvents]));
        }
        catch (InputPathException ex)
        {
            foreach (var p in ex.Problems) stderr.WriteLine(p);
            return null;
        }
    }

    /// <summary>
    /// Loads the snapshot (<paramref name="option"/>, else the default when it exists): a file or a folder of AWS CLI
    /// outputs. Prints its problems and returns false; prints its warnings, and the one that says placement cannot be
    /// simulated when it has no container instances, once, before the replay starts. Every way of replaying on the
    /// embedded cluster (in process, --lambda, report) loads it here.
    /// </summary>
    public static bool TryLoadSnapshot(string? option, TextWriter stderr, out ClusterSnapshot snapshot)
    {
        snapshot = ClusterSnapshot.Empty;
        var path = option ?? (File.Exists(CliApp.DefaultSnapshot) ? CliApp.DefaultSnapshot : null);
        if (path is not null)
        {
            try
            {
                var load = SnapshotReader.Load(path);
                snapshot = load.Snapshot;
                foreach (var w in load.Warnings) stderr.WriteLine($"{path}: warning: {w}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{path}: cannot read the snapshot: {ex.Message}");
                return false;
            }
            catch (SnapshotInvalidException ex)
            {
                stderr.WriteLine(ex.Syntax is { } syntax ? syntax.At(path) : $"{path}: {ex.Message}");
                return false;
            }
        }
        if (snapshot.ContainerInstances.Count == 0)
            stderr.WriteLine($"{path ?? "no snapshot"}: warning: {NoInstancesWarning}");
        return true;
    }

    public const string NoInstancesWarning =
        "no container instances, so placement cannot be simulated: every task EcsReflex starts is started on no instance and marked unplaced "
        + "(\"unplaced\" in the table, \"placement\": \"unplaced\" in the JSON lines); add the output of aws ecs describe-container-instances to the snapshot to simulate it";
}
