using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// Reliability soak (issue 8), concurrency: 16 service-scaler invocations at once for one service, all deciding
/// from the same version of the scaling record in the DynamoDB store (on dynalite, over the real protocol), for
/// the same alarm transition delivered 16 times (under the same and under different event ids). Exactly one
/// UpdateService per transition reaches ECS, counted at the ECS fake.
/// </summary>
public sealed class SoakConcurrencyTests(DynaliteFixture dynalite) : IClassFixture<DynaliteFixture>
{
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const int Invocations = 16;
    private static readonly DateTimeOffset T0 = new(2026, 3, 7, 10, 0, 0, TimeSpan.Zero);

    private static ReflexPolicy Policy() => PolicyLoader.Load($$"""
    { "clusters": [{ "cluster": "{{ClusterArn}}", "services": [{ "service": "web", "scaling": {
        "minCount": 2, "maxCount": 40, "scaleOutCooldownSeconds": 60, "scaleInCooldownSeconds": 300, "scaleInStabilizationSeconds": 300,
        "alarms": [
          { "alarmName": "web-cpu-high", "adjustmentType": "ChangeInCapacity",
            "steps": [ { "lowerBound": 0, "upperBound": 20, "adjustment": 1 }, { "lowerBound": 20, "adjustment": 3 } ] },
          { "alarmName": "web-latency-high", "adjustmentType": "ChangeInCapacity",
            "steps": [ { "lowerBound": 0, "adjustment": 2 } ] } ] } }] }] }
    """);

    private static EmbeddedCluster WebCluster(int desired) => new(new ClusterSnapshot
    {
        Services = [new ObservedService
        {
            ServiceArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web", ServiceName = "web", ClusterArn = ClusterArn,
            Status = "ACTIVE", DesiredCount = desired,
        }],
    });

    /// <summary>A CloudWatch Alarm State Change as CloudWatch sends it (reasonData is a JSON string), through the real parser.</summary>
    private static EventEnvelope AlarmEvent(string alarm, string state, DateTimeOffset at, double metric, double threshold, string id)
    {
        var ts = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture);
        var reasonData = new JsonObject
        {
            ["version"] = "1.0", ["queryDate"] = ts, ["statistic"] = "Average", ["period"] = 60,
            ["recentDatapoints"] = new JsonArray(metric), ["threshold"] = threshold,
        };
        var json = new JsonObject
        {
            ["version"] = "0", ["id"] = id, ["detail-type"] = "CloudWatch Alarm State Change", ["source"] = "aws.cloudwatch",
            ["account"] = "123456789012", ["time"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["region"] = "us-east-1", ["resources"] = new JsonArray($"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}"),
            ["detail"] = new JsonObject
            {
                ["alarmName"] = alarm,
                ["state"] = new JsonObject { ["value"] = state, ["reason"] = "soak", ["reasonData"] = reasonData.ToJsonString(), ["timestamp"] = ts },
            },
        };
        return EventParser.Parse(json.ToJsonString());
    }

    /// <summary>One alarm transition and the desired count it must lead to (null: no scaling).</summary>
    private sealed record Transition(string Alarm, string State, TimeSpan At, double Metric, double Threshold, int? Expected);

    /// <summary>
    /// Runs each transition as 16 parallel invocations (each its own Reactor, as 16 Lambda instances would be) that
    /// all read the scaling record before any of them writes; half of the deliveries share one event id, the others
    /// carry their own (EventBridge's at-least-once delivery does both).
    /// </summary>
    private async Task<(RecordingEcs Ecs, EmbeddedCluster Cluster, List<Reaction[]> Rounds, DynamoDbStateStore Store)> RunAsync(IReadOnlyList<Transition> transitions)
    {
        var policy = Policy();
        var cluster = WebCluster(4);
        var ecs = new RecordingEcs(cluster);
        var dynamo = new DynamoDbStateStore(dynalite.Client, await dynalite.NewTableAsync());
        var rounds = new List<Reaction[]>();
        for (var k = 0; k < transitions.Count; k++)
        {
            var t = transitions[k];
            var at = T0 + t.At;
            var store = new StartingLineStore(dynamo, Invocations);
            var reactions = await Task.WhenAll(Enumerable.Range(0, Invocations).Select(i => Task.Run(() =>
            {
                var e = AlarmEvent(t.Alarm, t.State, at, t.Metric, t.Threshold, i % 2 == 0 ? $"ev-{k}" : $"ev-{k}-redelivery-{i}");
                return new Reactor(policy, store, cluster, new Actuator(ecs, store, policy)).HandleEventAsync(e, at, CancellationToken.None).AsTask();
            }))).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(store.AllStartedTogether, $"transition {k}: the {Invocations} invocations did not all read the record before the first write");
            rounds.Add(reactions);
        }
        return (ecs, cluster, rounds, dynamo);
    }

    [Fact]
    public async Task SixteenInvocationsOfTheSameAlarmTransition_ScaleTheServiceExactlyOnce()
    {
        var (ecs, cluster, rounds, store) = await RunAsync([new Transition("web-cpu-high", "ALARM", TimeSpan.Zero, 75, 70, 5)]);

        var update = Assert.Single(ecs.Updates);
        Assert.Equal(("web", 5), (update.Service, update.DesiredCount));
        Assert.Equal(5, cluster.FindService(ClusterArn, "web")!.DesiredCount);
        var reactions = Assert.Single(rounds);
        Assert.Single(reactions, r => r.Outcome == Outcome.Acted);
        Assert.Equal(Invocations - 1, reactions.Count(r => r.Outcome == Outcome.Ignored));
        var record = await store.GetScalingRecordAsync("prod", "web", CancellationToken.None);
        Assert.Equal(5, record!.LastTarget);
    }

    [Fact]
    public async Task SixteenInvocationsOfEachTransitionInASequence_ScaleExactlyOncePerScalingTransition()
    {
        // Step adjustments by hand from the policy: 75 vs 70 → +1; OK does not scale; ALARM again after the 60 s
        // cooldown → +1; latency 260 vs 250 → +2; cpu 95 vs 70 (+25, second step) → +3.
        Transition[] transitions =
        [
            new("web-cpu-high", "ALARM", TimeSpan.Zero, 75, 70, 5),
            new("web-cpu-high", "OK", TimeSpan.FromMinutes(2), 50, 70, null),
            new("web-cpu-high", "ALARM", TimeSpan.FromMinutes(4), 78, 70, 6),
            new("web-latency-high", "ALARM", TimeSpan.FromMinutes(6), 260, 250, 8),
            new("web-cpu-high", "OK", TimeSpan.FromMinutes(8), 40, 70, null),
            new("web-cpu-high", "ALARM", TimeSpan.FromMinutes(10), 95, 70, 11),
        ];

        var (ecs, cluster, rounds, _) = await RunAsync(transitions);

        Assert.Equal(transitions.Where(t => t.Expected is not null).Select(t => t.Expected), ecs.Updates.Select(u => u.DesiredCount));
        Assert.Equal(11, cluster.FindService(ClusterArn, "web")!.DesiredCount);
        for (var k = 0; k < transitions.Length; k++)
        {
            var acted = rounds[k].Count(r => r.Outcome == Outcome.Acted);
            Assert.True(acted == (transitions[k].Expected is null ? 0 : 1),
                $"transition {k} ({transitions[k].Alarm} {transitions[k].State}): {acted} invocations acted: {string.Join(" | ", rounds[k].Select(r => $"{r.Outcome}: {r.Reason}"))}");
            Assert.DoesNotContain(rounds[k], r => r.Outcome == Outcome.Failed);
        }
    }
}
