using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.TestSupport;

/// <summary>
/// Runs the replay engine in process, as <c>reflex replay</c> does: the repository's policy and snapshot unless a
/// test gives its own, inputs merged in event time order. The one replay harness of the test projects.
/// </summary>
public static class ReplayHarness
{
    public static ReflexPolicy Policy() => PolicyLoader.Load(File.ReadAllBytes(Repository.Policy));

    public static ClusterSnapshot Snapshot() => SnapshotReader.Parse(File.ReadAllBytes(Repository.Snapshot));

    /// <summary>A fresh embedded cluster started from the repository's snapshot.</summary>
    public static EmbeddedCluster Cluster() => new(Snapshot());

    /// <summary>Inputs named by their file name (<c>crash-loop.jsonl:3</c>): the default.</summary>
    public static string FileName(string file) => System.IO.Path.GetFileName(file);

    /// <summary>Inputs named relative to the repository root (<c>events/scenarios/crash-loop.jsonl:3</c>), as <c>reflex replay</c> run from there prints them.</summary>
    public static string FromRoot(string file) => System.IO.Path.GetRelativePath(Repository.Root, file);

    /// <summary>The inputs of <paramref name="paths"/> (files, or folders read as <c>reflex replay</c> reads them), merged in event time order.</summary>
    public static IEnumerable<InputItem> Inputs(IEnumerable<string> paths, Func<string, string>? label = null)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? ReplayInputs.ResolveFiles([p]) : [p]);
        return ReplayInputs.Merge([.. files.Select(f => ReplayInputs.Read(f, (label ?? FileName)(f)))]);
    }

    /// <summary>Every record of <paramref name="engine"/> over <paramref name="items"/>.</summary>
    public static async Task<List<ReplayRecord>> RecordsAsync(ReplayEngine engine, IEnumerable<InputItem> items)
    {
        var records = new List<ReplayRecord>();
        await foreach (var r in engine.RunAsync(items)) records.Add(r);
        return records;
    }

    /// <summary>Replays <paramref name="paths"/> on a fresh engine (the repository's policy and a fresh cluster from its snapshot unless given).</summary>
    public static async Task<(List<ReplayRecord> Records, ReplayEngine Engine)> RunAsync(
        IEnumerable<string> paths, ReflexPolicy? policy = null, EmbeddedCluster? cluster = null, Func<string, string>? label = null)
    {
        var engine = new ReplayEngine(policy ?? Policy(), cluster ?? Cluster());
        return (await RecordsAsync(engine, Inputs(paths, label)), engine);
    }

    /// <summary>The records of <paramref name="paths"/> named as <c>reflex replay PATH...</c> run from the repository root names them.</summary>
    public static async Task<List<ReplayRecord>> RecordsAsync(params string[] paths) => (await RunAsync(paths, label: FromRoot)).Records;

    /// <summary>Replays one of <c>events/scenarios</c> (<c>crash-loop.jsonl</c>) alone.</summary>
    public static Task<(List<ReplayRecord> Records, ReplayEngine Engine)> RunScenarioAsync(string name, ReflexPolicy? policy = null) =>
        RunAsync([Repository.Path("events", "scenarios", name)], policy);

    /// <summary>Writes lines to a temporary .jsonl file and returns its path.</summary>
    public static string TempJsonl(IEnumerable<string> lines)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"reflex-test-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }
}
