using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>Runs the replay engine in process on the repository's policy and snapshot.</summary>
public static class ReplayHarness
{
    public static ReflexPolicy RepoPolicy() => PolicyLoader.Load(File.ReadAllBytes(RepoFiles.Path("reflex.policy.json")));

    public static EmbeddedCluster RepoCluster() =>
        new(SnapshotReader.Parse(File.ReadAllBytes(RepoFiles.Path("events", "cluster.snapshot.json"))));

    public static async Task<(List<ReplayRecord> Records, ReplayEngine Engine)> RunAsync(
        IEnumerable<string> files, ReflexPolicy? policy = null, EmbeddedCluster? cluster = null)
    {
        var engine = new ReplayEngine(policy ?? RepoPolicy(), cluster ?? RepoCluster());
        var items = ReplayInputs.Merge(files.Select(f => ReplayInputs.Read(f, System.IO.Path.GetFileName(f))).ToList());
        var records = new List<ReplayRecord>();
        await foreach (var r in engine.RunAsync(items)) records.Add(r);
        return (records, engine);
    }

    public static Task<(List<ReplayRecord> Records, ReplayEngine Engine)> RunScenarioAsync(string name, ReflexPolicy? policy = null) =>
        RunAsync([RepoFiles.Path("events", "scenarios", name)], policy);

    /// <summary>Writes lines to a temporary .jsonl file and returns its path.</summary>
    public static string TempJsonl(IEnumerable<string> lines)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"reflex-test-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }
}
