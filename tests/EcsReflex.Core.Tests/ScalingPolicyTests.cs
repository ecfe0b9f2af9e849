using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class ScalingPolicyTests
{
    private static string WithScaling(string scaling) => $$"""
    { "clusters": [{ "cluster": "prod", "services": [{ "service": "web", "scaling": {{scaling}} }] }] }
    """;

    private static string WithAlarms(string alarms) => WithScaling($$"""{ "minCount": 2, "maxCount": 40, "alarms": {{alarms}} }""");

    [Fact]
    public void Read_TheIssuesExample_ReadsEveryField()
    {
        var policy = PolicyLoader.Load(WithScaling("""
        {
          "minCount": 2, "maxCount": 40,
          "scaleOutCooldownSeconds": 45, "scaleInCooldownSeconds": 240, "scaleInStabilizationSeconds": 120,
          "paused": true, "coexistWithApplicationAutoScaling": "clamp",
          "alarms": [
            { "alarmName": "web-cpu-high", "adjustmentType": "ChangeInCapacity",
              "steps": [ { "lowerBound": 0, "upperBound": 20, "adjustment": 1 }, { "lowerBound": 20, "adjustment": 3 } ] },
            { "alarmName": "web-cpu-low", "adjustmentType": "PercentChangeInCapacity", "minAdjustmentMagnitude": 1,
              "steps": [ { "upperBound": 0, "adjustment": -25 } ] },
            { "alarmName": "web-exact", "adjustmentType": "ExactCapacity", "direction": "out",
              "steps": [ { "lowerBound": 0, "adjustment": 12 } ] }
          ]
        }
        """));
        var s = policy.Clusters[0].Services[0].Scaling!;
        Assert.Equal((2, 40, 45, 240, 120), (s.MinCount, s.MaxCount, s.ScaleOutCooldownSeconds, s.ScaleInCooldownSeconds, s.ScaleInStabilizationSeconds));
        Assert.True(s.Paused);
        Assert.Equal(AasCoexistence.Clamp, s.CoexistWithApplicationAutoScaling);
        Assert.Equal("clusters[0].services[0].scaling", s.Path);
        var high = s.FindAlarm("web-cpu-high")!;
        Assert.Equal((AdjustmentType.ChangeInCapacity, ScalingDirection.Out), (high.AdjustmentType, high.Direction));
        Assert.Equal([(0.0, (double?)20.0, 1), (20.0, null, 3)], high.Steps.Select(x => (x.LowerBound!.Value, x.UpperBound, x.Adjustment)));
        var low = s.FindAlarm("web-cpu-low")!;
        Assert.Equal((AdjustmentType.PercentChangeInCapacity, ScalingDirection.In, (int?)1), (low.AdjustmentType, low.Direction, low.MinAdjustmentMagnitude));
        Assert.Equal("clusters[0].services[0].scaling.alarms[1]", low.Path);
        var exact = s.FindAlarm("web-exact")!;
        Assert.Equal((AdjustmentType.ExactCapacity, ScalingDirection.Out, 12), (exact.AdjustmentType, exact.Direction, exact.Steps[0].Adjustment));
    }

    [Fact]
    public void Read_WhenOptionalFieldsAreAbsent_AppliesTheSchemaDefaults()
    {
        var policy = PolicyLoader.Load(WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ]"""));
        var s = policy.Clusters[0].Services[0].Scaling!;
        Assert.Equal((60, 300, 300, false, AasCoexistence.Leave), (s.ScaleOutCooldownSeconds, s.ScaleInCooldownSeconds, s.ScaleInStabilizationSeconds, s.Paused, s.CoexistWithApplicationAutoScaling));
        Assert.Null(s.Alarms[0].MinAdjustmentMagnitude);
    }

    [Fact]
    public void TheRepositoryPolicy_ScalesWebAndLeavesApiToApplicationAutoScaling()
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Path("reflex.policy.json")));
        var web = policy.Clusters[0].FindService("web")!.Scaling!;
        Assert.Equal((2, 40), (web.MinCount, web.MaxCount));
        Assert.NotNull(web.FindAlarm("web-cpu-high"));
        Assert.NotNull(web.FindAlarm("web-cpu-low"));
        Assert.Equal(AasCoexistence.Leave, policy.Clusters[0].FindService("api")!.Scaling!.CoexistWithApplicationAutoScaling);
    }

    private const string A = "clusters[0].services[0].scaling.alarms[0]";
    private const string S = "clusters[0].services[0].scaling";

    public static TheoryData<string, string, string, string> Invalid => new()
    {
        { "overlapping steps", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "upperBound": 30, "adjustment": 1 }, { "lowerBound": 20, "adjustment": 3 } ] } ]"""),
            $"{A}.steps[1]", "[20, +∞) overlaps clusters[0].services[0].scaling.alarms[0].steps[0] [0, 30)" },
        { "a gap between steps", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "upperBound": 10, "adjustment": 1 }, { "lowerBound": 20, "adjustment": 3 } ] } ]"""),
            $"{A}.steps[1].lowerBound", "leaves a gap" },
        { "steps given out of order with a gap", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 20, "adjustment": 3 }, { "lowerBound": 0, "upperBound": 10, "adjustment": 1 } ] } ]"""),
            $"{A}.steps[0].lowerBound", "make it 10" },
        { "two steps unbounded below", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "upperBound": 0, "adjustment": -1 }, { "upperBound": -10, "adjustment": -2 } ] } ]"""),
            $"{A}.steps[1].lowerBound", "already unbounded below" },
        { "two steps unbounded above", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 }, { "lowerBound": 10, "adjustment": 2 } ] } ]"""),
            $"{A}.steps[1].upperBound", "already unbounded above" },
        { "an empty interval", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 10, "upperBound": 10, "adjustment": 1 } ] } ]"""),
            $"{A}.steps[0].upperBound", "must be greater than lowerBound (10)" },
        { "a step against the first step's direction", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "upperBound": 10, "adjustment": 1 }, { "lowerBound": 10, "adjustment": -1 } ] } ]"""),
            $"{A}.steps[1].adjustment", "-1 goes the other way from the alarm, which scales out (as clusters[0].services[0].scaling.alarms[0].steps[0] (+1) says)" },
        { "a step against the declared direction", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "PercentChangeInCapacity", "direction": "in", "steps": [ { "upperBound": 0, "adjustment": 25 } ] } ]"""),
            $"{A}.steps[0].adjustment", "which scales in (as clusters[0].services[0].scaling.alarms[0].direction says)" },
        { "an adjustment of 0", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 0 } ] } ]"""),
            $"{A}.steps[0].adjustment", "0 changes nothing" },
        { "a percentage below -100", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "PercentChangeInCapacity", "steps": [ { "upperBound": 0, "adjustment": -150 } ] } ]"""),
            $"{A}.steps[0].adjustment", "-150% would remove more tasks than run" },
        { "ExactCapacity without a direction", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ExactCapacity", "steps": [ { "lowerBound": 0, "adjustment": 8 } ] } ]"""),
            $"{A}.direction", "required for adjustmentType \"ExactCapacity\"" },
        { "ExactCapacity below 0", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ExactCapacity", "direction": "in", "steps": [ { "upperBound": 0, "adjustment": -1 } ] } ]"""),
            $"{A}.steps[0].adjustment", "-1 is not a task count" },
        { "minAdjustmentMagnitude without percentages", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "minAdjustmentMagnitude": 2, "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ]"""),
            $"{A}.minAdjustmentMagnitude", "applies only to adjustmentType \"PercentChangeInCapacity\"" },
        { "minAdjustmentMagnitude of 0", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "PercentChangeInCapacity", "minAdjustmentMagnitude": 0, "steps": [ { "upperBound": 0, "adjustment": -10 } ] } ]"""),
            $"{A}.minAdjustmentMagnitude", "0 is out of range" },
        { "an unknown adjustment type", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ]"""),
            $"{A}.adjustmentType", "\"ChangeCapacity\" is not an adjustment type" },
        { "an unknown direction", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "direction": "up", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ]"""),
            $"{A}.direction", "\"up\" is not a direction" },
        { "a step without adjustment", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0 } ] } ]"""),
            $"{A}.steps[0].adjustment", "required field is missing" },
        { "no steps", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [] } ]"""),
            $"{A}.steps", "at least one step" },
        { "an unknown field in an alarm", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "cooldown": 5, "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ]"""),
            $"{A}.cooldown", "unknown field" },
        { "an alarm listed twice", WithAlarms("""[ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] }, { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 2 } ] } ]"""),
            $"{S}.alarms[1].alarmName", "already listed at clusters[0].services[0].scaling.alarms[0]" },
        { "minCount above maxCount", WithScaling("""{ "minCount": 5, "maxCount": 3, "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] }"""),
            $"{S}.minCount", "5 is greater than maxCount (3)" },
        { "no minCount", WithScaling("""{ "maxCount": 3, "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] }"""),
            $"{S}.minCount", "required field is missing" },
        { "a negative cooldown", WithScaling("""{ "minCount": 1, "maxCount": 3, "scaleOutCooldownSeconds": -1, "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] }"""),
            $"{S}.scaleOutCooldownSeconds", "-1 is out of range" },
        { "an unknown coexistence", WithScaling("""{ "minCount": 1, "maxCount": 3, "coexistWithApplicationAutoScaling": "fight", "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] }"""),
            $"{S}.coexistWithApplicationAutoScaling", "\"fight\" is not a choice" },
        { "no alarms", WithScaling("""{ "minCount": 1, "maxCount": 3 }"""),
            $"{S}.alarms", "required field is missing" },
        { "an empty alarm list", WithScaling("""{ "minCount": 1, "maxCount": 3, "alarms": [] }"""),
            $"{S}.alarms", "must name at least one alarm" },
        { "one alarm driving two services", """
            { "clusters": [
              { "cluster": "prod", "services": [
                { "service": "web", "scaling": { "minCount": 1, "maxCount": 3, "alarms": [ { "alarmName": "cpu-high", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] } } ] },
              { "cluster": "staging", "services": [
                { "service": "api", "scaling": { "minCount": 1, "maxCount": 3, "alarms": [ { "alarmName": "cpu-high", "adjustmentType": "ChangeInCapacity", "steps": [ { "lowerBound": 0, "adjustment": 1 } ] } ] } } ] } ] }
            """,
            "clusters[1].services[0].scaling.alarms[0].alarmName", "alarm \"cpu-high\" already drives clusters[0].services[0] (at clusters[0].services[0].scaling.alarms[0]); an alarm may drive only one service" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Load_WhenScalingIsInvalid_ReportsThePathAndTheFix(string why, string json, string path, string message)
    {
        var (policy, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Null(policy);
        Assert.True(errors.Any(e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal)),
            $"{why}: expected an error at {path} containing «{message}», got:\n  {string.Join("\n  ", errors)}");
    }

    [Fact]
    public void Load_WhenSeveralThingsAreWrong_ReportsThemAllAtOnce()
    {
        var (_, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(WithScaling("""
        { "minCount": 9, "maxCount": 3, "coexistWithApplicationAutoScaling": "fight",
          "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "minAdjustmentMagnitude": 1,
                        "steps": [ { "lowerBound": 0, "upperBound": 10, "adjustment": 1 }, { "lowerBound": 5, "adjustment": -2 } ] } ] }
        """)));
        Assert.Equal(
            [$"{S}.minCount", $"{S}.coexistWithApplicationAutoScaling", $"{A}.minAdjustmentMagnitude", $"{A}.steps[1].adjustment", $"{A}.steps[1]"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void Load_WhenStepsTouchWithoutOverlap_IsValid()
    {
        var policy = PolicyLoader.Load(WithAlarms("""
        [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity",
            "steps": [ { "lowerBound": 20, "adjustment": 3 }, { "lowerBound": 0, "upperBound": 20, "adjustment": 1 }, { "lowerBound": -5, "upperBound": 0, "adjustment": 1 } ] } ]
        """));
        Assert.Equal(3, policy.Clusters[0].Services[0].Scaling!.Alarms[0].Steps.Count);
    }
}
