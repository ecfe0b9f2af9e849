using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using Microsoft.Extensions.Time.Testing;
using static EcsReflex.Core.Tests.ScalingFixtures;

namespace EcsReflex.Core.Tests;

public class ScalingDecisionTests
{
    private static readonly ReflexPolicy Web = WebPolicy();

    // ---------------- step selection ----------------

    [Theory]
    [InlineData("web-cpu-high", 70.0, 1)]     // metric − threshold = 0: lower bound inclusive
    [InlineData("web-cpu-high", 87.5, 1)]
    [InlineData("web-cpu-high", 89.99, 1)]
    [InlineData("web-cpu-high", 90.0, 3)]     // 20: upper bound of the first step is exclusive
    [InlineData("web-cpu-high", 250.0, 3)]
    [InlineData("web-cpu-low", 12.1, -25)]
    [InlineData("web-cpu-low", 20.0, -25)]    // exactly at the threshold of a ≤ alarm: the step that ends there
    public void SelectStep_PicksTheStepWhoseIntervalHoldsMetricMinusThreshold(string alarm, double metric, int adjustment)
    {
        var scaling = Web.Clusters[0].Services[0].Scaling!;
        var (step, _) = ServiceScaler.SelectStep(Alarm(alarm, "ALARM", T0, metric), scaling.FindAlarm(alarm)!);
        Assert.Equal(adjustment, step!.Adjustment);
    }

    [Theory]
    [InlineData("web-cpu-high", 65.0)]
    [InlineData("web-cpu-low", 25.0)]
    public void Decide_WhenNoStepCoversTheValue_IgnoresAndSaysWhichSteps(string alarm, double metric)
    {
        var d = ServiceScaler.Decide(Alarm(alarm, "ALARM", T0, metric), Web, Observe(4), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerNoStep, d.Code);
        Assert.Contains("no step of clusters[0].services[0].scaling.alarms[", d.Reason);
        Assert.Empty(d.Actions);
    }

    public static TheoryData<string, double?, double?, bool, string> NoDatapoint => new()
    {
        { "metric math without datapoints", null, 250.0, false, "web-cpu-high (no datapoint in the event: the step nearest the threshold) → step +1: 4 → 5 (max 40)" },
        { "composite alarm", null, null, true, "web-cpu-high (composite alarm, no datapoint: the step nearest the threshold) → step +1: 4 → 5 (max 40)" },
    };

