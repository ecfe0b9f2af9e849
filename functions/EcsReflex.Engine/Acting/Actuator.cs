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
public sealed record Actuation(Outcome Outcome, string Code, string Reason, IReadOnlyList<ActionResult> Results, DateTimeOffset? DueAt);

/// <summary>
/// The one write path. Every action of every handler goes through here: dry-run, the per-cluster
/// relaunch rate limit (shared through the state store), the audit trail. Handlers never branch on these.
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

    public async ValueTask<Actuation> ExecuteAsync(Decision decision, string eventId, string handler, DateTimeOffset now, CancellationToken ct)
    {
        if (decision.Outcome != Outcome.Acted || decision.Actions.Count == 0)
        {
            await AuditAsync(now, eventId, handler, decision.Outcome.Name(), decision.Reason, null, null, null, ct);
            return new Actuation(decision.Outcome, decision.Code, decision.Reason, [], decision.DueAt);
        }

        var results = new List<ActionResult>(decision.Actions.Count);
        foreach (var action in decision.Actions)
        {
            ct.ThrowIfCancellationRequested();
            if (action.Request is RunTaskRequest run)
            {
                var cluster = policy.FindCluster(run.Cluster);
                var limit = cluster?.Limits.MaxRelaunchesPerMinute ?? ClusterLimits.DefaultMaxRelaunchesPerMinute;
                var clusterName = cluster?.Name ?? Arns.ClusterName(run.Cluster);
                var minute = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
                if (!await store.TryTakeRelaunchSlotAsync(clusterName, minute, limit, ct))
                {
                    var next = minute.AddMinutes(1);
                    var reason = $"{decision.Reason}; held by the rate limit ({limit} relaunches a minute in {clusterName}), deferred to {next:HH:mm:ss}";
                    await AuditAsync(now, eventId, handler, "deferred", reason, action.Operation, RequestJson(run), "rate-limited", ct);
                    // Actions already done stay done: nothing is half-done because RunTask comes first in a decision.
                    return new Actuation(Outcome.Deferred, ReasonCodes.ActuatorRateLimit, reason, results, next);
                }
            }

            ActionResult result;
            try
            {
                result = await SendAsync(action, ct);
            }
            catch (ApiCallException ex) when (!ex.IsTransient)
            {
                // The service refused the request (bad parameter, access denied...): retrying cannot help. Reported, audited.
                result = new ActionResult(action, ActionStatus.Error, $"{ex.ErrorCode}: {ex.ErrorMessage}");
            }
            catch (ApiCallException ex)
            {
                // Throttled past the retry budget, server errors, the deadline: audited, then the invocation fails so it is retried.
                if (!ct.IsCancellationRequested)
                    await AuditAsync(now, eventId, handler, "transient-error", decision.Reason, action.Operation, RequestJson(action.Request),
                        $"{ex.ErrorCode}: {ex.ErrorMessage}", ct);
                throw;
            }
            results.Add(result);
            await AuditAsync(now, eventId, handler, result.Status, decision.Reason, action.Operation, RequestJson(action.Request), result.Detail, ct);
            if (!result.Done)
            {
                if (result.State == ActionStatus.Capacity)
                    return new Actuation(Outcome.Deferred, ReasonCodes.ActuatorCapacity,
                        $"{decision.Reason}; ECS could not place it ({result.Detail}), retrying at {(now + CapacityRetryDelay):HH:mm:ss}",
                        results, now + CapacityRetryDelay);
                return new Actuation(Outcome.Failed, ReasonCodes.ActuatorActionFailed, $"{decision.Reason}; {action.Operation} failed: {result.Detail}", results, null);
            }
        }

        if (decision.Lineage is { } lineage) await store.PutLineageAsync(lineage, ct);
        return new Actuation(Outcome.Acted, decision.Code, decision.Reason, results, null);
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

    private ValueTask AuditAsync(DateTimeOffset now, string eventId, string handler, string outcome, string reason,
        string? operation, string? request, string? result, CancellationToken ct) =>
        audit ? store.AppendAuditAsync(new AuditEntry(now, eventId, handler, outcome, reason, operation, request, result), ct) : ValueTask.CompletedTask;

    private string? RequestJson(ActionRequest request) => audit ? ActionJson.ToJson(request) : null;
}
