using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.State;

/// <summary>The key of one stored item: a partition key and a sort key, both strings.</summary>
public readonly record struct ItemKey(string Pk, string Sk)
{
    public override string ToString() => $"{Pk} / {Sk}";
}

/// <summary>
/// One stored item, whatever its kind: the record itself as JSON in <see cref="Data"/>, an expiry (the table's
/// TTL attribute) and the two numbers conditional writes work on (<see cref="Version"/>, <see cref="Count"/>).
/// </summary>
public sealed record StoredItem
{
    public required ItemKey Key { get; init; }
    /// <summary>What the item is (<c>event</c>, <c>lineage</c>, <c>relaunches</c>, <c>audit</c>...), for people reading the table.</summary>
    public required string Kind { get; init; }
    public string? Data { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? Version { get; init; }
    public long? Count { get; init; }
    /// <summary>Who holds a claim (<see cref="ClaimRecord.Token"/>): the attribute claim conditions compare.</summary>
    public string? Token { get; init; }

    /// <summary>Still there for EcsReflex at <paramref name="now"/>: TTL deletion is lazy, so expired items are ignored on read.</summary>
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt is not { } e || e > now;
}

/// <summary>
/// What EcsReflex remembers, on any key-value table that offers a handful of conditional primitives. Every
/// record kind (keys, expiry, JSON) is defined here, once; a backend implements only the primitives (the
/// DynamoDB one is <see cref="DynamoDbStateStore"/>, the only class that uses the SDK). A new kind of record is
/// a key scheme and a pair of methods here, nothing more.
/// </summary>
/// <remarks>
/// Layout (partition key <c>pk</c>, sort key <c>sk</c>):
/// <list type="bullet">
/// <item>processed events and claims: <c>dedup#&lt;key&gt;</c> / <c>dedup</c>; a claim (kind <c>claim</c>, the holder's <c>token</c>)
/// is put only when no live item exists, expires after its lease, and becomes the processed record (kind <c>event</c>,
/// expires after 24 h) by a put conditional on its token, or is deleted (conditional on its token) when the reaction fails;</item>
/// <item>task lineages: <c>cluster#&lt;cluster&gt;</c> / <c>lineage#&lt;lineage&gt;</c>, kept 30 days after their last change;</item>
/// <item>relaunch slots: <c>cluster#&lt;cluster&gt;</c> / <c>relaunches#&lt;minute&gt;</c>, an atomic conditional counter, expires after 1 h;</item>
/// <item>decision audit: <c>audit#&lt;event id&gt;</c> / <c>&lt;time&gt;#&lt;sequence&gt;#&lt;random&gt;</c>, expires 30 days after the decision;</item>
/// <item>service scaling: <c>cluster#&lt;cluster&gt;</c> / <c>scaling#&lt;service&gt;</c>, written only if its <c>version</c> is the one read, never expires;</item>
/// <item>container instance last seen: <c>cluster#&lt;cluster&gt;</c> / <c>instance#&lt;container instance ARN&gt;</c>, never replaced by an
/// older <c>detail.version</c>, kept 30 days after its last change;</item>
/// <item>drain moves: <c>cluster#&lt;cluster&gt;</c> / <c>drain#&lt;lineage&gt;</c>, kept 30 days after their last change;</item>
/// <item>service placement: <c>cluster#&lt;cluster&gt;</c> / <c>placement#&lt;service&gt;</c>, never expires.</item>
/// </list>
/// Per-service records never expire: there is one per service the policy names, and losing one would lose a
/// fallback placement in effect or a cooldown. Per-instance and per-lineage records come and go with the cluster.
/// </remarks>
public abstract class PersistentStateStore(TimeProvider? time = null) : IStateStore
{
    public static readonly TimeSpan LineageRetention = Retention.Lineage;
    public static readonly TimeSpan AuditRetention = Retention.Audit;
    public static readonly TimeSpan SlotRetention = Retention.RelaunchSlot;
    public static readonly TimeSpan InstanceRetention = Retention.InstanceSeen;
    public static readonly TimeSpan DrainMoveRetention = Retention.DrainMove;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _auditSequence;

