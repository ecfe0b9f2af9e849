namespace EcsReflex.Engine.State;

/// <summary>
/// Items by the time they come due, earliest first: what the store and the embedded cluster forget as the
/// simulated clock moves. The same answers as a <see cref="PriorityQueue{TElement, TPriority}"/> (ties in no
/// particular order), built for how expiries arrive: each kind is written at "now + a fixed retention" with a
/// clock that never goes back, so a few sequences each arrive already sorted. An item goes to the end of the first
/// lane it does not put out of order (a plain FIFO queue); only when every lane is later than it (at most
/// <see cref="Lanes"/> lanes) does it go to a heap. A million expiries cost a million appends and removals,
/// not a million heap sifts over one array that doubles as it grows.
/// </summary>
internal sealed class DueQueue<T>
{
    private const int Lanes = 8;
    private readonly List<Queue<(T Item, DateTimeOffset At)>> _lanes = [];
    private readonly List<DateTimeOffset> _last = [];
    private readonly PriorityQueue<T, DateTimeOffset> _heap = new();

    public int Count { get; private set; }

    public void Enqueue(T item, DateTimeOffset at)
    {
        Count++;
        for (var i = 0; i < _lanes.Count; i++)
        {
            if (_last[i] > at) continue;
            _lanes[i].Enqueue((item, at));
            _last[i] = at;
            return;
        }
        if (_lanes.Count < Lanes)
        {
            var lane = new Queue<(T, DateTimeOffset)>();
            lane.Enqueue((item, at));
            _lanes.Add(lane);
            _last.Add(at);
            return;
        }
        _heap.Enqueue(item, at);
    }

    /// <summary>The earliest item and its time, or false when empty.</summary>
    public bool TryPeek(out T item, out DateTimeOffset at)
    {
        var source = Earliest(out item, out at);
        return source != Empty;
    }

    /// <summary>Takes the earliest item off when it is due by <paramref name="now"/>.</summary>
    public bool TryDequeueDue(DateTimeOffset now, out T item, out DateTimeOffset at)
    {
        var source = Earliest(out item, out at);
        if (source == Empty || at > now) return false;
        if (source == FromHeap) _heap.Dequeue();
        else
        {
            _lanes[source].Dequeue();
            if (_lanes[source].Count == 0) _last[source] = DateTimeOffset.MinValue; // an empty lane takes any time
        }
        Count--;
        return true;
    }

    private const int Empty = -1, FromHeap = -2;

    private int Earliest(out T item, out DateTimeOffset at)
    {
        var source = Empty;
        item = default!;
        at = default;
        for (var i = 0; i < _lanes.Count; i++)
            if (_lanes[i].TryPeek(out var head) && (source == Empty || head.At < at))
                (source, item, at) = (i, head.Item, head.At);
        if (_heap.TryPeek(out var h, out var hAt) && (source == Empty || hAt < at))
            (source, item, at) = (FromHeap, h, hAt);
        return source;
    }
}
