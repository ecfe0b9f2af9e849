using CsCheck;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;
using Microsoft.Extensions.Time.Testing;
using static EcsReflex.Engine.Tests.ScalingHarness;

namespace EcsReflex.Engine.Tests;

/// <summary>The scaler's engine step: the conditional claim of the service record, retries, dry run and failures, duplicates.</summary>
public class ScalingEngineTests
{
    [Fact]
    public async Task TwoInvocationsDecidingAtOnceForTheSameTransition_OnlyOneScales()
    {
        for (var round = 0; round < 25; round++)
        {
            var policy = Policy();
            var cluster = WebCluster(4);
            var ecs = new RecordingEcs(cluster);
            var store = new StartingLineStore(new InMemoryStateStore(), racers: 2, TimeSpan.FromSeconds(10));
            // The same transition delivered twice under two event ids, to two invocations at the same moment.
            var first = AlarmEvent("web-cpu-high", "ALARM", T0, 87.5, id: "delivery-1");
            var second = AlarmEvent("web-cpu-high", "ALARM", T0, 87.5, id: "delivery-2");
            Reactor NewReactor() => new(policy, store, cluster, new Actuator(ecs, store, policy));

            var reactions = await Task.WhenAll(
                Task.Run(() => NewReactor().HandleEventAsync(first, T0, CancellationToken.None).AsTask()),
                Task.Run(() => NewReactor().HandleEventAsync(second, T0, CancellationToken.None).AsTask()));

            var update = Assert.Single(ecs.Updates);
            Assert.Equal(5, update.DesiredCount);
            Assert.Equal(5, cluster.DesiredOfWeb());
            Assert.Single(reactions, r => r.Outcome == Outcome.Acted);
            var loser = Assert.Single(reactions, r => r.Outcome == Outcome.Ignored);
            Assert.Equal("web-cpu-high ALARM at 10:00:00 was already handled", loser.Reason);
            Assert.Equal(1, store.SuccessfulWrites);
        }
    }

    [Fact]
    public async Task TwoInvocationsDecidingAtOnceForDifferentAlarms_NeverBothScaleFromTheSameCount()
    {
        for (var round = 0; round < 25; round++)
        {
            var policy = Policy();
            var cluster = WebCluster(4);
            var ecs = new RecordingEcs(cluster);
            var store = new StartingLineStore(new InMemoryStateStore(), racers: 2, TimeSpan.FromSeconds(10));
            Reactor NewReactor() => new(policy, store, cluster, new Actuator(ecs, store, policy));

            var reactions = await Task.WhenAll(
                Task.Run(() => NewReactor().HandleEventAsync(AlarmEvent("web-cpu-high", "ALARM", T0, 75), T0, CancellationToken.None).AsTask()),
                Task.Run(() => NewReactor().HandleEventAsync(AlarmEvent("web-latency-high", "ALARM", T0, 260), T0, CancellationToken.None).AsTask()));

            // Both decided from desired 4 at version 0; the loser had to re-read and decide again from what the winner did.
            var acted = reactions.Where(r => r.Outcome == Outcome.Acted).ToList();
            Assert.NotEmpty(acted);
            Assert.Single(acted, r => r.Reason.Contains(": 4 → ", StringComparison.Ordinal));
            if (acted.Count == 2)
                Assert.Contains(acted, r => r.Reason.Contains("from 4 (where the scale-out cooldown started)", StringComparison.Ordinal));
            else
                Assert.Contains(reactions, r => r.Outcome == Outcome.Ignored && (r.Reason.Contains("has not landed yet") || r.Reason.Contains("held by the cooldown")));
            Assert.Equal(ecs.Updates.Last().DesiredCount, cluster.DesiredOfWeb());
            Assert.Equal(acted.Count, ecs.Updates.Count);
        }
    }

    [Fact]
    public async Task DryRun_SendsNothingAndDoesNotCountTheChangeThatWasNotMade()
    {
        var clock = new FakeTimeProvider(T0);
        var policy = Policy();
        var cluster = WebCluster(4);
        var engine = new ReplayEngine(policy, cluster, new InMemoryStateStore(clock), dryRun: true);
        var records = await ReplayHarness.RecordsAsync(engine, [
            Item(AlarmEvent("web-cpu-high", "ALARM", T0, 75), 1),
            Item(AlarmEvent("web-latency-high", "ALARM", T0.AddSeconds(30), 260), 2),
        ]);
        Assert.Equal(4, cluster.DesiredOfWeb());
        Assert.All(records.SelectMany(r => r.Actions), a => Assert.Equal("dry-run", a.Status));
        // Had the first (unsent) change been remembered, the second would be "not landed yet"; it is computed from 4 instead.
        Assert.Equal([5, 6], records.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.StartsWith("web-latency-high at 260 (threshold 250, +10) → step +2: 4 → 6 (max 40); decided again at ", records[1].Reason);
        // The re-decisions were due after the last input: periodic work stops there, and the last record says so.
        Assert.Equal(ReasonCodes.EngineReplayUntil, records[^1].Code);
        var record = Assert.Single(engine.Store.ScalingRecords);
        Assert.Null(record.LastTarget);
        Assert.Equal(["web-cpu-high", "web-latency-high"], record.Alarms.Select(a => a.AlarmName).Order());
    }

    [Fact]
    public async Task WhenUpdateServiceFails_TheChangeIsForgottenAndTheAlarmRemembered()
    {
        var policy = Policy();
        var cluster = WebCluster(4);
        var store = new InMemoryStateStore();
        var ecs = new RecordingEcs(cluster, failUpdates: new InvalidOperationException("ECS said no"));
        var reactor = new Reactor(policy, store, cluster, new Actuator(ecs, store, policy));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => reactor.HandleEventAsync(AlarmEvent("web-cpu-high", "ALARM", T0, 75), T0, CancellationToken.None).AsTask());
        Assert.Equal("ECS said no", ex.Message);
        var record = Assert.Single(store.ScalingRecords);
        Assert.Equal(((int?)null, (DateTimeOffset?)null), (record.LastTarget, record.LastScaledAt));
        Assert.Equal("ALARM", record.Alarm("web-cpu-high")!.State);
        Assert.Equal(4, cluster.DesiredOfWeb());
    }

