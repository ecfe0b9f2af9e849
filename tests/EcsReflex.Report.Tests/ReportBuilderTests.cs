using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;
using static EcsReflex.Report.Tests.Synthetic;

namespace EcsReflex.Report.Tests;

public class ReportBuilderTests
{
    private static ReportModel Build(IEnumerable<ReplayRecord> records, ReportWindow? window = null,
        IReadOnlyList<ScaledServiceDeclaration>? declarations = null)
    {
        var (policy, snapshot, _) = ScalingScenario();
        var b = new ReportBuilder(policy, snapshot, window, "reflex.policy.json", ["synthetic.jsonl"], declarations ?? ScalingDeclarations);
        foreach (var r in records) b.Add(r);
        return b.Build();
    }

    /// <summary>The decisions as the page holds them: read back from the compact form.</summary>
    private static List<DecisionRow> Rows(ReportModel m) => [.. m.Decisions.ReadBack()];

    [Fact]
    public void Summary_CountsOutcomesAndActionsByKind()
    {
        var m = Build(ScalingScenario().Records);
        var s = m.Summary;
        Assert.Equal(11, s.Decisions);
        Assert.Equal(10, s.Events);
        Assert.Equal(1, s.Timers);
        Assert.Equal(7, s.Count(Outcome.Acted));
        Assert.Equal(3, s.Count(Outcome.Ignored));
        Assert.Equal(1, s.Count(Outcome.Rejected));
        Assert.Equal(0, s.Count(Outcome.Deferred));
        Assert.Equal(4, s.ScaleChanges);
        Assert.Equal(1, s.PlacementChanges);
        Assert.Equal(1, s.TasksStopped);
        Assert.Equal(1, s.Relaunches);
        Assert.Equal(0, s.GiveUps);
        Assert.Equal(1, s.RejectedInputs);
    }

    [Fact]
    public void Series_HasTheStartingCountFromTheSnapshotAndOnePointPerChange()
    {
        var m = Build(ScalingScenario().Records);
        var web = Assert.Single(m.ScaledServices, x => x.Service == "web");
        Assert.Equal("prod", web.Cluster);
        Assert.Equal([4, 5, 8, 6], web.Points.Select(p => p.Value));
        Assert.Equal(T0.AddMinutes(1), web.Points[0].Time); // the period starts at the first record
        Assert.Equal(3, web.Changes);
        Assert.Equal(2, web.Min);
        Assert.Equal(12, web.Max);
        var api = Assert.Single(m.ScaledServices, x => x.Service == "api");
        Assert.Equal([3, 4], api.Points.Select(p => p.Value));
        Assert.Equal(2, m.ScaledServices.Count);
    }

    [Fact]
    public void Series_MarksEachAlarmTransitionOnceOnTheServiceItDrives()
    {
        var web = Build(ScalingScenario().Records).ScaledServices.Single(x => x.Service == "web");
        // web-cpu-high ALARM (delivered twice: one mark), ALARM again, OK; web-cpu-low ALARM.
        Assert.Equal(["ALARM", "ALARM", "OK", "ALARM"], web.AlarmMarks.Select(a => a.State));
        Assert.Equal(["web-cpu-high", "web-cpu-high", "web-cpu-high", "web-cpu-low"], web.AlarmMarks.Select(a => a.Alarm));
    }

    [Fact]
    public void Series_LearnsWhichServiceAnAlarmDrivesFromItsDecisions_WhenThePolicyDoesNotSay()
    {
        var m = Build(ScalingScenario().Records, declarations: []);
        var web = m.ScaledServices.Single(x => x.Service == "web");
        Assert.Null(web.Min);
        Assert.Null(web.Max);
        Assert.Contains(web.AlarmMarks, a => a.State == "OK"); // the OK transition had no action, but its alarm scaled web before
        var okRow = Rows(m).Single(d => d.Reason == "OK: nothing to do");
        Assert.Equal("web", okRow.Service);
    }

    [Fact]
    public void Window_RecordsBeforeFromFeedTheStateButAreNotShown()
    {
        var window = new ReportWindow(T0.AddMinutes(5), T0.AddMinutes(25));
        var m = Build(ScalingScenario().Records, window);
        var web = m.ScaledServices.Single(x => x.Service == "web");
        // 4 → 5 → 8 happened before 02:05; the chart starts at 8 and shows the one change inside.
        Assert.Equal([8, 6], web.Points.Select(p => p.Value));
        Assert.Equal(window.From, web.Points[0].Time);
        Assert.Equal(1, web.Changes);
        Assert.Equal(window.From, m.Start);
        Assert.Equal(window.To, m.End);
        Assert.All(Rows(m), d => Assert.InRange(d.Time!.Value, window.From!.Value, window.To!.Value));
        Assert.Equal(2, m.Summary.ScaleChanges); // api at 02:06 and web at 02:20
    }

