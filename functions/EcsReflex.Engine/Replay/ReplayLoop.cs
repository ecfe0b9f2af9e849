using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Engine.Acting;
using EcsReflex.Core.Events;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;

namespace EcsReflex.Engine.Replay;

/// <summary>
/// The order of a replay, shared by the in-process replay (<see cref="ReplayEngine"/>) and the replay
/// through the real bootstrap (<c>LambdaReplay</c>), so that both produce the same records:
/// <list type="bullet">
/// <item>before an input, everything pending that is due by its time fires: the next timer or the next
/// event the embedded cluster emits, whichever is earlier (the emitted event first on a tie);</item>
/// <item>after the last input, pending work fires until a whole round of deferrals finds the embedded
/// cluster unchanged (retries waiting for capacity it will never get would wait forever), which ends the
/// replay with a record that says so;</item>
/// <item>at most <see cref="MaxTimerFirings"/> firings, so that a misbehaving policy cannot replay forever;</item>
/// <item>periodic work (a sustained alarm's re-decisions) runs only up to <see cref="Until"/> (default: the last input's
/// time): what was due later is not run, and a last record says where it stopped and what it left.</item>
/// </list>
/// Subclasses say how an input, a timer and an emitted event are decided.
/// </summary>
public abstract class ReplayLoop<TInput, TTimer>
{
    /// <summary>Timers, by due time then arrival order; periodic ones marked.</summary>
    protected PriorityQueue<TTimer, (DateTimeOffset Due, long Seq, bool Periodic)> Timers { get; } = new();
    private long _seq;

    /// <summary>Periodic work due after this time is not run (<c>--until</c>); null: the last input's time.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The time periodic work stopped at, once some was left (the record that says so has it too).</summary>
    public DateTimeOffset? PeriodicStoppedAt { get; private set; }

    /// <summary>How many pieces of periodic work were due after <see cref="Until"/> and not run.</summary>
    public int PeriodicNotRun { get; private set; }

    private DateTimeOffset? _lastInputAt;
    private bool _inputsDone;
    private DateTimeOffset? _firstNotRunAt;

    /// <summary>Records a firing or an input produced beyond its own (what a sweep found), yielded right after it.</summary>
    protected Queue<ReplayRecord> More { get; } = new();

    /// <summary>
    /// False for periodic work that is not a sustained alarm's re-decision (the reconciler's sweeps): past the end of the
    /// replay it is dropped without being counted in the last record.
    /// </summary>
    protected virtual bool CountsAsLeftOver(TTimer timer) => true;

    /// <summary>The simulated clock: it follows the events and never goes back.</summary>
    protected DateTimeOffset Clock { get; private set; } = DateTimeOffset.MinValue;

    protected abstract EmbeddedCluster SimulatedCluster { get; }
    protected abstract int TimerFiringLimit { get; }
    protected abstract DateTimeOffset? SortTimeOf(TInput input);
    protected abstract ValueTask<ReplayRecord> ProcessAsync(TInput input, CancellationToken ct);
    /// <summary>Decides the timer at the head of <see cref="Timers"/>, already taken off it, at its due time.</summary>
    protected abstract ValueTask<ReplayRecord?> FireAsync(TTimer timer, CancellationToken ct);
    protected abstract ValueTask<ReplayRecord> ProcessEmittedAsync(EventEnvelope e, CancellationToken ct);
    /// <summary>Tells the clocks of what the subclass drives (the cluster, the store) the new time.</summary>
    protected abstract void OnClockMoved(DateTimeOffset now);

    /// <summary>Moves the clock forward to <paramref name="to"/> (never back).</summary>
    protected void Advance(DateTimeOffset? to)
    {
        if (to is { } t && t > Clock) Clock = t;
        OnClockMoved(Clock);
    }

    /// <summary>Queues <paramref name="timer"/> at <paramref name="due"/>, or now when that is past; <paramref name="periodic"/> for periodic work.</summary>
    protected void Schedule(TTimer timer, DateTimeOffset due, bool periodic = false)
    {
        if (periodic && !CountsAsLeftOver(timer)) _sweepsQueued++;
        Timers.Enqueue(timer, (due > Clock ? due : Clock, _seq++, periodic));
    }

    /// <summary>Queued timers that are not decisions waiting (the reconciler's sweeps): left out of the stall rule's count.</summary>
    private int _sweepsQueued;

    /// <summary>The decisions waiting in <see cref="Timers"/>.</summary>
    private int Waiting => Timers.Count - _sweepsQueued;

    /// <summary>When periodic work stops: <see cref="Until"/>, else the last input's time once every input was read.</summary>
    private DateTimeOffset? PeriodicEnd => Until ?? (_inputsDone ? _lastInputAt : null);