    [Theory]
    [MemberData(nameof(NoDatapoint))]
    public void Decide_WhenTheEventHasNoDatapoint_UsesTheStepNearestTheThresholdAndSaysSo(string why, double? metric, double? threshold, bool composite, string reason)
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, metric, threshold, composite), Web, Observe(4), T0);
        Assert.True(d.Outcome == Outcome.Acted, why);
        Assert.Equal(reason, Head(d));
    }

    [Theory]
    [InlineData(new double[] { 0, 20 }, new double[] { 20, double.NaN }, 0)]        // [0,20) holds 0
    [InlineData(new double[] { double.NaN }, new double[] { 0 }, 0)]                 // (-∞,0) touches 0
    [InlineData(new double[] { 10, 30 }, new double[] { 30, double.NaN }, 0)]       // [10,30) is nearer than [30,∞)
    [InlineData(new double[] { -30, -5 }, new double[] { -5, 0 }, 1)]               // [-5,0) touches 0
    public void NearestStep_IsTheStepClosestToTheThreshold(double[] lowers, double[] uppers, int expected)
    {
        var steps = lowers.Select((l, i) => new ScalingStep(double.IsNaN(l) ? null : l, double.IsNaN(uppers[i]) ? null : uppers[i], i + 1)).ToList();
        Assert.Same(steps[expected], ServiceScaler.NearestStep(steps));
    }

    // ---------------- the canonical decision ----------------

    [Fact]
    public void Decide_WhenScaleOutAlarmFires_SendsUpdateServiceWithClusterServiceAndDesiredCountOnly()
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 87.5), Web, Observe(4), T0);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerScaleOut, d.Code);
        Assert.Equal("web-cpu-high at 87.5 (threshold 70, +17.5) → step +1: 4 → 5 (max 40)", Head(d));
        var action = Assert.Single(d.Actions);
        Assert.Equal(4, action.DesiredFrom);
        Assert.Equal(("ecs", "UpdateService"), (action.Service, action.Operation));
        Assert.Equal("web desired 4 → 5", action.Summary);
        using var json = JsonDocument.Parse(ActionJson.ToJson(action.Request));
        Assert.Equal(["cluster", "service", "desiredCount"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal((ClusterArn, "web", 5), (json.RootElement.GetProperty("cluster").GetString(), json.RootElement.GetProperty("service").GetString(), json.RootElement.GetProperty("desiredCount").GetInt32()));
        var r = d.Record()!;
        Assert.Equal((5, 4, ScalingDirection.Out, 4, "web-cpu-high", T0), (r.LastTarget, r.LastFrom, r.LastDirection, r.CooldownBase, r.LastAlarm, r.LastScaledAt));
        Assert.Equal(5, r.Alarm("web-cpu-high")!.Recommendation);
    }

    // ---------------- adjustment types and rounding ----------------

    [Theory]
    [InlineData(0.25, 1)]
    [InlineData(0.999, 1)]
    [InlineData(-0.25, -1)]
    [InlineData(1.75, 1)]
    [InlineData(-1.75, -1)]
    [InlineData(2.25, 2)]
    [InlineData(-2.25, -2)]
    [InlineData(3.0, 3)]
    [InlineData(0.0, 0)]
    public void AasRound_RoundsLikeApplicationAutoScaling(double change, int expected) =>
        Assert.Equal(expected, ServiceScaler.AasRound(change));

    [Theory]
    [InlineData(AdjustmentType.ChangeInCapacity, 3, null, 4, 7)]
    [InlineData(AdjustmentType.ChangeInCapacity, -2, null, 4, 2)]
    [InlineData(AdjustmentType.ExactCapacity, 12, null, 4, 12)]
    [InlineData(AdjustmentType.PercentChangeInCapacity, 10, null, 4, 5)]      // 0.4 → 1
    [InlineData(AdjustmentType.PercentChangeInCapacity, 50, null, 3, 4)]      // 1.5 → 1
    [InlineData(AdjustmentType.PercentChangeInCapacity, 150, null, 3, 7)]     // 4.5 → 4
    [InlineData(AdjustmentType.PercentChangeInCapacity, -25, null, 4, 3)]     // -1
    [InlineData(AdjustmentType.PercentChangeInCapacity, -25, null, 9, 7)]     // -2.25 → -2
    [InlineData(AdjustmentType.PercentChangeInCapacity, -25, null, 3, 2)]     // -0.75 → -1
    [InlineData(AdjustmentType.PercentChangeInCapacity, -25, 3, 9, 6)]        // -2, at least 3
    [InlineData(AdjustmentType.PercentChangeInCapacity, 10, 2, 4, 6)]         // 0.4 → 1, at least 2
    [InlineData(AdjustmentType.PercentChangeInCapacity, 50, null, 0, 0)]      // nothing from nothing (the from-0 rule is the decision's)
    [InlineData(AdjustmentType.PercentChangeInCapacity, -100, null, 7, 0)]
    public void Apply_ComputesTheTargetOfEachAdjustmentType(AdjustmentType type, int adjustment, int? minMagnitude, int from, long expected)
    {
        var alarm = new ScalingAlarm
        {
            AlarmName = "a", AdjustmentType = type, Direction = adjustment < 0 ? ScalingDirection.In : ScalingDirection.Out,
            MinAdjustmentMagnitude = minMagnitude, Steps = [new ScalingStep(null, null, adjustment)],
        };
        Assert.Equal(expected, ServiceScaler.Apply(alarm, alarm.Steps[0], from).Target);
    }

    [Theory]
    [InlineData(4, 3, "step -25% (-1): 4 → 3 (min 2)")]
    [InlineData(9, 7, "step -25% (-2.25 → -2): 9 → 7 (min 2)")]
    [InlineData(5, 4, "step -25% (-1.25 → -1): 5 → 4 (min 2)")]
    public void Decide_WhenPercentScaleIn_RoundsTowardZeroAndExplains(int desired, int expected, string tail)
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12.1), Web, Observe(desired), T0);
        Assert.Equal(expected, d.Desired());
        Assert.StartsWith($"web-cpu-low at 12.1 (threshold 20, -7.9) → {tail}", d.Reason);
    }

    [Fact]
    public void Decide_WhenMinAdjustmentMagnitudeIsLarger_RemovesAtLeastThatMany()
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12.1), WebPolicy(minMagnitude: 3), Observe(9), T0);
        Assert.Equal(6, d.Desired());
        Assert.Contains("step -25% (-2.25 → -2, at least 3: -3): 9 → 6", d.Reason);
    }

    [Fact]
    public void Decide_WhenScalingOutFromZero_GivesAtLeastOne()
    {
        var policy = PolicyLoader.Load($$"""
        { "clusters": [{ "cluster": "{{ClusterArn}}", "services": [{ "service": "web", "scaling": { "minCount": 0, "maxCount": 10,
          "alarms": [ { "alarmName": "queue-deep", "adjustmentType": "PercentChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 50 } ] } ] } }] }] }
        """);
        var d = ServiceScaler.Decide(Alarm("queue-deep", "ALARM", T0, 120), policy, Observe(0), T0);
        Assert.Equal(1, d.Desired());
        Assert.Contains("from 0 a scale-out gives at least 1", d.Reason);
    }

    // ---------------- bounds ----------------

    public static TheoryData<string, string, double, int, int?, string> Bounds => new()
    {
        { "scale-out capped at max", "web-cpu-high", 95, 39, 40, "39 → 40 (capped at max 40)" },
        { "scale-out at max is held", "web-cpu-high", 95, 40, null, "40 → 43, held by the bound (max 40)" },
        { "scale-in at min is held", "web-cpu-low", 12.1, 2, null, "2 → 1, held by the bound (min 2)" },
        { "above max: any alarm brings it back", "web-cpu-high", 75, 50, 40, "50 → 40 (capped at max 40)" },
        { "below min: any alarm brings it back", "web-cpu-low", 12.1, 1, 2, "1 → 2 (raised to min 2)" },
        { "exact capacity", "web-exact", 80, 4, 10, "step =10: 4 → 10 (max 40)" },
        { "exact capacity below the current count of a scale-out alarm", "web-exact", 80, 12, null, "web already runs 12" },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void Decide_ClampsToMinAndMaxAndNamesTheBound(string why, string alarm, double metric, int desired, int? expected, string reason)
    {
        var d = ServiceScaler.Decide(Alarm(alarm, "ALARM", T0, metric, ThresholdOf(alarm)), Web, Observe(desired), T0);
        Assert.True(expected == d.Desired(), $"{why}: expected {expected}, got {d.Desired()} ({d.Reason})");
        Assert.Equal(expected is null ? Outcome.Ignored : Outcome.Acted, d.Outcome);
        Assert.Contains(reason, d.Reason);
    }

    // ---------------- cooldowns (time matters: FakeTimeProvider) ----------------

    public static TheoryData<string, int, string, double, int, string> AfterScaleOut => new()
    {
        // a scale-out 4 → 5 at T0 by web-cpu-high, then at T0 + seconds:
        { "a larger ask within the cooldown, computed from the cooldown's base", 30, "web-latency-high", 260, 6, "step +2 from 4 (where the scale-out cooldown started): 5 → 6" },
        { "the same ask within the cooldown", 30, "web-cpu-high", 75, 5, "held by the cooldown: within 60 s of the scale-out to 5 at 10:00:00, only a larger target is applied (until 10:01:00)" },
        { "the same ask after the cooldown", 61, "web-cpu-high", 75, 6, "step +1: 5 → 6 (max 40)" },
        { "a scale-in within the scale-out cooldown", 30, "web-cpu-low", 12, 5, "held by the cooldown: web scaled out 4 → 5 at 10:00:00, so scale-in waits until 10:01:00 (scaleOutCooldownSeconds 60)" },
        { "a scale-in after the scale-out cooldown", 61, "web-cpu-low", 12, 4, "step -25% (-1.25 → -1): 5 → 4 (min 2)" },
    };

    [Theory]
    [MemberData(nameof(AfterScaleOut))]
    public void Decide_AfterAScaleOut_AppliesTheScaleOutCooldown(string why, int seconds, string alarm, double metric, int expected, string reason)
    {
        var clock = new FakeTimeProvider(T0);
        var sim = new Simulation(WebPolicy(stabilization: 0), 4);
        sim.Feed(Alarm("web-cpu-high", "ALARM", clock.GetUtcNow(), 75), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(10));
        sim.Feed(Alarm("web-cpu-high", "OK", clock.GetUtcNow(), 60), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(seconds - 10));
        var d = sim.Feed(Alarm(alarm, "ALARM", clock.GetUtcNow(), metric), clock.GetUtcNow());
        Assert.True(expected == sim.DesiredCount, $"{why}: {d.Reason}");
        Assert.Contains(reason, d.Reason);
    }

    [Fact]
    public void Decide_WhenASmallerScaleOutComesWithinTheCooldown_HoldsItRatherThanScalingIn()
    {
        var clock = new FakeTimeProvider(T0);
        var sim = new Simulation(WebPolicy(), 4);
        sim.Feed(Alarm("web-cpu-high", "ALARM", clock.GetUtcNow(), 95), clock.GetUtcNow());          // +3: 4 → 7
        clock.Advance(TimeSpan.FromSeconds(10));
        sim.Feed(Alarm("web-cpu-high", "OK", clock.GetUtcNow(), 60), clock.GetUtcNow());             // its ask no longer competes
        clock.Advance(TimeSpan.FromSeconds(20));
        var d = sim.Feed(Alarm("web-latency-high", "ALARM", clock.GetUtcNow(), 260), clock.GetUtcNow()); // +2 from 4 = 6
        Assert.Equal(7, sim.DesiredCount);
        Assert.Equal(ReasonCodes.ScalerCooldown, d.Code);
        Assert.Equal("web-latency-high at 260 (threshold 250, +10) → step +2 from 4 (where the scale-out cooldown started): asks 6, held by the cooldown: within 60 s of the scale-out to 7 at 10:00:00, only a larger target is applied (until 10:01:00)", Head(d));
    }

    public static TheoryData<string, int, string, double, int, string> AfterScaleIn => new()
    {
        // a scale-in 8 → 6 at T0 by web-cpu-low, then at T0 + seconds:
        { "another scale-in within the scale-in cooldown", 100, "web-cpu-low", 12, 6, "held by the cooldown: web scaled in 8 → 6 at 10:00:00, so the next scale-in waits until 10:05:00 (scaleInCooldownSeconds 300)" },
        { "another scale-in after the scale-in cooldown", 301, "web-cpu-low", 12, 5, "6 → 5 (min 2)" },
        { "a scale-out within the scale-in cooldown", 100, "web-cpu-high", 75, 7, "step +1: 6 → 7 (max 40)" },
    };

    [Theory]
    [MemberData(nameof(AfterScaleIn))]
    public void Decide_AfterAScaleIn_BlocksScaleInButNotScaleOut(string why, int seconds, string alarm, double metric, int expected, string reason)
    {
        var clock = new FakeTimeProvider(T0);
        var sim = new Simulation(WebPolicy(stabilization: 0), 8);
        sim.Feed(Alarm("web-cpu-low", "ALARM", clock.GetUtcNow(), 12), clock.GetUtcNow());
        Assert.Equal(6, sim.DesiredCount);
        clock.Advance(TimeSpan.FromSeconds(10));
        sim.Feed(Alarm("web-cpu-low", "OK", clock.GetUtcNow(), 25), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(seconds - 10));
        var d = sim.Feed(Alarm(alarm, "ALARM", clock.GetUtcNow(), metric), clock.GetUtcNow());
        Assert.True(expected == sim.DesiredCount, $"{why}: {d.Reason}");
        Assert.Contains(reason, d.Reason);
    }

    [Fact]
    public void Decide_AScaleOutEndsTheScaleInCooldown()
    {
        var clock = new FakeTimeProvider(T0);
        var sim = new Simulation(WebPolicy(stabilization: 0), 8);
        sim.Feed(Alarm("web-cpu-low", "ALARM", clock.GetUtcNow(), 12), clock.GetUtcNow());         // 8 → 6
        clock.Advance(TimeSpan.FromSeconds(10));
        sim.Feed(Alarm("web-cpu-low", "OK", clock.GetUtcNow(), 25), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(90));
        sim.Feed(Alarm("web-cpu-high", "ALARM", clock.GetUtcNow(), 75), clock.GetUtcNow());        // 6 → 7 at +100
        clock.Advance(TimeSpan.FromSeconds(10));
        sim.Feed(Alarm("web-cpu-high", "OK", clock.GetUtcNow(), 60), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(90));                                                    // +200: 200 s after the scale-in, 100 s after the scale-out
        var d = sim.Feed(Alarm("web-cpu-low", "ALARM", clock.GetUtcNow(), 12), clock.GetUtcNow());
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(6, sim.DesiredCount);
    }

    // ---------------- stabilisation ----------------

    [Theory]
    [InlineData(120, 5, "held by stabilisation: web was recommended 5 at 10:00:00 (by web-cpu-high), within the last 300 s")]
    [InlineData(299, 5, "held by stabilisation")]
    [InlineData(300, 4, "5 → 4 (min 2)")]
    [InlineData(301, 4, "5 → 4 (min 2)")]
    public void Decide_ScaleInNeverGoesBelowTheHighestRecommendationOfTheWindow(int seconds, int expected, string reason)
    {
        var clock = new FakeTimeProvider(T0);
        var sim = new Simulation(WebPolicy(stabilization: 300), 4);
        sim.Feed(Alarm("web-cpu-high", "ALARM", clock.GetUtcNow(), 75), clock.GetUtcNow());       // 4 → 5, recommended 5
        clock.Advance(TimeSpan.FromSeconds(30));
        sim.Feed(Alarm("web-cpu-high", "OK", clock.GetUtcNow(), 60), clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(seconds - 30));
        var d = sim.Feed(Alarm("web-cpu-low", "ALARM", clock.GetUtcNow(), 12), clock.GetUtcNow());
        Assert.True(expected == sim.DesiredCount, d.Reason);
        Assert.Contains(reason, d.Reason);
    }

    [Fact]
    public void Decide_WhenTheWindowsHighestIsBetween_ScalesInOnlyDownToIt()
    {
        var record = new ServiceScalingRecord
        {
            Cluster = "prod", Service = "web", Version = 3,
            Recommendations = [new ScalingRecommendation(T0.AddSeconds(-100), 7, "web-cpu-high"), new ScalingRecommendation(T0.AddSeconds(-50), 5, "web-cpu-low")],
        };
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12), Web, Observe(8, record), T0);
        Assert.Equal(7, d.Desired());
        Assert.Contains("8 → 7 (min 2); stabilised at 7, recommended at 09:58:20 (by web-cpu-high) within the last 300 s", d.Reason);
    }

    [Fact]
    public void Decide_RemembersRecommendationsOnlyWithinTheWindowAndAtMostTheLimit()
    {
        var old = Enumerable.Range(0, 100).Select(i => new ScalingRecommendation(T0.AddSeconds(-i), 3, "web-cpu-high"))
            .Append(new ScalingRecommendation(T0.AddHours(-1), 30, "web-cpu-high")).ToList();
        var record = new ServiceScalingRecord { Cluster = "prod", Service = "web", Recommendations = old };
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(4, record), T0);
        Assert.True(d.Record()!.Recommendations.Count <= ServiceScaler.MaxRecommendations);
        Assert.DoesNotContain(d.Record()!.Recommendations, r => r.Count == 30);
        Assert.Contains(d.Record()!.Recommendations, r => r.At == T0 && r.Count == 5);
    }

    // ---------------- the arbiter ----------------

    private static ServiceScalingRecord Remembering(params RememberedAlarm[] alarms) =>
        new() { Cluster = "prod", Service = "web", Version = 1, Alarms = alarms };

    private static RememberedAlarm Seen(string alarm, string state, DateTimeOffset at, int? recommendation = null) =>
        new() { AlarmName = alarm, State = state, StateTimestamp = at, SeenAt = at, Recommendation = recommendation };

    [Fact]
    public void Decide_WhenAScaleOutAlarmIsInAlarm_HoldsTheScaleIn()
    {
        var record = Remembering(Seen("web-latency-high", "ALARM", T0.AddMinutes(-20), 6));
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12), Web, Observe(6, record), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerArbiter, d.Code);
        Assert.EndsWith("6 → 5, held by the arbiter: scale-out alarm web-latency-high is in ALARM (since 09:40:00)", Head(d));
    }

    [Fact]
    public void Decide_WhenEveryScaleOutAlarmIsOk_ScalesIn()
    {
        var record = Remembering(Seen("web-latency-high", "OK", T0.AddMinutes(-20)), Seen("web-cpu-high", "INSUFFICIENT_DATA", T0.AddMinutes(-1)), Seen("web-exact", "OK", T0.AddMinutes(-3)));
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12), Web, Observe(6, record), T0);
        Assert.Equal(5, d.Desired());
        Assert.Equal(ReasonCodes.ScalerScaleIn, d.Code);
        Assert.Equal(6, Assert.Single(d.Actions).DesiredFrom);
        Assert.Equal("web-cpu-low at 12 (threshold 20, -8) → step -25% (-1.5 → -1): 6 → 5 (min 2)", Head(d));
    }

    [Fact]
    public void Decide_WhenAScaleOutAlarmWasNeverSeenAndCannotBeDescribed_ScalesInAndSaysWhatItAssumed()
    {
        var obs = Observe(6) with { AlarmStatesUnavailable = "the embedded cluster cannot describe alarms" };
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12), Web, obs, T0);
        Assert.Equal(5, d.Desired());
        Assert.EndsWith("; web-cpu-high, web-latency-high, web-exact assumed not in ALARM (never seen; the embedded cluster cannot describe alarms)", Head(d));
    }

    [Fact]
    public void Decide_WhenLiveStateIsNewerThanMemory_TheLiveStateCountsAndIsRemembered()
    {
        var record = Remembering(Seen("web-latency-high", "OK", T0.AddHours(-2)));
        var obs = Observe(6, record) with
        {
            LiveAlarms = [new ObservedAlarmState { AlarmName = "web-latency-high", StateValue = "ALARM", StateUpdatedTimestamp = T0.AddMinutes(-5) }],
        };
        var d = ServiceScaler.Decide(Alarm("web-cpu-low", "ALARM", T0, 12), Web, obs, T0);
        Assert.Contains("held by the arbiter: scale-out alarm web-latency-high is in ALARM (since 09:55:00)", d.Reason);
        Assert.Equal(("ALARM", T0), (d.Record()!.Alarm("web-latency-high")!.State, d.Record()!.Alarm("web-latency-high")!.SeenAt));
    }

    [Fact]
    public void AlarmsToDescribe_AsksForScaleOutAlarmsMissingOrOlderThanTheCooldowns()
    {
        var target = ServiceScaler.FindTarget(Web, "web-cpu-low")!;
        var record = Remembering(Seen("web-cpu-high", "OK", T0.AddSeconds(-100)), Seen("web-latency-high", "OK", T0.AddSeconds(-301)));
        Assert.Equal(["web-latency-high", "web-exact"], ServiceScaler.AlarmsToDescribe(Alarm("web-cpu-low", "ALARM", T0, 12), target, record, T0));
        Assert.Empty(ServiceScaler.AlarmsToDescribe(Alarm("web-cpu-low", "OK", T0, 25), target, record, T0));
    }

    public static TheoryData<string, string, int, int, string> ScaleOutArbiter => new()
    {
        { "a larger ask of another alarm in ALARM wins", "ALARM", 9, 9, "6 → 9 (max 40); the arbiter keeps the largest ask: web-latency-high (in ALARM) asks 9" },
        { "a smaller ask of another alarm does not", "ALARM", 5, 7, "6 → 7 (max 40)" },
        { "an alarm that is OK asks nothing", "OK", 9, 7, "6 → 7 (max 40)" },
        { "an ask beyond the bounds is clamped", "ALARM", 55, 40, "6 → 40 (max 40); the arbiter keeps the largest ask: web-latency-high (in ALARM) asks 40" },
    };

    [Theory]
    [MemberData(nameof(ScaleOutArbiter))]
    public void Decide_WhenSeveralScaleOutAlarms_TheLargestCapacityWins(string why, string rivalState, int rivalAsk, int expected, string reason)
    {
        var record = Remembering(Seen("web-latency-high", rivalState, T0.AddMinutes(-10), rivalAsk));
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(6, record), T0);
        Assert.True(expected == d.Desired(), $"{why}: {d.Reason}");
        Assert.EndsWith(reason, Head(d));
    }

    // ---------------- OK, INSUFFICIENT_DATA, duplicates ----------------

    [Theory]
    [InlineData("OK")]
    [InlineData("INSUFFICIENT_DATA")]
    public void Decide_WhenTheAlarmLeavesAlarm_ChangesNothingButRemembersIt(string state)
    {
        var record = Remembering(Seen("web-cpu-high", "ALARM", T0.AddMinutes(-3), 5));
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", state, T0, 60), Web, Observe(5, record), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerNotInAlarm, d.Code);
        Assert.Equal($"web-cpu-high is {state} (was ALARM): nothing to scale; remembered for the arbiter", d.Reason);
        Assert.Empty(d.Actions);
        var m = d.Record()!.Alarm("web-cpu-high")!;
        Assert.Equal((state, (DateTimeOffset?)T0, (int?)null), (m.State, m.StateTimestamp, m.Recommendation));
    }

    [Fact]
    public void Decide_WhenTheSameTransitionComesAgain_IgnoresItAndWritesNothing()
    {
        var sim = new Simulation(Web, 4);
        sim.Feed(Alarm("web-cpu-high", "ALARM", T0, 87.5), T0);
        var again = sim.Feed(Alarm("web-cpu-high", "ALARM", T0, 87.5), T0.AddSeconds(90));
        Assert.Equal(("web-cpu-high ALARM at 10:00:00 was already handled", (ServiceScalingRecord?)null), (again.Reason, again.Record()));
        Assert.Equal(ReasonCodes.ScalerAlreadyHandled, again.Code);
        Assert.Equal(5, sim.DesiredCount);
    }

    [Fact]
    public void Decide_WhenAnOlderTransitionArrivesLate_IgnoresIt()
    {
        var sim = new Simulation(Web, 4);
        sim.Feed(Alarm("web-cpu-high", "OK", T0.AddSeconds(10), 60), T0.AddSeconds(10));
        var late = sim.Feed(Alarm("web-cpu-high", "ALARM", T0, 87.5), T0.AddSeconds(11));
        Assert.Equal(ReasonCodes.ScalerOutOfOrder, late.Code);
        Assert.Equal("web-cpu-high ALARM at 10:00:00 is older than the OK at 10:00:10 already seen: delivered out of order, nothing to do", late.Reason);
        Assert.Equal(4, sim.DesiredCount);
    }

    // ---------------- leaving the service alone ----------------

    [Fact]
    public void Decide_WhenPaused_LeavesTheServiceAloneButRemembersTheAlarm()
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 87.5), WebPolicy(paused: true), Observe(4), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerPaused, d.Code);
        Assert.Equal("scaling of web is paused (clusters[0].services[0].scaling.paused): nothing sent; web-cpu-high ALARM remembered", d.Reason);
        Assert.Equal("ALARM", d.Record()!.Alarm("web-cpu-high")!.State);
    }

    [Fact]
    public void Decide_WhenTheAlarmsActionsAreSuppressed_DoesNotScale()
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 87.5, suppressedBy: "Alarm"), Web, Observe(4), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Contains("actions are suppressed (Alarm)", d.Reason);
    }

    private static ServiceScalingRecord ScaledOut(int from, int to, DateTimeOffset at) => new()
    {
        Cluster = "prod", Service = "web", Version = 1, LastFrom = from, LastTarget = to, LastScaledAt = at,
        LastDirection = ScalingDirection.Out, LastAlarm = "web-cpu-high", CooldownBase = from,
    };

    [Theory]
    [InlineData(30, 7, null, "someone else is scaling web: desired is 7, EcsReflex set 5 at 10:00:00; leaving it alone until 10:01:00 (scaleOutCooldownSeconds 60)")]
    [InlineData(30, 4, null, "EcsReflex's own change of web (4 → 5 at 10:00:00, for web-cpu-high) has not landed yet (desired still 4): not scaling twice")]
    [InlineData(61, 7, 9, "step +2: 7 → 9 (max 40)")]
    public void Decide_WhenTheDesiredCountIsNotWhatEcsReflexSet_LeavesItAloneUntilTheCooldownEnds(int seconds, int desired, int? expected, string reason)
    {
        var clock = new FakeTimeProvider(T0);
        var record = ScaledOut(4, 5, clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(seconds));
        var d = ServiceScaler.Decide(Alarm("web-latency-high", "ALARM", clock.GetUtcNow(), 251), Web, Observe(desired, record), clock.GetUtcNow());
        Assert.Contains(reason, d.Reason);
        Assert.Equal(expected, d.Desired());
    }

    [Fact]
    public void Decide_WhenApplicationAutoScalingOwnsTheService_LeavesItAloneByDefault()
    {
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 87.5), Web, Observe(4, target: AasTarget(2, 10)), T0);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ScalerAasOwned, d.Code);
        Assert.Equal("Application Auto Scaling also scales web (scalable target service/prod/web, min 2, max 10): leaving it alone; set clusters[0].services[0].scaling.coexistWithApplicationAutoScaling to \"clamp\" to scale within both bounds", d.Reason);
    }

    [Theory]
    [InlineData("web-cpu-high", 95, 9, 2, 10, 10, "9 → 10 (capped at max 10, Application Auto Scaling's)")]
    [InlineData("web-cpu-high", 75, 4, 2, 10, 5, "4 → 5 (max 10, Application Auto Scaling's)")]
    [InlineData("web-cpu-low", 12, 5, 5, 10, null, "5 → 4, held by the bound (min 5, Application Auto Scaling's)")]
    [InlineData("web-cpu-high", 75, 4, 50, 60, null, "the policy's bounds [2, 40] and Application Auto Scaling's [50, 60] for web do not overlap: leaving it alone")]
    public void Decide_WhenClampingWithApplicationAutoScaling_KeepsWithinBothBounds(string alarm, double metric, int desired, int aasMin, int aasMax, int? expected, string reason)
    {
        var d = ServiceScaler.Decide(Alarm(alarm, "ALARM", T0, metric), WebPolicy(coexist: "clamp"), Observe(desired, target: AasTarget(aasMin, aasMax)), T0);
        Assert.Equal(expected, d.Desired());
        Assert.Contains(reason, d.Reason);
    }

    [Fact]
    public void Decide_WhenTheAlarmDrivesNoService_IgnoresIt()
    {
        var d = ServiceScaler.Decide(Alarm("db-cpu-high", "ALARM", T0, 90), Web, Observe(4), T0);
        Assert.Equal(("alarm db-cpu-high drives no service in the policy: nothing to scale", (ServiceScalingRecord?)null), (d.Reason, d.Record()));
        Assert.Equal(ReasonCodes.ScalerNoService, d.Code);
    }

    [Theory]
    [InlineData(null, "service web is not in cluster prod: nothing to scale")]
    [InlineData("DRAINING", "service web is DRAINING: nothing to scale")]
    public void Decide_WhenTheServiceIsMissingOrNotActive_IgnoresIt(string? status, string reason)
    {
        var obs = status is null ? new ScalingObservation() : new ScalingObservation { Service = Service(4, status) };
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 87.5), Web, obs, T0);
        Assert.Equal((Outcome.Ignored, reason), (d.Outcome, d.Reason));
    }

    /// <summary>The reason without what a decision in ALARM adds about its re-decision (pinned by the sustained-alarm tests).</summary>
    private static string Head(Decision d)
    {
        var i = d.Reason.IndexOf("; decided again at ", StringComparison.Ordinal);
        return i < 0 ? d.Reason : d.Reason[..i];
    }
}