    [Fact]
    public async Task InMemoryStore_WritesTheScalingRecordOnlyOnTheVersionItHas()
    {
        var store = new InMemoryStateStore();
        var record = new ServiceScalingRecord { Cluster = "prod", Service = "web", LastTarget = 5 };
        Assert.True(await store.TryPutScalingRecordAsync(record, 0, CancellationToken.None));
        Assert.False(await store.TryPutScalingRecordAsync(record with { LastTarget = 6 }, 0, CancellationToken.None));
        var stored = await store.GetScalingRecordAsync("prod", "web", CancellationToken.None);
        Assert.Equal((1L, (int?)5), (stored!.Version, stored.LastTarget));
        Assert.True(await store.TryPutScalingRecordAsync(stored with { LastTarget = 7 }, 1, CancellationToken.None));
        Assert.Equal(2, (await store.GetScalingRecordAsync("prod", "web", CancellationToken.None))!.Version);
        Assert.Null(await store.GetScalingRecordAsync("prod", "api", CancellationToken.None));
    }

    [Fact]
    public async Task InMemoryStore_UnderConcurrentWriters_EachVersionIsWrittenOnce()
    {
        var store = new InMemoryStateStore();
        var wins = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            store.TryPutScalingRecordAsync(new ServiceScalingRecord { Cluster = "prod", Service = "web", LastTarget = i }, 0, CancellationToken.None).AsTask())));
        Assert.Single(wins, w => w);
    }

    // ---------------- duplicates through the whole pipeline ----------------

    private static readonly string[] Alarms = ["web-cpu-high", "web-cpu-low", "web-latency-high"];
    private static readonly string[] States = ["ALARM", "ALARM", "OK", "INSUFFICIENT_DATA"];

    [Fact]
    public void ReplayingAnyAlarmSequenceTwice_WithDuplicatesInterleaved_EndsAtTheSameCountAsOnce()
    {
        var genEvent = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], Gen.Int[0, 60], Gen.Int[1, 400],
            (alarm, state, offset, gap) => (Alarm: Alarms[alarm], State: States[state], Offset: offset, Gap: gap));
        Gen.Select(Gen.Int[2, 20], genEvent.Array[1, 30], Gen.Int[0, 999].Array[30]).Sample((initial, steps, picks) =>
        {
            var t = T0;
            var events = new List<EventEnvelope>();
            foreach (var s in steps)
            {
                t = t.AddSeconds(s.Gap);
                var metric = ThresholdOf(s.Alarm) + (s.Alarm == "web-cpu-low" ? -s.Offset - 0.5 : s.Offset);
                events.Add(AlarmEvent(s.Alarm, s.State, t, metric));
            }

            var once = Run(initial, events.Select(Item));

            var twice = new List<InputItem>();
            for (var i = 0; i < events.Count; i++)
            {
                twice.Add(Item(events[i], i));
                var j = picks[i] % (i + 1);
                switch (picks[i] % 3)
                {
                    case 1: twice.Add(Item(events[j], 1000 + i)); break;                                         // the same event again
                    case 2: twice.Add(Item(Redelivered(events[j], $"again-{i}"), 2000 + i)); break;               // the same change under another id
                }
            }
            twice.AddRange(events.Select((e, i) => Item(e, 3000 + i)));                                           // and the whole sequence again

            Assert.Equal(once, Run(initial, twice));
        }, iter: 60);
    }

    private static EventEnvelope Redelivered(EventEnvelope e, string id) => e with { Id = id };

    private static int Run(int initial, IEnumerable<InputItem> items)
    {
        var cluster = WebCluster(initial);
        var engine = new ReplayEngine(Policy(), cluster);
        ReplayHarness.RecordsAsync(engine, items).GetAwaiter().GetResult();
        return cluster.DesiredOfWeb();
    }
}
