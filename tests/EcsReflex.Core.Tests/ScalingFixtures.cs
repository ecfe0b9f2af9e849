using System.Globalization;
using System.Text.Json.Nodes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>Policies, alarm events and observations for the service scaler's tests.</summary>
internal static class ScalingFixtures
{
    public const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    public const string ServiceArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
    public static readonly DateTimeOffset T0 = new(2026, 3, 7, 10, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The policy for web: web-cpu-high (ChangeInCapacity, [0,20) +1, [20,∞) +3), web-cpu-low
    /// (PercentChangeInCapacity -25, minAdjustmentMagnitude 1), plus web-latency-high ([0,∞) +2, scale-out)
    /// and web-exact (ExactCapacity out, [0,∞) = 10).
    /// </summary>
    public static string PolicyJson(int min = 2, int max = 40, int outCooldown = 60, int inCooldown = 300, int stabilization = 300,
        bool paused = false, string coexist = "leave", int? minMagnitude = 1) => $$"""
    {
      "clusters": [{
        "cluster": "{{ClusterArn}}",
        "services": [{
          "service": "web",
          "scaling": {
            "minCount": {{min}}, "maxCount": {{max}},
            "scaleOutCooldownSeconds": {{outCooldown}},
            "scaleInCooldownSeconds": {{inCooldown}},
            "scaleInStabilizationSeconds": {{stabilization}},
            "paused": {{(paused ? "true" : "false")}},
            "coexistWithApplicationAutoScaling": "{{coexist}}",
            "alarms": [
              { "alarmName": "web-cpu-high", "adjustmentType": "ChangeInCapacity",
                "steps": [ { "lowerBound": 0, "upperBound": 20, "adjustment": 1 },
                           { "lowerBound": 20, "adjustment": 3 } ] },
              { "alarmName": "web-cpu-low", "adjustmentType": "PercentChangeInCapacity",
                {{(minMagnitude is { } m ? $"\"minAdjustmentMagnitude\": {m}," : "")}}
                "steps": [ { "upperBound": 0, "adjustment": -25 } ] },
              { "alarmName": "web-latency-high", "adjustmentType": "ChangeInCapacity",
                "steps": [ { "lowerBound": 0, "adjustment": 2 } ] },
              { "alarmName": "web-exact", "adjustmentType": "ExactCapacity", "direction": "out",
                "steps": [ { "lowerBound": 0, "adjustment": 10 } ] }
            ]
          }
        }]
      }]
    }
    """;

    public static ReflexPolicy WebPolicy(int min = 2, int max = 40, int outCooldown = 60, int inCooldown = 300, int stabilization = 300,
        bool paused = false, string coexist = "leave", int? minMagnitude = 1) =>
        PolicyLoader.Load(PolicyJson(min, max, outCooldown, inCooldown, stabilization, paused, coexist, minMagnitude));

    /// <summary>Thresholds of the fixture alarms, as CloudWatch would put them in <c>reasonData</c>.</summary>
    public static double ThresholdOf(string alarm) => alarm switch
    {
        "web-cpu-low" => 20,
        "web-latency-high" => 250,
        _ => 70,
    };

    /// <summary>
    /// A CloudWatch Alarm State Change in the documented shape, <c>reasonData</c> as a JSON string.
    /// <paramref name="metric"/> null: no datapoint (metric math without data). <paramref name="composite"/>:
    /// a composite alarm's reasonData (triggering alarms, no threshold).
    /// </summary>
    public static string AlarmEventJson(string alarm, string state, DateTimeOffset at, double? metric = null,
        double? threshold = null, bool composite = false, string? id = null, string? suppressedBy = null)
    {
        var ts = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture);
        JsonObject reasonData;
        if (composite)
            reasonData = new JsonObject
            {
                ["triggeringAlarms"] = new JsonArray(new JsonObject
                {
                    ["arn"] = $"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}-child",
                    ["state"] = new JsonObject { ["value"] = state, ["timestamp"] = ts },
                }),
            };
        else
            reasonData = new JsonObject
            {
                ["version"] = "1.0",
                ["queryDate"] = ts,
                ["statistic"] = "Average",
                ["period"] = 60,
                ["recentDatapoints"] = metric is { } v ? new JsonArray(v - 3, v) : new JsonArray(),
                ["threshold"] = threshold ?? ThresholdOf(alarm),
            };
        var stateObject = new JsonObject
        {
            ["value"] = state,
            ["reason"] = $"test transition of {alarm} to {state}",
            ["reasonData"] = reasonData.ToJsonString(),
            ["timestamp"] = ts,
        };
        if (suppressedBy is not null) stateObject["actionsSuppressedBy"] = suppressedBy;
        var detail = new JsonObject { ["alarmName"] = alarm, ["state"] = stateObject };
        if (composite) detail["configuration"] = new JsonObject { ["alarmRule"] = $"ALARM(\"{alarm}-child\")" };
        var e = new JsonObject
        {
            ["version"] = "0",
            ["id"] = id ?? $"{alarm}-{state}-{at.ToUnixTimeMilliseconds()}",
            ["detail-type"] = "CloudWatch Alarm State Change",
            ["source"] = "aws.cloudwatch",
            ["account"] = "123456789012",
            ["time"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["region"] = "us-east-1",
            ["resources"] = new JsonArray($"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}"),
            ["detail"] = detail,
        };
        return e.ToJsonString();
    }

    public static AlarmStateChange Alarm(string alarm, string state, DateTimeOffset at, double? metric = null,
        double? threshold = null, bool composite = false, string? suppressedBy = null) =>
        (AlarmStateChange)EventParser.Parse(AlarmEventJson(alarm, state, at, metric, threshold, composite, suppressedBy: suppressedBy)).Detail;

    public static ObservedService Service(int desired, string status = "ACTIVE") => new()
    {
        ServiceArn = ServiceArn, ServiceName = "web", ClusterArn = ClusterArn, Status = status, DesiredCount = desired, RunningCount = desired,
    };

    public static ScalingObservation Observe(int desired, ServiceScalingRecord? record = null, ObservedScalableTarget? target = null) =>
        new() { Service = Service(desired), Record = record, ScalableTarget = target };

    public static ObservedScalableTarget AasTarget(int min, int max) => new()
    {
        ServiceNamespace = "ecs", ResourceId = "service/prod/web", ScalableDimension = "ecs:service:DesiredCount", MinCapacity = min, MaxCapacity = max,
    };

    /// <summary>The scaling record the decision claims (writes before acting), or null when it remembers nothing.</summary>
    public static ServiceScalingRecord? Record(this Decision d) => d.Write<ScalingRecordWrite>()?.Record;

    /// <summary>The desired count of the decision's UpdateService, or null when it sends none.</summary>
    public static int? Desired(this Decision d) =>
        d.Actions.Select(a => a.Request).OfType<UpdateServiceRequest>().SingleOrDefault()?.DesiredCount;

    /// <summary>
    /// A service driven by the pure scaler alone: applies each decision as the engine would (the record
    /// written with the next version, the desired count changed by the UpdateService).
    /// </summary>
    public sealed class Simulation(ReflexPolicy policy, int desired)
    {
        public int DesiredCount { get; private set; } = desired;
        public ServiceScalingRecord? Record { get; private set; }
        public List<Decision> Decisions { get; } = [];

        public Decision Feed(AlarmStateChange alarm, DateTimeOffset now, ObservedScalableTarget? target = null)
        {
            var d = ServiceScaler.Decide(alarm, policy, Observe(DesiredCount, Record, target), now);
            if (d.Record() is { } next) Record = next with { Version = (Record?.Version ?? 0) + 1 };
            if (d.Desired() is { } n) DesiredCount = n;
            Decisions.Add(d);
            return d;
        }
    }
}
