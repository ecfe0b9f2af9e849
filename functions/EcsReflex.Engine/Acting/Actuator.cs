using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Acting;

/// <summary>What came of one action. The names (<see cref="ActionStatuses.Name"/>) are pinned: they are printed in the replay and the logs.</summary>
public enum ActionStatus
{
    /// <summary><c>done</c>: sent and accepted.</summary>
    Done,
    /// <summary><c>dry-run</c>: not sent (dry run).</summary>
    DryRun,
    /// <summary><c>recorded</c>: EcsReflex's own action (a give-up), nothing to send.</summary>
    Recorded,
    /// <summary><c>error</c>: the service refused the request; retrying cannot help.</summary>
    Error,
    /// <summary><c>capacity</c>: RunTask could not be placed for lack of capacity; retried later.</summary>
    Capacity,
    /// <summary><c>rejected-by-ecs</c>: RunTask answered with a failure that more capacity would not fix.</summary>
    RejectedByEcs,
}

public static class ActionStatuses
{
    public static string Name(this ActionStatus s) => s switch
    {
        ActionStatus.Done => "done",
        ActionStatus.DryRun => "dry-run",
        ActionStatus.Recorded => "recorded",
        ActionStatus.Error => "error",
        ActionStatus.Capacity => "capacity",
        _ => "rejected-by-ecs",
    };

    /// <summary>The status of a printed name (the Lambda replay reads the bootstrap's log lines back).</summary>
    public static ActionStatus Parse(string name) => name switch
    {
        "done" => ActionStatus.Done,
        "dry-run" => ActionStatus.DryRun,
        "recorded" => ActionStatus.Recorded,
        "error" => ActionStatus.Error,
        "capacity" => ActionStatus.Capacity,
        "rejected-by-ecs" => ActionStatus.RejectedByEcs,
        _ => throw new FormatException($"unknown action status '{name}'"),
    };
}

/// <summary>One action as it was carried out (or not): the exact request and what came of it.</summary>
public sealed record ActionResult(ReflexAction Action, ActionStatus State, string? Detail)
{
    /// <summary>The printed name of <see cref="State"/> (<c>done</c>, <c>dry-run</c>…): for output only, compare <see cref="State"/>.</summary>
    public string Status => State.Name();

    /// <summary>Sent and accepted (or, in dry-run, recorded).</summary>
    public bool Done => State is ActionStatus.Done or ActionStatus.DryRun or ActionStatus.Recorded;

    /// <summary>
    /// Where the started task went, when the replay has something to say about it: <see cref="Unplaced"/> when the
    /// embedded cluster started it on no container instance because it has none to simulate placement on. Null
    /// otherwise (placed, Fargate, a live account). The replay sets it; the actuator never does.
    /// </summary>
    public string? Placement { get; init; }

    /// <summary><see cref="Placement"/> of a task the embedded cluster started without simulating placement.</summary>
    public const string Unplaced = "unplaced";
}

/// <summary>The outcome of carrying out a decision, with the code of its reason (<see cref="ReasonCodes"/>).</summary>
public sealed record Actuation(Outcome Outcome, string Code, string Reason, IReadOnlyList<ActionResult> Results, DateTimeOffset? DueAt)
{
    /// <summary>
    /// What the decision claims before acting (<see cref="CommitPoint.Claim"/>) was claimed first by another invocation:
    /// nothing was done, audited or written. Observe and decide again.
    /// </summary>
    public bool ClaimLost { get; init; }

    /// <summary>The event's claim was completed in the same request as the decision's writes (see <see cref="Actuator.ExecuteAsync"/>).</summary>
    public bool Completed { get; init; }

    internal static readonly Actuation Lost = new(Outcome.Failed, ReasonCodes.EngineClaimsLost, "claim lost", [], null) { ClaimLost = true };
}

