using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;
using EcsReflex.TestSupport;
using static EcsReflex.Engine.Tests.ScalingHarness;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// Sustained load, replayed (issue 15's soak): one ALARM transition and the alarm stays in ALARM; the service steps up once
/// per cooldown until its max, then holds with a reason; the OK transition stops the re-decisions. Exact counts.
/// </summary>
public sealed class ScalingSustainedReplayTests
{
    private static async Task<(List<ReplayRecord> Records, Cluster.EmbeddedCluster Cluster)> Replay(int desired, int outCooldown, DateTimeOffset? until,
        params (string State, TimeSpan At, double? Metric)[] transitions)
    {
        var cluster = WebCluster(desired);
        var engine = new ReplayEngine(Policy(outCooldown), cluster, new InMemoryStateStore()) { Until = until };
        var items = transitions.Select((t, i) => Item(AlarmEvent("web-cpu-high", t.State, T0 + t.At, t.Metric), i + 1));
        return (await ReplayHarness.RecordsAsync(engine, items), cluster);
    }

    [Fact]
    public async Task ThirtyMinutesInAlarm_StepsOncePerCooldownToTheMax_ThenHoldsAtTheBound_AndTheOkStopsNothingLeft()
    {
        // +3 a step (95 is 25 over 70), a 120 s cooldown, the alarm's period 60 s, max 40.
        var (records, cluster) = await Replay(20, 120, null, ("ALARM", TimeSpan.Zero, 95), ("OK", TimeSpan.FromMinutes(30), null));

        Assert.Equal([23, 26, 29, 32, 35, 38, 40], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.Equal(40, cluster.DesiredOfWeb());
        var timers = records.Where(r => r.Trigger == "timer").ToList();
        // A re-decision one period after each scale is held by the cooldown until it ends; then the next step.
        Assert.Equal(Enumerable.Range(1, 14).Select(m => T0.AddMinutes(m)), timers.Select(r => r.Time!.Value));
        Assert.Equal(
            [.. Enumerable.Repeat(new[] { ReasonCodes.ScalerCooldown, ReasonCodes.ScalerScaleOut }, 6).SelectMany(x => x), ReasonCodes.ScalerCooldown, ReasonCodes.ScalerBound],
            timers.Select(r => r.Code));
        Assert.EndsWith("not decided again while web-cpu-high stays in ALARM: the bound holds until its next transition", timers[^1].Reason);
        // The OK finds nothing scheduled; nothing periodic is left at the end.
        Assert.Equal((ReasonCodes.ScalerNotInAlarm, 16), (records[^1].Code, records.Count));
        Assert.DoesNotContain(records, r => r.Code == ReasonCodes.EngineReplayUntil);
    }

    [Fact]
    public async Task TheOkTransition_StopsTheReDecisions_TheNextOneIsStale()
    {
        // --until past the OK: the re-decision scheduled before it still fires, and finds itself replaced.
        var (records, cluster) = await Replay(4, 120, T0.AddMinutes(15), ("ALARM", TimeSpan.Zero, 75), ("OK", TimeSpan.FromSeconds(9 * 60 + 30), null));

        // +1 at 10:00, 10:02, 10:04, 10:06, 10:08; the re-decision due at 10:09 (held until 10:10) is replaced by the OK.
        Assert.Equal([5, 6, 7, 8, 9], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.Equal(9, cluster.DesiredOfWeb());
        var stale = Assert.Single(records, r => r.Code == ReasonCodes.ScalerSustainedStale);
        Assert.Equal(T0.AddMinutes(10), stale.Time);
        Assert.Empty(stale.Actions);
        Assert.Equal(stale, records[^1]);
    }

    [Fact]
    public async Task PeriodicWork_StopsAtTheLastInputByDefault_AndTheLastRecordSaysWhere()
    {
        var (records, _) = await Replay(4, 120, null, ("ALARM", TimeSpan.Zero, 75), ("ALARM", TimeSpan.FromMinutes(5), 75));

        // The chain's re-decision at 10:05 is held by the cooldown until 10:06, and so is the second ALARM (10:05), which
        // replaces it: two timers due at 10:06, after the last input, are not run (one of them would have been stale).
        var until = records[^1];
        Assert.Equal((ReasonCodes.EngineReplayUntil, "replay", (DateTimeOffset?)T0.AddMinutes(5)), (until.Code, until.Input, until.Time));
        Assert.Contains("2 re-decisions of sustained alarms due after it not run, the first due at 2026-03-07T10:06:00.000Z", until.Reason);
        var summary = new ReplaySummary();
        foreach (var r in records) summary.Add(r);
        Assert.EndsWith("; periodic work stopped at 2026-03-07 10:05:00", summary.ToString());
    }

    [Fact]
    public async Task AReDecisionTheRecordNoLongerSchedules_IsDecidedFromTheRecordAlone_WithoutReadingTheClusterOrCloudWatch()
    {
        var policy = Policy(120);
        var cluster = WebCluster(4);
        var store = new InMemoryStateStore { Now = T0 };
        var alarm = AlarmEvent("web-cpu-high", "ALARM", T0, 75);
        cluster.Observe(alarm); // as the replay does with every input
        await new Reactor(policy, store, cluster, new Actuator(cluster, store, policy)).HandleEventAsync(alarm, T0, CancellationToken.None);
        var scheduled = (await store.GetScalingRecordAsync("prod", "web", CancellationToken.None))!.Alarm("web-cpu-high")!.RedecideAt!.Value;
        var counting = new CountingObserver(cluster);
        var context = new ReflexContext(policy, store, counting);
        var a = (AlarmStateChange)alarm.Detail;

        // Due at another time (a duplicate, or one a newer decision replaced): the record alone, no read.
        var stale = await ServiceScalerReflex.ObserveAsync(context, a, scheduled, CancellationToken.None, scheduled.AddSeconds(-30));
        Assert.Empty(counting.Calls);
        Assert.NotNull(stale.Record);
        Assert.Equal(ReasonCodes.ScalerSustainedStale, ServiceScaler.Decide(a, policy, stale, scheduled, scheduled.AddSeconds(-30)).Code);

        // The one scheduled: the service and the alarm now (then, as for any decision, the service's other scale-out alarms
        // the record has no fresh memory of, for the arbiter).
        var current = await ServiceScalerReflex.ObserveAsync(context, a, scheduled, CancellationToken.None, scheduled);
        Assert.Equal(["DescribeServiceScaling", "DescribeAlarmNow", "DescribeAlarmStates"], counting.Calls);
        Assert.Equal("ALARM", current.Current!.StateValue);
    }

    /// <summary>The embedded cluster, recording which reads the scaler asks of it.</summary>
    private sealed class CountingObserver(Cluster.EmbeddedCluster inner) : IClusterObserver
    {
        public List<string> Calls { get; } = [];

        public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct)
        {
            Calls.Add("DescribeServiceScaling");
            return inner.DescribeServiceScalingAsync(cluster, service, ct);
        }

        public ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct)
        {
            Calls.Add("DescribeAlarmNow");
            return inner.DescribeAlarmNowAsync(alarmName, ct);
        }

        public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct)
        {
            Calls.Add("DescribeAlarmStates");
            return inner.DescribeAlarmStatesAsync(alarmNames, ct);
        }

        public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => throw new InvalidOperationException("not the scaler's");
        public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct) => throw new InvalidOperationException("not the scaler's");
        public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => throw new InvalidOperationException("not the scaler's");
        public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) => throw new InvalidOperationException("not the scaler's");
        public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => throw new InvalidOperationException("not the scaler's");
    }
}
