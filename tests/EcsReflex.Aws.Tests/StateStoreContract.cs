using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;
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

    protected abstract Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(IStateStore store, string eventId);

    [Fact]
    public async Task HasEvent_WhenNeverRecorded_IsFalse()
    {
        var store = await CreateAsync();
        Assert.False(await store.HasEventAsync("event#never", default));
    }

    [Fact]
    public async Task HasEvent_AfterRecord_IsTrueUntilTheRecordExpires()
    {
        var store = await CreateAsync();
        await store.RecordEventAsync("event#e1", Start.AddHours(24), default);

        Assert.True(await store.HasEventAsync("event#e1", default));
        Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        Assert.True(await store.HasEventAsync("event#e1", default));
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await store.HasEventAsync("event#e1", default));
    }

    [Fact]
    public async Task RecordEvent_Twice_KeepsOneLiveRecordAndDoesNotFail()
    {
        var store = await CreateAsync();
        await store.RecordEventAsync("task#arn:t#3", Start.AddHours(24), default);
        await store.RecordEventAsync("task#arn:t#3", Start.AddHours(24), default);
        Assert.True(await store.HasEventAsync("task#arn:t#3", default));
        Assert.False(await store.HasEventAsync("task#arn:t#4", default));
    }

    [Fact]
    public async Task RecordEvent_AfterTheOldRecordExpired_RecordsItAgain()
    {
        var store = await CreateAsync();
        await store.RecordEventAsync("event#e2", Start.AddSeconds(10), default);
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(await store.HasEventAsync("event#e2", default));

        await store.RecordEventAsync("event#e2", Time.GetUtcNow().AddHours(24), default);

        Assert.True(await store.HasEventAsync("event#e2", default));
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
    public async Task TakeRelaunchSlot_GivesExactlyTheLimitPerClusterMinute()
    {
        var store = await CreateAsync();
        var minute = Start;
        var taken = new List<bool>();
        for (var i = 0; i < 5; i++) taken.Add(await store.TryTakeRelaunchSlotAsync("prod", minute, 3, default));

        Assert.Equal([true, true, true, false, false], taken);
        Assert.True(await store.TryTakeRelaunchSlotAsync("prod", minute.AddMinutes(1), 3, default));
        Assert.True(await store.TryTakeRelaunchSlotAsync("staging", minute, 3, default));
    }

    [Fact]
    public async Task TakeRelaunchSlot_WithALimitOfZero_NeverGivesOne()
    {
        var store = await CreateAsync();
        Assert.False(await store.TryTakeRelaunchSlotAsync("prod", Start, 0, default));
    }

    [Fact]
    public async Task TakeRelaunchSlot_UnderConcurrentCallers_GivesExactlyTheLimit()
    {
        var store = await CreateAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => store.TryTakeRelaunchSlotAsync("prod", Start, 15, default))));
        Assert.Equal(15, results.Count(r => r));
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
}

public sealed class InMemoryStateStoreContractTests : StateStoreContract
{
    protected override Task<IStateStore> CreateAsync() => Task.FromResult<IStateStore>(new InMemoryStateStore(Time));

    protected override Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(IStateStore store, string eventId) =>
        Task.FromResult<IReadOnlyList<AuditEntry>>(((InMemoryStateStore)store).Audit.Where(e => e.EventId == eventId).ToList());
}

public sealed class DynamoDbStateStoreContractTests(DynaliteFixture dynalite) : StateStoreContract, IClassFixture<DynaliteFixture>
{
    protected override async Task<IStateStore> CreateAsync() =>
        new DynamoDbStateStore(dynalite.Client, await dynalite.NewTableAsync(), Time);

    protected override Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(IStateStore store, string eventId) =>
        ((DynamoDbStateStore)store).ReadAuditAsync(eventId, default);
}
