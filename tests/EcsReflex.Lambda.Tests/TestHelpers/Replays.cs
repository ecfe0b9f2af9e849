using System.Text;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>The two replays over the same inputs, each as the JSON lines it prints.</summary>
public static class Replays
{
    public static ClusterSnapshot Snapshot => SnapshotReader.Parse(File.ReadAllBytes(Repo.Snapshot));

    private static string Label(string file) => Path.GetRelativePath(Repo.Root, file);

    /// <summary>The in-process replay, in dry run (as the Lambda replay runs).</summary>
    public static async Task<List<string>> InProcessAsync(params string[] paths)
    {
        var engine = new ReplayEngine(PolicyLoader.Load(File.ReadAllBytes(Repo.Policy)), new EmbeddedCluster(Snapshot), dryRun: true);
        var files = ReplayInputs.ResolveFiles(paths);
        var items = ReplayInputs.Merge(files.Select(f => ReplayInputs.Read(f, Label(f))).ToList());
        using var ms = new MemoryStream();
        using (var w = new JsonLinesWriter(ms))
            await foreach (var r in engine.RunAsync(items)) w.Write(r);
        return Lines(ms);
    }

    /// <summary>The same inputs through a real bootstrap against the emulator.</summary>
    public static async Task<(List<string> Lines, LambdaReplay Replay)> ThroughBootstrapAsync(BootstrapCommand bootstrap, params string[] paths)
    {
        var replay = new LambdaReplay(new LambdaReplayOptions { Bootstrap = bootstrap, PolicyPath = Repo.Policy, Snapshot = Snapshot });
        var files = ReplayInputs.ResolveFiles(paths);
        var inputs = RawInputs.Merge(files.Select(f => RawInputs.Read(f, Label(f))).ToList());
        using var ms = new MemoryStream();
        using (var w = new JsonLinesWriter(ms))
            await foreach (var r in replay.RunAsync(inputs)) w.Write(r);
        return (Lines(ms), replay);
    }

    private static List<string> Lines(MemoryStream ms) =>
        Encoding.UTF8.GetString(ms.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>Asserts two replays printed the same records, naming the first line that differs.</summary>
    public static void AssertSame(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            Assert.True(expected[i] == actual[i], $"line {i + 1} differs:\n in process: {expected[i]}\n bootstrap:  {actual[i]}");
        Assert.Equal(expected.Count, actual.Count);
    }

    /// <summary>A .jsonl file with poison lines between two good events, in a fresh temporary folder.</summary>
    public static string PoisonScenario()
    {
        var dir = Directory.CreateTempSubdirectory("reflex-poison-");
        var good = File.ReadAllText(Repo.Path("events", "ecs-task-stopped-spot-interruption.json")).ReplaceLineEndings("").Trim();
        var path = Path.Combine(dir.FullName, "poison.jsonl");
        File.WriteAllLines(path,
        [
            good.Replace("\"id\":", "\"id\": \"poison-a\", \"x\":", StringComparison.Ordinal).Replace("\"taskArn\":", "\"taskArnX\":", StringComparison.Ordinal),
            "{ this is not JSON",
            """{"version":"0","id":"poison-b","detail-type":"ECS Task State Change","source":"aws.ecs","time":"2026-03-04T01:00:00Z","detail":{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","taskArn":"t","lastStatus":"STOPPED","version":"five"}}""",
            good,
        ]);
        return path;
    }
}
