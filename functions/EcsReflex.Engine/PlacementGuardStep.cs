using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Engine;

/// <summary>
/// The placement guard's step of the pipeline: observe what its decision needs, decide (pure, in the core),
/// act through the actuator, then remember what the decision asked to (instance versions, drain moves,
/// lineages, service fallbacks) for the actions that succeeded.
/// </summary>
public sealed class PlacementGuardStep(ReflexPolicy policy, IStateStore store, IClusterObserver observer, Actuator actuator)
{
    /// <summary>True for the events this step decides on.</summary>
    public static bool Handles(EventDetail detail) => detail switch
    {
        ContainerInstanceStateChange or ServiceAction or DeploymentStateChange => true,
        TaskStateChange t => PlacementGuard.WatchesTask(t),
        _ => false,
    };

    public async ValueTask<Reaction> HandleAsync(EventEnvelope e, string handler, bool due, DateTimeOffset now, CancellationToken ct)
    {
        var g = e.Detail switch
        {
            ContainerInstanceStateChange i => PlacementGuard.DecideInstance(i, policy, await ObserveInstanceAsync(i, due, ct), now),
            TaskStateChange t => PlacementGuard.DecideTaskRunning(t, policy, await ObserveRunningAsync(t, ct), now),
            DeploymentStateChange d => PlacementGuard.DecideDeployment(d, policy, await ObserveServiceAsync(d.ClusterArn, d.ServiceArn, ct), now),
            ServiceAction a => PlacementGuard.DecideServiceAction(a, policy, await ObserveServiceAsync(a.ClusterArn, a.ServiceArn, ct), now),
            _ => PlacementGuardDecision.Of(Decision.Ignored(ReasonCodes.GuardUnhandledEvent, $"the placement guard does not handle {e.DetailType}")),
        };
        var done = await actuator.ExecuteAsync(g.Decision, e.Id, handler, now, ct);
        await RememberAsync(g, done, ct);
        return new Reaction
        {
            Handler = handler,
            Outcome = done.Outcome,
            Code = done.Code,
            Reason = done.Reason,
            Actions = done.Results,
            DueAt = done.DueAt,
            FollowUpAt = done.Outcome == Outcome.Acted ? g.FollowUpAt : null,
            Event = e,
        };
    }

    private async ValueTask RememberAsync(PlacementGuardDecision g, Actuation done, CancellationToken ct)
    {
        if (done.Outcome == Outcome.Failed && done.Results.Count == 0) return;
        if (g.InstanceSeen is { } seen && done.Outcome != Outcome.Failed)
            await store.TryPutInstanceSeenAsync(seen, ct);
        foreach (var w in g.Writes)
        {
            if (w.After is not null && !done.Results.Any(r => ReferenceEquals(r.Action, w.After) && r.Done)) continue;
            if (w.Move is { } m) await store.PutDrainMoveAsync(m, ct);
            if (w.Lineage is { } l) await store.PutLineageAsync(l, ct);
            if (w.Service is { } s) await store.PutServicePlacementAsync(s, ct);
        }
    }

    /// <summary>What the decision on a container instance reads (public for the benchmarks, which time the decision alone).</summary>
    public async ValueTask<InstanceObservation> ObserveInstanceAsync(ContainerInstanceStateChange i, bool due, CancellationToken ct)
    {
        if (policy.FindCluster(i.ClusterArn) is not { } cluster) return new InstanceObservation { DueCheck = due };
        var seen = await store.GetInstanceSeenAsync(cluster.Name, i.ContainerInstanceArn, ct);
        var tasks = await observer.ListTasksOnInstanceAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
        var lineages = new Dictionary<string, LineageRecord>(StringComparer.Ordinal);
        var moves = new Dictionary<string, DrainMoveRecord>(StringComparer.Ordinal);
        foreach (var t in tasks)
        {
            var lineage = TaskRescheduler.TryParseLineage(t.StartedBy, out var l, out _) ? l : Arns.LastSegment(t.TaskArn);
            if (lineages.ContainsKey(lineage) || moves.ContainsKey(lineage)) continue;
            if (await store.GetLineageAsync(cluster.Name, lineage, ct) is { } record) lineages[lineage] = record;
            if (await store.GetDrainMoveAsync(cluster.Name, lineage, ct) is { } move) moves[lineage] = move;
        }
        var ec2 = i.Ec2InstanceId ?? await observer.GetEc2InstanceIdAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
        return new InstanceObservation { LastSeen = seen, Tasks = tasks, Lineages = lineages, Moves = moves, Ec2InstanceId = ec2, DueCheck = due };
    }

    /// <summary>What the decision on a RUNNING replacement reads.</summary>
    public async ValueTask<TaskRunningObservation> ObserveRunningAsync(TaskStateChange t, CancellationToken ct)
    {
        if (policy.FindCluster(t.ClusterArn) is not { } cluster
            || !TaskRescheduler.TryParseLineage(t.StartedBy, out var lineage, out _))
            return new TaskRunningObservation();
        var move = await store.GetDrainMoveAsync(cluster.Name, lineage, ct);
        var ec2 = t.ContainerInstanceArn is { } ci ? await observer.GetEc2InstanceIdAsync(t.ClusterArn, ci, ct) : null;
        return new TaskRunningObservation { Move = move, Ec2InstanceId = ec2 };
    }

    /// <summary>What the decision on a service action or a deployment reads.</summary>
    public async ValueTask<ServiceObservation> ObserveServiceAsync(string? clusterArn, string? serviceArn, CancellationToken ct)
    {
        if (clusterArn is null || serviceArn is null || policy.FindCluster(clusterArn) is not { } cluster) return new ServiceObservation();
        var service = await observer.GetServiceAsync(clusterArn, serviceArn, ct);
        var record = await store.GetServicePlacementAsync(cluster.Name, Arns.ServiceName(serviceArn), ct);
        return new ServiceObservation { Service = service, Record = record };
    }
}
