using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;

namespace EcsReflex.Engine.Replay;

/// <summary>One line of the replay's output: a processed event or a fired timer.</summary>
public sealed record ReplayRecord
{
    public required string Input { get; init; }
    /// <summary><c>event</c> for a delivered input, <c>timer</c> for deferred work that came due.</summary>
    public required string Trigger { get; init; }
    public string? EventId { get; init; }
    public required DateTimeOffset? Time { get; init; }
    public string? DetailType { get; init; }
    public string? Handler { get; init; }
    public required Outcome Outcome { get; init; }
    public required string Reason { get; init; }
    public IReadOnlyList<ActionResult> Actions { get; init; } = [];
    public DateTimeOffset? DueAt { get; init; }
    public string? RejectionCode { get; init; }
    /// <summary>A few words on the event (<c>task 5f9900fd STOPPED</c>), for the table.</summary>
    public string? Summary { get; init; }
    /// <summary>The event this record is about (null for an input that could not be read), for reports that need its details.</summary>
    public EventEnvelope? Event { get; init; }
}

/// <summary>
/// Replays events on the embedded cluster with a simulated clock that follows the events. Deferred
/// work is fired at its due time, before any later event; what is still pending at the end is fired
/// after the last event, so every decision is carried to its end.
/// </summary>
public sealed class ReplayEngine
{
    private readonly Reactor _reactor;
    private readonly InMemoryStateStore _store;
    private readonly PriorityQueue<(InputItem Item, EventEnvelope Event), (DateTimeOffset, long)> _timers = new();
    private long _seq;
    private DateTimeOffset _clock = DateTimeOffset.MinValue;

    public ReplayEngine(ReflexPolicy policy, EmbeddedCluster cluster, InMemoryStateStore? store = null, bool dryRun = false)
        : this(policy, cluster, cluster, cluster, store, dryRun)
    {
    }

    /// <summary>
    /// Replays with other ECS adapters (the live account, for <c>reflex replay --aws</c>): the simulated clock still
    /// follows the events; <see cref="Cluster"/> is then an empty embedded cluster that only keeps the time.
    /// </summary>
    public ReplayEngine(ReflexPolicy policy, IEcsApi ecs, IClusterObserver observer, InMemoryStateStore? store = null, bool dryRun = false)
        : this(policy, new EmbeddedCluster(ClusterSnapshot.Empty), ecs, observer, store, dryRun)
    {
    }

    private ReplayEngine(ReflexPolicy policy, EmbeddedCluster cluster, IEcsApi ecs, IClusterObserver observer, InMemoryStateStore? store, bool dryRun)
    {
        Cluster = cluster;
        _store = store ?? new InMemoryStateStore();
        _reactor = new Reactor(policy, _store, observer, new Actuator(ecs, _store, policy, dryRun));
    }

    public EmbeddedCluster Cluster { get; }
    public InMemoryStateStore Store => _store;

    /// <summary>At most this many timer firings, to stop a misbehaving policy from replaying forever.</summary>
    public int MaxTimerFirings { get; init; } = 10_000_000;

    public async IAsyncEnumerable<ReplayRecord> RunAsync(IEnumerable<InputItem> items, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var fired = 0;
        foreach (var item in items)
        {
            ct.ThrowIfCancellationRequested();
            if (item.SortTime is { } t)
                while (NextPendingAt() is { } due && due <= t && fired++ < MaxTimerFirings)
                    if (await FirePendingAsync(ct) is { } r) yield return r;
            yield return await ProcessAsync(item, ct);
        }
        // After the last input: fire what is pending, until a whole round of deferrals finds the embedded
        // cluster unchanged (retries waiting for capacity would then wait forever).
        var stalled = 0;
        var generation = Cluster.Generation;
        while (NextPendingAt() is not null && fired++ < MaxTimerFirings)
        {
            if (await FirePendingAsync(ct) is not { } r) continue;
            yield return r;
            if (r.Outcome == Outcome.Deferred && Cluster.Generation == generation) stalled++;
            else stalled = 0;
            generation = Cluster.Generation;
            if (stalled > _timers.Count)
            {
                yield return new ReplayRecord
                {
                    Input = "replay", Trigger = "timer", Time = _clock, Outcome = Outcome.Deferred,
                    Reason = $"the replay stops here: {_timers.Count} deferred decision{(_timers.Count == 1 ? "" : "s")} still wait, for capacity the embedded cluster will not get: a whole round of retries found it unchanged",
                };
                break;
            }
        }
    }