    protected DateTimeOffset Now => _time.GetUtcNow();

    // ---------------- primitives a backend provides ----------------

    /// <summary>The item, or null. Reads are strongly consistent.</summary>
    protected internal abstract Task<StoredItem?> GetItemAsync(ItemKey key, CancellationToken ct);

    /// <summary>Writes the item, replacing any.</summary>
    protected internal abstract Task PutItemAsync(StoredItem item, CancellationToken ct);

    /// <summary>Writes the item only when none exists or the one there expired before <paramref name="now"/>; false otherwise.</summary>
    protected internal abstract Task<bool> PutItemIfAbsentAsync(StoredItem item, DateTimeOffset now, CancellationToken ct);

    /// <summary>Writes the item only when the stored one has <paramref name="expectedVersion"/> (null: when none exists); false otherwise.</summary>
    protected internal abstract Task<bool> PutItemIfVersionAsync(StoredItem item, long? expectedVersion, CancellationToken ct);

    /// <summary>
    /// Atomically adds one to the item's <see cref="StoredItem.Count"/> (an absent item counts 0) when it is below
    /// <paramref name="limit"/>, and sets its expiry; false, changing nothing, when it is not.
    /// </summary>
    protected internal abstract Task<bool> IncrementIfBelowAsync(ItemKey key, string kind, long limit, DateTimeOffset expiresAt, CancellationToken ct);

    /// <summary>
    /// Writes the item (whose <see cref="StoredItem.Version"/> is set) unless a live stored item has a greater
    /// version: when none exists, the one there expired before <paramref name="now"/>, it has no version, or its
    /// version is at most the item's. False, changing nothing, otherwise.
    /// </summary>
    protected internal abstract Task<bool> PutItemUnlessNewerAsync(StoredItem item, DateTimeOffset now, CancellationToken ct);

    /// <summary>Writes the item only when the stored one carries <paramref name="token"/> (<see cref="StoredItem.Token"/>); false otherwise.</summary>
    protected internal abstract Task<bool> PutItemIfTokenAsync(StoredItem item, string token, CancellationToken ct);

    /// <summary>Deletes the item only when it carries <paramref name="token"/>; false, changing nothing, otherwise.</summary>
    protected internal abstract Task<bool> DeleteItemIfTokenAsync(ItemKey key, string token, CancellationToken ct);

    /// <summary>The items of one partition whose sort key starts with <paramref name="sortKeyPrefix"/>, in sort key order.</summary>
    protected internal abstract Task<IReadOnlyList<StoredItem>> QueryAsync(string pk, string sortKeyPrefix, CancellationToken ct);

    // ---------------- processed events and claims ----------------

    public static ItemKey EventKey(string key) => new($"dedup#{key}", "dedup");

    /// <summary>The item kind of a processed event, and of a claim in progress.</summary>
    public const string EventKind = "event", ClaimKind = "claim";

    public async ValueTask<bool> HasEventAsync(string key, CancellationToken ct) =>
        await GetItemAsync(EventKey(key), ct).ConfigureAwait(false) is { } item && item.IsLiveAt(Now) && item.Kind != ClaimKind;

    public ValueTask RecordEventAsync(string key, DateTimeOffset expiresAt, CancellationToken ct) => new ValueTask(TryRecordEventAsync(key, expiresAt, ct));

    /// <summary>Records the event unless a live record exists; false when another invocation recorded it first.</summary>
    public Task<bool> TryRecordEventAsync(string key, DateTimeOffset expiresAt, CancellationToken ct) =>
        PutItemIfAbsentAsync(new StoredItem { Key = EventKey(key), Kind = EventKind, ExpiresAt = expiresAt }, Now, ct);

    /// <summary>The live item under the key as a claim: kind <c>claim</c> is in progress; anything else (kind <c>event</c>, with or without a token) is processed.</summary>
    public async ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct) =>
        await GetItemAsync(EventKey(key), ct).ConfigureAwait(false) is { ExpiresAt: { } expires } item && item.IsLiveAt(Now)
            ? new ClaimRecord { Key = key, Status = item.Kind == ClaimKind ? ClaimStatus.InProgress : ClaimStatus.Completed, Token = item.Token, ExpiresAt = expires }
            : null;

