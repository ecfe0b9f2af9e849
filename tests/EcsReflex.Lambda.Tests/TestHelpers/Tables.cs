using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>The two replays over the same inputs, each as the table <c>reflex replay</c> prints (what a person compares).</summary>
public static class Tables
{
    private static string Label(string file) => Path.GetRelativePath(Repository.Root, file);

    public static async Task<List<string>> InProcessAsync(string path, ClusterSnapshot snapshot)
    {
        var engine = new ReplayEngine(ReplayHarness.Policy(), new EmbeddedCluster(snapshot));
        var text = new StringWriter();
        var table = new TableWriter(text);
        await foreach (var r in engine.RunAsync(ReplayHarness.Inputs([path], Label))) table.Write(r);
        return Lines(text);
    }

    public static async Task<List<string>> ThroughBootstrapAsync(BootstrapCommand bootstrap, string path, ClusterSnapshot snapshot)
    {
        await using var replay = new LambdaReplay(new LambdaReplayOptions { Bootstrap = bootstrap, PolicyPath = Repository.Policy, Snapshot = snapshot });
        var files = ReplayInputs.ResolveFiles([path]);
        var inputs = RawInputs.Merge(files.Select(f => RawInputs.Read(f, Label(f))).ToList());
        var text = new StringWriter();
        var table = new TableWriter(text);
        await foreach (var r in replay.RunAsync(inputs)) table.Write(r);
        return Lines(text);
    }

    private static List<string> Lines(StringWriter w) => [.. w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
}
