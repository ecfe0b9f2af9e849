using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;
using EcsReflex.Engine.State;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// The primitives every <see cref="IStateBackend"/> must provide, each condition of <see cref="WriteCondition"/> as the
/// backend applies it: run against the in-memory backend and the DynamoDB one on dynalite. Times are whole seconds
/// (DynamoDB's TTL precision).
/// </summary>
public abstract class StateBackendContract
{
    protected static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<IStateBackend> CreateAsync();

    private static readonly ItemKey Key = new(ItemKind.Scaling, "prod", "web");

    private static StoredItem Item(long? version = null, int target = 1, DateTimeOffset? expiresAt = null, string? token = null, ItemKey? key = null) => new()
    {
        Key = key ?? Key, Kind = "scaling", Version = version, ExpiresAt = expiresAt, Token = token,
        Record = new ServiceScalingRecord { Cluster = "prod", Service = "web", LastTarget = target, Version = version ?? 0 },
    };

    private static async Task<int?> TargetAsync(IStateBackend backend) =>
        (await backend.GetAsync(Key, default))?.Record is ServiceScalingRecord r ? r.LastTarget : null;

    [Fact]
    public async Task Get_WhenNeverPut_IsNull()
    {
        var backend = await CreateAsync();
        Assert.Null(await backend.GetAsync(Key, default));
    }

    [Fact]
    public async Task Put_ThenGet_ReturnsTheRecordAndEveryAttribute()
    {
        var backend = await CreateAsync();
        Assert.True(await backend.PutAsync(Item(version: 3, target: 7, expiresAt: Start.AddHours(1), token: "t"), WriteCondition.None, default));

        var item = await backend.GetAsync(Key, default);
        Assert.Equal(("scaling", 3L, Start.AddHours(1), "t"), (item!.Kind, item.Version, item.ExpiresAt, item.Token));
        var record = Assert.IsType<ServiceScalingRecord>(item.Record);
        Assert.Equal(("prod", "web", 7, 3L), (record.Cluster, record.Service, record.LastTarget, record.Version));
    }

    [Fact]
    public async Task VersionIs_AcceptsOnlyTheExpectedVersion_AndNullOnlyWhenThereIsNoItem()
    {
        var backend = await CreateAsync();
        Assert.True(await backend.PutAsync(Item(1, 1), WriteCondition.VersionIs(null), default));
        Assert.False(await backend.PutAsync(Item(1, 2), WriteCondition.VersionIs(null), default));
        Assert.False(await backend.PutAsync(Item(2, 3), WriteCondition.VersionIs(7), default));
        Assert.True(await backend.PutAsync(Item(2, 4), WriteCondition.VersionIs(1), default));
        Assert.Equal((2L, 4), ((await backend.GetAsync(Key, default))!.Version, await TargetAsync(backend)));
    }

