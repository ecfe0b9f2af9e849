using System.Globalization;
using EcsReflex.Core.Decisions;

namespace EcsReflex.Core.State;

/// <summary>
/// What EcsReflex remembers, on any backend that offers the primitives of <see cref="IStateBackend"/>. Every record
/// kind (its key, its expiry, the condition of its write) is defined here, once; the DynamoDB table
/// (<c>DynamoDbStateStore</c>) and the in-memory store of the replay and the tests (<c>InMemoryStateStore</c>) only
/// implement the primitives. A new kind of record is a key scheme (<see cref="ItemKind"/>) and a pair of methods here.
/// </summary>
/// <remarks>
/// Layout (<see cref="ItemKey.Pk"/> / <see cref="ItemKey.Sk"/>):
/// <list type="bullet">
/// <item>processed events and claims: <c>dedup#&lt;key&gt;</c> / <c>dedup</c>; a claim (kind <c>claim</c>, the holder's <c>token</c>)
/// is put only when no live item exists, expires after its lease, and becomes the processed record (kind <c>event</c>,
/// expires after 24 h) by a put conditional on its token, or is deleted (conditional on its token) when the reaction fails;</item>
/// <item>task lineages: <c>cluster#&lt;cluster&gt;</c> / <c>lineage#&lt;lineage&gt;</c>, kept 30 days after their last change;</item>
/// <item>relaunch slots: <c>cluster#&lt;cluster&gt;</c> / <c>relaunches#&lt;minute&gt;</c>, an atomic counter of the relaunches asked for in
/// the minute (not only those sent: it may pass the limit, see <see cref="RelaunchSlots"/>), expires 1 h after the minute;</item>
/// <item>decision audit: <c>audit#&lt;event id&gt;</c> / a place the backend gives (DynamoDB: <c>&lt;time&gt;#&lt;sequence&gt;#&lt;random&gt;</c>), expires 30 days after the decision;</item>
/// <item>service scaling: <c>cluster#&lt;cluster&gt;</c> / <c>scaling#&lt;service&gt;</c>, written only if its <c>version</c> is the one read, never expires;</item>
/// <item>container instance last seen: <c>cluster#&lt;cluster&gt;</c> / <c>instance#&lt;container instance ARN&gt;</c>, never replaced by an
/// older <c>detail.version</c>, kept 30 days after its last change;</item>
/// <item>drain moves: <c>cluster#&lt;cluster&gt;</c> / <c>drain#&lt;lineage&gt;</c>, kept 30 days after their last change;</item>
/// <item>service placement: <c>cluster#&lt;cluster&gt;</c> / <c>placement#&lt;service&gt;</c>, never expires.</item>
/// </list>
/// Per-service records never expire: there is one per service the policy names, and losing one would lose a
/// fallback placement in effect or a cooldown. Per-instance and per-lineage records come and go with the cluster.
/// Expiry is judged by this store's clock on every read, whether or not the backend has removed the item yet.
/// </remarks>
public class StateStore(IStateBackend backend, TimeProvider? time = null) : IStateStore
{
    /// <summary>The item kinds as the table's <c>kind</c> attribute names them.</summary>
    public const string EventKind = "event", ClaimKind = "claim", LineageKind = "lineage", RelaunchesKind = "relaunches", AuditKind = "audit",
        ScalingKind = "scaling", InstanceKind = "instance", DrainMoveKind = "drain-move", ServicePlacementKind = "service-placement";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The store's clock: expiries are written from it and judged against it.</summary>
    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// When set, a lineage that was given up is kept this long instead of <see cref="Retention.Lineage"/>: the replay's
    /// own store sets it, because nothing it replays can read such a record again once the duplicate memory of the
    /// give-up is over (docs/replay.md, "Memory").
    /// </summary>
    public TimeSpan? GivenUpLineageRetention { get; init; }

    private async ValueTask<object?> LiveRecordAsync(ItemKey key, CancellationToken ct) =>
        await backend.GetAsync(key, ct).ConfigureAwait(false) is { } item && item.IsLiveAt(Now) ? item.Record : null;

    // ---------------- processed events and claims ----------------

    public static ItemKey EventKey(string key) => new(ItemKind.Dedup, key);

