using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Engine;

/// <summary>Which handler an event goes to (the names are <see cref="HandlerNames"/>): the one reflex that takes it (<see cref="Reflexes"/>).</summary>
public static class Handlers
{
    /// <summary>The handler an event belongs to, or null when EcsReflex has none for it.</summary>
    public static string? For(EventDetail detail) => Reflexes.For(detail)?.Name;
}

/// <summary>What became of one event or one fired timer: the record the replay prints and the Lambda host logs.</summary>
public sealed record Reaction
{
    public required string? Handler { get; init; }
    public required Outcome Outcome { get; init; }
    /// <summary>The code of <see cref="Reason"/> (<see cref="ReasonCodes"/>): stable, the sentence is not.</summary>
    public required string Code { get; init; }
    public required string Reason { get; init; }
    public IReadOnlyList<ActionResult> Actions { get; init; } = [];
    public DateTimeOffset? DueAt { get; init; }
    public EventEnvelope? Event { get; init; }
    /// <summary>
    /// When to decide again on the same event: although this reaction acted (a drain's stopOriginalAfterSeconds), or
    /// whatever it did, a sustained alarm's next evaluation (<see cref="Periodic"/>).
    /// </summary>
    public DateTimeOffset? FollowUpAt { get; init; }
    /// <summary>True when <see cref="FollowUpAt"/> is periodic work (<see cref="Decision.RedecideAt"/>): the replay runs it only up to its <c>--until</c> time.</summary>
    public bool Periodic { get; init; }
    /// <summary>The events a sweep found (<see cref="Decision.Found"/>), as decided: each one's own reaction.</summary>
    public IReadOnlyList<Reaction> Found { get; init; } = [];
    /// <summary>What the decision found, before the engine decided it (<see cref="Reactor"/> turns it into <see cref="Found"/>).</summary>
    internal IReadOnlyList<EventEnvelope> FoundEvents { get; init; } = [];
    /// <summary>Deferred work the decision found lost (<see cref="Decision.FoundDue"/>), before the engine decided it.</summary>
    internal IReadOnlyList<FoundDue> FoundDueWork { get; init; } = [];
}