    /// <summary>When the next timer or the next event the embedded cluster emits is due.</summary>
    private DateTimeOffset? NextPendingAt()
    {
        DateTimeOffset? timer = _timers.TryPeek(out _, out var due) ? due.Item1 : null;
        var emitted = Cluster.NextEventAt;
        if (timer is null) return emitted;
        if (emitted is null) return timer;
        return emitted <= timer ? emitted : timer;
    }

    /// <summary>Fires the earlier of the next timer and the next emitted event (emitted first on a tie).</summary>
    private async Task<ReplayRecord?> FirePendingAsync(CancellationToken ct)
    {
        DateTimeOffset? timer = _timers.TryPeek(out _, out var due) ? due.Item1 : null;
        if (Cluster.NextEventAt is { } emitted && (timer is null || emitted <= timer))
        {
            Advance(emitted);
            return Cluster.TakeNextEvent() is { } e ? await ProcessEmittedAsync(e, ct) : null;
        }
        return await FireNextAsync(ct);
    }

    /// <summary>An event the embedded cluster emitted (a task it started is RUNNING, one it stopped is STOPPED).</summary>
    private async Task<ReplayRecord> ProcessEmittedAsync(EventEnvelope e, CancellationToken ct)
    {
        var item = new InputItem(EmittedInput, e, null, e.Time);
        var reaction = await _reactor.HandleEventAsync(e, _clock, ct);
        Schedule(item, e, reaction);
        return ToRecord(EmittedInput, "event", e, reaction);
    }

    /// <summary>The <c>input</c> of the events the embedded cluster emits.</summary>
    public const string EmittedInput = "embedded-cluster";

    private void Advance(DateTimeOffset? to)
    {
        if (to is { } t && t > _clock) _clock = t;
        Cluster.Now = _clock;
        _store.Now = _clock;
    }

    private async Task<ReplayRecord> ProcessAsync(InputItem item, CancellationToken ct)
    {
        Advance(item.SortTime);
        if (item.Event is not { } e)
            return new ReplayRecord
            {
                Input = item.Input, Trigger = "event", Time = item.SortTime, Outcome = Outcome.Rejected,
                Reason = item.Rejection!.Message, RejectionCode = item.Rejection.Code,
            };
        Cluster.Observe(e);
        var reaction = await _reactor.HandleEventAsync(e, _clock, ct);
        Schedule(item, e, reaction);
        return ToRecord(item.Input, "event", e, reaction);
    }

    private async Task<ReplayRecord> FireNextAsync(CancellationToken ct)
    {
        _timers.TryDequeue(out var work, out var due);
        Advance(due.Item1);
        var reaction = await _reactor.HandleDueAsync(work.Event, _clock, ct);
        Schedule(work.Item, work.Event, reaction);
        return ToRecord(work.Item.Input, "timer", work.Event, reaction);
    }

    private void Schedule(InputItem item, EventEnvelope e, Reaction reaction)
    {
        if (reaction.Outcome == Outcome.Deferred && reaction.DueAt is { } due)
            _timers.Enqueue((item, e), (due > _clock ? due : _clock, _seq++));
        if (reaction.FollowUpAt is { } follow)
            _timers.Enqueue((item, e), (follow > _clock ? follow : _clock, _seq++));
    }

    private ReplayRecord ToRecord(string input, string trigger, EventEnvelope e, Reaction r) => new()
    {
        Input = input,
        Trigger = trigger,
        EventId = e.Id,
        Time = _clock,
        DetailType = e.DetailType,
        Handler = r.Handler,
        Outcome = r.Outcome,
        Reason = r.Reason,
        Actions = r.Actions,
        DueAt = r.DueAt,
        Summary = Describe.Event(e),
        Event = e,
    };
}