    protected async IAsyncEnumerable<ReplayRecord> LoopAsync(IEnumerable<TInput> inputs, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var fired = 0;
        var limit = TimerFiringLimit;
        foreach (var input in inputs)
        {
            ct.ThrowIfCancellationRequested();
            if (SortTimeOf(input) is { } t)
            {
                while (NextPendingAt() is { } due && due <= t && fired++ < limit)
                    if (await FirePendingAsync(ct) is { } r)
                    {
                        yield return Marked(r);
                        while (More.TryDequeue(out var m)) yield return Marked(m);
                    }
                if (_lastInputAt is not { } last || t > last) _lastInputAt = t;
            }
            yield return Marked(await ProcessAsync(input, ct));
            while (More.TryDequeue(out var m)) yield return Marked(m);
        }
        _inputsDone = true;
        var stalled = 0;
        var generation = SimulatedCluster.Generation;
        while (NextPendingAt() is not null && fired++ < limit)
        {
            ct.ThrowIfCancellationRequested();
            if (await FirePendingAsync(ct) is not { } r) continue;
            yield return Marked(r);
            while (More.TryDequeue(out var m)) yield return Marked(m);
            if (r.Outcome == Outcome.Deferred && SimulatedCluster.Generation == generation) stalled++;
            else stalled = 0;
            generation = SimulatedCluster.Generation;
            if (stalled > Waiting)
            {
                yield return new ReplayRecord
                {
                    Input = "replay", Trigger = "timer", Time = Clock, Outcome = Outcome.Deferred, Code = ReasonCodes.EngineReplayStalled,
                    Reason = $"the replay stops here: {Waiting} deferred decision{(Waiting == 1 ? "" : "s")} still wait, for capacity the embedded cluster will not get: a whole round of retries found it unchanged",
                };
                break;
            }
        }
        if (PeriodicNotRun > 0 && PeriodicEnd is { } end)
        {
            PeriodicStoppedAt = end;
            yield return new ReplayRecord
            {
                Input = "replay", Trigger = "timer", Time = end, Outcome = Outcome.Ignored, Code = ReasonCodes.EngineReplayUntil,
                Reason = $"periodic work stops at {DeferredWorkJson.FormatTime(end)} ({(Until is null ? "the last input's time; --until TIME sets another" : "--until")}): "
                         + $"{PeriodicNotRun} re-decision{(PeriodicNotRun == 1 ? "" : "s")} of sustained alarms due after it not run, the first due at {DeferredWorkJson.FormatTime(_firstNotRunAt!.Value)}",
            };
        }
    }

    /// <summary>
    /// Marks the task starts the embedded cluster could not simulate placement for (<see cref="ActionResult.Unplaced"/>),
    /// in both replays alike: the record is about the cluster's state right after the action.
    /// </summary>
    private ReplayRecord Marked(ReplayRecord r)
    {
        List<ActionResult>? marked = null;
        for (var i = 0; i < r.Actions.Count; i++)
        {
            var a = r.Actions[i];
            if (a.Action.Request is RunTaskRequest && a.State == ActionStatus.Done && a.Detail is { } d
                && d.StartsWith(StartedPrefix, StringComparison.Ordinal) && SimulatedCluster.IsUnplaced(d[StartedPrefix.Length..]))
            {
                marked ??= [.. r.Actions];
                marked[i] = a with { Placement = ActionResult.Unplaced };
            }
        }
        return marked is null ? r : r with { Actions = marked };
    }

    /// <summary>How the actuator's detail of a RunTask that started a task begins (then the task id).</summary>
    private const string StartedPrefix = "started ";

    /// <summary>When the next timer or the next event the embedded cluster emits is due.</summary>
    private DateTimeOffset? NextPendingAt()
    {
        DateTimeOffset? timer = Timers.TryPeek(out _, out var due) ? due.Item1 : null;
        var emitted = SimulatedCluster.NextEventAt;
        if (timer is null) return emitted;
        if (emitted is null) return timer;
        return emitted <= timer ? emitted : timer;
    }

    /// <summary>Fires the earlier of the next timer and the next emitted event (emitted first on a tie).</summary>
    private async ValueTask<ReplayRecord?> FirePendingAsync(CancellationToken ct)
    {
        DateTimeOffset? timer = Timers.TryPeek(out _, out var due) ? due.Item1 : null;
        if (SimulatedCluster.NextEventAt is { } emitted && (timer is null || emitted <= timer))
        {
            Advance(emitted);
            return SimulatedCluster.TakeNextEvent() is { } e ? await ProcessEmittedAsync(e, ct) : null;
        }
        Timers.TryDequeue(out var next, out var at);
        if (at.Periodic && !CountsAsLeftOver(next!)) _sweepsQueued--;
        if (at.Periodic && PeriodicEnd is { } end && at.Due > end)
        {
            // Not run, and nothing it would have scheduled either: the clock does not move for it.
            if (!CountsAsLeftOver(next!)) return null;
            PeriodicNotRun++;
            _firstNotRunAt ??= at.Due;
            return null;
        }
        Advance(at.Due);
        return await FireAsync(next!, ct);
    }
}