/// <summary>
/// The one committer. Every decision of every reflex is carried out here, in order: its claims (conditional writes, before
/// anything is done), its actions (dry run, the per-cluster relaunch rate limit shared through the state store, the
/// audit trail), then the writes it declared, each at its <see cref="CommitPoint"/>. No other code writes state;
/// reflexes never branch on any of this.
/// </summary>
/// <param name="audit">
/// Append an audit entry for every outcome (the default). The in-process replay turns it off when it owns the
/// store: its records already carry every action, with the exact request, and every reason, and serialising each
/// request a second time for a trail nobody reads was the most expensive step of a replay.
/// </param>
public sealed class Actuator(IEcsApi ecs, IStateStore store, ReflexPolicy policy, bool dryRun = false, bool audit = true)
{
    public bool DryRun => dryRun;

    /// <summary>How long to wait before retrying a RunTask that ECS could not place for lack of capacity.</summary>
    public static readonly TimeSpan CapacityRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>How many times an undo re-reads a record that changed under it before giving up (a newer change then stands).</summary>
    private const int MaxUndoAttempts = 8;

    /// <param name="completing">
    /// Given what was done, the processed records of the event's claim to write with the decision's own writes, in the
    /// same request (the reaction then needs no write of its own to complete it: <see cref="Actuation.Completed"/>), or
    /// none when the claim must wait (a reaction that leaves work to hand on, or failed).
    /// </param>
    public async ValueTask<Actuation> ExecuteAsync(Decision decision, string eventId, string handler, DateTimeOffset now, CancellationToken ct,
        Func<Actuation, IReadOnlyList<ClaimRecord>>? completing = null)
    {
        foreach (var write in decision.Writes)
            if (write.When == CommitPoint.Claim && !await ClaimAsync(write, ct))
                return Actuation.Lost;
        // No list at all when nothing is audited (the in-process replay): a decision is the replay's hot path.
        var audits = audit ? new List<AuditEntry>(decision.Actions.Count + 1) : null;
        Actuation done;
        try
        {
            done = await ActAsync(decision, eventId, handler, now, audits, ct);
        }
        catch
        {
            // Nothing more is committed for a reaction that threw, except its audit trail and the undo of what its claims recorded.
            await CommitAsync(decision, null, audits, [], CancellationToken.None);
            throw;
        }
        var processed = completing?.Invoke(done) ?? [];
        await CommitAsync(decision, done, audits, processed, ct);
        return processed.Count > 0 ? done with { Completed = true } : done;
    }

