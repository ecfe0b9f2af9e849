using EcsReflex.Core.State;

namespace EcsReflex.Engine.State;

/// <summary>
/// The primitives of <see cref="IStateBackend"/> on plain dictionaries: the items are kept as they are written (the
/// record an object, never serialised). Thread-safe: one <see cref="Lock"/>, so each conditional write checks and
/// writes in one step (by <see cref="WriteCondition.HoldsFor"/>). The audit trail is one bounded queue.
/// <para>
/// The replay's forgetting is this backend's expiry: every item written with an expiry has its removal queued, and
/// <see cref="Prune"/> removes what expired as the simulated clock moves. An item rewritten again and again (a lineage
/// at each relaunch, a claim completed into the processed record) keeps one queue entry: when the entry comes up
/// before the item's current expiry, it is queued again at that expiry.
/// </para>
/// </summary>
public sealed class InMemoryStateBackend : IStateBackend
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ItemKey, Entry> _items = new();
    private readonly Queue<StoredItem> _audit = new();
    /// <summary>Every expiry queued, earliest first; an entry whose item was rewritten since is skipped or queued again when it comes up.</summary>
    private readonly DueQueue<ItemKey> _expiries = new();

    /// <summary>An item, and when the expiry entry queued for it comes up (at or before it expires; MaxValue: none queued).</summary>
    private readonly record struct Entry(StoredItem Item, DateTimeOffset QueuedAt);

    /// <summary>How many audit entries are kept: null keeps them all; 0 keeps none; N keeps the last N.</summary>
    public int? MaxAuditEntries { get; set; }

    /// <summary>Never removes an item because it expired (expired items still read as expired): the tests' reference.</summary>
    public bool NeverForget { get; set; }

    public ValueTask<StoredItem?> GetAsync(ItemKey key, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_items.TryGetValue(key, out var e) ? e.Item : null);
    }

    public ValueTask<bool> PutAsync(StoredItem item, WriteCondition condition, CancellationToken ct) =>
        ValueTask.FromResult(TryPut(item, condition, out _));

    /// <summary>The write, or the item that refused it, under one lock (one step, as DynamoDB's ALL_OLD refusal).</summary>
    public ValueTask<(bool Written, StoredItem? Refusing)> PutOrReadAsync(StoredItem item, WriteCondition condition, CancellationToken ct) =>
        ValueTask.FromResult<(bool, StoredItem?)>(TryPut(item, condition, out var refusing) ? (true, null) : (false, refusing));

    /// <summary>Writes <paramref name="item"/> when <paramref name="condition"/> holds, checked and written under the lock; else <paramref name="refusing"/> is what is stored.</summary>
    private bool TryPut(StoredItem item, WriteCondition condition, out StoredItem? refusing)
    {
        lock (_gate)
        {
            var exists = _items.TryGetValue(item.Key, out var old);
            refusing = exists ? old.Item : null;
            if (!condition.HoldsFor(refusing)) return false;
            refusing = null;
            Write(item, exists ? old : null);
            return true;
        }
    }

    public ValueTask<bool> DeleteAsync(ItemKey key, WriteCondition condition, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_items.TryGetValue(key, out var e) && condition.HoldsFor(e.Item) && _items.Remove(key));
    }

    public ValueTask<long> IncrementAsync(ItemKey key, string kind, DateTimeOffset expiresAt, CancellationToken ct, long by = 1)
    {
        lock (_gate)
        {
            var exists = _items.TryGetValue(key, out var old);
            var count = (exists ? old.Item.Count ?? 0 : 0) + by;
            Write(new StoredItem { Key = key, Kind = kind, Count = count, ExpiresAt = expiresAt }, exists ? old : null);
            return ValueTask.FromResult(count);
        }
    }

    public ValueTask AppendAsync(StoredItem item, DateTimeOffset at, CancellationToken ct)
    {
        lock (_gate)
        {
            if (MaxAuditEntries is not { } max) _audit.Enqueue(item);
            else if (max > 0)
            {
                if (_audit.Count >= max) _audit.Dequeue();
                _audit.Enqueue(item);
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<StoredItem>> QueryAsync(ItemKey trail, CancellationToken ct)
    {
        var list = new List<StoredItem>();
        lock (_gate)
            foreach (var item in _audit)
                if (item.Key.Kind == trail.Kind && item.Key.Scope == trail.Scope) list.Add(item);
        return ValueTask.FromResult<IReadOnlyList<StoredItem>>(list);
    }

    /// <summary>
    /// Writes the item under the gate. Its removal is queued unless <see cref="NeverForget"/>, or unless an entry for
    /// the same key already comes up before the new expiry (then <see cref="Prune"/> queues it again when it comes up).
    /// </summary>
    private void Write(StoredItem item, Entry? old)
    {
        var queuedAt = DateTimeOffset.MaxValue;
        if (item.ExpiresAt is { } expires && !NeverForget)
        {
            if (old is { } o && o.QueuedAt <= expires) queuedAt = o.QueuedAt;
            else
            {
                _expiries.Enqueue(item.Key, expires);
                queuedAt = expires;
            }
        }
        _items[item.Key] = new Entry(item, queuedAt);
    }

    /// <summary>Removes every item that expired by <paramref name="now"/>. Amortised: each queued expiry is taken off once.</summary>
    public void Prune(DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_expiries.TryDequeueDue(now, out var key, out var at))
            {
                if (!_items.TryGetValue(key, out var e)) continue;
                if (e.Item.ExpiresAt is not { } expires || e.QueuedAt != at) continue; // rewritten since: another entry stands for it
                if (expires <= now) _items.Remove(key);
                else
                {
                    _expiries.Enqueue(key, expires);
                    _items[key] = e with { QueuedAt = expires };
                }
            }
        }
    }

    /// <summary>The items of one kind, expired or not.</summary>
    public List<StoredItem> Items(ItemKind kind)
    {
        lock (_gate)
        {
            var list = new List<StoredItem>();
            foreach (var e in _items.Values)
                if (e.Item.Key.Kind == kind) list.Add(e.Item);
            return list;
        }
    }

    /// <summary>The audit entries kept, oldest first.</summary>
    public List<StoredItem> AuditTrail()
    {
        lock (_gate) return [.. _audit];
    }

    public StoreItemCounts Counts()
    {
        lock (_gate)
        {
            Span<int> n = stackalloc int[8];
            foreach (var e in _items.Values) n[(int)e.Item.Key.Kind]++;
            return new StoreItemCounts(n[(int)ItemKind.Dedup], n[(int)ItemKind.Lineage], n[(int)ItemKind.RelaunchSlots], _audit.Count,
                n[(int)ItemKind.Scaling], n[(int)ItemKind.InstanceSeen], n[(int)ItemKind.DrainMove], n[(int)ItemKind.ServicePlacement], _expiries.Count);
        }
    }
}
