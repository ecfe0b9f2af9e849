namespace EcsReflex.Core.State;

/// <summary>The key schemes of the state store: what a key names, and so which record its item holds.</summary>
public enum ItemKind : byte
{
    /// <summary>A deduplication key's claim or processed record (no record body).</summary>
    Dedup,
    Lineage,
    /// <summary>A cluster's relaunch counter for one minute (no record body: <see cref="StoredItem.Count"/>).</summary>
    RelaunchSlots,
    /// <summary>One decision audit entry, appended under its event id.</summary>
    Audit,
    Scaling,
    InstanceSeen,
    DrainMove,
    ServicePlacement,
}

/// <summary>
/// The key of one stored item: its scheme, its scope (a cluster, a deduplication key, an event id) and its name within
/// the scope (a lineage, a service, a container instance ARN, a minute; for an audit entry, its place in the event's
/// trail, given by the backend that appended it). <see cref="Pk"/> and <see cref="Sk"/> are the table's key, the one
/// place the layout is spelled; the in-memory backend hashes the parts and never builds them.
/// </summary>
public readonly record struct ItemKey(ItemKind Kind, string Scope, string Name = "")
{
    /// <summary>The partition key: <c>dedup#&lt;key&gt;</c>, <c>audit#&lt;event id&gt;</c>, or <c>cluster#&lt;cluster&gt;</c> for the rest.</summary>
    public string Pk => Kind switch
    {
        ItemKind.Dedup => "dedup#" + Scope,
        ItemKind.Audit => "audit#" + Scope,
        _ => "cluster#" + Scope,
    };

    /// <summary>The sort key: <c>dedup</c>, or the kind's prefix and the name (an audit entry's is its place alone).</summary>
    public string Sk => Kind switch
    {
        ItemKind.Dedup => "dedup",
        ItemKind.Lineage => "lineage#" + Name,
        ItemKind.RelaunchSlots => "relaunches#" + Name,
        ItemKind.Scaling => "scaling#" + Name,
        ItemKind.InstanceSeen => "instance#" + Name,
        ItemKind.DrainMove => "drain#" + Name,
        ItemKind.ServicePlacement => "placement#" + Name,
        _ => Name,
    };

    public override string ToString() => $"{Pk} / {Sk}";
}

/// <summary>
/// One stored item, whatever its kind: the record itself (an object: the DynamoDB backend stores it as JSON, the in-memory
/// one keeps the object), an expiry (the table's TTL; the in-memory backend's forgetting) and the attributes that
/// conditions compare (<see cref="Version"/>, <see cref="Count"/>, <see cref="Token"/>). Immutable once written.
/// </summary>
public sealed class StoredItem
{
    public required ItemKey Key { get; init; }
    /// <summary>What the item is (<c>event</c>, <c>claim</c>, <c>lineage</c>, <c>relaunches</c>, <c>audit</c>...), for people reading the table.</summary>
    public required string Kind { get; init; }
    /// <summary>The record (<see cref="Decisions.LineageRecord"/>, <see cref="AuditEntry"/>...), or null for an item without a body.</summary>
    public object? Record { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? Version { get; init; }
    public long? Count { get; init; }
    /// <summary>Who holds a claim (<see cref="ClaimRecord.Token"/>): the attribute claim conditions compare.</summary>
    public string? Token { get; init; }

