using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;
using static EcsReflex.Report.Tests.Synthetic;

namespace EcsReflex.Report.Tests;

/// <summary>What keeps a report bounded: the compact decisions, their details budget, and the charts' aggregation.</summary>
public class ReportScaleTests
{
    private static ReportModel Build(IEnumerable<ReplayRecord> records, long? detailBudget = null)
    {
        var (policy, snapshot, _) = ScalingScenario();
        var b = new ReportBuilder(policy, snapshot, null, "reflex.policy.json", ["synthetic.jsonl"], ScalingDeclarations, detailBudget);
        foreach (var r in records) b.Add(r);
        return b.Build();
    }

    [Fact]
    public void CompactForm_ReadsBackEveryRow_AsThePageHoldsIt()
    {
        var records = ScalingScenario().Records;
        records.Insert(0, Rejected("bad.jsonl:1", "not JSON: naïve “quotes” → \u2028 and </script>", null)); // no time, not ASCII
        records.Add(Ignored(7, T0.AddMinutes(50).AddMilliseconds(123)));
        records.Add(Ignored(8, T0.AddMinutes(49))); // dated before the previous row
        var m = Build(records);
        var html = HtmlReportWriter.ToHtml(m);
        var rows = DecisionsOf(html);

        Assert.Equal(records.Count, rows.Count);
        Assert.Equal(0, m.Decisions.WithoutDetails);
        for (var i = 0; i < records.Count; i++)
        {
            var (r, row) = (records[i], rows[i]);
            Assert.Equal(i, row.Index);
            Assert.Equal(r.Time, row.Time);
            Assert.Equal(r.Trigger, row.Trigger);
            Assert.Equal(r.Outcome, row.Outcome);
            Assert.Equal(r.Handler, row.Handler);
            Assert.Equal(r.Code, row.Code);
            Assert.Equal(r.DetailType, row.DetailType);
            Assert.Equal(r.Reason, row.Reason);
            Assert.Equal(r.Input, row.Input);
            Assert.Equal(r.EventId, row.EventId);
            Assert.Equal(r.DueAt, row.DueAt);
            Assert.Equal(r.RejectionCode, row.RejectionCode);
            Assert.True(row.HasDetails);
            Assert.Equal(r.Actions.Select(a => a.Action.Operation), row.Actions.Select(a => a.Operation));
            for (var k = 0; k < r.Actions.Count; k++)
                Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
                    System.Text.Json.Nodes.JsonNode.Parse(EcsReflex.Core.Ecs.ActionJson.ToJson(r.Actions[k].Action.Request)),
                    System.Text.Json.Nodes.JsonNode.Parse(row.Actions[k].RequestJson)));
        }
        // The alarm rows learned their service after the fact (the policy maps the alarms to web).
        Assert.Contains(rows, r => r.DetailType == "CloudWatch Alarm State Change" && r.Service == "web");
    }

    [Fact]
    public void CompactForm_IsSmall_ForMostlyRepeatedRows()
    {
        var records = Enumerable.Range(0, 20_000).Select(i => Ignored(i, T0.AddSeconds(i * 2))).ToList();
        var m = Build(records);
        var columns = m.Decisions.CompressedColumns();
        // Kind, milliseconds, seconds since the previous row and the details' length: well under a byte a row.
        Assert.InRange(columns.Length, 1, 20_000);
        Assert.Single(m.Decisions.Kinds);
    }

    [Fact]
    public void DetailsBudget_DropsIgnoredDetailsFirst_ThenAll_AndKeepsEveryRow()
    {
        var records = new List<ReplayRecord>();
        var random = new Random(7); // lineage ids as random as real ones, so that the details do not compress to nothing
        for (var i = 0; i < 6_000; i++)
        {
            records.Add(Ignored(i, T0.AddSeconds(i)));
            records.Add(Relaunch(Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + $"{i:x16}", 1, T0.AddSeconds(i).AddMilliseconds(500), trigger: "event"));
        }
        var m = Build(records, detailBudget: 128 * 1024);
        var rows = m.Decisions.ReadBack().ToList();

        Assert.Equal(records.Count, rows.Count);
        Assert.Equal(rows.Count(r => !r.HasDetails), m.Decisions.WithoutDetails);
        Assert.InRange(m.Decisions.WithoutDetails, 1, records.Count - 1);
        // Past half the budget an ignored row has no details while acted rows still have theirs; past all of it, none has.
        var firstIgnoredDropped = rows.FindIndex(r => r.Outcome == Outcome.Ignored && !r.HasDetails);
        var firstActedDropped = rows.FindIndex(r => r.Outcome == Outcome.Acted && !r.HasDetails);
        Assert.InRange(firstIgnoredDropped, 1, records.Count);
        Assert.True(firstActedDropped > firstIgnoredDropped, $"acted details dropped at {firstActedDropped}, ignored at {firstIgnoredDropped}");
        Assert.All(rows.Skip(firstActedDropped), r => Assert.False(r.HasDetails));
        // Rows without details keep what the table filters and counts on.
        Assert.All(rows, r => Assert.Equal("task-rescheduler", r.Handler));
        Assert.Equal(6_000, rows.Count(r => r.Outcome == Outcome.Acted));
        // Times to the millisecond where the details are kept, to the second (what the table shows) where not.
        Assert.Equal(records.Select((r, i) => rows[i].HasDetails ? r.Time : r.Time!.Value.AddTicks(-(r.Time.Value.UtcTicks % TimeSpan.TicksPerSecond))),
            rows.Select(r => r.Time));
        Assert.Contains(rows, r => !r.HasDetails && r.Outcome == Outcome.Acted); // whose time had 500 ms
        Assert.All(rows.Where(r => !r.HasDetails), r => Assert.NotNull(r.Code));
        // The budget is checked against the gzip stream's output, which lags its input by less than deflate's buffers.
        Assert.InRange(m.Decisions.CompressedDetails().Length, 128 * 1024, 128 * 1024 + 64 * 1024);
    }

    [Fact]
    public void StringTable_OverflowSharesOneIndex()
    {
        var t = new StringTable();
        Assert.Equal(0, t.Index(null));
        for (var i = 0; i < StringTable.Max + 10; i++) t.Index($"v{i}");
        Assert.Equal(StringTable.Max, t.Values.Count);
        Assert.Equal("(other)", t[t.Index("v70000")]);
        Assert.Equal(t.Index("v1"), t.Index("v1"));
    }

    [Fact]
    public void DesiredCount_TenThousandChanges_AreMergedPerBucketSizedToTheChart()
    {
        var alarm = Alarm("web-cpu-high", "ALARM", "OK", T0);
        var records = Enumerable.Range(0, 10_000).Select(i => ScaleRecord(alarm, "web", 3 + i % 7, T0.AddSeconds(i * 3), "step")).ToList();
        var web = Build(records).ScaledServices.Single(x => x.Service == "web");
        var episode = Assert.Single(web.Episodes); // 8.3 hours of steady activity: one episode
        // 30,000 s in buckets of the smallest round step that gives at most MaxSeriesPoints: 60 s, so 500 buckets
        // (the count at the start of the period falls in the first).
        Assert.Equal(TimeSpan.FromMinutes(1), episode.Bucket);
        Assert.Equal(500, episode.Points.Count);
        Assert.Equal(10_000 + 1, episode.Points.Sum(p => p.Merged));
        Assert.Equal((3, 9), (web.Low, web.High));
        Assert.Equal(3 + 9_999 % 7, episode.Points[^1].Value);
    }

    [Fact]
    public void AlarmTransitions_WhenDense_AreMergedPerBucket_WithTheirCountsAndALabel()
    {
        var records = new List<ReplayRecord>();
        for (var i = 0; i < 2_000; i++)
        {
            var state = i % 2 == 0 ? "ALARM" : "OK";
            var at = T0.AddSeconds(i * 10);
            records.Add(AlarmOnly(Alarm("web-cpu-high", state, i % 2 == 0 ? "OK" : "ALARM", at), at));
        }
        var web = Build(records).ScaledServices.Single(x => x.Service == "web");
        Assert.Equal(2_000, web.AlarmTransitions);
        var marks = Assert.Single(web.Episodes).Alarms;
        Assert.InRange(marks.Count, 2, ReportBuilder.MaxAlarmMarks);
        Assert.Equal(2_000, marks.Sum(m => m.Merged));
        Assert.Equal(1_000, marks.Sum(m => m.ToAlarm));
        Assert.Equal(1_000, marks.Sum(m => m.ToOk));
        var merged = marks.First(m => m.Merged > 1);
        Assert.Equal($"{merged.Merged} × web-cpu-high: {merged.ToAlarm} to ALARM, {merged.ToOk} to OK", merged.Label);
    }

    [Fact]
    public void DesiredCount_InBurstsDaysApart_GetsOneChartPerEpisode_CarryingTheValue_InsideThePeriod()
    {
        var alarm = Alarm("web-cpu-high", "ALARM", "OK", T0);
        var records = new List<ReplayRecord>
        {
            ScaleRecord(alarm, "web", 5, T0, "up"),
            ScaleRecord(alarm, "web", 6, T0.AddMinutes(3), "up"),
            ScaleRecord(alarm, "web", 4, T0.AddDays(2), "down"),
            ScaleRecord(alarm, "web", 3, T0.AddDays(2).AddMinutes(1), "down"),
        };
        var m = Build(records);
        var web = m.ScaledServices.Single(x => x.Service == "web");
        Assert.Equal(2, web.Episodes.Count);
        Assert.All(web.Episodes, e => Assert.True(e.Start >= m.Start && e.End <= m.End, $"{e.Start}–{e.End} outside {m.Start}–{m.End}"));
        Assert.Equal([4, 5, 6], web.Episodes[0].Points.Select(p => p.Value)); // the snapshot's 4 at the start of the period
        Assert.Equal([6, 4, 3], web.Episodes[1].Points.Select(p => p.Value)); // 6 carried into the second episode
        Assert.Equal((3, 6), (web.Low, web.High));
    }

    [Fact]
    public void RelaunchChart_NeverStartsBeforeThePeriod_NorEndsAfterIt()
    {
        var records = new List<ReplayRecord> { Relaunch("a", 1, T0) };
        for (var i = 0; i < 5; i++) records.Add(Relaunch($"b{i}", 1, T0.AddDays(3).AddSeconds(i)));
        var m = Build(records);
        Assert.Equal(2, m.Relaunches.Count);
        Assert.Equal(m.Start, m.Relaunches[0].Start); // the first relaunch is at the very start: no room before it
        Assert.Equal(m.End, m.Relaunches[^1].End);
        Assert.All(m.Relaunches, r => Assert.True(r.Start >= m.Start && r.End <= m.End));
    }

    [Fact]
    public void Lineages_AreFollowedInABoundedWorkingSet_TheBusiestKept_AndAllCounted()
    {
        var records = new List<ReplayRecord>();
        // A busy lineage at the start, then many one-relaunch lineages, a minute apart, over days.
        for (var a = 1; a <= 5; a++) records.Add(Relaunch("busy", a, T0.AddSeconds(a)));
        for (var i = 0; i < ReportBuilder.LineageWorkingSet * 2; i++) records.Add(Relaunch($"one{i:00000}", 1, T0.AddMinutes(1 + i)));
        var m = Build(records);
        Assert.Equal(ReportBuilder.LineageWorkingSet * 2 + 1, m.LineagesTotal);
        Assert.Equal(ReportBuilder.MaxLanes, m.Lanes.Count);
        Assert.Contains(m.Lanes, l => l.Lineage == "busy" && l.Marks.Count == 5);
    }
}
