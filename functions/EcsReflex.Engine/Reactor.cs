using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Engine;

/// <summary>Handler names, as <c>_HANDLER</c> and the output name them.</summary>
public static class Handlers
{
    public const string TaskRescheduler = "task-rescheduler";
    public const string PlacementGuard = "placement-guard";
    public const string ServiceScaler = "service-scaler";

    /// <summary>The handler an event belongs to, or null when EcsReflex has none for it.</summary>
    public static string? For(EventDetail detail) => detail switch
    {
        TaskStateChange t when Core.Decisions.PlacementGuard.WatchesTask(t) => PlacementGuard, // RUNNING tasks EcsReflex started: replacements
        TaskStateChange => TaskRescheduler,
        ContainerInstanceStateChange or ServiceAction or DeploymentStateChange => PlacementGuard,
        AlarmStateChange => ServiceScaler,
        _ => null,
    };
}

/// <summary>What became of one event or one fired timer: the record the replay prints and the Lambda host logs.</summary>
public sealed record Reaction
{
    public required string? Handler { get; init; }
    public required Outcome Outcome { get; init; }
    public required string Reason { get; init; }
    public IReadOnlyList<ActionResult> Actions { get; init; } = [];
    public DateTimeOffset? DueAt { get; init; }
    public EventEnvelope? Event { get; init; }
    /// <summary>When to decide again on the same event although this reaction acted (a drain's stopOriginalAfterSeconds).</summary>
    public DateTimeOffset? FollowUpAt { get; init; }
}

/// <summary>
/// The pipeline every handler shares: deduplicate, observe, decide (pure, in the core), act (through the
/// actuator), remember. The replay and the Lambda host both call it; neither knows its inner steps.
/// </summary>
public sealed class Reactor(ReflexPolicy policy, IStateStore store, IClusterObserver observer, Actuator actuator)
{
    public static readonly TimeSpan DuplicateMemory = TimeSpan.FromHours(24);

    public ReflexPolicy Policy => policy;

    private PlacementGuardStep? _placementGuard;
    private PlacementGuardStep Guard => _placementGuard ??= new PlacementGuardStep(policy, store, observer, actuator);

    /// <summary>Deduplication keys of an event: its id, and what identifies the same change across ids.</summary>
    public static IReadOnlyList<string> DedupKeys(EventEnvelope e) => e.Detail switch
    {
        TaskStateChange t when t.Version is { } v => [$"event#{e.Id}", $"task#{t.TaskArn}#{v}"],
        ContainerInstanceStateChange i when i.Version is { } v => [$"event#{e.Id}", $"instance#{i.ContainerInstanceArn}#{v}"],
        AlarmStateChange a when a.State.Timestamp is { } ts => [$"event#{e.Id}", $"alarm#{a.AlarmArn ?? a.AlarmName}#{ts.UtcTicks}"],
        _ => [$"event#{e.Id}"],
    };

    /// <summary>Handles one delivered event.</summary>
    /// <param name="handOff">
    /// Called with the decided reaction before the event is remembered as processed (the Lambda host queues
    /// deferred work and dead-letters rejected events here). When it throws, the event is not remembered,
    /// so its retry decides again and nothing handed on is lost.
    /// </param>
    public async ValueTask<Reaction> HandleEventAsync(EventEnvelope e, DateTimeOffset now, CancellationToken ct,
        Func<Reaction, CancellationToken, Task>? handOff = null)
    {
        var handler = Handlers.For(e.Detail);
        if (handler is null)
            return new Reaction
            {
                Handler = null, Outcome = Outcome.Ignored, Event = e,
                Reason = $"no handler for {e.DetailType} (source {e.Source})",
            };

        var keys = DedupKeys(e);
        for (var k = 0; k < keys.Count; k++)
        {
            var key = keys[k];
            if (await store.HasEventAsync(key, ct))
                return new Reaction
                {
                    Handler = handler, Outcome = Outcome.Ignored, Event = e,
                    Reason = key.StartsWith("event#", StringComparison.Ordinal)
                        ? $"duplicate: event {e.Id} was already processed"
                        : $"duplicate: the same change ({Describe(e)}) was already processed under another event id",
                };
        }

        var reaction = await DecideAndActAsync(e, handler, now, ct);
        if (handOff is not null) await handOff(reaction, ct);
        if (reaction.Outcome != Outcome.Failed)
            for (var k = 0; k < keys.Count; k++)
                await store.RecordEventAsync(keys[k], now + DuplicateMemory, ct);
        return reaction;
    }

