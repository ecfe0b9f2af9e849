using EcsReflex.Bench;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// Memory of a long replay (issue 8): the in-memory store and the embedded cluster forget what can no longer change a
/// decision, and forgetting changes no decision.
/// </summary>
public class ReplayMemoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    // ------------------------------------------------------------------ the store, one rule at a time

    /// <summary>A key claimed at <paramref name="at"/> (a lease of 15 minutes) and completed: the processed record, kept until <paramref name="expiresAt"/>.</summary>
    private static async Task<string> ProcessAsync(InMemoryStateStore store, string key, DateTimeOffset at, DateTimeOffset expiresAt)
    {
        var claims = new EventClaims(store);
        var held = (await claims.ClaimAsync([key], at, TimeSpan.FromMinutes(15), default)).Claim!;
        Assert.True(await store.TryPutClaimAsync(new ClaimRecord { Key = key, Status = ClaimStatus.Completed, Token = held.Token, ExpiresAt = expiresAt },
            ClaimCondition.Holds(held.Token), default));
        return held.Token;
    }

    private static async Task<bool> IsProcessedAsync(InMemoryStateStore store, string key) =>
        await store.GetClaimAsync(key, default) is { Status: ClaimStatus.Completed };

    [Fact]
    public async Task Store_WhenAProcessedEventExpires_ItIsNoDuplicateAndPhysicallyGone()
    {
        var store = new InMemoryStateStore { Now = T0 };
        await ProcessAsync(store, "event#a", T0, T0 + Reactor.DuplicateMemory);

        store.Now = T0 + Reactor.DuplicateMemory - TimeSpan.FromSeconds(1);
        Assert.True(await IsProcessedAsync(store, "event#a"));
        Assert.Equal(1, store.Counts.Events);

        store.Now = T0 + Reactor.DuplicateMemory;
        Assert.Null(await store.GetClaimAsync("event#a", default));
        Assert.Equal(0, store.Counts.Events);
        Assert.Equal(0, store.Counts.PendingExpiries);
    }

    [Fact]
    public async Task Store_WhenAProcessedEventIsRecordedAgainLater_ItIsKeptUntilTheLaterExpiry()
    {
        var store = new InMemoryStateStore { Now = T0 };
        var token = await ProcessAsync(store, "event#a", T0, T0 + TimeSpan.FromHours(1));
        store.Now = T0 + TimeSpan.FromMinutes(30);
        Assert.True(await store.TryPutClaimAsync(new ClaimRecord { Key = "event#a", Status = ClaimStatus.Completed, Token = token, ExpiresAt = T0 + TimeSpan.FromHours(3) },
            ClaimCondition.Holds(token), default));

        store.Now = T0 + TimeSpan.FromHours(2);
        Assert.True(await IsProcessedAsync(store, "event#a"));
        Assert.Equal(1, store.Counts.Events);
        store.Now = T0 + TimeSpan.FromHours(3);
        Assert.Equal(0, store.Counts.Events);
    }

    [Fact]
    public async Task Store_RelaunchSlotsOfAPastMinute_AreRemovedAnHourAfterTheMinute()
    {
        var minute = T0;
        var store = new InMemoryStateStore { Now = minute };
        Assert.Equal(1, await store.TakeRelaunchSlotAsync("prod", minute, default));
        Assert.Equal(2, await store.TakeRelaunchSlotAsync("prod", minute, default));
        Assert.Equal(3, await store.TakeRelaunchSlotAsync("prod", minute, default));

        store.Now = minute + TimeSpan.FromMinutes(59);
        Assert.Equal(1, store.Counts.RelaunchSlots);
        store.Now = minute + InMemoryStateStore.SlotRetention;
        Assert.Equal(0, store.Counts.RelaunchSlots);
    }

    private static LineageRecord Lineage(string id, bool givenUp = false) => new()
    {
        Cluster = "prod", Lineage = id, Rule = "workers", Attempt = givenUp ? 3 : 1, GivenUp = givenUp, LastTaskArn = "arn:aws:ecs:us-east-1:1:task/prod/" + id,
    };

    [Fact]
    public async Task Store_ALineage_IsKeptThirtyDaysAfterItsLastWrite()
    {
        var store = new InMemoryStateStore { Now = T0 };
        await store.PutLineageAsync(Lineage("a"), default);
        store.Now = T0 + TimeSpan.FromDays(29);
        await store.PutLineageAsync(Lineage("a") with { Attempt = 2 }, default);

        store.Now = T0 + TimeSpan.FromDays(31);
        Assert.Equal(2, (await store.GetLineageAsync("prod", "a", default))!.Attempt);

        store.Now = T0 + TimeSpan.FromDays(29) + InMemoryStateStore.LineageRetention;
        Assert.Null(await store.GetLineageAsync("prod", "a", default));
        Assert.Equal(0, store.Counts.Lineages);
    }

    /// <summary>
    /// A lineage rewritten at every relaunch keeps one expiry entry, not one per write, and still expires 30 days
    /// after its last write; a give-up that shortens its retention is forgotten at the shorter time.
    /// </summary>
    [Fact]
    public async Task Store_ALineageRewrittenOften_KeepsOneExpiryEntry_AndExpiresAfterItsLastWrite()
    {
        var store = InMemoryStateStore.ForReplay();
        store.Now = T0;
        for (var i = 1; i <= 1000; i++)
        {
            store.Now = T0 + TimeSpan.FromMinutes(i);
            await store.PutLineageAsync(Lineage("busy") with { Attempt = i }, default);
        }
        Assert.Equal(1, store.Counts.PendingExpiries);
        var lastWrite = T0 + TimeSpan.FromMinutes(1000);

        store.Now = T0 + InMemoryStateStore.LineageRetention + TimeSpan.FromMinutes(1); // the first entry comes up: queued again
        Assert.Equal(1000, (await store.GetLineageAsync("prod", "busy", default))!.Attempt);
        Assert.Equal(1, store.Counts.PendingExpiries);
        store.Now = lastWrite + InMemoryStateStore.LineageRetention - TimeSpan.FromSeconds(1);
        Assert.NotNull(await store.GetLineageAsync("prod", "busy", default));
        store.Now = lastWrite + InMemoryStateStore.LineageRetention;
        Assert.Null(await store.GetLineageAsync("prod", "busy", default));
        Assert.Equal(0, store.Counts.Lineages);
        Assert.Equal(0, store.Counts.PendingExpiries);

        // Given up: a shorter retention than the entry already queued, so a second entry is queued for it.
        var shortened = InMemoryStateStore.ForReplay();
        shortened.Now = T0;
        await shortened.PutLineageAsync(Lineage("ends"), default);
        await shortened.PutLineageAsync(Lineage("ends", givenUp: true), default);
        shortened.Now = T0 + Reactor.DuplicateMemory + TimeSpan.FromHours(1);
        Assert.Null(await shortened.GetLineageAsync("prod", "ends", default));
        Assert.Equal(0, shortened.Counts.Lineages);
    }

    [Fact]
    public async Task Store_AGivenUpLineage_IsForgottenAfterTheDuplicateMemoryOnlyInTheReplaysStore()
    {
        var replay = InMemoryStateStore.ForReplay();
        var plain = new InMemoryStateStore();
        foreach (var s in new[] { replay, plain })
        {
            s.Now = T0;
            await s.PutLineageAsync(Lineage("done", givenUp: true), default);
            await s.PutLineageAsync(Lineage("live"), default);
            s.Now = T0 + Reactor.DuplicateMemory + TimeSpan.FromHours(1);
        }

        Assert.Null(await replay.GetLineageAsync("prod", "done", default));
        Assert.NotNull(await replay.GetLineageAsync("prod", "live", default));
        Assert.Equal(1, replay.Counts.Lineages);
        Assert.True((await plain.GetLineageAsync("prod", "done", default))!.GivenUp);
    }

    [Fact]
    public async Task Store_AnInstanceRecordThatExpired_NoLongerRefusesAnOlderVersion()
    {
        var store = new InMemoryStateStore { Now = T0 };
        var seen = new InstanceSeenRecord { Cluster = "prod", ContainerInstanceArn = "ci/1", Status = "DRAINING", Version = 12 };
        Assert.True(await store.TryPutInstanceSeenAsync(seen, default));
        Assert.False(await store.TryPutInstanceSeenAsync(seen with { Version = 11 }, default));

        store.Now = T0 + InMemoryStateStore.InstanceRetention;
        Assert.Equal(0, store.Counts.InstanceRecords);
        Assert.True(await store.TryPutInstanceSeenAsync(seen with { Version = 11 }, default));
    }

    public static TheoryData<string, int?, int> AuditLimits => new()
    {
        { "default: every entry", null, 5 },
        { "none", 0, 0 },
        { "the last three", 3, 3 },
    };

    [Theory]
    [MemberData(nameof(AuditLimits))]
    public async Task Store_Audit_KeepsWhatItIsToldToKeep(string what, int? max, int kept)
    {
        _ = what;
        var store = new InMemoryStateStore { MaxAuditEntries = max };
        for (var i = 0; i < 5; i++)
            await store.AppendAuditAsync(new AuditEntry(T0, $"e{i}", "task-rescheduler", "done", "r", null, null, null), default);
        Assert.Equal(kept, store.Audit.Count);
        Assert.Equal(kept, store.Counts.AuditEntries);
        if (kept > 0) Assert.Equal("e4", store.Audit.Last().EventId);
    }

    // ------------------------------------------------------------------ the embedded cluster

    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

    private static RunTaskRequest Run(string token) => new()
    {
        Cluster = Cluster, TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1", ClientToken = token,
    };

    [Fact]
    public async Task Cluster_AStoppedTask_IsForgottenAfterAnHourButStillAnsweredAsStopped()
    {
        var cluster = new EmbeddedCluster(ClusterSnapshot.Empty) { EmitEvents = false, Now = T0 };
        var arn = Assert.Single((await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);
        await cluster.StopTaskAsync(new StopTaskRequest { Cluster = Cluster, Task = arn }, default);
        Assert.Equal("STOPPED", cluster.FindTask(arn)!.LastStatus);

        cluster.Now = T0 + TimeSpan.FromMinutes(59);
        Assert.NotNull(cluster.FindTask(arn));
        cluster.Now = T0 + TimeSpan.FromHours(1);
        Assert.Null(cluster.FindTask(arn));
        Assert.Equal(new ClusterItemCounts(0, 0, 1, 0, 1, 0, 1, 2, 0), cluster.Counts);

        // A late StopTask, by ARN or by id, is answered as for the stopped task; the client token still returns it.
        Assert.Equal(new StopTaskResponse(arn, "STOPPED"), await cluster.StopTaskAsync(new StopTaskRequest { Cluster = Cluster, Task = arn }, default));
        Assert.Equal(new StopTaskResponse(arn, "STOPPED"), await cluster.StopTaskAsync(new StopTaskRequest { Cluster = Cluster, Task = arn.Split('/')[^1] }, default));
        Assert.Equal([arn], (await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);
        Assert.Equal(1, cluster.TasksStarted);
    }

    [Fact]
    public async Task Cluster_AClientToken_IsKeptForTheReactorsDuplicateMemoryThenForgotten()
    {
        var cluster = new EmbeddedCluster(ClusterSnapshot.Empty) { EmitEvents = false, Now = T0 };
        var arn = Assert.Single((await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);

        cluster.Now = T0 + Reactor.DuplicateMemory;
        Assert.Equal([arn], (await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);
        cluster.Now = T0 + EmbeddedCluster.RequestMemory;
        Assert.Equal(0, cluster.Counts.ClientTokens);
        Assert.Equal(1, cluster.Counts.LiveTasks); // the task itself runs on: only the token is forgotten
    }

    [Fact]
    public async Task Cluster_AForgottenStoppedTask_IsNotAddedBackByALateEventAboutIt()
    {
        var cluster = new EmbeddedCluster(ClusterSnapshot.Empty) { EmitEvents = false, Now = T0 };
        var arn = Assert.Single((await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);
        await cluster.StopTaskAsync(new StopTaskRequest { Cluster = Cluster, Task = arn }, default);
        cluster.Now = T0 + TimeSpan.FromHours(2);
        var generation = cluster.Generation;

        cluster.Observe(new Core.Events.EventEnvelope
        {
            Version = "0", Id = "late", DetailType = Core.Events.DetailTypes.TaskStateChange, Source = Core.Events.DetailTypes.EcsSource, Time = cluster.Now,
            Detail = new Core.Events.TaskStateChange { TaskArn = arn, ClusterArn = Cluster, LastStatus = "RUNNING" },
        });

        Assert.Null(cluster.FindTask(arn));
        Assert.Equal(generation, cluster.Generation);
    }

    [Fact]
    public async Task Cluster_WithoutRetention_KeepsStoppedTasksForEver()
    {
        var cluster = new EmbeddedCluster(ClusterSnapshot.Empty) { EmitEvents = false, StoppedTaskRetention = null, Now = T0 };
        var arn = Assert.Single((await cluster.RunTaskAsync(Run("token-1"), default)).TaskArns);
        await cluster.StopTaskAsync(new StopTaskRequest { Cluster = Cluster, Task = arn }, default);
        cluster.Now = T0 + TimeSpan.FromDays(3);
        Assert.Equal("STOPPED", cluster.FindTask(arn)!.LastStatus);
        Assert.Equal(1, cluster.Counts.ClientTokens);
    }

    // ------------------------------------------------------------------ a long replay: same decisions, bounded memory

    /// <summary>About 31 hours of the benchmark's seeded stream: past the 24-hour duplicate memory and the client tokens' 25 hours.</summary>
    private const int StreamEvents = 45_000;

    private sealed record LongReplay(List<string> Lines, List<(DateTimeOffset Time, StoreItemCounts Store, ClusterItemCounts Cluster)> Samples,
        DateTimeOffset End, List<ReplayRecord> Records);

    private static readonly Lazy<Task<(LongReplay Forgetting, LongReplay Keeping)>> Replays = new(async () =>
        (await ReplayAsync(forget: true), await ReplayAsync(forget: false)));

    private static async Task<LongReplay> ReplayAsync(bool forget)
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Path("reflex.policy.json")));
        var snapshot = SnapshotReader.Parse(File.ReadAllBytes(Repository.Path("events", "cluster.snapshot.json")));
        var cluster = new EmbeddedCluster(snapshot) { StoppedTaskRetention = forget ? TimeSpan.FromHours(1) : null };
        var store = forget ? InMemoryStateStore.ForReplay() : new InMemoryStateStore { NeverForget = true };
        var engine = new ReplayEngine(policy, cluster, store);
        var generator = new EventStreamGenerator(Repository.Path("events"), seed: 42);
        var inputs = generator.Generate(StreamEvents).Select((json, i) =>
            ReplayInputs.ParseOne("stream", System.Text.Encoding.UTF8.GetBytes(json), null));
        var lines = new List<string>();
        var records = new List<ReplayRecord>();
        var samples = new List<(DateTimeOffset, StoreItemCounts, ClusterItemCounts)>();
        var n = 0;
        DateTimeOffset end = default;
        await foreach (var r in engine.RunAsync(inputs))
        {
            lines.Add(Line(r));
            if (r.Actions.Count > 0 || r.Outcome == Outcome.Deferred) records.Add(r);
            if (r.Time is { } t) end = t;
            if (++n % 5_000 == 0) samples.Add((end, store.Counts, cluster.Counts));
        }
        return new LongReplay(lines, samples, end, records);
    }

    /// <summary>What a record decided: its outcome, reason and every action sent with its result.</summary>
    private static string Line(ReplayRecord r) =>
        $"{r.Trigger} {r.EventId} {r.Time:O} {r.Outcome} {r.Reason} | "
        + string.Join(" | ", r.Actions.Select(a => $"{a.Action.Operation} {ActionJson.ToJson(a.Action.Request)} {a.Status} {a.Detail}"));

    [Fact]
    public async Task LongReplay_ForgettingWhatExpired_DecidesExactlyAsKeepingEverything()
    {
        var (forgetting, keeping) = await Replays.Value;

        Assert.True(forgetting.End - forgetting.Samples[0].Time > EmbeddedCluster.RequestMemory, "the stream must outlast every memory window");
        Assert.Equal(keeping.Lines.Count, forgetting.Lines.Count);
        for (var i = 0; i < keeping.Lines.Count; i++)
            Assert.True(keeping.Lines[i] == forgetting.Lines[i], $"record {i} differs:\nkeeping:    {keeping.Lines[i]}\nforgetting: {forgetting.Lines[i]}");
        // Not vacuous: the stream relaunches, drains and stops tasks.
        Assert.Contains(keeping.Records, r => r.Actions.Any(a => a.Action.Operation == "RunTask"));
        Assert.Contains(keeping.Records, r => r.Actions.Any(a => a.Action.Operation == "StopTask"));
    }

    [Fact]
    public async Task LongReplay_ForgettingWhatExpired_HoldsOnlyWhatOneWindowWrites()
    {
        var (forgetting, keeping) = await Replays.Value;
        var end = forgetting.Samples[^1];
        var kept = keeping.Samples[^1];
        var lastDay = forgetting.Lines.Count(l => DateTimeOffset.TryParse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture, out var t) && t > end.Time - Reactor.DuplicateMemory);

        // Processed events: at most two keys per record of the last 24 hours, not per record of the stream.
        Assert.InRange(end.Store.Events, 1, 2 * lastDay);
        Assert.True(end.Store.Events < kept.Store.Events * 0.9, $"{end.Store.Events} dedup keys kept against {kept.Store.Events}");
        // One counter per cluster and minute of the last hour; a bounded audit.
        Assert.InRange(end.Store.RelaunchSlots, 0, 61 * 2);
        Assert.InRange(end.Store.AuditEntries, 0, InMemoryStateStore.ReplayAuditEntries);
        // Stopped tasks of the last hour only; their ARNs and the client tokens of the last 25 hours.
        Assert.True(end.Cluster.StoppedTasks < kept.Cluster.StoppedTasks / 4, $"{end.Cluster.StoppedTasks} stopped tasks kept against {kept.Cluster.StoppedTasks}");
        Assert.True(end.Cluster.ClientTokens < kept.Cluster.ClientTokens, $"{end.Cluster.ClientTokens} tokens kept against {kept.Cluster.ClientTokens}");
        Assert.True(end.Cluster.ReleasedArns < kept.Cluster.ReleasedArns, $"{end.Cluster.ReleasedArns} released ARNs kept against {kept.Cluster.ReleasedArns}");
        // Live tasks are the cluster's state, not memory to forget: both replays hold the same.
        Assert.Equal(kept.Cluster.LiveTasks, end.Cluster.LiveTasks);
    }
}
