using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>The scaler end to end in the replay: the repository's policy, snapshot, sample events and scenario.</summary>
public class ScalingReplayTests
{
    private static async Task<(List<ReplayRecord> Records, EmbeddedCluster Cluster)> ReplayFilesAsync(params string[] files)
    {
        var (records, engine) = await ReplayHarness.RunAsync(files);
        return (records, engine.Cluster);
    }

    private static string Json(UpdateServiceRequest r) => ActionJson.ToJson(r);

    [Fact]
    public async Task ScalingScenario_SendsExactlyTheseUpdateServiceRequests()
    {
        var (records, cluster) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        string Req(int n) => $$"""{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","service":"web","desiredCount":{{n}}}""";
        Assert.Equal([Req(5), Req(6), Req(5), Req(6), Req(5)], records.UpdateServices().Select(Json));
        Assert.Equal(5, cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount);
        Assert.All(records, r => Assert.Equal("service-scaler", r.Handler));
    }

    public static TheoryData<int, string, string> ScenarioLines => new()
    {
        { 1, "acted", "web-cpu-high at 87.5 (threshold 70, +17.5) → step +1: 4 → 5 (max 40)" },
        { 2, "ignored", "held by the cooldown: within 60 s of the scale-out to 5 at 10:00:04" },
        { 3, "acted", "step +2 from 4 (where the scale-out cooldown started): 5 → 6 (max 40)" },
        { 4, "ignored", "duplicate: the same change" },
        { 5, "ignored", "web-cpu-high is OK (was ALARM): nothing to scale; remembered for the arbiter" },
        { 7, "ignored", "held by the arbiter: scale-out alarm web-latency-math is in ALARM (since 10:00:34)" },
        { 10, "acted", "6 → 5 (min 2)" },
        { 12, "acted", "web-cpu-high at 73.1 (threshold 70, +3.1) → step +1: 5 → 6 (max 40)" },
        { 14, "ignored", "held by stabilisation: web was recommended 6 at 10:24:04 (by web-cpu-high), within the last 300 s" },
        { 16, "acted", "6 → 5 (min 2)" },
        { 18, "ignored", "held by the cooldown: web scaled in 6 → 5 at 10:33:41, so the next scale-in waits until 10:38:41" },
        { 19, "ignored", "web-latency-math is INSUFFICIENT_DATA (was OK)" },
    };

    [Theory]
    [MemberData(nameof(ScenarioLines))]
    public async Task ScalingScenario_EachLineHasTheOutcomeAndTheReasonOfItsRule(int line, string outcome, string reason)
    {
        var (records, _) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        var r = records.Single(x => x.Input == $"scaling.jsonl:{line}");
        Assert.Equal(outcome, r.Outcome.Name());
        Assert.Contains(reason, r.Reason);
    }

    [Fact]
    public async Task ScalingScenario_TheTableShowsDesiredFromTo()
    {
        var (records, _) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        var output = new StringWriter();
        var table = new TableWriter(output);
        foreach (var r in records) table.Write(r);
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("UpdateService web desired 4 → 5", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("UpdateService web desired 6 → 5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SampleAlarmEvents_ScaleWebOutThenInAndLeaveApiToApplicationAutoScaling()
    {
        var files = Directory.EnumerateFiles(Repository.Path("events"), "cloudwatch-alarm-*.json").Order(StringComparer.Ordinal).ToArray();
        var (records, cluster) = await ReplayFilesAsync(files);
        Assert.Equal([5, 7, 9, 7], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.All(records.UpdateServices(), u => Assert.Equal("web", u.Service));
        var api = records.Single(r => r.Summary == "alarm api-cpu-high ALARM");
        Assert.Equal(Outcome.Ignored, api.Outcome);
        Assert.StartsWith("Application Auto Scaling also scales api (scalable target service/prod/api, min 2, max 10): leaving it alone", api.Reason);
        Assert.Equal((7, 3), (cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount, cluster.FindService(ScalingHarness.ClusterArn, "api")!.DesiredCount));
    }

    [Fact]
    public async Task JsonLines_CarryTheExactUpdateServiceRequest()
    {
        var (records, _) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        var buffer = new MemoryStream();
        using (var writer = new JsonLinesWriter(buffer)) writer.Write(records[0]);
        using var line = JsonDocument.Parse(buffer.ToArray());
        var action = line.RootElement.GetProperty("actions")[0];
        Assert.Equal(("ecs", "UpdateService"), (action.GetProperty("service").GetString(), action.GetProperty("operation").GetString()));
        Assert.Equal(["cluster", "service", "desiredCount"], action.GetProperty("request").EnumerateObject().Select(p => p.Name));
    }
}