    /// <summary>Handles deferred work that came due: the same decision path, at the new time.</summary>
    public ValueTask<Reaction> HandleDueAsync(EventEnvelope e, DateTimeOffset now, CancellationToken ct)
    {
        var handler = Handlers.For(e.Detail) ?? "none";
        return DecideAndActAsync(e, handler, now, ct, due: true);
    }

    private static string Describe(EventEnvelope e) => e.Detail switch
    {
        TaskStateChange t => $"task {t.TaskId} version {t.Version}",
        ContainerInstanceStateChange i => $"container instance {Arns.ContainerInstanceId(i.ContainerInstanceArn)} version {i.Version}",
        AlarmStateChange a => $"alarm {a.AlarmName} {a.State.Value} at {a.State.Timestamp:O}",
        _ => e.Id,
    };

    private async ValueTask<Reaction> DecideAndActAsync(EventEnvelope e, string handler, DateTimeOffset now, CancellationToken ct, bool due = false)
    {
        Decision decision;
        switch (e.Detail)
        {
            case var d when handler == Handlers.PlacementGuard && PlacementGuardStep.Handles(d):
                return await Guard.HandleAsync(e, handler, due, now, ct); // Engine/PlacementGuardStep.cs
            case TaskStateChange t:
            {
                var observed = await ObserveTaskAsync(t, ct);
                decision = TaskRescheduler.Decide(t, policy, observed, now);
                // The stopped task's tags are read only for a relaunch that carries them (never for an ignored or
                // deferred stop), then the same pure decision is made again with them.
                if (TaskRescheduler.WantsTags(policy, t, observed, decision))
                    decision = TaskRescheduler.Decide(t, policy, observed with { Tags = await ReadTagsAsync(t, ct) }, now);
                break;
            }
            case AlarmStateChange a:
                return await new ScalerStep(policy, store, observer, actuator).RunAsync(e, a, handler, now, ct);
            default:
                return new Reaction { Handler = handler, Outcome = Outcome.Ignored, Event = e, Reason = $"no handler for {e.DetailType} yet" };
        }
        var done = await actuator.ExecuteAsync(decision, e.Id, handler, now, ct);
        return new Reaction { Handler = handler, Outcome = done.Outcome, Reason = done.Reason, Actions = done.Results, DueAt = done.DueAt, Event = e };
    }

    /// <summary>The stopped task's tags; a read that throws is said in the observation, and the relaunch goes on without them.</summary>
    private async ValueTask<Core.Observed.TaskTagsObservation> ReadTagsAsync(TaskStateChange t, CancellationToken ct)
    {
        try
        {
            return await observer.DescribeTaskTagsAsync(t.ClusterArn, t.TaskArn, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var message = ex.Message.Length <= 200 ? ex.Message : ex.Message[..197] + "...";
            return Core.Observed.TaskTagsObservation.None($"DescribeTasks failed: {message}");
        }
    }

    /// <summary>What the rescheduler's decision reads (public for the benchmarks, which time the decision alone).</summary>
    public async ValueTask<TaskObservation> ObserveTaskAsync(TaskStateChange t, CancellationToken ct)
    {
        if (t.LastStatus != "STOPPED" || policy.FindCluster(t.ClusterArn) is not { } cluster) return TaskObservation.None;
        var lineage = TaskRescheduler.TryParseLineage(t.StartedBy, out var l, out _) ? l : t.TaskId;
        var record = await store.GetLineageAsync(cluster.Name, lineage, ct);
        string? ec2 = null;
        if (t.ContainerInstanceArn is { } ci && !TaskRescheduler.IsFargate(t))
            ec2 = await observer.GetEc2InstanceIdAsync(t.ClusterArn, ci, ct);
        var move = await store.GetDrainMoveAsync(cluster.Name, lineage, ct);
        return new TaskObservation { Lineage = record, FailedEc2InstanceId = ec2, DrainMove = move };
    }
}
