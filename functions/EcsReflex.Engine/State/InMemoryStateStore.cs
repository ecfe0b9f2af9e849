using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.State;

/// <summary>
/// The state store in memory: the replay's store, and the Lambda host's when no table is configured.
/// Thread-safe (one <see cref="Lock"/> around plain dictionaries); expiry is judged against <see cref="Now"/> (the
/// replay's simulated clock) or, when it is unset, the time provider's.
/// <para>
/// Records expire as the DynamoDB store's do (<c>PersistentStateStore</c>): processed events and claims at the expiry
/// the caller gives, relaunch slots 1 hour after their minute, lineages, instance records and drain moves 30 days
/// after their last write; scaling and service placement records never. An expired record reads as absent, and
/// it is physically removed when <see cref="Now"/> is set past its expiry (a time-ordered queue of expiries is pruned
/// as the simulated clock moves), so a long replay holds only what one retention window writes. Without
/// <see cref="Now"/> (the Lambda host's clock), expired records read as absent but stay in memory. See docs/replay.md, "Memory".
/// </para>
/// </summary>
public sealed class InMemoryStateStore(TimeProvider? time = null) : IStateStore
{
    public static readonly TimeSpan LineageRetention = Retention.Lineage;
    public static readonly TimeSpan SlotRetention = Retention.RelaunchSlot;
    public static readonly TimeSpan InstanceRetention = Retention.InstanceSeen;
    public static readonly TimeSpan DrainMoveRetention = Retention.DrainMove;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, EventEntry> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), Expiring<LineageRecord>> _lineages = new();
    private readonly Dictionary<(string, DateTimeOffset), int> _slots = new();
    private readonly Queue<AuditEntry> _audit = new();
    private readonly Dictionary<(string, string), ServiceScalingRecord> _scaling = new();
    private readonly Dictionary<(string, string), Expiring<InstanceSeenRecord>> _instances = new();
    private readonly Dictionary<(string, string), Expiring<DrainMoveRecord>> _moves = new();
    private readonly Dictionary<(string, string), ServicePlacementRecord> _servicePlacements = new();
    /// <summary>Every expiry written, earliest first; an entry whose record was rewritten since is skipped when it comes up.</summary>
    private readonly DueQueue<Expiry> _expiries = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private DateTimeOffset? _now;

    /// <summary>A record, when it expires, and when the expiry entry queued for it comes up (at or before it expires).</summary>
    private readonly record struct Expiring<T>(T Record, DateTimeOffset ExpiresAt, DateTimeOffset QueuedAt);

    private enum Kind : byte { Event, Lineage, Slot, Instance, Move }

    /// <summary>The record under a deduplication key: a claim in progress (with its holder's token) or a processed event.</summary>
    private readonly record struct EventEntry(ClaimStatus Status, string? Token, DateTimeOffset ExpiresAt);

    private readonly record struct Expiry(Kind Kind, string A, string? B, DateTimeOffset Minute);

    /// <summary>The simulated "now" used for expiry; when unset, the time provider's.</summary>
    public DateTimeOffset? Now
    {
        get => _now;
        set
        {
            _now = value;
            if (value is { } now && !NeverForget)
                lock (_gate) Prune(now);
        }
    }

    /// <summary>
    /// How many audit entries <see cref="Audit"/> keeps: null (the default) keeps them all; 0 keeps none; N keeps
    /// the last N. The replay's own store keeps a few: its JSON lines carry every action and reason already.
    /// </summary>
    public int? MaxAuditEntries { get; init; }

    /// <summary>
    /// When set, a lineage that was given up is forgotten this long after it was given up, before its 30-day
    /// retention: the replay's own store sets it (see <see cref="ForReplay"/>), because nothing it replays can read
    /// such a record again once the duplicate memory of the give-up is over (docs/replay.md, "Memory").
    /// </summary>
    public TimeSpan? GivenUpLineageRetention { get; init; }

    /// <summary>
    /// Keeps every record for ever, as the store did before records expired (processed events still stop counting
    /// as duplicates at their expiry): the reference the tests compare a forgetting replay with.
    /// </summary>
    public bool NeverForget { get; init; }

    /// <summary>
    /// A record written now and kept <paramref name="retention"/>. Its removal is queued unless <see cref="NeverForget"/>,
    /// or unless an entry for the same key already comes up before the new expiry (a record rewritten again and again,
    /// like a lineage at each relaunch, keeps one entry: when it comes up early, <see cref="Prune"/> queues it again at
    /// the record's expiry then).
    /// </summary>
    private Expiring<T> Until<T>(T record, TimeSpan retention, Kind kind, string a, string? b, Expiring<T>? existing)
    {
        if (NeverForget) return new(record, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue);
        var expiresAt = Current + retention;
        if (existing is { } old && old.QueuedAt <= expiresAt) return new(record, expiresAt, old.QueuedAt);
        _expiries.Enqueue(new Expiry(kind, a, b, default), expiresAt);
        return new(record, expiresAt, expiresAt);
    }

    /// <summary>The store a replay makes for itself: a bounded audit, given-up lineages forgotten after the duplicate memory.</summary>
    public static InMemoryStateStore ForReplay() => new()
    {
        MaxAuditEntries = ReplayAuditEntries,
        GivenUpLineageRetention = Reactor.DuplicateMemory + TimeSpan.FromHours(1),
    };

    /// <summary>How many audit entries the replay's own store keeps (the latest).</summary>
    public const int ReplayAuditEntries = 1000;

    private DateTimeOffset Current => _now ?? _time.GetUtcNow();

    public IReadOnlyCollection<AuditEntry> Audit { get { lock (_gate) return [.. _audit]; } }

    /// <summary>How many records of each kind are held now (those expired by <see cref="Now"/> removed first): a diagnostic for tests and benchmarks.</summary>
    public StoreItemCounts Counts
    {
        get
        {
            lock (_gate)
            {
                if (_now is { } now && !NeverForget) Prune(now);
                return new StoreItemCounts(_events.Count, _lineages.Count, _slots.Count, _audit.Count, _scaling.Count,
                    _instances.Count, _moves.Count, _servicePlacements.Count, _expiries.Count);
            }
        }
    }

    /// <summary>Removes every record that expired by <paramref name="now"/>. Amortised: each expiry written is taken off once.</summary>
    private void Prune(DateTimeOffset now)
    {
        while (_expiries.TryDequeueDue(now, out var e, out var at))
        {
            switch (e.Kind)
            {
                case Kind.Event:
                    if (_events.TryGetValue(e.A, out var x) && x.ExpiresAt <= now) _events.Remove(e.A);
                    break;
                case Kind.Lineage:
                    Due(_lineages, (e.A, e.B!), e, at, now);
                    break;
                case Kind.Slot:
                    _slots.Remove((e.A, e.Minute));
                    break;
                case Kind.Instance:
                    Due(_instances, (e.A, e.B!), e, at, now);
                    break;
                case Kind.Move:
                    Due(_moves, (e.A, e.B!), e, at, now);
                    break;
            }
        }
    }

    /// <summary>
    /// An expiry entry of <paramref name="key"/> came up at <paramref name="at"/>: the record goes when it has expired;
    /// when it was rewritten since and expires later, its entry is queued again at that time (once: an older entry of
    /// the same key that comes up later finds a different queued time and does nothing).
    /// </summary>
    private void Due<T>(Dictionary<(string, string), Expiring<T>> table, (string, string) key, Expiry e, DateTimeOffset at, DateTimeOffset now)
    {
        if (!table.TryGetValue(key, out var r)) return;
        if (r.ExpiresAt <= now)
        {
            table.Remove(key);
            return;
        }
        if (r.QueuedAt != at) return;
        _expiries.Enqueue(e, r.ExpiresAt);
        table[key] = r with { QueuedAt = r.ExpiresAt };
    }

    /// <summary>The record under <paramref name="key"/> unless it expired (an expired one reads as absent, as in DynamoDB). Under the gate.</summary>
    private T? Read<T>(Dictionary<(string, string), Expiring<T>> table, (string, string) key) where T : class =>
        table.TryGetValue(key, out var r) && r.ExpiresAt > Current ? r.Record : null;

    /// <summary>The records that have not expired. Under the gate.</summary>
    private List<T> Live<T>(Dictionary<(string, string), Expiring<T>> table)
    {
        var now = Current;
        var list = new List<T>(table.Count);
        foreach (var r in table.Values)
            if (r.ExpiresAt > now) list.Add(r.Record);
        return list;
    }

    // ---- processed events and claims

    public ValueTask<bool> HasEventAsync(string key, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_events.TryGetValue(key, out var x) && x.Status == ClaimStatus.Completed && x.ExpiresAt > Current);
    }

    public ValueTask RecordEventAsync(string key, DateTimeOffset expiresAt, CancellationToken ct)
    {
        lock (_gate) WriteEvent(key, new EventEntry(ClaimStatus.Completed, null, expiresAt));
        return ValueTask.CompletedTask;
    }

    public ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_events.TryGetValue(key, out var x) && x.ExpiresAt > Current
                ? new ClaimRecord { Key = key, Status = x.Status, Token = x.Token, ExpiresAt = x.ExpiresAt }
                : null);
    }

    /// <summary>Conditional like DynamoDB's <c>ConditionExpression</c>: the check and the write are one step under the gate.</summary>
    public ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct)
    {
        lock (_gate)
        {
            var exists = _events.TryGetValue(record.Key, out var x);
            var holds = condition.HeldBy is { } token
                ? exists && string.Equals(x.Token, token, StringComparison.Ordinal)
                : !exists || x.ExpiresAt <= Current;
            if (!holds) return ValueTask.FromResult(false);
            WriteEvent(record.Key, new EventEntry(record.Status, record.Token, record.ExpiresAt));
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_events.TryGetValue(key, out var x) && string.Equals(x.Token, token, StringComparison.Ordinal)
                                        && _events.Remove(key));
    }

    /// <summary>Writes the record under the gate and queues its removal (once per expiry written; a superseded entry is skipped when it comes up).</summary>
    private void WriteEvent(string key, EventEntry entry)
    {
        _events[key] = entry;
        if (!NeverForget) _expiries.Enqueue(new Expiry(Kind.Event, key, null, default), entry.ExpiresAt);
    }

    // ---- lineages

    public ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(Read(_lineages, (cluster, lineage)));
    }

    public ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct)
    {
        lock (_gate)
        {
            var retention = record.GivenUp && GivenUpLineageRetention is { } g ? g : LineageRetention;
            var key = (record.Cluster, record.Lineage);
            _lineages[key] = Until(record, retention, Kind.Lineage, record.Cluster, record.Lineage, _lineages.TryGetValue(key, out var old) ? old : null);
        }
        return ValueTask.CompletedTask;
    }

    public IReadOnlyCollection<LineageRecord> Lineages { get { lock (_gate) return Live(_lineages); } }

    // ---- relaunch slots

    public ValueTask<bool> TryTakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            if (limit <= 0) return ValueTask.FromResult(false);
            var key = (cluster, minute);
            if (!_slots.TryGetValue(key, out var n))
            {
                // Removed 1 hour after its minute (SlotRetention), like the DynamoDB counter's TTL; a minute is asked for
                // only while it is the current one, so a removed counter is never asked for again.
                if (!NeverForget) _expiries.Enqueue(new Expiry(Kind.Slot, cluster, null, minute), minute + SlotRetention);
                _slots[key] = 1;
                return ValueTask.FromResult(true);
            }
            if (n >= limit) return ValueTask.FromResult(false);
            _slots[key] = n + 1;
            return ValueTask.FromResult(true);
        }
    }

    // ---- audit

    public ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct)
    {
        lock (_gate)
        {
            if (MaxAuditEntries is not { } max) _audit.Enqueue(entry);
            else if (max > 0)
            {
                if (_audit.Count >= max) _audit.Dequeue();
                _audit.Enqueue(entry);
            }
        }
        return ValueTask.CompletedTask;
    }

    // ---- service scaler

    public ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        lock (_gate) return ValueTask.FromResult(_scaling.TryGetValue((cluster, service), out var r) ? r : null);
    }

    /// <summary>Conditional on the stored version, like DynamoDB's <c>ConditionExpression</c>: the compare and the write are one step.</summary>
    public ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        lock (_gate)
        {
            var key = (record.Cluster, record.Service);
            var stored = _scaling.TryGetValue(key, out var r) ? r.Version : 0;
            if (stored != expectedVersion) return ValueTask.FromResult(false);
            _scaling[key] = record with { Version = expectedVersion + 1 };
            return ValueTask.FromResult(true);
        }
    }

    public IReadOnlyCollection<ServiceScalingRecord> ScalingRecords { get { lock (_gate) return [.. _scaling.Values]; } }

    // ---- placement guard

    public ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(Read(_instances, (cluster, containerInstanceArn)));
    }

    public ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct)
    {
        lock (_gate)
        {
            var key = (record.Cluster, record.ContainerInstanceArn);
            var now = Current;
            if (_instances.TryGetValue(key, out var old) && old.ExpiresAt > now
                && old.Record.Version is { } ov && record.Version is { } nv && nv < ov)
                return ValueTask.FromResult(false);
            _instances[key] = Until(record, InstanceRetention, Kind.Instance, record.Cluster, record.ContainerInstanceArn, _instances.TryGetValue(key, out var kept) ? kept : null);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(Read(_moves, (cluster, lineage)));
    }

    public ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct)
    {
        lock (_gate)
        {
            var key = (record.Cluster, record.Lineage);
            _moves[key] = Until(record, DrainMoveRetention, Kind.Move, record.Cluster, record.Lineage, _moves.TryGetValue(key, out var old) ? old : null);
        }
        return ValueTask.CompletedTask;
    }

    public IReadOnlyCollection<DrainMoveRecord> DrainMoves { get { lock (_gate) return Live(_moves); } }

    public ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct)
    {
        lock (_gate) return ValueTask.FromResult(_servicePlacements.TryGetValue((cluster, service), out var r) ? r : null);
    }

    public ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct)
    {
        lock (_gate) _servicePlacements[(record.Cluster, record.Service)] = record;
        return ValueTask.CompletedTask;
    }
}

/// <summary>How many records an <see cref="InMemoryStateStore"/> holds, by kind (<see cref="PendingExpiries"/>: entries of its expiry queue).</summary>
public readonly record struct StoreItemCounts(int Events, int Lineages, int RelaunchSlots, int AuditEntries, int ScalingRecords,
    int InstanceRecords, int DrainMoves, int ServicePlacements, int PendingExpiries);