    /// <summary>The live item under the key as a claim: kind <c>claim</c> is in progress; anything else (kind <c>event</c>, with or without a token) is processed.</summary>
    public async ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct) =>
        AsClaim(key, await backend.GetAsync(EventKey(key), ct).ConfigureAwait(false));

    /// <summary><see cref="ClaimCondition.Free"/>: no live item under the key; <see cref="ClaimCondition.Holds"/>: the stored item carries the token.</summary>
    public ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct) =>
        backend.PutAsync(ClaimItem(record), Condition(condition), ct);

    /// <summary>One <see cref="IStateBackend.PutOrReadAsync"/>: the claim written, or the live record that refused it.</summary>
    public async ValueTask<ClaimPut> PutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct)
    {
        var (written, refusing) = await backend.PutOrReadAsync(ClaimItem(record), Condition(condition), ct).ConfigureAwait(false);
        return written ? new ClaimPut(true, null) : new ClaimPut(false, AsClaim(record.Key, refusing));
    }

    /// <summary>A claim's condition as the backend checks it: the key free by this store's clock, or held by the token.</summary>
    private WriteCondition Condition(ClaimCondition condition) =>
        condition.HeldBy is { } token ? WriteCondition.HeldBy(token) : WriteCondition.Absent(Now);

    private ClaimRecord? AsClaim(string key, StoredItem? item) =>
        item is { ExpiresAt: { } expires } && item.IsLiveAt(Now)
            ? new ClaimRecord { Key = key, Status = item.Kind == ClaimKind ? ClaimStatus.InProgress : ClaimStatus.Completed, Token = item.Token, ExpiresAt = expires }
            : null;

    private static StoredItem ClaimItem(ClaimRecord record) => new()
    {
        Key = EventKey(record.Key),
        Kind = record.Status == ClaimStatus.InProgress ? ClaimKind : EventKind,
        ExpiresAt = record.ExpiresAt,
        Token = record.Token,
    };

    public ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct) =>
        backend.DeleteAsync(EventKey(key), WriteCondition.HeldBy(token), ct);

    /// <summary>
    /// One <see cref="IStateBackend.PutManyAsync"/>: the records as their own puts would write them (keys, kinds, expiries);
    /// a processed record is written without its claim's condition, by the delivery that completed the reaction (see
    /// docs/lambda.md, "What a reaction costs").
    /// </summary>
    public ValueTask WriteAsync(StateBatch batch, CancellationToken ct)
    {
        if (batch.Count == 0) return ValueTask.CompletedTask;
        var items = new List<BatchItem>(batch.Count);
        foreach (var r in batch.Lineages) items.Add(new(LineageItem(r)));
        foreach (var r in batch.DrainMoves) items.Add(new(DrainMoveItem(r)));
        foreach (var r in batch.ServicePlacements) items.Add(new(ServicePlacementItem(r)));
        foreach (var r in batch.Audit) items.Add(new(AuditItem(r), r.Time));
        foreach (var r in batch.Processed) items.Add(new(ClaimItem(r)));
        return backend.PutManyAsync(items, ct);
    }

    // ---------------- task lineages ----------------

    public static ItemKey LineageKey(string cluster, string lineage) => new(ItemKind.Lineage, cluster, lineage);

    public async ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct) =>
        (LineageRecord?)await LiveRecordAsync(LineageKey(cluster, lineage), ct).ConfigureAwait(false);

    public async ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct) =>
        await backend.PutAsync(LineageItem(record), WriteCondition.None, ct).ConfigureAwait(false);

    private StoredItem LineageItem(LineageRecord record) => new()
    {
        Key = LineageKey(record.Cluster, record.Lineage),
        Kind = LineageKind,
        Record = record,
        ExpiresAt = Now + (record.GivenUp && GivenUpLineageRetention is { } g ? g : Retention.Lineage),
    };

    // ---------------- relaunch rate limit ----------------

    public static ItemKey RelaunchSlotsKey(string cluster, DateTimeOffset minute) =>
        new(ItemKind.RelaunchSlots, cluster, minute.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture) + "Z");

    public ValueTask<long> TakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, CancellationToken ct) =>
        TakeRelaunchSlotsAsync(cluster, minute, 1, ct);

    /// <summary>One increment by <paramref name="count"/>: one round trip for a drain's k replacements.</summary>
    public ValueTask<long> TakeRelaunchSlotsAsync(string cluster, DateTimeOffset minute, int count, CancellationToken ct) =>
        backend.IncrementAsync(RelaunchSlotsKey(cluster, minute), RelaunchesKind, minute + Retention.RelaunchSlot, ct, count);

    // ---------------- decision audit ----------------

    public ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct) => backend.AppendAsync(AuditItem(entry), entry.Time, ct);

    private static StoredItem AuditItem(AuditEntry entry) => new()
    {
        Key = new ItemKey(ItemKind.Audit, entry.EventId),
        Kind = AuditKind,
        Record = entry,
        ExpiresAt = entry.Time + Retention.Audit,
    };

    /// <summary>The audit trail of one event, in the order it was written (as much of it as the backend keeps).</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string eventId, CancellationToken ct)
    {
        var items = await backend.QueryAsync(new ItemKey(ItemKind.Audit, eventId), ct).ConfigureAwait(false);
        var entries = new List<AuditEntry>(items.Count);
        foreach (var item in items)
            if (item.Record is AuditEntry e) entries.Add(e);
        return entries;
    }

    // ---------------- service scaler ----------------

    public static ItemKey ScalingKey(string cluster, string service) => new(ItemKind.Scaling, cluster, service);

    /// <summary>The record, its <see cref="ServiceScalingRecord.Version"/> the item's <c>version</c> (what the condition checks).</summary>
    public async ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        if (await backend.GetAsync(ScalingKey(cluster, service), ct).ConfigureAwait(false) is not { Record: ServiceScalingRecord record } item) return null;
        var version = item.Version ?? 0;
        return record.Version == version ? record : record with { Version = version };
    }

    public ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var stored = record with { Version = expectedVersion + 1 };
        return backend.PutAsync(new StoredItem
        {
            Key = ScalingKey(record.Cluster, record.Service),
            Kind = ScalingKind,
            Record = stored,
            Version = stored.Version,
        }, WriteCondition.VersionIs(expectedVersion == 0 ? null : expectedVersion), ct);
    }

    // ---------------- placement guard ----------------

    public static ItemKey InstanceSeenKey(string cluster, string containerInstanceArn) => new(ItemKind.InstanceSeen, cluster, containerInstanceArn);

    public async ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) =>
        (InstanceSeenRecord?)await LiveRecordAsync(InstanceSeenKey(cluster, containerInstanceArn), ct).ConfigureAwait(false);

    /// <summary>
    /// Conditional on the instance's <c>detail.version</c>, so a late delivery of an older state change cannot roll the
    /// record back (an equal version is written: the same event again changes nothing). A record without a version is
    /// written unconditionally.
    /// </summary>
    public ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct)
    {
        var now = Now;
        return backend.PutAsync(new StoredItem
        {
            Key = InstanceSeenKey(record.Cluster, record.ContainerInstanceArn),
            Kind = InstanceKind,
            Record = record,
            ExpiresAt = now + Retention.InstanceSeen,
            Version = record.Version,
        }, record.Version is { } v ? WriteCondition.NotNewer(v, now) : WriteCondition.None, ct);
    }

    public static ItemKey DrainMoveKey(string cluster, string lineage) => new(ItemKind.DrainMove, cluster, lineage);

    public async ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct) =>
        (DrainMoveRecord?)await LiveRecordAsync(DrainMoveKey(cluster, lineage), ct).ConfigureAwait(false);

    public async ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct) =>
        await backend.PutAsync(DrainMoveItem(record), WriteCondition.None, ct).ConfigureAwait(false);

    private StoredItem DrainMoveItem(DrainMoveRecord record) => new()
    {
        Key = DrainMoveKey(record.Cluster, record.Lineage),
        Kind = DrainMoveKind,
        Record = record,
        ExpiresAt = Now + Retention.DrainMove,
    };

    public static ItemKey ServicePlacementKey(string cluster, string service) => new(ItemKind.ServicePlacement, cluster, service);

    public async ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) =>
        (ServicePlacementRecord?)await LiveRecordAsync(ServicePlacementKey(cluster, service), ct).ConfigureAwait(false);

    public async ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct) =>
        await backend.PutAsync(ServicePlacementItem(record), WriteCondition.None, ct).ConfigureAwait(false);

    private static StoredItem ServicePlacementItem(ServicePlacementRecord record) => new()
    {
        Key = ServicePlacementKey(record.Cluster, record.Service),
        Kind = ServicePlacementKind,
        Record = record,
    };
}
