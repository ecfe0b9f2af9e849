using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.State;

/// <summary>
/// The state store in memory: the replay's store, and the Lambda host's when no table is configured. The record logic
/// is <see cref="StateStore"/>'s, as for the DynamoDB table; the items live in an <see cref="InMemoryStateBackend"/>,
/// which keeps the records as objects (no serialisation). Expiry is judged against <see cref="Now"/> (the replay's
/// simulated clock) or, when it is unset, the time provider's.
/// <para>
/// Records expire as in the table: processed events and claims at the expiry the caller gives, relaunch slots 1 hour
/// after their minute, lineages, instance records and drain moves 30 days after their last write; scaling and service
/// placement records never. An expired record reads as absent, and it is physically removed when <see cref="Now"/> is
/// set past its expiry (the backend's time-ordered queue of expiries is pruned as the simulated clock moves), so a long
/// replay holds only what one retention window writes. Without <see cref="Now"/> (the Lambda host's clock), expired
/// records read as absent but stay in memory. See docs/replay.md, "Memory".
/// </para>
/// </summary>
public sealed class InMemoryStateStore : StateStore
{
    public static readonly TimeSpan LineageRetention = Retention.Lineage;
    public static readonly TimeSpan SlotRetention = Retention.RelaunchSlot;
    public static readonly TimeSpan InstanceRetention = Retention.InstanceSeen;
    public static readonly TimeSpan DrainMoveRetention = Retention.DrainMove;

    private readonly InMemoryStateBackend _items;
    private readonly SimulatedClock _clock;

    public InMemoryStateStore(TimeProvider? time = null) : this(new InMemoryStateBackend(), new SimulatedClock(time ?? TimeProvider.System))
    {
    }

    private InMemoryStateStore(InMemoryStateBackend items, SimulatedClock clock) : base(items, clock) => (_items, _clock) = (items, clock);

    /// <summary>The simulated "now" used for expiry; when unset, the time provider's.</summary>
    public DateTimeOffset? Now
    {
        get => _clock.Simulated;
        set
        {
            _clock.Simulated = value;
            if (value is { } now) _items.Prune(now);
        }
    }

    /// <summary>
    /// How many audit entries <see cref="Audit"/> keeps: null (the default) keeps them all; 0 keeps none; N keeps
    /// the last N. The replay's own store keeps a few: its JSON lines carry every action and reason already.
    /// </summary>
    public int? MaxAuditEntries { get => _items.MaxAuditEntries; init => _items.MaxAuditEntries = value; }

    /// <summary>
    /// Never removes a record physically, as the store did before records expired (expired records still read as
    /// absent): the reference the tests compare a forgetting replay with.
    /// </summary>
    public bool NeverForget { get => _items.NeverForget; init => _items.NeverForget = value; }

    /// <summary>The store a replay makes for itself: a bounded audit, given-up lineages forgotten after the duplicate memory.</summary>
    public static InMemoryStateStore ForReplay() => new()
    {
        MaxAuditEntries = ReplayAuditEntries,
        GivenUpLineageRetention = Reactor.DuplicateMemory + TimeSpan.FromHours(1),
    };

    /// <summary>How many audit entries the replay's own store keeps (the latest).</summary>
    public const int ReplayAuditEntries = 1000;

    public IReadOnlyCollection<AuditEntry> Audit => Live<AuditEntry>(_items.AuditTrail(), all: true);

    public IReadOnlyCollection<LineageRecord> Lineages => Live<LineageRecord>(_items.Items(ItemKind.Lineage));

    public IReadOnlyCollection<DrainMoveRecord> DrainMoves => Live<DrainMoveRecord>(_items.Items(ItemKind.DrainMove));

    public IReadOnlyCollection<ServiceScalingRecord> ScalingRecords => Live<ServiceScalingRecord>(_items.Items(ItemKind.Scaling));

    /// <summary>How many records of each kind are held now (those expired by <see cref="Now"/> removed first): a diagnostic for tests and benchmarks.</summary>
    public StoreItemCounts Counts
    {
        get
        {
            if (_clock.Simulated is { } now) _items.Prune(now);
            return _items.Counts();
        }
    }

    private List<T> Live<T>(List<StoredItem> items, bool all = false)
    {
        var now = _clock.GetUtcNow();
        var list = new List<T>(items.Count);
        foreach (var item in items)
            if ((all || item.IsLiveAt(now)) && item.Record is T record) list.Add(record);
        return list;
    }

    /// <summary>The time provider's clock, or the replay's simulated one while it is set.</summary>
    private sealed class SimulatedClock(TimeProvider inner) : TimeProvider
    {
        public DateTimeOffset? Simulated { get; set; }

        public override DateTimeOffset GetUtcNow() => Simulated ?? inner.GetUtcNow();
    }
}

/// <summary>How many records an <see cref="InMemoryStateStore"/> holds, by kind (<see cref="PendingExpiries"/>: entries of its expiry queue).</summary>
public readonly record struct StoreItemCounts(int Events, int Lineages, int RelaunchSlots, int AuditEntries, int ScalingRecords,
    int InstanceRecords, int DrainMoves, int ServicePlacements, int PendingExpiries);
