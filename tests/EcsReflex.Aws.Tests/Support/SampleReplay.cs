using EcsReflex.Core.Decisions;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>The repository's sample events and scenarios replayed on the embedded cluster, as `reflex replay` does.</summary>
public static class SampleReplay
{
    public static ReflexPolicy Policy()
    {
        var (policy, errors) = PolicyLoader.TryLoad(File.ReadAllBytes(RepoPaths.At("reflex.policy.json")));
        Assert.Empty(errors);
        return policy!;
    }

    public static async Task<IReadOnlyList<ReplayRecord>> RunAsync()
    {
        var snapshot = SnapshotReader.Parse(File.ReadAllBytes(RepoPaths.At("events", "cluster.snapshot.json")));
        var engine = new ReplayEngine(Policy(), new EmbeddedCluster(snapshot));
        var files = ReplayInputs.ResolveFiles([RepoPaths.At("events")]);
        var items = ReplayInputs.Merge(files.Select(f => ReplayInputs.Read(f, Path.GetRelativePath(RepoPaths.Root, f))).ToList());
        var records = new List<ReplayRecord>();
        await foreach (var r in engine.RunAsync(items)) records.Add(r);
        return records;
    }

    /// <summary>Every action of the replay that would go to AWS (service <c>ecs</c>...), with the input it came from.</summary>
    public static async Task<IReadOnlyList<(string Input, ReflexAction Action)>> AwsActionsAsync() =>
        (await RunAsync()).SelectMany(r => r.Actions.Select(a => (r.Input, a.Action))).Where(x => x.Action.Service != "reflex").ToList();
}
