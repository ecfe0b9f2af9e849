using EcsReflex.Core.Decisions;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using static EcsReflex.Core.Tests.ScalingFixtures;

namespace EcsReflex.Core.Tests;

/// <summary>
/// Sustained alarms (docs/scaler.md): a decision taken while the alarm is in ALARM is taken again when the rule that held
/// it ends, else one evaluation period later; the re-decision reads the alarm now, stops when it left ALARM or at a bound,
/// and a stale one does nothing.
/// </summary>
public sealed class ScalingSustainedTests
{
    private static readonly ReflexPolicy Web = WebPolicy(max: 8);

    private static ObservedAlarmState Now(string alarm, string state, DateTimeOffset since, double? datapoint = null) => new()
    {
        AlarmName = alarm, StateValue = state, StateUpdatedTimestamp = since, NewestDatapoint = datapoint, Threshold = ThresholdOf(alarm),
        Source = "the test's CloudWatch",
    };

    [Fact]
    public void AScaleOutInAlarm_IsDecidedAgainOneEvaluationPeriodLater_AndTheRecordSaysWhen()
    {
        // The test events' reasonData gives period 60.
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(4), T0);
        Assert.Equal(5, d.Desired());
        Assert.Equal(T0.AddSeconds(60), d.RedecideAt);
        Assert.Equal(T0.AddSeconds(60), d.Record()!.Alarm("web-cpu-high")!.RedecideAt);
        // With the period, so that the sweep can re-arm the re-decision if its message is lost.
        Assert.Equal(60, d.Record()!.Alarm("web-cpu-high")!.PeriodSeconds);
        Assert.EndsWith("; decided again at 10:01:00 while web-cpu-high stays in ALARM", d.Reason);
        // The undo of a scale that did not happen keeps the re-decision too.
        Assert.Equal(T0.AddSeconds(60), d.Write<ScalingUndoWrite>()!.Claimed.Alarm("web-cpu-high")!.RedecideAt);
    }

    [Fact]
    public void AHoldByTheCooldown_IsDecidedAgainWhenTheCooldownEnds()
    {
        var first = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 95), Web, Observe(4), T0);
        Assert.Equal(7, first.Desired());
        var at = T0.AddSeconds(60);
        // A second scale-out alarm within the cooldown, asking no more than the last target (4 + 2): held until 10:01:00.
        var held = ServiceScaler.Decide(Alarm("web-latency-high", "ALARM", T0.AddSeconds(20), 251), Web, Observe(7, first.Record()! with { Version = 1 }), T0.AddSeconds(20));
        Assert.Equal(ReasonCodes.ScalerCooldown, held.Code);
        Assert.Equal(at, held.RedecideAt);
        // web-cpu-high's own re-decision is still the one scheduled.
        Assert.Equal(at, held.Record()!.Alarm("web-cpu-high")!.RedecideAt);
    }

    [Fact]
    public void AReDecision_ReadsTheAlarmNow_AndStepsFromItsNewestDatapoint()
    {
        var first = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(4), T0);
        var due = T0.AddSeconds(60);
        var obs = Observe(5, first.Record()! with { Version = 1 }) with { Current = Now("web-cpu-high", "ALARM", T0, datapoint: 95) };
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, obs, due, redecision: due);
        // 95 is +25 over 70: the [20, ∞) step of +3, from 5 (the cooldown has ended).
        Assert.Equal(8, d.Desired());
        Assert.Equal(ReasonCodes.ScalerScaleOut, d.Code);
        Assert.StartsWith("web-cpu-high still in ALARM since 10:00:00, as the test's CloudWatch: web-cpu-high at 95 (threshold 70, +25) → step +3: 5 → 8", d.Reason);
        Assert.Equal(due.AddSeconds(60), d.RedecideAt);
    }

    [Fact]
    public void AReDecisionAtTheMax_HoldsWithAReason_AndSchedulesNoOther()
    {
        var record = new ServiceScalingRecord
        {
            Cluster = "prod", Service = "web", Version = 3,
            Alarms = [new RememberedAlarm { AlarmName = "web-cpu-high", State = "ALARM", StateTimestamp = T0, SeenAt = T0, RedecideAt = T0.AddMinutes(5) }],
        };
        var obs = Observe(8, record) with { Current = Now("web-cpu-high", "ALARM", T0, datapoint: 95) };
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, obs, T0.AddMinutes(5), redecision: T0.AddMinutes(5));
        Assert.Equal(ReasonCodes.ScalerBound, d.Code);
        Assert.Null(d.RedecideAt);
        Assert.Null(d.Record()!.Alarm("web-cpu-high")!.RedecideAt);
        Assert.EndsWith("not decided again while web-cpu-high stays in ALARM: the bound holds until its next transition", d.Reason);
    }

    [Fact]
    public void AReDecision_WhenTheAlarmLeftAlarm_StopsAndRemembersTheStateForTheArbiter()
    {
        var first = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(4), T0);
        var due = T0.AddSeconds(60);
        var obs = Observe(5, first.Record()! with { Version = 1 }) with { Current = Now("web-cpu-high", "OK", T0.AddSeconds(50)) };
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, obs, due, redecision: due);
        Assert.Equal((Outcome.Ignored, ReasonCodes.ScalerSustainedEnded), (d.Outcome, d.Code));
        Assert.Empty(d.Actions);
        Assert.Null(d.RedecideAt);
        var remembered = d.Record()!.Alarm("web-cpu-high")!;
        Assert.Equal(("OK", (DateTimeOffset?)T0.AddSeconds(50), (DateTimeOffset?)null), (remembered.State, remembered.StateTimestamp, remembered.RedecideAt));
        Assert.Equal(1, d.Write<ScalingRecordWrite>()!.ExpectedVersion);
    }

    [Fact]
    public void AReDecisionThatIsNoLongerScheduled_DoesNothingAndWritesNothing()
    {
        var first = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(4), T0);
        var record = first.Record()! with { Version = 1 };
        // A duplicate of the chain, due at another time than the one the record schedules.
        var other = T0.AddSeconds(30);
        var d = ServiceScaler.Decide(Alarm("web-cpu-high", "ALARM", T0, 75), Web, Observe(5, record) with { Current = Now("web-cpu-high", "ALARM", T0, 95) }, other, redecision: other);
        Assert.Equal((Outcome.Ignored, ReasonCodes.ScalerSustainedStale), (d.Outcome, d.Code));
        Assert.Empty(d.Writes);
        Assert.Null(d.RedecideAt);
        Assert.Contains("was replaced by the one due at 10:01:00", d.Reason);

        // An OK transition clears the schedule: the chain's next firing is stale.
        var ok = ServiceScaler.Decide(Alarm("web-cpu-high", "OK", T0.AddSeconds(40)), Web, Observe(5, record), T0.AddSeconds(40));
        Assert.Null(ok.Record()!.Alarm("web-cpu-high")!.RedecideAt);
        Assert.Null(ok.RedecideAt);
    }

    [Fact]
    public void TheEvaluationPeriod_ComesFromTheEventsConfiguration_Else60Seconds()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(AlarmEventJson("web-cpu-high", "ALARM", T0, 75))!;
        node["detail"]!["configuration"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"metrics": [{"id": "m1", "returnData": true, "metricStat": {"metric": {"namespace": "AWS/ECS", "name": "CPUUtilization", "dimensions": {}}, "period": 300, "stat": "Average"}}]}
            """);
        var a = (Events.AlarmStateChange)Events.EventParser.Parse(node.ToJsonString()).Detail;
        Assert.Equal(TimeSpan.FromSeconds(300), ServiceScaler.EvaluationPeriod(a));
        var none = (Events.AlarmStateChange)Events.EventParser.Parse(AlarmEventJson("web-cpu-high", "ALARM", T0, composite: true)).Detail;
        Assert.Equal(TimeSpan.FromSeconds(ServiceScaler.DefaultPeriodSeconds), ServiceScaler.EvaluationPeriod(none));
    }
}
