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
    /// <summary>
    /// Replays <paramref name="files"/> with no periodic work (<c>--until</c> before the first event): what each transition
    /// decides, by its rules alone. Sustained alarms' re-decisions are pinned by ScalingSustainedReplayTests.
    /// </summary>
    private static async Task<(List<ReplayRecord> Records, EmbeddedCluster Cluster)> ReplayFilesAsync(params string[] files)
    {
        var engine = new ReplayEngine(ReplayHarness.Policy(), ReplayHarness.Cluster()) { Until = DateTimeOffset.MinValue };
        var records = (await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs(files))).Where(r => r.Code != ReasonCodes.EngineReplayUntil).ToList();
        return (records, engine.Cluster);
    }

    private static string Json(UpdateServiceRequest r) => ActionJson.ToJson(r);

    [Fact]
    public async Task ScalingScenario_SendsExactlyTheseUpdateServiceRequests()
    {
        var (records, cluster) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        string Req(int n) => $$"""{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","service":"web","desiredCount":{{n}}}""";
        Assert.Equal([Req(5), Req(6), Req(7), Req(6), Req(7), Req(6)], records.UpdateServices().Select(Json));
        Assert.Equal(6, cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount);
        Assert.All(records, r => Assert.Equal("service-scaler", r.Handler));
    }

    /// <summary>Each line's outcome, the code of the rule that decided it, and the desired count it sent (the sentences: Golden/service-scaler.txt).</summary>
    public static TheoryData<int, string, string, int?> ScenarioLines => new()
    {
        { 1, "acted", ReasonCodes.ScalerScaleOut, 5 },
        { 2, "ignored", ReasonCodes.ScalerCooldown, null },
        { 3, "acted", ReasonCodes.ScalerScaleOut, 6 },
        { 4, "ignored", ReasonCodes.EngineDuplicateChange, null },
        { 5, "ignored", ReasonCodes.ScalerNotInAlarm, null },
        { 7, "ignored", ReasonCodes.ScalerNotInAlarm, null },
        { 8, "acted", ReasonCodes.ScalerScaleOut, 7 },
        { 9, "ignored", ReasonCodes.ScalerArbiter, null },
        { 12, "acted", ReasonCodes.ScalerScaleIn, 6 },
        { 14, "acted", ReasonCodes.ScalerScaleOut, 7 },
        { 16, "ignored", ReasonCodes.ScalerStabilisation, null },
        { 18, "acted", ReasonCodes.ScalerScaleIn, 6 },
        { 20, "ignored", ReasonCodes.ScalerCooldown, null },
        { 21, "ignored", ReasonCodes.ScalerNotInAlarm, null },
    };

    [Theory]
    [MemberData(nameof(ScenarioLines))]
    public async Task ScalingScenario_EachLineHasTheOutcomeAndTheCodeOfItsRule(int line, string outcome, string code, int? desired)
    {
        var (records, _) = await ReplayFilesAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        var r = records.Single(x => x.Input == $"scaling.jsonl:{line}");
        Assert.Equal((outcome, code), (r.Outcome.Name(), r.Code));
        Assert.Equal(desired, new[] { r }.UpdateServices().SingleOrDefault()?.DesiredCount);
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
        Assert.Contains(lines, l => l.Contains("UpdateService web desired 7 → 6", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SampleAlarmEvents_ScaleWebOutThenInAndLeaveApiToApplicationAutoScaling()
    {
        var files = Directory.EnumerateFiles(Repository.Path("events"), "cloudwatch-alarm-*.json").Order(StringComparer.Ordinal).ToArray();
        var (records, cluster) = await ReplayFilesAsync(files);
        Assert.Equal([5, 7, 9, 7], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.All(records.UpdateServices(), u => Assert.Equal("web", u.Service));
        var api = records.Single(r => r.Summary == "alarm api-cpu-high ALARM");
        Assert.Equal((Outcome.Ignored, ReasonCodes.ScalerAasOwned), (api.Outcome, api.Code));
        Assert.Empty(api.Actions);
        Assert.Equal((7, 3), (cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount, cluster.FindService(ScalingHarness.ClusterArn, "api")!.DesiredCount));
    }

    /// <summary>As <c>reflex replay</c> runs them: re-decisions while an alarm stays in ALARM, up to the last input.</summary>
    private static async Task<(List<ReplayRecord> Records, EmbeddedCluster Cluster)> ReplaySustainedAsync(params string[] files)
    {
        var engine = new ReplayEngine(ReplayHarness.Policy(), ReplayHarness.Cluster());
        return (await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs(files)), engine.Cluster);
    }

    [Fact]
    public async Task SampleAlarmEvents_Sustained_WebCpuHighStepsAgainAfterItsCooldown_EveryOtherEpisodeEndsBeforeItsReDecision()
    {
        var files = Directory.EnumerateFiles(Repository.Path("events"), "cloudwatch-alarm-*.json").Order(StringComparer.Ordinal).ToArray();
        var (records, cluster) = await ReplaySustainedAsync(files);
        Assert.Equal([5, 6, 8, 10, 8], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        var again = records.Single(r => r.Trigger == "timer" && r.Outcome == Outcome.Acted);
        Assert.Equal((new DateTimeOffset(2026, 3, 2, 11, 27, 4, TimeSpan.Zero), ReasonCodes.ScalerScaleOut), (again.Time, again.Code));
        Assert.StartsWith("web-cpu-high still in ALARM since 11:26:04", again.Reason, StringComparison.Ordinal);
        // Each later re-decision finds its alarm out of ALARM: the record no longer schedules it. web-cpu-low's, due after
        // the last input (12:55:41), is left to the replay's last record.
        Assert.Equal(["11:28:04", "11:38:10", "11:41:03"],
            records.Where(r => r.Code == ReasonCodes.ScalerSustainedStale).Select(r => r.Time!.Value.ToString("HH:mm:ss")));
        Assert.Contains("1 re-decision of sustained alarms due after it not run, the first due at 2026-03-02T12:57:41",
            records.Single(r => r.Code == ReasonCodes.EngineReplayUntil).Reason, StringComparison.Ordinal);
        Assert.Equal(8, cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount);
    }

    [Fact]
    public async Task ScalingScenario_Sustained_HeldAsksAreDecidedAgainWhenTheirHoldEnds()
    {
        var (records, cluster) = await ReplaySustainedAsync(Repository.Path("events", "scenarios", "scaling.jsonl"));
        Assert.Equal([5, 6, 7, 8, 6, 5, 6, 5, 4], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        var acted = records.Where(r => r.Trigger == "timer" && r.Outcome == Outcome.Acted).Select(r => (r.Time!.Value.ToString("HH:mm:ss"), r.Code)).ToList();
        Assert.Equal(
            [
                ("10:01:49", ReasonCodes.ScalerScaleOut), // line 2's ask, held by the cooldown, then by composite's: still in ALARM at its end
                ("10:17:41", ReasonCodes.ScalerScaleIn),  // line 9's, held by the arbiter: web-latency-math is OK by then
                ("10:38:41", ReasonCodes.ScalerScaleIn),  // line 20's, held by the scale-in cooldown until 10:38:41
            ], acted);
        // Lines 18 and 20 both scheduled 10:38:41: one acts, the other finds the record rescheduled.
        Assert.Single(records, r => r.Code == ReasonCodes.ScalerSustainedStale && r.Reason.Contains("was replaced by the one due at 10:43:41", StringComparison.Ordinal));
        Assert.Equal(4, cluster.FindService(ScalingHarness.ClusterArn, "web")!.DesiredCount);
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
