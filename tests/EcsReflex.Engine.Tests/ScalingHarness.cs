using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;

namespace EcsReflex.Engine.Tests;

/// <summary>Policy, cluster, alarm events and replay helpers for the scaler's engine tests.</summary>
internal static class ScalingHarness
{
    public const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    public static readonly DateTimeOffset T0 = new(2026, 3, 7, 10, 0, 0, TimeSpan.Zero);

    public static ReflexPolicy Policy(int outCooldown = 60) => PolicyLoader.Load($$"""
    { "clusters": [{ "cluster": "{{ClusterArn}}", "services": [{ "service": "web", "scaling": {
        "minCount": 2, "maxCount": 40, "scaleOutCooldownSeconds": {{outCooldown}}, "scaleInCooldownSeconds": 300, "scaleInStabilizationSeconds": 300,
        "alarms": [
          { "alarmName": "web-cpu-high", "adjustmentType": "ChangeInCapacity",
            "steps": [ { "lowerBound": 0, "upperBound": 20, "adjustment": 1 }, { "lowerBound": 20, "adjustment": 3 } ] },
          { "alarmName": "web-cpu-low", "adjustmentType": "PercentChangeInCapacity", "minAdjustmentMagnitude": 1,
            "steps": [ { "upperBound": 0, "adjustment": -25 } ] },
          { "alarmName": "web-latency-high", "adjustmentType": "ChangeInCapacity",
            "steps": [ { "lowerBound": 0, "adjustment": 2 } ] } ] } }] }] }
    """);

    public static double ThresholdOf(string alarm) => alarm switch { "web-cpu-low" => 20, "web-latency-high" => 250, _ => 70 };

    public static EmbeddedCluster WebCluster(int desired) => new(new ClusterSnapshot
    {
        Services = [new ObservedService
        {
            ServiceArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web", ServiceName = "web", ClusterArn = ClusterArn,
            Status = "ACTIVE", DesiredCount = desired,
        }],
    });

    public static int DesiredOfWeb(this EmbeddedCluster c) => c.FindService(ClusterArn, "web")!.DesiredCount;

    /// <summary>A CloudWatch Alarm State Change as CloudWatch sends it; <c>reasonData</c> is a JSON string.</summary>
    public static EventEnvelope AlarmEvent(string alarm, string state, DateTimeOffset at, double? metric, string? id = null)
    {
        var ts = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture);
        var reasonData = new JsonObject
        {
            ["version"] = "1.0", ["queryDate"] = ts, ["statistic"] = "Average", ["period"] = 60,
            ["recentDatapoints"] = metric is { } v ? new JsonArray(v) : new JsonArray(),
            ["threshold"] = ThresholdOf(alarm),
        };
        var json = new JsonObject
        {
            ["version"] = "0",
            ["id"] = id ?? $"{alarm}-{state}-{at.ToUnixTimeMilliseconds()}",
            ["detail-type"] = "CloudWatch Alarm State Change",
            ["source"] = "aws.cloudwatch",
            ["account"] = "123456789012",
            ["time"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["region"] = "us-east-1",
            ["resources"] = new JsonArray($"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}"),
            ["detail"] = new JsonObject
            {
                ["alarmName"] = alarm,
                ["state"] = new JsonObject { ["value"] = state, ["reason"] = "test", ["reasonData"] = reasonData.ToJsonString(), ["timestamp"] = ts },
            },
        };
        return EventParser.Parse(json.ToJsonString());
    }

    public static InputItem Item(EventEnvelope e, int n) => new($"test:{n}", e, null, e.EffectiveTime);

    /// <summary>The scaler's UpdateService requests (a placement restore of the sweep's, which sets no desired count, left out).</summary>
    public static IEnumerable<UpdateServiceRequest> UpdateServices(this IEnumerable<ReplayRecord> records) =>
        records.SelectMany(r => r.Actions).Select(a => a.Action.Request).OfType<UpdateServiceRequest>().Where(u => u.DesiredCount is not null);
}