    /// <summary>
    /// A claim on the processed-event item of its key: <see cref="ClaimCondition.Free"/> is the conditional put the
    /// processed record always had (no item, or one whose expiry passed); <see cref="ClaimCondition.Holds"/> compares the token.
    /// </summary>
    public ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct)
    {
        var item = new StoredItem
        {
            Key = EventKey(record.Key),
            Kind = record.Status == ClaimStatus.InProgress ? ClaimKind : EventKind,
            ExpiresAt = record.ExpiresAt,
            Token = record.Token,
        };
        return new ValueTask<bool>(condition.HeldBy is { } token ? PutItemIfTokenAsync(item, token, ct) : PutItemIfAbsentAsync(item, Now, ct));
    }

    public ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct) =>
        new ValueTask<bool>(DeleteItemIfTokenAsync(EventKey(key), token, ct));

    // ---------------- task lineages ----------------

    public static ItemKey LineageKey(string cluster, string lineage) => new($"cluster#{cluster}", $"lineage#{lineage}");

    public async ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct)
    {
        var item = await GetItemAsync(LineageKey(cluster, lineage), ct).ConfigureAwait(false);
        return item is { Data: { } data } && item.IsLiveAt(Now) ? Deserialize(item, data, StateJsonContext.Default.LineageRecord) : null;
    }

    public ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct) =>
        new ValueTask(PutItemAsync(new StoredItem
        {
            Key = LineageKey(record.Cluster, record.Lineage),
            Kind = "lineage",
            Data = JsonSerializer.Serialize(record, StateJsonContext.Default.LineageRecord),
            ExpiresAt = Now + LineageRetention,
        }, ct));

    // ---------------- relaunch rate limit ----------------

    public static ItemKey RelaunchSlotsKey(string cluster, DateTimeOffset minute) =>
        new($"cluster#{cluster}", $"relaunches#{minute.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture)}Z");

    public ValueTask<bool> TryTakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, int limit, CancellationToken ct) =>
        limit <= 0
            ? ValueTask.FromResult(false)
            : new ValueTask<bool>(IncrementIfBelowAsync(RelaunchSlotsKey(cluster, minute), "relaunches", limit, minute + SlotRetention, ct));

    // ---------------- decision audit ----------------

    public static string AuditPartition(string eventId) => $"audit#{eventId}";

    public ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct)
    {
        var sequence = Interlocked.Increment(ref _auditSequence);
        var sk = string.Create(CultureInfo.InvariantCulture,
            $"{entry.Time.ToUniversalTime():yyyy-MM-ddTHH:mm:ss.fffffffZ}#{sequence:D10}#{Random.Shared.Next():x8}");
        return new ValueTask(PutItemAsync(new StoredItem
        {
            Key = new ItemKey(AuditPartition(entry.EventId), sk),
            Kind = "audit",
            Data = JsonSerializer.Serialize(entry, StateJsonContext.Default.AuditEntry),
            ExpiresAt = entry.Time + AuditRetention,
        }, ct));
    }

    /// <summary>The audit trail of one event, in the order it was written.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string eventId, CancellationToken ct)
    {
        var items = await QueryAsync(AuditPartition(eventId), "", ct).ConfigureAwait(false);
        return items.Where(i => i.Data is not null).Select(i => Deserialize(i, i.Data!, StateJsonContext.Default.AuditEntry)).ToList();
    }

    // ---------------- service scaler ----------------

    public static ItemKey ScalingKey(string cluster, string service) => new($"cluster#{cluster}", $"scaling#{service}");

    /// <summary>The record, its <see cref="ServiceScalingRecord.Version"/> taken from the item's <c>version</c> attribute (what the condition checks).</summary>
    public async ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        var item = await GetItemAsync(ScalingKey(cluster, service), ct).ConfigureAwait(false);
        if (item is not { Data: { } data }) return null;
        var record = Deserialize(item, data, StateJsonContext.Default.ServiceScalingRecord);
        return record with { Version = item.Version ?? 0 };
    }

    public ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var stored = record with { Version = expectedVersion + 1 };
        return new ValueTask<bool>(PutItemIfVersionAsync(new StoredItem
        {
            Key = ScalingKey(record.Cluster, record.Service),
            Kind = "scaling",
            Data = JsonSerializer.Serialize(stored, StateJsonContext.Default.ServiceScalingRecord),
            Version = stored.Version,
        }, expectedVersion == 0 ? null : expectedVersion, ct));
    }

    // ---------------- placement guard ----------------

    public static ItemKey InstanceSeenKey(string cluster, string containerInstanceArn) => new($"cluster#{cluster}", $"instance#{containerInstanceArn}");

    public async ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct)
    {
        var item = await GetItemAsync(InstanceSeenKey(cluster, containerInstanceArn), ct).ConfigureAwait(false);
        return item is { Data: { } data } && item.IsLiveAt(Now) ? Deserialize(item, data, StateJsonContext.Default.InstanceSeenRecord) : null;
    }

    /// <summary>
    /// A conditional write on the instance's <c>detail.version</c>, so a late delivery of an older state change cannot
    /// roll the record back (an equal version is written: the same event again changes nothing). A record without a
    /// version is written unconditionally.
    /// </summary>
    public async ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct)
    {
        var item = new StoredItem
        {
            Key = InstanceSeenKey(record.Cluster, record.ContainerInstanceArn),
            Kind = "instance",
            Data = JsonSerializer.Serialize(record, StateJsonContext.Default.InstanceSeenRecord),
            ExpiresAt = Now + InstanceRetention,
            Version = record.Version,
        };
        if (record.Version is null)
        {
            await PutItemAsync(item, ct).ConfigureAwait(false);
            return true;
        }
        return await PutItemUnlessNewerAsync(item, Now, ct).ConfigureAwait(false);
    }

    public static ItemKey DrainMoveKey(string cluster, string lineage) => new($"cluster#{cluster}", $"drain#{lineage}");

    public async ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct)
    {
        var item = await GetItemAsync(DrainMoveKey(cluster, lineage), ct).ConfigureAwait(false);
        return item is { Data: { } data } && item.IsLiveAt(Now) ? Deserialize(item, data, StateJsonContext.Default.DrainMoveRecord) : null;
    }

    public ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct) =>
        new ValueTask(PutItemAsync(new StoredItem
        {
            Key = DrainMoveKey(record.Cluster, record.Lineage),
            Kind = "drain-move",
            Data = JsonSerializer.Serialize(record, StateJsonContext.Default.DrainMoveRecord),
            ExpiresAt = Now + DrainMoveRetention,
        }, ct));

    public static ItemKey ServicePlacementKey(string cluster, string service) => new($"cluster#{cluster}", $"placement#{service}");

    public async ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct)
    {
        var item = await GetItemAsync(ServicePlacementKey(cluster, service), ct).ConfigureAwait(false);
        return item is { Data: { } data } ? Deserialize(item, data, StateJsonContext.Default.ServicePlacementRecord) : null;
    }

    public ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct) =>
        new ValueTask(PutItemAsync(new StoredItem
        {
            Key = ServicePlacementKey(record.Cluster, record.Service),
            Kind = "service-placement",
            Data = JsonSerializer.Serialize(record, StateJsonContext.Default.ServicePlacementRecord),
        }, ct));

    private static T Deserialize<T>(StoredItem item, string data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(data, type) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"state item {item.Key} ({item.Kind}) holds data that cannot be read: {ex.Message}", ex);
        }
    }
}

/// <summary>
/// The records as stored in <c>data</c>: camelCase, nulls left out, enums by name (<c>"Out"</c>, <c>"Draining"</c>) so the
/// table reads well and a new enum member never shifts the old ones; computed properties are not stored.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    IgnoreReadOnlyProperties = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(LineageRecord))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(ServiceScalingRecord))]
[JsonSerializable(typeof(InstanceSeenRecord))]
[JsonSerializable(typeof(DrainMoveRecord))]
[JsonSerializable(typeof(ServicePlacementRecord))]
public sealed partial class StateJsonContext : JsonSerializerContext;
