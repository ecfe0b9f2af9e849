using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.State;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// What every <see cref="IStateStore"/> must do, whatever it stores into: run against the in-memory store and
/// against the DynamoDB store on dynalite. Times are whole seconds (DynamoDB's TTL precision).
/// </summary>
public abstract class StateStoreContract
{
    protected static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Time { get; } = new(Start);

    protected abstract Task<IStateStore> CreateAsync();

    /// <summary>Every store is the one record logic over a backend: the audit trail is read the same way from each.</summary>
    private static Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(IStateStore store, string eventId) => ((StateStore)store).ReadAuditAsync(eventId, default);

    /// <summary>A processed record written as the reactor's completion writes it (the claim and its completion in one go).</summary>
    private static async Task ProcessAsync(IStateStore store, string key, DateTimeOffset at, DateTimeOffset expiresAt)
    {
        var claims = new EventClaims(store);
        var held = await claims.ClaimAsync([key], at, Lease, default);
        Assert.Equal(ClaimVerdict.Claimed, held.Verdict);
        Assert.True(await store.TryPutClaimAsync(new ClaimRecord { Key = key, Status = ClaimStatus.Completed, Token = held.Claim!.Token, ExpiresAt = expiresAt },
            ClaimCondition.Holds(held.Claim.Token), default));
    }

    private static async Task<bool> IsProcessedAsync(IStateStore store, string key) =>
        await store.GetClaimAsync(key, default) is { Status: ClaimStatus.Completed };