    /// <summary>Still there for EcsReflex at <paramref name="now"/>: deletion is lazy (DynamoDB's TTL, the replay's pruning), so expired items are ignored on read.</summary>
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt is not { } e || e > now;
}

public enum ConditionKind : byte { None, Absent, VersionIs, HeldBy, NotNewer }

/// <summary>
/// The condition of a write, as data: checked and applied in one step by the backend (a DynamoDB
/// <c>ConditionExpression</c>; under the in-memory backend's lock, by <see cref="HoldsFor"/>, which says what each means).
/// </summary>
public readonly record struct WriteCondition
{
    private WriteCondition(ConditionKind kind, DateTimeOffset now, long? version, string? token) =>
        (Kind, Now, Version, Token) = (kind, now, version, token);

    public ConditionKind Kind { get; }
    /// <summary>The writer's "now", against which <see cref="ConditionKind.Absent"/> and <see cref="ConditionKind.NotNewer"/> judge expiry.</summary>
    public DateTimeOffset Now { get; }
    public long? Version { get; }
    public string? Token { get; }

    /// <summary>Unconditional.</summary>
    public static WriteCondition None => default;

    /// <summary>No item, or one that expired by <paramref name="now"/>.</summary>
    public static WriteCondition Absent(DateTimeOffset now) => new(ConditionKind.Absent, now, null, null);

    /// <summary>The stored item's version is <paramref name="expected"/>; null: no item at all.</summary>
    public static WriteCondition VersionIs(long? expected) => new(ConditionKind.VersionIs, default, expected, null);

    /// <summary>The stored item carries <paramref name="token"/>.</summary>
    public static WriteCondition HeldBy(string token) => new(ConditionKind.HeldBy, default, null, token);

    /// <summary>No live item with a version greater than <paramref name="version"/> (none, expired by <paramref name="now"/>, without a version, or not newer).</summary>
    public static WriteCondition NotNewer(long version, DateTimeOffset now) => new(ConditionKind.NotNewer, now, version, null);

    /// <summary>Whether the condition holds over <paramref name="stored"/> (null: no item under the key).</summary>
    public bool HoldsFor(StoredItem? stored) => Kind switch
    {
        ConditionKind.None => true,
        ConditionKind.Absent => stored is null || stored.ExpiresAt is { } e && e <= Now,
        ConditionKind.VersionIs => Version is { } v ? stored?.Version == v : stored is null,
        ConditionKind.HeldBy => stored is not null && string.Equals(stored.Token, Token, StringComparison.Ordinal),
        ConditionKind.NotNewer => stored is null || !stored.IsLiveAt(Now) || stored.Version is not { } s || s <= Version,
        _ => false,
    };
}

/// <summary>
/// The handful of primitives a state store backend provides; every record kind (keys, expiries, conditions) is
/// <see cref="StateStore"/>'s. Reads are strongly consistent; conditional writes check and write in one step.
/// </summary>
public interface IStateBackend
{
    /// <summary>The item under the key, expired or not (the store judges expiry), or null.</summary>
    ValueTask<StoredItem?> GetAsync(ItemKey key, CancellationToken ct);

    /// <summary>Writes the item, replacing any, when <paramref name="condition"/> holds; false, changing nothing, when it does not.</summary>
    ValueTask<bool> PutAsync(StoredItem item, WriteCondition condition, CancellationToken ct);

    /// <summary>
    /// <see cref="PutAsync"/>, and when the condition refuses the write, the item that refused it, as one step where the
    /// backend can (DynamoDB: <c>ReturnValuesOnConditionCheckFailure</c>); null when it cannot tell (the item then has to be
    /// read). The default writes, then reads on a refusal.
    /// </summary>
    async ValueTask<(bool Written, StoredItem? Refusing)> PutOrReadAsync(StoredItem item, WriteCondition condition, CancellationToken ct) =>
        await PutAsync(item, condition, ct).ConfigureAwait(false) ? (true, null) : (false, await GetAsync(item.Key, ct).ConfigureAwait(false));

    /// <summary>Deletes the item under the key when <paramref name="condition"/> holds over it; false, changing nothing, otherwise.</summary>
    ValueTask<bool> DeleteAsync(ItemKey key, WriteCondition condition, CancellationToken ct);

    /// <summary>
    /// Atomically adds <paramref name="by"/> (one unless said) to the item's <see cref="StoredItem.Count"/> (an absent item
    /// counts 0), sets its kind and expiry, and returns the new count: concurrent callers each get different counts, 1, 2,
    /// 3… (a caller adding k owns the k numbers up to the count it gets). Unconditional.
    /// </summary>
    ValueTask<long> IncrementAsync(ItemKey key, string kind, DateTimeOffset expiresAt, CancellationToken ct, long by = 1);

    /// <summary>
    /// Adds the item to the trail of its key's scope, after those there (ordered by <paramref name="at"/>, then by
    /// arrival); never replaces one. The backend gives it its place (<see cref="ItemKey.Name"/>).
    /// </summary>
    ValueTask AppendAsync(StoredItem item, DateTimeOffset at, CancellationToken ct);

    /// <summary>The trail appended under <paramref name="trail"/>'s kind and scope, in order, as far as the backend keeps it.</summary>
    ValueTask<IReadOnlyList<StoredItem>> QueryAsync(ItemKey trail, CancellationToken ct);

    /// <summary>
    /// Writes the items unconditionally, together, in as few requests as the backend can (DynamoDB: <c>BatchWriteItem</c>,
    /// 25 items a request); an item with <see cref="BatchItem.AppendAt"/> is appended (<see cref="AppendAsync"/>). Not
    /// atomic: when it throws, some of the items may have been written. Two items under one key: the later one stands.
    /// The default writes them one by one, in order.
    /// </summary>
    async ValueTask PutManyAsync(IReadOnlyList<BatchItem> items, CancellationToken ct)
    {
        foreach (var b in items)
        {
            if (b.AppendAt is { } at) await AppendAsync(b.Item, at, ct).ConfigureAwait(false);
            else await PutAsync(b.Item, WriteCondition.None, ct).ConfigureAwait(false);
        }
    }
}

/// <summary>One item of <see cref="IStateBackend.PutManyAsync"/>: put, or appended to its trail at <see cref="AppendAt"/> when set.</summary>
public readonly record struct BatchItem(StoredItem Item, DateTimeOffset? AppendAt = null);