    /// <summary>The actions, in order: RunTask first in a decision, so a rate limit or a refusal leaves nothing half-done.</summary>
    private async ValueTask<Actuation> ActAsync(Decision decision, string eventId, string handler, DateTimeOffset now, List<AuditEntry>? audits,
        CancellationToken ct)
    {
        if (decision.Outcome != Outcome.Acted || decision.Actions.Count == 0)
        {
            Audit(audits, now, eventId, handler, decision.Outcome.Name(), decision.Reason, null, null, null);
            return new Actuation(decision.Outcome, decision.Code, decision.Reason, [], decision.DueAt);
        }

        var results = new List<ActionResult>(decision.Actions.Count);
        var actions = decision.Actions;
        for (var i = 0; i < actions.Count;)
        {
            ct.ThrowIfCancellationRequested();
            // A run of RunTasks in one cluster (a drain's k replacements; a relaunch is a run of one): their rate-limit slots
            // are counted in one increment, and those within the limit are sent together.
            var end = i + 1;
            var run = actions[i].Request as RunTaskRequest;
            if (run is not null)
                while (end < actions.Count && actions[end].Request is RunTaskRequest next && next.Cluster == run.Cluster) end++;
            var allowed = end - i;
            DeferredBy? held = null;
            if (run is not null)
            {
                var cluster = policy.FindCluster(run.Cluster);
                var limit = cluster?.Limits.MaxRelaunchesPerMinute ?? ClusterLimits.DefaultMaxRelaunchesPerMinute;
                var clusterName = cluster?.Name ?? Arns.ClusterName(run.Cluster);
                var minute = RelaunchSlots.MinuteOf(now);
                var k = end - i;
                var last = await store.TakeRelaunchSlotsAsync(clusterName, minute, k, ct);
                var first = last - k + 1;
                allowed = (int)Math.Clamp(limit - first + 1, 0, k);
                if (allowed < k) held = new DeferredBy(clusterName, minute, first + allowed, limit);
            }

            var sent = await SendAllAsync(actions, i, allowed, ct);
            for (var j = 0; j < sent.Length; j++)
            {
                var action = actions[i + j];
                if (sent[j].Transient is { } ex)
                {
                    // Throttled past the retry budget, server errors, the deadline: audited, then the invocation fails so it is retried.
                    if (!ct.IsCancellationRequested)
                        Audit(audits, now, eventId, handler, "transient-error", decision.Reason, action.Operation, RequestJson(action.Request),
                            $"{ex.ErrorCode}: {ex.ErrorMessage}");
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
                }
                results.Add(sent[j].Result!);
                Audit(audits, now, eventId, handler, sent[j].Result!.Status, decision.Reason, action.Operation, RequestJson(action.Request), sent[j].Result!.Detail);
            }
            // Results after a refused one in the same run were sent too: they are all kept, so that what was done is recorded.
            for (var j = 0; j < sent.Length; j++)
            {
                var result = sent[j].Result!;
                if (result.Done) continue;
                if (result.State == ActionStatus.Capacity)
                    return new Actuation(Outcome.Deferred, ReasonCodes.ActuatorCapacity,
                        $"{decision.Reason}; ECS could not place it ({result.Detail}), retrying at {(now + CapacityRetryDelay):HH:mm:ss}",
                        results, now + CapacityRetryDelay);
                return new Actuation(Outcome.Failed, ReasonCodes.ActuatorActionFailed, $"{decision.Reason}; {actions[i + j].Operation} failed: {result.Detail}", results, null);
            }
            if (held is { } h)
            {
                // Over the limit: deferred to a minute of its own (the n-th of this minute goes (n - 1) / limit minutes
                // on), where it is counted again when it comes due, rather than to the next minute with all the others.
                var action = actions[i + allowed];
                var due = RelaunchSlots.DueMinute(h.Minute, h.N, h.Limit);
                var reason = $"{decision.Reason}; held by the rate limit (the {RelaunchSlots.Ordinal(h.N)} relaunch this minute in {h.Cluster}, over {h.Limit} a minute), deferred to {due:HH:mm:ss}";
                Audit(audits, now, eventId, handler, "deferred", reason, action.Operation, RequestJson(action.Request), "rate-limited");
                // Actions already done stay done: nothing is half-done because RunTask comes first in a decision.
                return new Actuation(Outcome.Deferred, ReasonCodes.ActuatorRateLimit, reason, results, due);
            }
            i = end;
        }

        return new Actuation(Outcome.Acted, decision.Code, decision.Reason, results, null);
    }

    /// <summary>The first relaunch of a run over the rate limit: its number in its cluster's minute.</summary>
    private readonly record struct DeferredBy(string Cluster, DateTimeOffset Minute, long N, int Limit);

    /// <summary>What came of sending one action: its result, or the transient failure that fails the invocation.</summary>
    private readonly record struct Sent(ActionResult? Result, ApiCallException? Transient);

    /// <summary>Actions <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> − 1, sent together; their outcomes in order.</summary>
    private async ValueTask<Sent[]> SendAllAsync(IReadOnlyList<ReflexAction> actions, int from, int count, CancellationToken ct)
    {
        if (count == 0) return [];
        if (count == 1) return [await SendGuardedAsync(actions[from], ct)];
        var sends = new Task<Sent>[count];
        for (var j = 0; j < count; j++) sends[j] = SendGuardedAsync(actions[from + j], ct).AsTask();
        return await Task.WhenAll(sends);
    }