    [Fact]
    public async Task VersionIs_UnderConcurrentWriters_LetsExactlyOneWin()
    {
        var backend = await CreateAsync();
        await backend.PutAsync(Item(1), WriteCondition.None, default);

        var wins = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => backend.PutAsync(Item(2, 10 + i), WriteCondition.VersionIs(1), default).AsTask())));

        Assert.Equal(1, wins.Count(w => w));
        Assert.Equal(10 + Array.IndexOf(wins, true), await TargetAsync(backend));
    }

    [Fact]
    public async Task Absent_HoldsWhenThereIsNoItemOrItExpired_AndNotForALiveOne()
    {
        var backend = await CreateAsync();
        Assert.True(await backend.PutAsync(Item(target: 1, expiresAt: Start.AddSeconds(10)), WriteCondition.Absent(Start), default));
        Assert.False(await backend.PutAsync(Item(target: 2), WriteCondition.Absent(Start.AddSeconds(9)), default));
        Assert.True(await backend.PutAsync(Item(target: 3), WriteCondition.Absent(Start.AddSeconds(11)), default));
        // No expiry: never absent.
        Assert.False(await backend.PutAsync(Item(target: 4), WriteCondition.Absent(Start.AddDays(400)), default));
        Assert.Equal(3, await TargetAsync(backend));
    }

    [Fact]
    public async Task HeldBy_PutsAndDeletesOnlyTheItemCarryingTheToken()
    {
        var backend = await CreateAsync();
        Assert.False(await backend.PutAsync(Item(target: 1, token: "a"), WriteCondition.HeldBy("a"), default));
        Assert.False(await backend.DeleteAsync(Key, WriteCondition.HeldBy("a"), default));
        await backend.PutAsync(Item(target: 1, token: "a"), WriteCondition.None, default);

        Assert.False(await backend.PutAsync(Item(target: 2, token: "b"), WriteCondition.HeldBy("b"), default));
        Assert.True(await backend.PutAsync(Item(target: 3, token: "a"), WriteCondition.HeldBy("a"), default));
        Assert.False(await backend.DeleteAsync(Key, WriteCondition.HeldBy("b"), default));
        Assert.Equal(3, await TargetAsync(backend));
        Assert.True(await backend.DeleteAsync(Key, WriteCondition.HeldBy("a"), default));
        Assert.Null(await backend.GetAsync(Key, default));
    }

    [Fact]
    public async Task NotNewer_RefusesOnlyALiveItemWithAGreaterVersion()
    {
        var backend = await CreateAsync();
        var expires = Start.AddDays(30);
        Assert.True(await backend.PutAsync(Item(12, 1, expires), WriteCondition.NotNewer(12, Start), default));
        Assert.True(await backend.PutAsync(Item(12, 2, expires), WriteCondition.NotNewer(12, Start), default));
        Assert.False(await backend.PutAsync(Item(11, 3, expires), WriteCondition.NotNewer(11, Start), default));
        Assert.True(await backend.PutAsync(Item(13, 4, expires), WriteCondition.NotNewer(13, Start), default));
        Assert.True(await backend.PutAsync(Item(1, 5, expires), WriteCondition.NotNewer(1, expires.AddSeconds(1)), default)); // the newer one expired
        await backend.PutAsync(Item(null, 6, expires), WriteCondition.None, default);
        Assert.True(await backend.PutAsync(Item(0, 7, expires), WriteCondition.NotNewer(0, Start), default)); // no version stored
        Assert.Equal(7, await TargetAsync(backend));
    }

    [Fact]
    public async Task Increment_UnderConcurrentCallers_GivesEachADifferentCount_OneToN()
    {
        var backend = await CreateAsync();
        var key = new ItemKey(ItemKind.RelaunchSlots, "prod", "2025-03-01T12:00Z");

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            Task.Run(() => backend.IncrementAsync(key, "relaunches", Start.AddHours(1), default).AsTask())));

        Assert.Equal(Enumerable.Range(1, 30).Select(n => (long)n), results.Order());
        var item = await backend.GetAsync(key, default);
        Assert.Equal(("relaunches", 30L, Start.AddHours(1)), (item!.Kind, item.Count, item.ExpiresAt));
    }

    [Fact]
    public async Task Increment_StartsAtOne_CountsPerKey_AndKeepsTheLatestKindAndExpiry()
    {
        var backend = await CreateAsync();
        var minute = new ItemKey(ItemKind.RelaunchSlots, "prod", "2025-03-01T12:00Z");
        var next = minute with { Name = "2025-03-01T12:01Z" };
        var other = new ItemKey(ItemKind.RelaunchSlots, "staging", "2025-03-01T12:00Z");

        Assert.Equal(1, await backend.IncrementAsync(minute, "relaunches", Start.AddHours(1), default));
        Assert.Equal(2, await backend.IncrementAsync(minute, "relaunches", Start.AddHours(1), default));
        Assert.Equal(1, await backend.IncrementAsync(next, "relaunches", Start.AddHours(1), default));
        Assert.Equal(1, await backend.IncrementAsync(other, "relaunches", Start.AddHours(1), default));
        Assert.Equal(3, await backend.IncrementAsync(minute, "counted", Start.AddHours(2), default));

        var item = await backend.GetAsync(minute, default);
        Assert.Equal(("counted", 3L, Start.AddHours(2)), (item!.Kind, item.Count, item.ExpiresAt));
    }

    [Fact]
    public async Task Append_ThenQuery_ReturnsTheTrailOfOneScopeInOrder()
    {
        var backend = await CreateAsync();
        StoredItem Entry(string eventId, string reason) => new()
        {
            Key = new ItemKey(ItemKind.Audit, eventId), Kind = "audit", ExpiresAt = Start.AddDays(30),
            Record = new AuditEntry(Start, eventId, "task-rescheduler", "done", reason, null, null, null),
        };
        await backend.AppendAsync(Entry("ev-1", "first"), Start, default);
        await backend.AppendAsync(Entry("ev-2", "other"), Start, default);
        await backend.AppendAsync(Entry("ev-1", "second"), Start, default);
        await backend.AppendAsync(Entry("ev-1", "third"), Start.AddSeconds(1), default);

        var trail = await backend.QueryAsync(new ItemKey(ItemKind.Audit, "ev-1"), default);

        Assert.Equal(["first", "second", "third"], trail.Select(i => ((AuditEntry)i.Record!).Reason));
        Assert.All(trail, i => Assert.Equal(("audit", Start.AddDays(30)), (i.Kind, i.ExpiresAt)));
    }
}

public sealed class InMemoryStateBackendContractTests : StateBackendContract
{
    protected override Task<IStateBackend> CreateAsync() => Task.FromResult<IStateBackend>(new InMemoryStateBackend());
}

public sealed class DynamoDbStateBackendContractTests(DynaliteFixture dynalite) : StateBackendContract, IClassFixture<DynaliteFixture>
{
    protected override async Task<IStateBackend> CreateAsync() => new DynamoDbStateBackend(dynalite.Client, await dynalite.NewTableAsync());
}