    [Fact]
    public void Window_ToIsExcluded_AndRecordsWithoutATimeAreAlwaysShown()
    {
        var window = new ReportWindow(T0, T0.AddMinutes(10));
        Assert.True(window.Contains(T0));
        Assert.False(window.Contains(T0.AddMinutes(10)));
        Assert.True(window.Contains(null));
        Assert.True(window.IsAfter(T0.AddMinutes(10)));
        Assert.False(window.IsAfter(null));

        var m = Build([Rejected("bad.jsonl:1", "not JSON", null), Ignored(1, T0.AddMinutes(10))], window);
        var row = Assert.Single(Rows(m));
        Assert.Equal("bad.jsonl:1", row.Input);
        var rejected = Assert.Single(m.RejectedInputs);
        Assert.Equal(("bad.jsonl", (int?)1), (rejected.File, rejected.Line));
    }

    [Fact]
    public void Series_ManyChanges_AreMergedPerTimeBucketKeepingTheLastValueAndTheRange()
    {
        var records = new List<ReplayRecord>();
        var alarm = Alarm("web-cpu-high", "ALARM", "OK", T0);
        for (var i = 0; i < 2_000; i++)
            records.Add(ScaleRecord(alarm, "web", 2 + i % 10, T0.AddSeconds(i * 7), "step"));
        var web = Build(records).ScaledServices.Single(x => x.Service == "web");
        Assert.Equal(2_000, web.Changes);
        Assert.True(web.Bucket > TimeSpan.Zero);
        Assert.InRange(web.Points.Count, 2, ReportBuilder.MaxSeriesPoints + 1);
        Assert.Equal(2_000 + 1, web.Points.Sum(p => p.Merged)); // every change (and the start) is accounted for
        Assert.Equal(2 + 1_999 % 10, web.Points[^1].Value);
        Assert.Contains(web.Points, p => p.Low == 2 && p.High == 11);
    }

    [Fact]
    public void Relaunches_AreCountedPerMinuteAndCluster_WithThePolicyLimit()
    {
        var records = new List<ReplayRecord>();
        for (var i = 0; i < 25; i++) records.Add(Relaunch($"l{i:000}", 1, T0.AddSeconds(i * 2)));
        for (var i = 0; i < 3; i++) records.Add(Relaunch($"m{i:000}", 1, T0.AddMinutes(1).AddSeconds(i)));
        records.Add(Relaunch("late", 1, T0.AddMinutes(5)));
        var m = Build(records);
        var prod = Assert.Single(m.Relaunches);
        Assert.Equal("prod", prod.Cluster);
        Assert.Equal(20, prod.LimitPerMinute);
        Assert.Equal(TimeSpan.FromMinutes(1), prod.Bucket);
        Assert.Equal([(T0, 25), (T0.AddMinutes(1), 3), (T0.AddMinutes(5), 1)], prod.Buckets.Select(b => (b.Start, b.Total)));
        Assert.Equal(29, prod.Total);
        Assert.Equal(29, m.Summary.Relaunches);
    }

    [Fact]
    public void Relaunches_OverAWeekOfSteadyActivity_UseWiderBucketsThatKeepTheBusiestMinute()
    {
        var records = new List<ReplayRecord>();
        for (var k = 0; k < 7 * 24 * 6; k++) // every ten minutes for a week: one episode
            for (var i = 0; i < 4; i++) records.Add(Relaunch($"k{k}-{i}", 1, T0.AddMinutes(k * 10).AddSeconds(i)));
        var prod = Assert.Single(Build(records).Relaunches);
        Assert.True(prod.Bucket > TimeSpan.FromMinutes(1));
        Assert.InRange(prod.Buckets.Count, 1, ReportBuilder.MaxRelaunchBuckets);
        Assert.All(prod.Buckets, b => Assert.Equal(4, b.PeakPerMinute));
        Assert.Equal(7 * 24 * 6 * 4, prod.Total);
    }

    [Fact]
    public void Relaunches_InBurstsDaysApart_GetOneChartPerEpisode_AtMinuteResolution()
    {
        var records = new List<ReplayRecord>();
        for (var day = 0; day < 3; day++)
            for (var i = 0; i < 13; i++) records.Add(Relaunch($"d{day}-{i}", 1, T0.AddDays(day).AddSeconds(i * 5)));
        var m = Build(records);
        Assert.Equal(3, m.Relaunches.Count);
        Assert.All(m.Relaunches, r =>
        {
            Assert.Equal(TimeSpan.FromMinutes(1), r.Bucket);
            Assert.Equal(13, r.Total);
            Assert.Equal([12, 1], r.Buckets.Select(b => b.Total)); // 5 s apart: 12 a minute
            // Room around the bars, but never outside the period (the first burst starts it, the last ends it).
            Assert.True(r.Start <= r.Buckets[0].Start && r.End >= r.Buckets[^1].Start);
            Assert.True(r.Start >= m.Start && r.End <= m.End);
            Assert.True(r.End - r.Start < TimeSpan.FromHours(1));
        });
        Assert.Equal(3, m.LaneGroups.Count);
    }