    private async ValueTask<Sent> SendGuardedAsync(ReflexAction action, CancellationToken ct)
    {
        try
        {
            return new Sent(await SendAsync(action, ct), null);
        }
        catch (ApiCallException ex) when (!ex.IsTransient)
        {
            // The service refused the request (bad parameter, access denied...): retrying cannot help. Reported, audited.
            return new Sent(new ActionResult(action, ActionStatus.Error, $"{ex.ErrorCode}: {ex.ErrorMessage}"), null);
        }
        catch (ApiCallException ex)
        {
            return new Sent(null, ex);
        }
    }

    /// <summary>A claim: the write on its condition; false when another writer came first.</summary>
    private ValueTask<bool> ClaimAsync(StateWrite write, CancellationToken ct) => write switch
    {
        ScalingRecordWrite s => store.TryPutScalingRecordAsync(s.Record, s.ExpectedVersion, ct),
        InstanceSeenWrite i => store.TryPutInstanceSeenAsync(i.Record, ct),
        _ => throw new NotSupportedException($"{write.GetType().Name} cannot be a claim: it has no condition"),
    };

    /// <summary>
    /// The declared writes whose commit point <paramref name="done"/> reached (null: the actions threw), the audit trail and
    /// the processed records, all sent together: the unconditional ones in one batch (<see cref="IStateStore.WriteAsync"/>),
    /// each conditional one (its own item) beside it. One round trip, whatever the decision wrote.
    /// </summary>
    private async ValueTask CommitAsync(Decision decision, Actuation? done, List<AuditEntry>? audits, IReadOnlyList<ClaimRecord> processed,
        CancellationToken ct)
    {
        List<LineageRecord>? lineages = null;
        List<DrainMoveRecord>? moves = null;
        List<ServicePlacementRecord>? placements = null;
        List<Task>? conditional = null;
        foreach (var write in decision.Writes)
        {
            if (!Reached(write, done)) continue;
            switch (write)
            {
                case LineageWrite l: (lineages ??= []).Add(l.Record); break;
                case DrainMoveWrite m: (moves ??= []).Add(m.Record); break;
                case ServicePlacementWrite p: (placements ??= []).Add(p.Record); break;
                case InstanceSeenWrite i: (conditional ??= []).Add(store.TryPutInstanceSeenAsync(i.Record, ct).AsTask()); break;
                case ScalingRecordWrite s: (conditional ??= []).Add(store.TryPutScalingRecordAsync(s.Record, s.ExpectedVersion, ct).AsTask()); break;
                case ScalingUndoWrite u: (conditional ??= []).Add(UndoScalingChangeAsync(u, ct).AsTask()); break;
                default: throw new NotSupportedException($"the committer cannot write {write.GetType().Name}");
            }
        }
        var batch = new StateBatch(lineages ?? [], moves ?? [], placements ?? [], (IReadOnlyList<AuditEntry>?)audits ?? [], processed);
        if (conditional is null)
        {
            if (batch.Count > 0) await store.WriteAsync(batch, ct);
            return;
        }
        if (batch.Count > 0) conditional.Add(store.WriteAsync(batch, ct).AsTask());
        await Task.WhenAll(conditional);
    }

    /// <summary>True when <paramref name="write"/>'s commit point was reached by <paramref name="done"/> (null: the actions threw).</summary>
    public static bool Reached(StateWrite write, Actuation? done) => write.When switch
    {
        CommitPoint.Claim => false, // committed before the actions
        CommitPoint.Undo => done is null || !(done.Outcome == Outcome.Acted && done.Results.All(r => r.State == ActionStatus.Done)),
        _ when done is null => false,
        CommitPoint.Always => !(done.Outcome == Outcome.Failed && done.Results.Count == 0),
        CommitPoint.UnlessFailed => done.Outcome != Outcome.Failed,
        CommitPoint.Acted => done.Outcome == Outcome.Acted,
        CommitPoint.AfterAction => write.ActionIndex >= 0 && write.ActionIndex < done.Results.Count && done.Results[write.ActionIndex].Done,
        _ => false,
    };