/// <summary>
/// The pipeline every reflex shares: pick the one reflex that takes the event (<see cref="Reflexes.For"/>), claim the
/// event (<see cref="EventClaims"/>), let the reflex observe and decide (<see cref="IReflex.DecideAsync"/>), let the
/// actuator carry the decision out and commit its writes (the one committer), then complete the claim (the event is
/// processed) or release it (a retry decides again). The replay and the Lambda host both call it; neither knows its
/// inner steps, and no reflex has a step of its own.
/// </summary>
/// <param name="reflexes">The reflexes to route to: <see cref="Reflexes.All"/> unless a test brings its own.</param>
public sealed class Reactor(ReflexPolicy policy, IStateStore store, IClusterObserver observer, Actuator actuator,
    IReadOnlyList<IReflex>? reflexes = null)
{
    public static readonly TimeSpan DuplicateMemory = ClaimRules.ProcessedExpiry;

    public ReflexPolicy Policy => policy;

    /// <summary>How many times a reflex observes and decides again after losing what its decision claims before acting.</summary>
    public const int MaxClaims = 8;

    private readonly EventClaims _claims = new(store);
    private readonly ReflexContext _context = new(policy, store, observer);
    private readonly IReadOnlyList<IReflex> _reflexes = reflexes ?? Reflexes.All;

    /// <summary>The one reflex of <see cref="_reflexes"/> that takes <paramref name="detail"/>, or null.</summary>
    private IReflex? ReflexFor(EventDetail detail)
    {
        foreach (var reflex in _reflexes)
            if (reflex.Takes(detail)) return reflex;
        return null;
    }

    /// <summary>
    /// The deduplication key of an event: what identifies the same change across event ids (a task or container instance
    /// version, an alarm's transition time), or the event id when nothing does. One key, claimed and completed with one
    /// write each: a second delivery of the same event and the same change under another id both find it, and the
    /// processed record's token names the event that processed it (<see cref="ClaimRecord.EventId"/>), which tells them apart.
    /// </summary>
    public static IReadOnlyList<string> DedupKeys(EventEnvelope e) => e.Detail switch
    {
        TaskStateChange t when t.Version is { } v => [$"task#{t.TaskArn}#{v}"],
        ContainerInstanceStateChange i when i.Version is { } v => [$"instance#{i.ContainerInstanceArn}#{v}"],
        AlarmStateChange a when a.State.Timestamp is { } ts => [$"alarm#{a.AlarmArn ?? a.AlarmName}#{ts.UtcTicks}"],
        _ => [$"event#{e.Id}"],
    };

    /// <summary>Handles one delivered event.</summary>
    /// <param name="handOff">
    /// Called with the decided reaction before the event is remembered as processed (the Lambda host queues
    /// deferred work and dead-letters rejected events here). When it throws, the claim is released, so the
    /// event's retry decides again and nothing handed on is lost.
    /// </param>
    /// <param name="claimFor">
    /// How long the event's claim lasts while this reaction runs (<see cref="ClaimRules.LeaseFor"/> of the time the
    /// invocation has left); <see cref="ClaimRules.DefaultLease"/> when null.
    /// </param>
    public async ValueTask<Reaction> HandleEventAsync(EventEnvelope e, DateTimeOffset now, CancellationToken ct,
        Func<Reaction, CancellationToken, Task>? handOff = null, TimeSpan? claimFor = null)
    {
        var reflex = ReflexFor(e.Detail);
        if (reflex is null)
            return new Reaction
            {
                Handler = null, Outcome = Outcome.Ignored, Event = e, Code = ReasonCodes.EngineNoHandler,
                Reason = $"no handler for {e.DetailType} (source {e.Source})",
            };

        var handler = reflex.Name;
        // What the event settles on its own costs nothing: no claim, no read, no write (its reaction line says it).
        if (reflex.SettledByTheEvent(e, Policy, now) is { Outcome: Outcome.Ignored } settled)
            return new Reaction { Handler = handler, Outcome = settled.Outcome, Code = settled.Code, Reason = settled.Reason, Event = e };
        var input = new ReflexInput(e, now);
        var (claimed, early) = await ClaimDecidingAsync(reflex, input, DedupKeys(e), claimFor, ct);
        if (claimed.Verdict != ClaimVerdict.Claimed)
        {
            var sameEvent = claimed.Key!.StartsWith("event#", StringComparison.Ordinal) || claimed.By == e.Id;
            return claimed.Verdict == ClaimVerdict.Processed
                ? new Reaction
                {
                    Handler = handler, Outcome = Outcome.Ignored, Event = e,
                    Code = sameEvent ? ReasonCodes.EngineDuplicate : ReasonCodes.EngineDuplicateChange,
                    Reason = sameEvent
                        ? $"duplicate: event {e.Id} was already processed"
                        : $"duplicate: the same change ({Describe(e)}) was already processed under another event id",
                }
                : InProgress(e, handler, claimed, sameEvent ? $"event {e.Id}" : $"the same change ({Describe(e)}) under another event id");
        }
        var reaction = await ActUnderClaimAsync(claimed.Claim!, now, ct, claim => ReactAsync(reflex, input, ct, claim, early), handOff);
        return reaction.FoundEvents.Count > 0 || reaction.FoundDueWork.Count > 0
            ? await DecideFoundAsync(reaction, reaction.FoundEvents, reaction.FoundDueWork, now, ct, handOff, claimFor)
            : reaction;
    }

    /// <summary>
    /// Decides what a sweep found, each as the event that did not arrive, under its deduplication keys: one whose change
    /// was already processed (its event came) is left out and counted; the others' reactions say the sweep found them.
    /// </summary>
    private async ValueTask<Reaction> DecideFoundAsync(Reaction sweep, IReadOnlyList<EventEnvelope> found, IReadOnlyList<FoundDue> foundDue,
        DateTimeOffset now, CancellationToken ct, Func<Reaction, CancellationToken, Task>? handOff, TimeSpan? claimFor)
    {
        var decided = new List<Reaction>();
        var covered = 0;
        foreach (var e in found)
        {
            if (await AlreadyProcessedAsync(e, ct)) { covered++; continue; }
            var r = await HandleEventAsync(e, now, ct, handOff, claimFor);
            var how = e.Detail is DeploymentStateChange ? "found by the sweep's placement check: " : $"found by the sweep (no {e.DetailType} of it was processed): ";
            decided.Add(r with { Reason = how + r.Reason });
        }
        // Lost deferred work is decided as that work come due, at its due time (the scaler's record tells a stale one).
        foreach (var (e, due) in foundDue)
        {
            var r = await HandleDueAsync(e, now, ct, due, handOff, claimFor);
            decided.Add(r with { Reason = $"re-armed by the sweep (the re-decision due at {due.UtcDateTime:HH:mm:ss} did not come): {r.Reason}" });
        }
        // A found change whose decision is to do nothing (the guard had already seen that instance version, the lineage
        // was already relaunched) is counted, not reported on its own: a sweep every few minutes would repeat it forever.
        var unchanged = decided.Count(r => r.Outcome == Outcome.Ignored);
        var said = found.Count + foundDue.Count == 0 ? "" : $"; of the {found.Count + foundDue.Count} found, {covered} already decided from their events, {decided.Count} decided now"
                                            + (unchanged == 0 ? "" : $" ({unchanged} of them changed nothing)");
        return sweep with { Reason = sweep.Reason + said, Found = [.. decided.Where(r => r.Outcome != Outcome.Ignored)], FoundEvents = [], FoundDueWork = [] };
    }

    /// <summary>True when the deduplication key of <paramref name="e"/> is processed: the same change came as an event (or was found before).</summary>
    private async ValueTask<bool> AlreadyProcessedAsync(EventEnvelope e, CancellationToken ct)
    {
        foreach (var key in DedupKeys(e))
            if (await store.GetClaimAsync(key, ct) is not { Status: ClaimStatus.Completed }) return false;
        return true;
    }

    /// <summary>
    /// Handles deferred work that came due: the same decision path, at the new time, under a claim of the work
    /// (its event and its due time, <see cref="ClaimRules.DueKey"/>) so that a second delivery of the same work
    /// neither acts nor takes another rate-limit slot.
    /// </summary>
    /// <param name="dueAt">When the work was due (the delay queue message says); <paramref name="now"/> when null (the replay fires timers at their due time).</param>
    public async ValueTask<Reaction> HandleDueAsync(EventEnvelope e, DateTimeOffset now, CancellationToken ct,
        DateTimeOffset? dueAt = null, Func<Reaction, CancellationToken, Task>? handOff = null, TimeSpan? claimFor = null)
    {
        var reflex = ReflexFor(e.Detail);
        if (reflex is null)
            return new Reaction
            {
                Handler = null, Outcome = Outcome.Ignored, Event = e, Code = ReasonCodes.EngineNoHandler,
                Reason = $"no handler for {e.DetailType} (source {e.Source})",
            };
        var handler = reflex.Name;
        var due = dueAt ?? now;
        var input = new ReflexInput(e, now, Due: true, DueAt: due);
        var (claimed, early) = await ClaimDecidingAsync(reflex, input, [ClaimRules.DueKey(e.Id, due)], claimFor, ct);
        return claimed.Verdict switch
        {
            ClaimVerdict.Processed => new Reaction
            {
                Handler = handler, Outcome = Outcome.Ignored, Event = e, Code = ReasonCodes.EngineDuplicateDelivery,
                Reason = $"duplicate delivery: the work of event {e.Id} due at {DeferredWorkJson.FormatTime(due)} was already decided",
            },
            ClaimVerdict.InProgress => InProgress(e, handler, claimed, $"the work of event {e.Id} due at {DeferredWorkJson.FormatTime(due)}"),
            _ => await ActUnderClaimAsync(claimed.Claim!, now, ct, claim => ReactAsync(reflex, input, ct, claim, early), handOff),
        };
    }

    private static Reaction InProgress(EventEnvelope e, string handler, ClaimResult claimed, string what) => new()
    {
        Handler = handler, Outcome = Outcome.Failed, Event = e, Code = ReasonCodes.EngineClaimInProgress,
        Reason = $"in progress: {what} is being handled by another delivery"
                 + (claimed.HeldUntil is { } until ? $" (claimed until {DeferredWorkJson.FormatTime(until)})" : "")
                 + "; failed so that it is delivered again",
    };

    /// <summary>
    /// Decides and acts while holding <paramref name="claim"/>, hands the reaction on, then completes the claim
    /// (the keys are processed) or, when the reaction failed or anything threw, releases it (a retry decides again).
    /// </summary>
    /// <remarks>
    /// A reaction that leaves nothing to hand on has its claim completed in the request that commits its writes (one round
    /// trip less); one that does (<see cref="LeavesWork"/>) is completed only once the work is handed on, so that a failure
    /// to queue it releases the claim and the retry decides again. Either way the processed record is written by the
    /// delivery that completed the reaction; a claim that lapsed meanwhile (the invocation overran its lease) is taken over
    /// by that write, which is then true: the change was processed.
    /// </remarks>
    private async ValueTask<Reaction> ActUnderClaimAsync(HeldClaim claim, DateTimeOffset now, CancellationToken ct,
        Func<HeldClaim, ValueTask<(Reaction Reaction, bool Completed)>> act, Func<Reaction, CancellationToken, Task>? handOff)
    {
        Reaction reaction;
        bool completed;
        try
        {
            (reaction, completed) = await act(claim);
            if (handOff is not null) await handOff(reaction, ct);
        }
        catch
        {
            await _claims.ReleaseAsync(claim, CancellationToken.None);
            throw;
        }
        // Not cut short by the deadline's token: what was done must be remembered (the margin leaves time for it).
        if (reaction.Outcome == Outcome.Failed) await _claims.ReleaseAsync(claim, CancellationToken.None);
        else if (!completed) await _claims.CompleteAsync(claim, now, CancellationToken.None);
        return reaction;
    }

    /// <summary>
    /// True when a host has something to hand on after <paramref name="r"/>: deferred work or a follow-up for the delay
    /// queue, a rejected event for the dead-letter queue (what the Lambda handlers' hand-off sends).
    /// </summary>
    public static bool LeavesWork(Reaction r) =>
        r.Outcome == Outcome.Deferred && r.DueAt is not null || r.FollowUpAt is not null || r.Outcome == Outcome.Rejected;

    private static string Describe(EventEnvelope e) => e.Detail switch
    {
        TaskStateChange t => $"task {t.TaskId} version {t.Version}",
        ContainerInstanceStateChange i => $"container instance {Arns.ContainerInstanceId(i.ContainerInstanceArn)} version {i.Version}",
        AlarmStateChange a => $"alarm {a.AlarmName} {a.State.Value} at {a.State.Timestamp:O}",
        _ => e.Id,
    };

    /// <summary>
    /// The few lines every reflex goes through: observe and decide, then carry the decision out. When what the decision
    /// claims before acting was claimed first by another invocation, nothing was done: observe and decide again.
    /// </summary>
    private async ValueTask<(Reaction, bool Completed)> ReactAsync(IReflex reflex, ReflexInput input, CancellationToken ct, HeldClaim claim,
        Task<Decision>? early = null)
    {
        var e = input.Event;
        for (var attempt = 1; attempt <= MaxClaims; attempt++)
        {
            // The first decision may have been made beside the claim (DecideBesideTheClaim); a lost claim decides again.
            var decision = attempt == 1 && early is not null ? await early : await reflex.DecideAsync(_context, input, ct);
            var done = await actuator.ExecuteAsync(decision, e.Id, reflex.Name, input.Now, ct,
                d => LeavesWork(decision, d) ? [] : Processed(claim, input.Now));
            if (done.ClaimLost) continue;
            return (ReactionOf(reflex, e, decision, done), done.Completed);
        }
        var lost = await actuator.ExecuteAsync(reflex.ClaimsLost(input, MaxClaims), e.Id, reflex.Name, input.Now, ct);
        return (Reaction(reflex, e, lost, null), false);
    }

    /// <summary>
    /// Whether the reaction <paramref name="done"/> makes of <paramref name="decision"/> (<see cref="ReactionOf"/>) fails or
    /// <see cref="LeavesWork(Reaction)"/>: the same rules, without building it.
    /// </summary>
    private static bool LeavesWork(Decision decision, Actuation done) =>
        done.Outcome is Outcome.Failed or Outcome.Rejected
        || done.Outcome == Outcome.Deferred && done.DueAt is not null
        || decision.RedecideAt is not null
        || done.Outcome == Outcome.Acted && decision.FollowUpAt is not null;

    /// <summary>
    /// Claims <paramref name="keys"/> for <paramref name="input"/>'s event; for a reflex that <see cref="IReflex.ObservesBesideTheClaim"/>,
    /// its decision is made meanwhile and returned when the claim is held (the first attempt's), dropped otherwise.
    /// </summary>
    private async ValueTask<(ClaimResult Claimed, Task<Decision>? Early)> ClaimDecidingAsync(IReflex reflex, ReflexInput input,
        IReadOnlyList<string> keys, TimeSpan? claimFor, CancellationToken ct)
    {
        var (early, speculation) = DecideBesideTheClaim(reflex, input, ct);
        ClaimResult claimed;
        try
        {
            claimed = await _claims.ClaimAsync(keys, input.Now, claimFor ?? ClaimRules.DefaultLease, ct, input.Event.Id);
        }
        catch
        {
            await DropAsync(early, speculation);
            throw;
        }
        if (claimed.Verdict != ClaimVerdict.Claimed)
        {
            await DropAsync(early, speculation);
            return (claimed, null);
        }
        Keep(early, speculation);
        return (claimed, early);
    }

    /// <summary>
    /// For a reflex that <see cref="IReflex.ObservesBesideTheClaim"/>: its observation and decision started now, while the
    /// event is claimed, under a token cancelled if the claim is refused (its reads then stop where they are). Null otherwise.
    /// </summary>
    private (Task<Decision>? Early, CancellationTokenSource? Speculation) DecideBesideTheClaim(IReflex reflex, ReflexInput input, CancellationToken ct)
    {
        if (!reflex.ObservesBesideTheClaim) return (null, null);
        var speculation = CancellationTokenSource.CreateLinkedTokenSource(ct);
        return (reflex.DecideAsync(_context, input, speculation.Token).AsTask(), speculation);
    }

    /// <summary>The claim is held: the decision made beside it is the first attempt's; its token source goes once it is done.</summary>
    private static void Keep(Task<Decision>? early, CancellationTokenSource? speculation)
    {
        if (early is null) return;
        if (early.IsCompleted) speculation!.Dispose();
        else early.ContinueWith((_, s) => ((CancellationTokenSource)s!).Dispose(), speculation, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A decision made beside a claim that was refused (or threw): stopped, awaited, its outcome ignored.</summary>
    private static async ValueTask DropAsync(Task<Decision>? early, CancellationTokenSource? speculation)
    {
        if (early is null) return;
        speculation!.Cancel();
        try
        {
            await early;
        }
        catch (Exception)
        {
            // Not this delivery's to report: it acts on nothing (a duplicate, or another delivery's claim).
        }
        finally
        {
            speculation.Dispose();
        }
    }

    /// <summary>The reaction <paramref name="done"/> makes of <paramref name="decision"/>.</summary>
    private static Reaction ReactionOf(IReflex reflex, EventEnvelope e, Decision decision, Actuation done) =>
        // A failed reaction is retried, and the retry decides again: it schedules nothing.
        done.Outcome != Outcome.Failed && decision.RedecideAt is { } again
            ? Reaction(reflex, e, done, again, periodic: true)
            : Reaction(reflex, e, done, done.Outcome == Outcome.Acted ? decision.FollowUpAt : null, found: decision.Found, foundDue: decision.FoundDue);

    /// <summary>The processed records that complete <paramref name="claim"/> (<see cref="EventClaims.CompleteAsync"/> writes the same, on its condition).</summary>
    private static ClaimRecord[] Processed(HeldClaim claim, DateTimeOffset now)
    {
        var records = new ClaimRecord[claim.Keys.Count];
        for (var k = 0; k < records.Length; k++)
            records[k] = EventClaims.Processed(claim, k, now);
        return records;
    }

    private static Reaction Reaction(IReflex reflex, EventEnvelope e, Actuation done, DateTimeOffset? followUpAt, bool periodic = false,
        IReadOnlyList<EventEnvelope>? found = null, IReadOnlyList<FoundDue>? foundDue = null) => new()
    {
        Handler = reflex.Name, Outcome = done.Outcome, Code = done.Code, Reason = done.Reason, Actions = done.Results,
        DueAt = done.DueAt, FollowUpAt = followUpAt, Periodic = periodic, Event = e, FoundEvents = found ?? [], FoundDueWork = foundDue ?? [],
    };
}
