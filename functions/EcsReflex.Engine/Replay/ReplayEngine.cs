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
    /// <summary>The code of <see cref="Reason"/> (<see cref="ReasonCodes"/>), written as <c>code</c> in the JSON lines.</summary>
    public required string Code { get; init; }
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
public sealed class ReplayEngine : ReplayLoop<InputItem, (InputItem Item, EventEnvelope Event)>
{
    private readonly Reactor _reactor;
    private readonly InMemoryStateStore _store;

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
        _store = store ?? InMemoryStateStore.ForReplay(); // forgets what can no longer change a decision (docs/replay.md)
        // A store of its own is read by nobody but the replay: its records are the audit trail (Actuator's audit parameter).
        _reactor = new Reactor(policy, _store, observer, new Actuator(ecs, _store, policy, dryRun, audit: store is not null));
    }

    public EmbeddedCluster Cluster { get; }
    public InMemoryStateStore Store => _store;

    /// <summary>At most this many timer firings, to stop a misbehaving policy from replaying forever.</summary>
    public int MaxTimerFirings { get; init; } = 10_000_000;

    public IAsyncEnumerable<ReplayRecord> RunAsync(IEnumerable<InputItem> items, CancellationToken ct = default) => LoopAsync(items, ct);

    protected override EmbeddedCluster SimulatedCluster => Cluster;
    protected override int TimerFiringLimit => MaxTimerFirings;
    protected override DateTimeOffset? SortTimeOf(InputItem input) => input.SortTime;

    /// <summary>An event the embedded cluster emitted (a task it started is RUNNING, one it stopped is STOPPED).</summary>
    protected override async ValueTask<ReplayRecord> ProcessEmittedAsync(EventEnvelope e, CancellationToken ct)
    {
        var item = new InputItem(EmittedInput, e, null, e.Time);
        var reaction = await _reactor.HandleEventAsync(e, Clock, ct);
        Schedule(item, e, reaction);
        return ToRecord(EmittedInput, "event", e, reaction);
    }

    /// <summary>The <c>input</c> of the events the embedded cluster emits.</summary>
    public const string EmittedInput = "embedded-cluster";

    protected override void OnClockMoved(DateTimeOffset now)
    {
        Cluster.Now = now;
        _store.Now = now;
    }

    protected override async ValueTask<ReplayRecord> ProcessAsync(InputItem item, CancellationToken ct)
    {
        Advance(item.SortTime);
        if (item.Event is not { } e)
            return new ReplayRecord
            {
                Input = item.Input, Trigger = "event", Time = item.SortTime, Outcome = Outcome.Rejected,
                Code = ReasonCodes.Reject(item.Rejection!.Kind), Reason = item.Rejection.Message, RejectionCode = item.Rejection.Code,
            };
        if (!_sweepsStarted)
        {
            // The first sweep one interval after the first input; each sweep schedules the next.
            _sweepsStarted = true;
            ScheduleSweep(Clock + _reactor.Policy.Reconcile.Interval);
        }
        Cluster.Observe(e);
        if (Undelivered?.Invoke(e) == true) return UndeliveredRecord(item.Input, e, Clock);
        var reaction = await _reactor.HandleEventAsync(e, Clock, ct);
        Schedule(item, e, reaction);
        return ToRecord(item.Input, "event", e, reaction);
    }

    protected override async ValueTask<ReplayRecord?> FireAsync((InputItem Item, EventEnvelope Event) work, CancellationToken ct)
    {
        if (work.Event.Detail is ScheduledEvent) return await SweepAsync(work.Item, work.Event, ct);
        if (LostWork?.Invoke(work.Event, Clock) == true) return LostWorkRecord(work.Item.Input, work.Event, Clock);
        var reaction = await _reactor.HandleDueAsync(work.Event, Clock, ct);
        Schedule(work.Item, work.Event, reaction);
        return ToRecord(work.Item.Input, "timer", work.Event, reaction);
    }

    /// <summary>
    /// Lossy delivery, for soaks (issue 15): an input this answers true for happens in the embedded cluster (as what ECS
    /// did) but reaches no handler, as an event EventBridge dropped (<see cref="ReasonCodes.EngineUndelivered"/>).
    /// </summary>
    public Predicate<EventEnvelope>? Undelivered { get; init; }

    /// <summary>The record of an input <see cref="Undelivered"/> kept from every handler (both replays write it).</summary>
    public static ReplayRecord UndeliveredRecord(string input, EventEnvelope e, DateTimeOffset time) => NotDelivered(input, "event", e, time,
        "not delivered: it happened in the embedded cluster, as in ECS, but no handler heard of it, as an event EventBridge dropped");

    /// <summary>The record of an input or of deferred work that reached no handler (<see cref="ReasonCodes.EngineUndelivered"/>).</summary>
    private static ReplayRecord NotDelivered(string input, string trigger, EventEnvelope e, DateTimeOffset time, string reason) => new()
    {
        Input = input, Trigger = trigger, EventId = e.Id, Time = time, DetailType = e.DetailType, Outcome = Outcome.Ignored,
        Code = ReasonCodes.EngineUndelivered, Summary = Describe.Event(e), Event = e, Reason = reason,
    };

    /// <summary>
    /// A lossy delay queue, for soaks (issue 15): deferred work this answers true for (its event, and its due time) is lost
    /// when it comes due, as a delay queue message dead-lettered: its timer decides nothing and says so
    /// (<see cref="ReasonCodes.EngineUndelivered"/>). Only the sweep can find what it would have done.
    /// </summary>
    public Func<EventEnvelope, DateTimeOffset, bool>? LostWork { get; init; }

    /// <summary>The record of deferred work <see cref="LostWork"/> lost (both replays write it).</summary>
    public static ReplayRecord LostWorkRecord(string input, EventEnvelope e, DateTimeOffset time) => NotDelivered(input, "timer", e, time,
        "not delivered: the delay queue lost this deferred work (its message dead-lettered), so nothing decided it when it came due");

    /// <summary>The <c>input</c> and <c>trigger</c> of the reconciler's sweeps and of what they found.</summary>
    public const string SweepInput = "sweep";

    /// <summary>
    /// The reconciler's sweep, on the simulated clock every <c>reconcile.intervalSeconds</c> from the first input's time up
    /// to the end of periodic work (the last input's time, or <c>--until</c>). A sweep that finds nothing to decide prints
    /// nothing (it is counted in <see cref="Sweeps"/>); one that does prints its own record, then one per found event.
    /// </summary>
    private async ValueTask<ReplayRecord?> SweepAsync(InputItem item, EventEnvelope e, CancellationToken ct)
    {
        Sweeps++;
        ScheduleSweep(Clock + _reactor.Policy.Reconcile.Interval);
        var reaction = await _reactor.HandleEventAsync(e, Clock, ct);
        foreach (var found in reaction.Found)
        {
            Schedule(item, found.Event!, found);
            More.Enqueue(ToRecord(SweepInput, SweepInput, found.Event!, found));
        }
        if (reaction.Found.Count == 0 && reaction.Outcome == Outcome.Ignored) return null;
        return ToRecord(SweepInput, SweepInput, e, reaction);
    }

    /// <summary>How many sweeps the replay ran (those that found nothing print no record).</summary>
    public int Sweeps { get; private set; }

    private bool _sweepsStarted;

    private void ScheduleSweep(DateTimeOffset due)
    {
        var e = SweepEvent(due);
        Schedule((new InputItem(SweepInput, e, null, due), e), due, periodic: true);
    }

    /// <summary>The schedule's event of the sweep due at <paramref name="due"/>, as both replays send it (one id per due time).</summary>
    public static EventEnvelope SweepEvent(DateTimeOffset due) => new()
    {
        Version = "0", Id = $"sweep-{due.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}", DetailType = DetailTypes.ScheduledEvent,
        Source = DetailTypes.EventsSource, Time = due, Detail = new ScheduledEvent([]),
    };

    protected override bool CountsAsLeftOver((InputItem Item, EventEnvelope Event) timer) => timer.Event.Detail is not ScheduledEvent;

    private void Schedule(InputItem item, EventEnvelope e, Reaction reaction)
    {
        if (reaction.Outcome == Outcome.Deferred && reaction.DueAt is { } due) Schedule((item, e), due);
        if (reaction.FollowUpAt is { } follow) Schedule((item, e), follow, reaction.Periodic);
    }

    private ReplayRecord ToRecord(string input, string trigger, EventEnvelope e, Reaction r) => new()
    {
        Input = input,
        Trigger = trigger,
        EventId = e.Id,
        Time = Clock,
        DetailType = e.DetailType,
        Handler = r.Handler,
        Outcome = r.Outcome,
        Code = r.Code,
        Reason = r.Reason,
        Actions = r.Actions,
        DueAt = r.DueAt,
        Summary = Describe.Event(e),
        Event = e,
    };
}