    [Fact]
    public async Task GetClaim_WhenNeverClaimed_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetClaimAsync("event#never", default));
    }

    [Fact]
    public async Task ProcessedRecord_IsProcessedUntilItExpires()
    {
        var store = await CreateAsync();
        await ProcessAsync(store, "event#e1", Start, Start.AddHours(24));

        Assert.True(await IsProcessedAsync(store, "event#e1"));
        Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        Assert.True(await IsProcessedAsync(store, "event#e1"));
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await store.GetClaimAsync("event#e1", default));
    }

    [Fact]
    public async Task ProcessedRecord_OfOneKey_LeavesOtherKeysFree()
    {
        var store = await CreateAsync();
        await ProcessAsync(store, "task#arn:t#3", Start, Start.AddHours(24));

        Assert.True(await IsProcessedAsync(store, "task#arn:t#3"));
        Assert.Null(await store.GetClaimAsync("task#arn:t#4", default));
        Assert.Equal(ClaimVerdict.Claimed, (await new EventClaims(store).ClaimAsync(["task#arn:t#4"], Start, Lease, default)).Verdict);
    }

    [Fact]
    public async Task ProcessedRecord_AfterItExpired_TheKeyIsClaimedAndProcessedAgain()
    {
        var store = await CreateAsync();
        await ProcessAsync(store, "event#e2", Start, Start.AddSeconds(10));
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(await store.GetClaimAsync("event#e2", default));

        await ProcessAsync(store, "event#e2", Time.GetUtcNow(), Time.GetUtcNow().AddHours(24));

        Assert.True(await IsProcessedAsync(store, "event#e2"));
    }

    // ---- claims (claim before acting): the rules of Engine/EventClaims over each store's conditional writes

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(32);

    private static ClaimRecord Claim(string key, string? token, DateTimeOffset expiresAt, ClaimStatus status = ClaimStatus.InProgress) =>
        new() { Key = key, Status = status, Token = token, ExpiresAt = expiresAt };

    [Fact]
    public async Task Claim_OnAFreeKey_IsHeld_AndReadsAsInProgressUntilItsLeaseEnds()
    {
        var store = await CreateAsync();

        var result = await new EventClaims(store).ClaimAsync(["event#c1", "task#arn:t#1"], Start, Lease, default);

        Assert.Equal(ClaimVerdict.Claimed, result.Verdict);
        Assert.Equal(["event#c1", "task#arn:t#1"], result.Claim!.Keys);
        var record = await store.GetClaimAsync("task#arn:t#1", default);
        Assert.Equal(Claim("task#arn:t#1", result.Claim.Token, Start + Lease), record);
        Assert.False(await IsProcessedAsync(store, "event#c1")); // in progress is not processed
    }

    [Fact]
    public async Task Claim_WhileAnotherDeliveryHoldsALiveClaim_IsInProgress_AndTakesNoKey()
    {
        var store = await CreateAsync();
        var claims = new EventClaims(store);
        var first = await claims.ClaimAsync(["task#arn:t#2"], Start, Lease, default);

        Time.Advance(Lease - TimeSpan.FromSeconds(2));
        // Another event id for the same change: its own key is free, the change's is held.
        var second = await claims.ClaimAsync(["event#other", "task#arn:t#2"], Time.GetUtcNow(), Lease, default);

        Assert.Equal(ClaimVerdict.InProgress, second.Verdict);
        Assert.Equal("task#arn:t#2", second.Key);
        Assert.Equal(Start + Lease, second.HeldUntil);
        Assert.Null(second.Claim);
        Assert.Null(await store.GetClaimAsync("event#other", default)); // released again: a retry finds it free
        Assert.Equal(first.Claim!.Token, (await store.GetClaimAsync("task#arn:t#2", default))!.Token);
    }

    [Fact]
    public async Task Claim_Completed_IsTheProcessedRecord_ForTheDuplicateMemory()
    {
        var store = await CreateAsync();
        var claims = new EventClaims(store);
        var held = (await claims.ClaimAsync(["event#c3"], Start, Lease, default)).Claim!;

        Assert.True(await claims.CompleteAsync(held, Start, default));

        Assert.True(await IsProcessedAsync(store, "event#c3"));
        Assert.Equal(ClaimStatus.Completed, (await store.GetClaimAsync("event#c3", default))!.Status);
        Time.Advance(Lease + TimeSpan.FromHours(1)); // long past the lease: still processed
        var again = await claims.ClaimAsync(["event#c3"], Time.GetUtcNow(), Lease, default);
        Assert.Equal((ClaimVerdict.Processed, "event#c3"), (again.Verdict, again.Key));
        Time.Advance(ClaimRules.ProcessedExpiry);
        Assert.Equal(ClaimVerdict.Claimed, (await claims.ClaimAsync(["event#c3"], Time.GetUtcNow(), Lease, default)).Verdict);
    }

    [Fact]
    public async Task Claim_Released_FreesEveryKey_ForTheRetry()
    {
        var store = await CreateAsync();
        var claims = new EventClaims(store);
        var held = (await claims.ClaimAsync(["event#c4", "task#arn:t#4"], Start, Lease, default)).Claim!;

        await claims.ReleaseAsync(held, default);

        Assert.Null(await store.GetClaimAsync("event#c4", default));
        Assert.Null(await store.GetClaimAsync("task#arn:t#4", default));
        Assert.Equal(ClaimVerdict.Claimed, (await claims.ClaimAsync(["event#c4", "task#arn:t#4"], Start, Lease, default)).Verdict);
    }

    [Fact]
    public async Task Claim_LeftByACrashedDelivery_IsTakenOverOnceItsLeaseEnds_AndTheOldHolderCannotCompleteIt()
    {
        var store = await CreateAsync();
        var claims = new EventClaims(store);
        var crashed = (await claims.ClaimAsync(["event#c5"], Start, Lease, default)).Claim!;

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var retry = await claims.ClaimAsync(["event#c5"], Time.GetUtcNow(), Lease, default);

        Assert.Equal(ClaimVerdict.Claimed, retry.Verdict);
        Assert.NotEqual(crashed.Token, retry.Claim!.Token);
        // The first holder woke up late: neither its completion nor its release touches the new claim.
        Assert.False(await claims.CompleteAsync(crashed, Time.GetUtcNow(), default));
        await claims.ReleaseAsync(crashed, default);
        Assert.Equal(Claim("event#c5", retry.Claim.Token, Time.GetUtcNow() + Lease), await store.GetClaimAsync("event#c5", default));
        Assert.True(await claims.CompleteAsync(retry.Claim, Time.GetUtcNow(), default));
    }

    [Fact]
    public async Task ClaimWrites_HoldToTheirConditions()
    {
        var store = await CreateAsync();
        Assert.True(await store.TryPutClaimAsync(Claim("event#c6", "t1", Start + Lease), ClaimCondition.Free, default));

        Assert.False(await store.TryPutClaimAsync(Claim("event#c6", "t2", Start + Lease), ClaimCondition.Free, default));
        Assert.False(await store.TryPutClaimAsync(Claim("event#c6", "t2", Start.AddHours(24), ClaimStatus.Completed), ClaimCondition.Holds("t2"), default));
        Assert.False(await store.TryDeleteClaimAsync("event#c6", "t2", default));
        Assert.False(await store.TryDeleteClaimAsync("event#never", "t1", default));
        Assert.False(await store.TryPutClaimAsync(Claim("event#never", "t1", Start + Lease, ClaimStatus.Completed), ClaimCondition.Holds("t1"), default));
        Assert.Null(await store.GetClaimAsync("event#never", default));
        Assert.Equal("t1", (await store.GetClaimAsync("event#c6", default))!.Token);
        Assert.True(await store.TryDeleteClaimAsync("event#c6", "t1", default));
    }

    [Fact]
    public async Task Claim_OnAProcessedRecordWithoutAToken_IsProcessed()
    {
        var store = await CreateAsync();
        Assert.True(await store.TryPutClaimAsync(Claim("event#c7", null, Start.AddHours(24), ClaimStatus.Completed), ClaimCondition.Free, default));

        var result = await new EventClaims(store).ClaimAsync(["event#c7"], Start, Lease, default);

        Assert.Equal(ClaimVerdict.Processed, result.Verdict);
    }

    [Fact]
    public async Task Claims_SixteenAtOnceOnOneKey_ExactlyOneIsHeld()
    {
        var store = await CreateAsync();
        var claims = new EventClaims(store);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            claims.ClaimAsync(i % 2 == 0 ? ["event#race", "task#arn:race#1"] : [$"event#race-{i}", "task#arn:race#1"], Start, Lease, default).AsTask())));

        Assert.Single(results, r => r.Verdict == ClaimVerdict.Claimed);
        Assert.All(results.Where(r => r.Verdict != ClaimVerdict.Claimed), r => Assert.Equal(ClaimVerdict.InProgress, r.Verdict));
    }

    private static LineageRecord Lineage(string cluster, string lineage, int attempt, bool givenUp = false) => new()
    {
        Cluster = cluster, Lineage = lineage, Rule = "batch-workers", Attempt = attempt, OriginalStartedBy = "scheduler/nightly",
        LastFailure = "worker exited 1", LastFailureAt = Start.AddSeconds(attempt), GivenUp = givenUp,
        LastTaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/{lineage}-{attempt}",
    };

    [Fact]
    public async Task GetLineage_WhenNeverPut_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetLineageAsync("prod", "abc", default));
    }

    [Fact]
    public async Task PutLineage_ThenGet_ReturnsEveryFieldAsPut()
    {
        var store = await CreateAsync();
        var record = Lineage("prod", "5f9900fd", 2);
        await store.PutLineageAsync(record, default);
        Assert.Equal(record, await store.GetLineageAsync("prod", "5f9900fd", default));
    }

    [Fact]
    public async Task PutLineage_WithOnlyRequiredFields_RoundTripsTheNulls()
    {
        var store = await CreateAsync();
        var record = new LineageRecord { Cluster = "prod", Lineage = "bare", Rule = "r" };
        await store.PutLineageAsync(record, default);
        Assert.Equal(record, await store.GetLineageAsync("prod", "bare", default));
    }

    [Fact]
    public async Task PutLineage_Again_ReplacesTheRecordAndLeavesOthersAlone()
    {
        var store = await CreateAsync();
        await store.PutLineageAsync(Lineage("prod", "a", 1), default);
        await store.PutLineageAsync(Lineage("prod", "b", 1), default);
        await store.PutLineageAsync(Lineage("staging", "a", 4), default);
        await store.PutLineageAsync(Lineage("prod", "a", 5, givenUp: true), default);

        Assert.Equal(Lineage("prod", "a", 5, givenUp: true), await store.GetLineageAsync("prod", "a", default));
        Assert.Equal(Lineage("prod", "b", 1), await store.GetLineageAsync("prod", "b", default));
        Assert.Equal(Lineage("staging", "a", 4), await store.GetLineageAsync("staging", "a", default));
    }

    [Fact]
    public async Task TakeRelaunchSlot_NumbersTheRelaunchesOfEachClusterMinute_PastTheLimitToo()
    {
        var store = await CreateAsync();
        var minute = Start;
        var taken = new List<long>();
        for (var i = 0; i < 5; i++) taken.Add(await store.TakeRelaunchSlotAsync("prod", minute, default));

        Assert.Equal([1, 2, 3, 4, 5], taken);
        Assert.Equal(1, await store.TakeRelaunchSlotAsync("prod", minute.AddMinutes(1), default));
        Assert.Equal(1, await store.TakeRelaunchSlotAsync("staging", minute, default));
        Assert.Equal(6, await store.TakeRelaunchSlotAsync("prod", minute.AddSeconds(59), default)); // the same minute, by its key
    }

    [Fact]
    public async Task TakeRelaunchSlots_CountsKAtOnce_AndConcurrentRunsGetRangesThatDoNotOverlap()
    {
        var store = await CreateAsync();
        Assert.Equal(1, await store.TakeRelaunchSlotAsync("prod", Start, default));
        Assert.Equal(5, await store.TakeRelaunchSlotsAsync("prod", Start, 4, default)); // 2 to 5
        Assert.Equal(6, await store.TakeRelaunchSlotAsync("prod", Start, default));

        // Ten drains of three replacements at once: each owns the three numbers up to what it gets, none shared.
        var ends = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => store.TakeRelaunchSlotsAsync("prod", Start.AddMinutes(1), 3, default).AsTask())));
        Assert.Equal(Enumerable.Range(1, 30).Select(n => (long)n), ends.SelectMany(end => new[] { end - 2, end - 1, end }).Order());
    }

    /// <summary>
    /// 40 concurrent relaunches at 15 a minute: each gets its own number, so exactly 15 go now and the others are spread
    /// over the next minutes by <see cref="RelaunchSlots.DueMinute"/>, 15 to a minute, none twice.
    /// </summary>
    [Fact]
    public async Task TakeRelaunchSlot_UnderConcurrentCallers_GivesEachItsOwnNumber_SoExactlyTheLimitGoesInEachMinute()
    {
        var store = await CreateAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => store.TakeRelaunchSlotAsync("prod", Start, default).AsTask())));

        Assert.Equal(Enumerable.Range(1, 40).Select(n => (long)n), results.Order());
        Assert.Equal(15, results.Count(n => RelaunchSlots.Within(n, 15)));
        Assert.Equal([(0, 15), (1, 15), (2, 10)],
            results.GroupBy(n => (int)(RelaunchSlots.DueMinute(Start, n, 15) - Start).TotalMinutes).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())));
    }

    [Fact]
    public async Task AppendAudit_ThenRead_ReturnsTheEventsEntriesInOrderWithEveryField()
    {
        var store = await CreateAsync();
        var entries = new[]
        {
            new AuditEntry(Start, "ev-1", "task-rescheduler", "deferred", "held by the rate limit", "RunTask", """{"cluster":"prod"}""", "rate-limited"),
            new AuditEntry(Start, "ev-1", "task-rescheduler", "done", "relaunching", "RunTask", """{"cluster":"prod","count":1}""", "started abc"),
            new AuditEntry(Start.AddSeconds(5), "ev-1", "task-rescheduler", "ignored", "duplicate", null, null, null),
        };
        foreach (var e in entries) await store.AppendAuditAsync(e, default);
        await store.AppendAuditAsync(entries[0] with { EventId = "ev-2" }, default);

        Assert.Equal(entries, await ReadAuditAsync(store, "ev-1"));
        Assert.Equal([entries[0] with { EventId = "ev-2" }], await ReadAuditAsync(store, "ev-2"));
    }

    // ---------------- the committer's batch ----------------

    [Fact]
    public async Task WriteBatch_WritesEveryRecordAsItsOwnPutWould_TheAuditInOrder_AndTheProcessedRecords()
    {
        var store = await CreateAsync();
        var claim = await new EventClaims(store).ClaimAsync(["task#arn:t#4"], Start, Lease, default, "ev-9");
        var lineages = Enumerable.Range(0, 30).Select(i => new LineageRecord { Cluster = "prod", Lineage = $"l{i}", Rule = "batch-workers", Attempt = i, LastFailureAt = Start }).ToList();
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = "l1", Rule = "batch-workers", OriginalTaskArn = "arn:t", ContainerInstanceArn = "arn:ci", Reason = DrainReason.Draining,
            ReplacementStartedBy = "reflex/l1/1", ReplacementClientToken = "tok", StartedAt = Start,
        };
        var placement = new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Start, FallbackReason = "RESOURCE:CPU" };
        var audit = Enumerable.Range(0, 4).Select(i => new AuditEntry(Start, "ev-9", "task-rescheduler", "done", $"step {i}", null, null, null)).ToList();
        // The same lineage twice in one batch: the later stands (BatchWriteItem itself refuses duplicate keys in a request).
        var again = lineages[3] with { Attempt = 99 };

        await store.WriteAsync(new StateBatch([.. lineages, again], [move], [placement], audit,
            [EventClaims.Processed(claim.Claim!, 0, Start)]), default);

        foreach (var l in lineages.Where(l => l.Lineage != "l3")) Assert.Equal(l, await store.GetLineageAsync("prod", l.Lineage, default));
        Assert.Equal(again, await store.GetLineageAsync("prod", "l3", default));
        Assert.Equal(move, await store.GetDrainMoveAsync("prod", "l1", default));
        Assert.Equal(placement, await store.GetServicePlacementAsync("prod", "web", default));
        Assert.Equal(audit, await ReadAuditAsync(store, "ev-9"));
        var processed = await store.GetClaimAsync("task#arn:t#4", default);
        Assert.Equal(ClaimStatus.Completed, processed!.Status);
        Assert.Equal("ev-9", processed.EventId);
        var second = await new EventClaims(store).ClaimAsync(["task#arn:t#4"], Start, Lease, default, "ev-10");
        Assert.Equal((ClaimVerdict.Processed, "ev-9"), (second.Verdict, second.By));
    }

    [Fact]
    public async Task WriteBatch_Empty_WritesNothing()
    {
        var store = await CreateAsync();
        await store.WriteAsync(StateBatch.Empty, default);
        Assert.Empty(await ReadAuditAsync(store, "ev-9"));
    }

    // ---------------- service scaler: the record is written only if its version is still the one read ----------------

    private static ServiceScalingRecord Scaling(string cluster, string service, int target, string alarm = "web-cpu-high") => new()
    {
        Cluster = cluster, Service = service, LastTarget = target, LastFrom = target - 1, LastScaledAt = Start.AddSeconds(target),
        LastDirection = ScalingDirection.Out, LastAlarm = alarm, CooldownBase = target - 1,
        Alarms =
        [
            new RememberedAlarm { AlarmName = alarm, State = "ALARM", StateTimestamp = Start.AddSeconds(target - 2), SeenAt = Start.AddSeconds(target), Recommendation = target },
            new RememberedAlarm { AlarmName = "web-cpu-low", State = "OK", SeenAt = Start },
        ],
        Recommendations = [new ScalingRecommendation(Start.AddSeconds(target), target, alarm)],
    };

    [Fact]
    public async Task GetScalingRecord_WhenNeverWritten_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetScalingRecordAsync("prod", "web", default));
    }

    [Fact]
    public async Task TryPutScalingRecord_FromVersionZero_StoresEveryFieldAsVersionOne()
    {
        var store = await CreateAsync();
        var record = Scaling("prod", "web", 5);

        Assert.True(await store.TryPutScalingRecordAsync(record, 0, default));

        var stored = await store.GetScalingRecordAsync("prod", "web", default);
        Assert.NotNull(stored);
        Assert.Equal(1, stored.Version);
        Assert.Equal(record with { Version = 1 }, stored with { Alarms = record.Alarms, Recommendations = record.Recommendations });
        Assert.Equal(record.Alarms, stored.Alarms);
        Assert.Equal(record.Recommendations, stored.Recommendations);
    }

    [Fact]
    public async Task TryPutScalingRecord_EachWriteFromTheVersionRead_AddsOne()
    {
        var store = await CreateAsync();
        Assert.True(await store.TryPutScalingRecordAsync(Scaling("prod", "web", 5), 0, default));
        Assert.True(await store.TryPutScalingRecordAsync(Scaling("prod", "web", 6), 1, default));
        Assert.True(await store.TryPutScalingRecordAsync(Scaling("prod", "web", 7), 2, default));

        var stored = await store.GetScalingRecordAsync("prod", "web", default);
        Assert.Equal((3L, 7), (stored!.Version, stored.LastTarget));
    }

    public static TheoryData<string, long> StaleVersions => new()
    {
        { "a first write when a record exists", 0 },
        { "a version that was never stored", 7 },
        { "the version before the stored one", 1 },
    };

    [Theory]
    [MemberData(nameof(StaleVersions))]
    public async Task TryPutScalingRecord_WhenTheStoredVersionIsNotTheOneExpected_IsRefusedAndChangesNothing(string what, long expected)
    {
        var store = await CreateAsync();
        await store.TryPutScalingRecordAsync(Scaling("prod", "web", 5), 0, default);
        await store.TryPutScalingRecordAsync(Scaling("prod", "web", 6), 1, default);

        Assert.False(await store.TryPutScalingRecordAsync(Scaling("prod", "web", 99), expected, default), what);

        var stored = await store.GetScalingRecordAsync("prod", "web", default);
        Assert.Equal((2L, 6), (stored!.Version, stored.LastTarget));
    }

    [Fact]
    public async Task TryPutScalingRecord_TwoWritersThatReadTheSameVersion_OnlyTheFirstWins()
    {
        var store = await CreateAsync();
        await store.TryPutScalingRecordAsync(Scaling("prod", "web", 4), 0, default);
        var readByA = await store.GetScalingRecordAsync("prod", "web", default);
        var readByB = await store.GetScalingRecordAsync("prod", "web", default);

        var a = await store.TryPutScalingRecordAsync(Scaling("prod", "web", 5, "web-cpu-high"), readByA!.Version, default);
        var b = await store.TryPutScalingRecordAsync(Scaling("prod", "web", 7, "web-latency-high"), readByB!.Version, default);

        Assert.Equal((true, false), (a, b));
        var stored = await store.GetScalingRecordAsync("prod", "web", default);
        Assert.Equal((2L, 5, "web-cpu-high"), (stored!.Version, stored.LastTarget, stored.LastAlarm));
    }

    [Fact]
    public async Task TryPutScalingRecord_UnderConcurrentWritersFromOneVersion_ExactlyOneWins()
    {
        var store = await CreateAsync();
        await store.TryPutScalingRecordAsync(Scaling("prod", "web", 4), 0, default);

        var wins = await Task.WhenAll(Enumerable.Range(10, 16).Select(target =>
            Task.Run(() => store.TryPutScalingRecordAsync(Scaling("prod", "web", target), 1, default).AsTask())));

        Assert.Equal(1, wins.Count(w => w));
        var stored = await store.GetScalingRecordAsync("prod", "web", default);
        Assert.Equal(2, stored!.Version);
        Assert.Equal(10 + Array.IndexOf(wins, true), stored.LastTarget);
    }

    [Fact]
    public async Task ScalingRecords_AreKeptPerClusterAndService()
    {
        var store = await CreateAsync();
        await store.TryPutScalingRecordAsync(Scaling("prod", "web", 5), 0, default);
        await store.TryPutScalingRecordAsync(Scaling("prod", "api", 9), 0, default);
        await store.TryPutScalingRecordAsync(Scaling("staging", "web", 2), 0, default);

        Assert.Equal(5, (await store.GetScalingRecordAsync("prod", "web", default))!.LastTarget);
        Assert.Equal(9, (await store.GetScalingRecordAsync("prod", "api", default))!.LastTarget);
        Assert.Equal(2, (await store.GetScalingRecordAsync("staging", "web", default))!.LastTarget);
        Assert.Null(await store.GetScalingRecordAsync("staging", "api", default));
    }

    // ---------------- placement guard ----------------

    private const string InstanceArn = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/8b2c7c3e";

    private static InstanceSeenRecord Seen(long? version, string status = "ACTIVE", bool connected = true, string cluster = "prod", string arn = InstanceArn) => new()
    {
        Cluster = cluster, ContainerInstanceArn = arn, Version = version, Status = status, AgentConnected = connected,
        DisconnectedSince = connected ? null : Start.AddSeconds(version ?? 0), SeenAt = Start.AddSeconds(version ?? 0),
    };

    [Fact]
    public async Task GetInstanceSeen_WhenNeverWritten_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetInstanceSeenAsync("prod", InstanceArn, default));
    }

    [Fact]
    public async Task TryPutInstanceSeen_ThenGet_ReturnsEveryFieldAsPut()
    {
        var store = await CreateAsync();
        var record = Seen(12, "DRAINING", connected: false);

        Assert.True(await store.TryPutInstanceSeenAsync(record, default));

        Assert.Equal(record, await store.GetInstanceSeenAsync("prod", InstanceArn, default));
    }

    public static TheoryData<string, long, bool> LaterVersions => new()
    {
        { "a newer version replaces it", 13, true },
        { "the same version again is written", 12, true },
        { "an older version is refused", 11, false },
        { "a much older version is refused", 1, false },
    };

    [Theory]
    [MemberData(nameof(LaterVersions))]
    public async Task TryPutInstanceSeen_AfterVersion12_WritesOnlyWhenNotOlder(string what, long version, bool written)
    {
        var store = await CreateAsync();
        await store.TryPutInstanceSeenAsync(Seen(12, "ACTIVE"), default);

        Assert.True(written == await store.TryPutInstanceSeenAsync(Seen(version, "DRAINING"), default), what);

        var stored = await store.GetInstanceSeenAsync("prod", InstanceArn, default);
        Assert.Equal(written ? (version, "DRAINING") : (12L, "ACTIVE"), (stored!.Version ?? -1, stored.Status));
    }

    [Fact]
    public async Task TryPutInstanceSeen_WithoutAVersion_IsWrittenAndThenReplacedByAnyVersion()
    {
        var store = await CreateAsync();
        await store.TryPutInstanceSeenAsync(Seen(12), default);

        Assert.True(await store.TryPutInstanceSeenAsync(Seen(null, "DRAINING"), default));
        Assert.Equal("DRAINING", (await store.GetInstanceSeenAsync("prod", InstanceArn, default))!.Status);
        Assert.True(await store.TryPutInstanceSeenAsync(Seen(3, "ACTIVE"), default));
        Assert.Equal(3, (await store.GetInstanceSeenAsync("prod", InstanceArn, default))!.Version);
    }

    [Fact]
    public async Task TryPutInstanceSeen_DeliveredOutOfOrderByConcurrentWriters_KeepsTheNewestVersion()
    {
        var store = await CreateAsync();
        var versions = Enumerable.Range(1, 24).Select(v => (long)v).OrderBy(v => (v * 7919) % 24).ToList();

        await Task.WhenAll(versions.Select(v => Task.Run(() => store.TryPutInstanceSeenAsync(Seen(v), default).AsTask())));

        Assert.Equal(24, (await store.GetInstanceSeenAsync("prod", InstanceArn, default))!.Version);
    }

    [Fact]
    public async Task InstanceSeen_IsKeptPerClusterAndInstance()
    {
        var store = await CreateAsync();
        const string other = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ffff0000";
        await store.TryPutInstanceSeenAsync(Seen(5), default);
        await store.TryPutInstanceSeenAsync(Seen(1, arn: other), default);
        await store.TryPutInstanceSeenAsync(Seen(2, cluster: "staging"), default);

        Assert.Equal(5, (await store.GetInstanceSeenAsync("prod", InstanceArn, default))!.Version);
        Assert.Equal(1, (await store.GetInstanceSeenAsync("prod", other, default))!.Version);
        Assert.Equal(2, (await store.GetInstanceSeenAsync("staging", InstanceArn, default))!.Version);
    }

    private static DrainMoveRecord Move(string lineage, DrainReason reason = DrainReason.Draining, bool done = false) => new()
    {
        Cluster = "prod", Lineage = lineage, Rule = "batch-workers",
        OriginalTaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{lineage}",
        ContainerInstanceArn = InstanceArn, Ec2InstanceId = "i-0abc", Reason = reason,
        ReplacementStartedBy = $"reflex/{lineage}/1", ReplacementClientToken = $"reflex-move-{lineage}",
        StartedAt = Start, StopOriginalAt = Start.AddMinutes(10),
        ReplacementTaskArn = done ? "arn:aws:ecs:us-east-1:123456789012:task/prod/new" : null,
        ReplacementRunningAt = done ? Start.AddMinutes(1) : null,
        OriginalStoppedAt = done && reason == DrainReason.Draining ? Start.AddMinutes(1) : null,
    };

    [Fact]
    public async Task GetDrainMove_WhenNeverPut_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetDrainMoveAsync("prod", "5f99", default));
    }

    public static TheoryData<DrainReason, bool> MoveKinds => new()
    {
        { DrainReason.Draining, false }, { DrainReason.Draining, true }, { DrainReason.AgentDisconnected, false }, { DrainReason.AgentDisconnected, true },
    };

    [Theory]
    [MemberData(nameof(MoveKinds))]
    public async Task PutDrainMove_ThenGet_ReturnsEveryFieldAsPut(DrainReason reason, bool done)
    {
        var store = await CreateAsync();
        var record = Move("5f99", reason, done);

        await store.PutDrainMoveAsync(record, default);

        var stored = await store.GetDrainMoveAsync("prod", "5f99", default);
        Assert.Equal(record, stored);
        Assert.Equal(record.Done, stored!.Done);
    }

    [Fact]
    public async Task PutDrainMove_Again_ReplacesThatLineagesMoveOnly()
    {
        var store = await CreateAsync();
        await store.PutDrainMoveAsync(Move("a"), default);
        await store.PutDrainMoveAsync(Move("b"), default);
        await store.PutDrainMoveAsync(Move("a", done: true), default);

        Assert.Equal(Move("a", done: true), await store.GetDrainMoveAsync("prod", "a", default));
        Assert.Equal(Move("b"), await store.GetDrainMoveAsync("prod", "b", default));
        Assert.Null(await store.GetDrainMoveAsync("staging", "a", default));
    }

    [Fact]
    public async Task GetServicePlacement_WhenNeverPut_IsNull()
    {
        var store = await CreateAsync();
        Assert.Null(await store.GetServicePlacementAsync("prod", "web", default));
    }

    [Fact]
    public async Task PutServicePlacement_ThenGet_ReturnsTheFallbackAndItsClearing()
    {
        var store = await CreateAsync();
        var fallback = new ServicePlacementRecord
        {
            Cluster = "prod", Service = "web", FallbackAppliedAt = Start, FallbackReason = "SERVICE_TASK_PLACEMENT_FAILURE: no container instance met all of its requirements",
        };
        await store.PutServicePlacementAsync(fallback, default);
        await store.PutServicePlacementAsync(fallback with { Service = "api" }, default);
        Assert.Equal(fallback, await store.GetServicePlacementAsync("prod", "web", default));

        var preferred = new ServicePlacementRecord { Cluster = "prod", Service = "web" };
        await store.PutServicePlacementAsync(preferred, default);

        Assert.Equal(preferred, await store.GetServicePlacementAsync("prod", "web", default));
        Assert.Equal(fallback with { Service = "api" }, await store.GetServicePlacementAsync("prod", "api", default));
        Assert.Null(await store.GetServicePlacementAsync("staging", "web", default));
    }
}

public sealed class InMemoryStateStoreContractTests : StateStoreContract
{
    protected override Task<IStateStore> CreateAsync() => Task.FromResult<IStateStore>(new InMemoryStateStore(Time));
}

public sealed class DynamoDbStateStoreContractTests(DynaliteFixture dynalite) : StateStoreContract, IClassFixture<DynaliteFixture>
{
    protected override async Task<IStateStore> CreateAsync() =>
        new DynamoDbStateStore(dynalite.Client, await dynalite.NewTableAsync(), Time);
}