    [Fact]
    public void ShortPeriods_AreDrawnOnOneAxis_TheWholeWindow()
    {
        var window = new ReportWindow(T0, T0.AddHours(2));
        var m = Build([Relaunch("a", 1, T0.AddMinutes(5)), Relaunch("b", 1, T0.AddMinutes(100))], window);
        var r = Assert.Single(m.Relaunches);
        Assert.Equal((window.From!.Value, window.To!.Value), (r.Start, r.End));
        var g = Assert.Single(m.LaneGroups);
        Assert.Equal((window.From!.Value, window.To!.Value), (g.Start, g.End));
        Assert.Equal(2, g.Lanes.Count);
    }

    [Fact]
    public async Task Lanes_OfTheCrashLoopScenario_ShowEveryFailureWaitRelaunchAndTheGiveUp()
    {
        var records = await ReplayHarness.RecordsAsync(Repository.Scenario("crash-loop"));
        var b = new ReportBuilder(ReplayHarness.Policy(), ReplayHarness.Snapshot());
        foreach (var r in records) b.Add(r);
        var m = b.Build();
        var lane = Assert.Single(m.Lanes);
        Assert.Equal("1c468749f5b8473c6ce4eb03ddb636be", lane.Lineage);
        Assert.Equal("prod", lane.Cluster);
        int Count(LaneMarkKind k) => lane.Marks.Count(x => x.Kind == k);
        Assert.Equal(6, Count(LaneMarkKind.Failure));
        Assert.Equal(5, Count(LaneMarkKind.Wait));
        Assert.Equal(5, Count(LaneMarkKind.Relaunch));
        Assert.Equal(1, Count(LaneMarkKind.GiveUp));
        Assert.All(lane.Marks.Where(x => x.Kind == LaneMarkKind.Wait), w => Assert.True(w.Until > w.Time));
        Assert.Equal(1, m.Summary.GiveUps);
        Assert.Equal(5, m.Summary.Relaunches);
    }

    [Fact]
    public void Lanes_AreCappedToTheBusiest_AndTheTotalIsKept()
    {
        var records = new List<ReplayRecord>();
        for (var i = 0; i < ReportBuilder.MaxLanes + 15; i++) records.Add(Relaunch($"lineage{i:000}", 1, T0.AddSeconds(i)));
        records.Add(Relaunch("lineage007", 2, T0.AddMinutes(3)));
        var m = Build(records);
        Assert.Equal(ReportBuilder.MaxLanes, m.Lanes.Count);
        Assert.Equal(ReportBuilder.MaxLanes + 15, m.LineagesTotal);
        Assert.Contains(m.Lanes, l => l.Lineage == "lineage007");
    }

    [Fact]
    public void Rows_CarryClusterServiceAndTheExactRequests()
    {
        var m = Build(ScalingScenario().Records);
        var relaunch = Rows(m).Single(d => d.Actions.Any(a => a.Operation == "RunTask"));
        Assert.Equal("prod", relaunch.Cluster);
        var action = Assert.Single(relaunch.Actions);
        Assert.Contains("\"startedBy\":\"reflex/1c468749f5b8473c6ce4eb03ddb636be/1\"", action.RequestJson);
        Assert.Contains("\"clientToken\":\"reflex-1c468749f5b8473c6ce4eb03ddb636be-1\"", action.RequestJson);
        Assert.Equal("api", Rows(m).Single(d => d.Handler == "placement-guard" && d.Actions[0].Operation == "UpdateService").Service);
        Assert.Equal(Enumerable.Range(0, m.Decisions.Count), Rows(m).Select(d => d.Index));
    }

    [Theory]
    [InlineData("events/scenarios/burst-100.jsonl:12", "events/scenarios/burst-100.jsonl", 12)]
    [InlineData("events/ecs-task-stopped-user-initiated.json", "events/ecs-task-stopped-user-initiated.json", null)]
    [InlineData(@"C:\events\a.jsonl:3", @"C:\events\a.jsonl", 3)]
    [InlineData(@"C:\events\a.json", @"C:\events\a.json", null)]
    [InlineData("odd:name.json", "odd:name.json", null)]
    [InlineData("events/scenarios/burst-100.jsonl:12:7", "events/scenarios/burst-100.jsonl", 12)] // a syntax error: line, column
    [InlineData("events/x.json:6:3", "events/x.json", 6)]
    public void SplitInput_SeparatesTheFileFromTheLine(string input, string file, int? line) =>
        Assert.Equal((file, line), ReportBuilder.SplitInput(input));
}
