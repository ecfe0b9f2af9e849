using System.Text;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>What to replay: input paths, the policy, and whether actions are sent (to the embedded cluster) or only recorded.</summary>
public sealed record ReplayCase(params string[] Paths)
{
    public string Policy { get; init; } = Repository.Policy;
    public bool DryRun { get; init; }
    /// <summary>The embedded cluster's start; the sample snapshot when null.</summary>
    public ClusterSnapshot? Snapshot { get; init; }
    /// <summary>Periodic work's end (<c>--until</c>); the last input's time when null.</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>Inputs the embedded cluster sees but no handler hears of (a lossy delivery).</summary>
    public Predicate<Core.Events.EventEnvelope>? Undelivered { get; init; }
    /// <summary>Deferred work the delay queue loses (its message dead-lettered).</summary>
    public Func<Core.Events.EventEnvelope, DateTimeOffset, bool>? LostWork { get; init; }
}

/// <summary>The two replays over the same inputs, each as the JSON lines it prints.</summary>
public static class Replays
{
    public static ClusterSnapshot Snapshot => ReplayHarness.Snapshot();

    private static string Label(string file) => Path.GetRelativePath(Repository.Root, file);

    /// <summary>The in-process replay, as <c>reflex replay</c> runs it: actions sent to the embedded cluster.</summary>
    public static Task<List<string>> InProcessAsync(params string[] paths) => InProcessAsync(new ReplayCase(paths));

    public static async Task<List<string>> InProcessAsync(ReplayCase c)
    {
        var engine = new ReplayEngine(PolicyLoader.Load(File.ReadAllBytes(c.Policy)), new EmbeddedCluster(c.Snapshot ?? Snapshot), dryRun: c.DryRun)
        {
            Until = c.Until, Undelivered = c.Undelivered, LostWork = c.LostWork,
        };
        using var ms = new MemoryStream();
        using (var w = new JsonLinesWriter(ms))
            await foreach (var r in engine.RunAsync(ReplayHarness.Inputs(c.Paths, Label))) w.Write(r);
        return Lines(ms);
    }

    /// <summary>The same inputs through a real bootstrap against the emulator, acting on its embedded cluster.</summary>
    public static Task<(List<string> Lines, LambdaReplay Replay)> ThroughBootstrapAsync(BootstrapCommand bootstrap, params string[] paths) =>
        ThroughBootstrapAsync(bootstrap, new ReplayCase(paths));

    public static async Task<(List<string> Lines, LambdaReplay Replay)> ThroughBootstrapAsync(BootstrapCommand bootstrap, ReplayCase c)
    {
        var replay = new LambdaReplay(new LambdaReplayOptions
        {
            Bootstrap = bootstrap, PolicyPath = c.Policy, Snapshot = c.Snapshot ?? Snapshot, DryRun = c.DryRun, Undelivered = c.Undelivered, LostWork = c.LostWork,
        }) { Until = c.Until };
        var files = ReplayInputs.ResolveFiles(c.Paths);
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
        var good = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-spot-interruption.json")).ReplaceLineEndings("").Trim();
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

    /// <summary>
    /// A .jsonl file, in a fresh temporary folder, whose relaunch can never be placed (a worker that needs more CPU
    /// than any instance has), so the replay ends by the stall rule; and an event no handler takes.
    /// </summary>
    public static string StallScenario()
    {
        var dir = Directory.CreateTempSubdirectory("reflex-stall-");
        var stop = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")).ReplaceLineEndings("").Trim()
            .Replace("2026-03-02T", "2026-04-20T", StringComparison.Ordinal)
            .Replace("\"cpu\": \"512\"", "\"cpu\": \"262144\"", StringComparison.Ordinal)
            .Replace("task-definition/worker:7", "task-definition/worker:99", StringComparison.Ordinal)
            .Replace("358146732611a74220cda34501da72fd", "5a1100000000000000000000000000ff", StringComparison.Ordinal)
            .Replace("55e47226-f6fa", "5a110000-0000", StringComparison.Ordinal);
        Assert.Contains("262144", stop, StringComparison.Ordinal); // the sample still has the shape this scenario edits
        var path = Path.Combine(dir.FullName, "stall.jsonl");
        File.WriteAllLines(path,
        [
            """{"version":"0","id":"no-handler-1","detail-type":"ECS Cluster State Change","source":"aws.ecs","time":"2026-04-20T09:00:00Z","detail":{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}}""",
            stop,
        ]);
        return path;
    }

    /// <summary>The repository's policy with <c>drain.stopOriginalAfterSeconds</c> set, in a fresh temporary folder.</summary>
    public static string PolicyWithDrainDeadline(int seconds)
    {
        var dir = Directory.CreateTempSubdirectory("reflex-policy-");
        var text = File.ReadAllText(Repository.Policy);
        const string grace = "\"agentDisconnectedGraceSeconds\"";
        Assert.Contains(grace, text, StringComparison.Ordinal);
        var path = Path.Combine(dir.FullName, "reflex.policy.json");
        File.WriteAllText(path, text.Replace(grace, $"\"stopOriginalAfterSeconds\": {seconds}, {grace}", StringComparison.Ordinal));
        return path;
    }
}