    /// <summary>
    /// The change was claimed but not made (dry run, or ECS refused it): keep the alarm memory, drop the change (back to
    /// the one before), so cooldowns and the someone-else-is-scaling rule do not count a change that never happened.
    /// </summary>
    private async ValueTask UndoScalingChangeAsync(ScalingUndoWrite undo, CancellationToken ct)
    {
        var (claimed, before) = (undo.Claimed, undo.Before);
        for (var i = 0; i < MaxUndoAttempts; i++)
        {
            var stored = await store.GetScalingRecordAsync(claimed.Cluster, claimed.Service, ct);
            if (stored is null || stored.LastScaledAt != claimed.LastScaledAt || stored.LastAlarm != claimed.LastAlarm) return; // superseded
            var restored = stored with
            {
                LastTarget = before?.LastTarget, LastFrom = before?.LastFrom, LastScaledAt = before?.LastScaledAt,
                LastDirection = before?.LastDirection, LastAlarm = before?.LastAlarm, CooldownBase = before?.CooldownBase,
            };
            if (await store.TryPutScalingRecordAsync(restored, stored.Version, ct)) return;
        }
    }

    private async ValueTask<ActionResult> SendAsync(ReflexAction action, CancellationToken ct)
    {
        if (action.Service == "reflex") return new ActionResult(action, ActionStatus.Recorded, null);
        if (dryRun) return new ActionResult(action, ActionStatus.DryRun, "not sent (dry run)");
        switch (action.Request)
        {
            case RunTaskRequest run:
            {
                var response = await ecs.RunTaskAsync(run, ct);
                if (response.Failures.Count > 0)
                {
                    var f = response.Failures[0];
                    var detail = $"{f.Reason}{(f.Detail is null ? "" : $" ({f.Detail})")}";
                    return new ActionResult(action, IsCapacity(f.Reason) ? ActionStatus.Capacity : ActionStatus.RejectedByEcs, detail);
                }
                if (response.TaskArns.Count == 0)
                    return new ActionResult(action, ActionStatus.RejectedByEcs, "ECS started no task and reported no failure");
                return new ActionResult(action, ActionStatus.Done, $"started {Arns.LastSegmentSpan(response.TaskArns[0])}");
            }
            case StopTaskRequest stop:
            {
                var r = await ecs.StopTaskAsync(stop, ct);
                return new ActionResult(action, ActionStatus.Done, $"stopping {Arns.LastSegmentSpan(r.TaskArn ?? stop.Task)}");
            }
            case UpdateServiceRequest update:
            {
                var r = await ecs.UpdateServiceAsync(update, ct);
                return new ActionResult(action, ActionStatus.Done, r.DesiredCount is { } d ? $"desired {d}" : null);
            }
            default:
                throw new NotSupportedException($"the actuator cannot send {action.Service}:{action.Operation}");
        }
    }

    /// <summary>RunTask failures that more capacity would fix: worth retrying later.</summary>
    public static bool IsCapacity(string? reason) =>
        reason is not null && (reason.StartsWith("RESOURCE:", StringComparison.Ordinal)
                               || reason.Contains("Capacity is unavailable", StringComparison.OrdinalIgnoreCase)
                               || reason == "AGENT");

    /// <summary>An audit entry, written with the decision's other writes (<see cref="CommitAsync"/>).</summary>
    private void Audit(List<AuditEntry>? audits, DateTimeOffset now, string eventId, string handler, string outcome, string reason,
        string? operation, string? request, string? result)
    {
        audits?.Add(new AuditEntry(now, eventId, handler, outcome, reason, operation, request, result));
    }

    private string? RequestJson(ActionRequest request) => audit ? ActionJson.ToJson(request) : null;
}
