using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Core.Reflexes;

/// <summary>
/// The placement guard (<see cref="PlacementGuard"/>): drains and disconnects of container instances, the RUNNING
/// replacements EcsReflex started, service placement drift and placement failures.
/// </summary>
public sealed class PlacementGuardReflex : IReflex
{
    public string Name => HandlerNames.PlacementGuard;

    public bool Takes(EventDetail detail) => detail switch
    {
        ContainerInstanceStateChange or ServiceAction or DeploymentStateChange => true,
        TaskStateChange t => PlacementGuard.WatchesTask(t),
        _ => false,
    };

    public async ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct) => input.Event.Detail switch
    {
        ContainerInstanceStateChange i => PlacementGuard.DecideInstance(i, context.Policy, await ObserveInstanceAsync(context, i, input.Due, ct), input.Now),
        TaskStateChange t => PlacementGuard.DecideTaskRunning(t, context.Policy, await ObserveRunningAsync(context, t, ct), input.Now),
        DeploymentStateChange d => PlacementGuard.DecideDeployment(d, context.Policy, await ObserveServiceAsync(context, d.ClusterArn, d.ServiceArn, ct), input.Now),
        ServiceAction a => PlacementGuard.DecideServiceAction(a, context.Policy, await ObserveServiceAsync(context, a.ClusterArn, a.ServiceArn, ct), input.Now),
        _ => Decision.Ignored(ReasonCodes.GuardUnhandledEvent, $"the placement guard does not handle {input.Event.DetailType}"),
    };

    /// <summary>What the decision on a container instance reads (public for the benchmarks, which time the decision alone).</summary>
    public static async ValueTask<InstanceObservation> ObserveInstanceAsync(ReflexContext context, ContainerInstanceStateChange i, bool due, CancellationToken ct)
    {
        if (context.Policy.FindCluster(i.ClusterArn) is not { } cluster) return new InstanceObservation { DueCheck = due };
        // What depends only on the event is read together; then, together again, the records of the tasks a rule covers
        // (a service's task needs none): two round trips, whatever the number of tasks on the instance.
        var seenRead = context.State.GetInstanceSeenAsync(cluster.Name, i.ContainerInstanceArn, ct);
        var tasksRead = context.Observer.ListTasksOnInstanceAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
        var ec2Read = i.Ec2InstanceId is { } known ? ValueTask.FromResult<string?>(known) : context.Observer.GetEc2InstanceIdAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
        var tasks = await tasksRead;
        var chains = tasks.Where(t => PlacementGuard.ReadsRecordsOf(cluster, t)).Select(PlacementGuard.LineageIdOf).Distinct(StringComparer.Ordinal).ToList();
        var reads = chains.Select(l => (Lineage: context.State.GetLineageAsync(cluster.Name, l, ct).AsTask(), Move: context.State.GetDrainMoveAsync(cluster.Name, l, ct).AsTask())).ToList();
        var lineages = new Dictionary<string, LineageRecord>(StringComparer.Ordinal);
        var moves = new Dictionary<string, DrainMoveRecord>(StringComparer.Ordinal);
        for (var k = 0; k < chains.Count; k++)
        {
            if (await reads[k].Lineage is { } record) lineages[chains[k]] = record;
            if (await reads[k].Move is { } move) moves[chains[k]] = move;
        }
        return new InstanceObservation { LastSeen = await seenRead, Tasks = tasks, Lineages = lineages, Moves = moves, Ec2InstanceId = await ec2Read, DueCheck = due };
    }

    /// <summary>What the decision on a RUNNING replacement reads.</summary>
    public static async ValueTask<TaskRunningObservation> ObserveRunningAsync(ReflexContext context, TaskStateChange t, CancellationToken ct)
    {
        if (context.Policy.FindCluster(t.ClusterArn) is not { } cluster
            || !TaskRescheduler.TryParseLineage(t.StartedBy, out var lineage, out _))
            return new TaskRunningObservation();
        var move = await context.State.GetDrainMoveAsync(cluster.Name, lineage, ct);
        var ec2 = t.ContainerInstanceArn is { } ci ? await context.Observer.GetEc2InstanceIdAsync(t.ClusterArn, ci, ct) : null;
        return new TaskRunningObservation { Move = move, Ec2InstanceId = ec2 };
    }

    /// <summary>What the decision on a service action or a deployment reads.</summary>
    public static async ValueTask<ServiceObservation> ObserveServiceAsync(ReflexContext context, string? clusterArn, string? serviceArn, CancellationToken ct)
    {
        if (clusterArn is null || serviceArn is null || context.Policy.FindCluster(clusterArn) is not { } cluster) return new ServiceObservation();
        var service = await context.Observer.GetServiceAsync(clusterArn, serviceArn, ct);
        var record = await context.State.GetServicePlacementAsync(cluster.Name, Arns.ServiceName(serviceArn), ct);
        return new ServiceObservation { Service = service, Record = record };
    }
}
