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

    public ReplayEngine NewEngine() => new(Policy, new EmbeddedCluster(Snapshot));
}

public static class ReplaySetup
{
    /// <summary>Loads the policy, the snapshot and the input list; prints every problem on <paramref name="stderr"/> and returns null when one is found.</summary>
    public static ReplayPlan? TryPrepare(string policyPath, string? snapshotOption, IReadOnlyList<string> paths, TextWriter stderr)
    {
        if (!CliApp.TryLoadPolicy(policyPath, stderr, out var policy)) return null;

        var snapshot = ClusterSnapshot.Empty;
        var snapshotPath = snapshotOption ?? (File.Exists(CliApp.DefaultSnapshot) ? CliApp.DefaultSnapshot : null);
        if (snapshotPath is not null)
        {
            try
            {
                snapshot = SnapshotReader.Parse(File.ReadAllBytes(snapshotPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{snapshotPath}: cannot read the snapshot: {ex.Message}");
                return null;
            }
            catch (SnapshotInvalidException ex)
            {
                stderr.WriteLine(ex.Syntax is { } syntax ? syntax.At(snapshotPath) : $"{snapshotPath}: {ex.Message}");
                return null;
            }
        }

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
}
