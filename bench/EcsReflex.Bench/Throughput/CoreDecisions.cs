using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// What the engine observes before the pure decision, gathered once (outside the timed code) from the
/// embedded cluster of <c>events/cluster.snapshot.json</c> and an empty state store: the same reads as the
/// private observe steps of <see cref="Reactor"/>, <see cref="ScalerStep"/> and <see cref="PlacementGuardStep"/>
/// (mirrored here; keep them in step when those change). An empty store means a first failure, a first
/// sight of the instance, no scaling history.
/// </summary>
public sealed record Observations
{
    public TaskObservation Task { get; init; } = TaskObservation.None;
    public TaskRunningObservation TaskRunning { get; init; } = new();
    public InstanceObservation Instance { get; init; } = new();
    public ServiceObservation Service { get; init; } = new();
    public ScalingObservation Scaling { get; init; } = new();

    public static async Task<Observations> GatherAsync(EventEnvelope e, ReflexPolicy policy, IClusterObserver observer, IStateStore store, CancellationToken ct = default)
    {
        switch (e.Detail)
        {
            case TaskStateChange t when PlacementGuard.WatchesTask(t):
            {
                if (policy.FindCluster(t.ClusterArn) is not { } cluster || !TaskRescheduler.TryParseLineage(t.StartedBy, out var lineage, out _))
                    return new Observations();
                var move = await store.GetDrainMoveAsync(cluster.Name, lineage, ct);
                var ec2 = t.ContainerInstanceArn is { } ci ? await observer.GetEc2InstanceIdAsync(t.ClusterArn, ci, ct) : null;
                return new Observations { TaskRunning = new TaskRunningObservation { Move = move, Ec2InstanceId = ec2 } };
            }
            case TaskStateChange t:
            {
                if (t.LastStatus != "STOPPED" || policy.FindCluster(t.ClusterArn) is not { } cluster) return new Observations();
                var lineage = TaskRescheduler.TryParseLineage(t.StartedBy, out var l, out _) ? l : t.TaskId;
                var record = await store.GetLineageAsync(cluster.Name, lineage, ct);
                string? ec2 = null;
                if (t.ContainerInstanceArn is { } ci && !TaskRescheduler.IsFargate(t))
                    ec2 = await observer.GetEc2InstanceIdAsync(t.ClusterArn, ci, ct);
                var move = await store.GetDrainMoveAsync(cluster.Name, lineage, ct);
                return new Observations { Task = new TaskObservation { Lineage = record, FailedEc2InstanceId = ec2, DrainMove = move } };
            }
            case ContainerInstanceStateChange i:
            {
                if (policy.FindCluster(i.ClusterArn) is not { } cluster) return new Observations();
                var seen = await store.GetInstanceSeenAsync(cluster.Name, i.ContainerInstanceArn, ct);
                var tasks = await observer.ListTasksOnInstanceAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
                var lineages = new Dictionary<string, LineageRecord>(StringComparer.Ordinal);
                var moves = new Dictionary<string, DrainMoveRecord>(StringComparer.Ordinal);
                foreach (var t in tasks)
                {
                    var lineage = TaskRescheduler.TryParseLineage(t.StartedBy, out var l, out _) ? l : Arns.LastSegment(t.TaskArn);
                    if (await store.GetLineageAsync(cluster.Name, lineage, ct) is { } record) lineages[lineage] = record;
                    if (await store.GetDrainMoveAsync(cluster.Name, lineage, ct) is { } move) moves[lineage] = move;
                }
                var ec2 = i.Ec2InstanceId ?? await observer.GetEc2InstanceIdAsync(i.ClusterArn, i.ContainerInstanceArn, ct);
                return new Observations
                {
                    Instance = new InstanceObservation { LastSeen = seen, Tasks = tasks, Lineages = lineages, Moves = moves, Ec2InstanceId = ec2 },
                };
            }
            case DeploymentStateChange d:
                return new Observations { Service = await ObserveServiceAsync(d.ClusterArn, d.ServiceArn) };
            case ServiceAction a:
                return new Observations { Service = await ObserveServiceAsync(a.ClusterArn, a.ServiceArn) };
            case AlarmStateChange a:
            {
                if (ServiceScaler.FindTarget(policy, a.AlarmName) is not { } target) return new Observations();
                var record = await store.GetScalingRecordAsync(target.Cluster.Name, target.Service.Name, ct);
                var view = await observer.DescribeServiceScalingAsync(target.Cluster.Cluster, target.Service.Service, ct);
                var scaling = new ScalingObservation { Service = view.Service, ScalableTarget = view.ScalableTarget, Record = record };
                var now = e.EffectiveTime ?? DateTimeOffset.UnixEpoch;
                if (ServiceScaler.AlarmsToDescribe(a, target, record, now) is { Count: > 0 } names)
                {
                    var live = await observer.DescribeAlarmStatesAsync(names, ct);
                    scaling = scaling with { LiveAlarms = live.States, AlarmStatesUnavailable = live.Unavailable };
                }
                return new Observations { Scaling = scaling };
            }
            default:
                return new Observations();
        }

        async Task<ServiceObservation> ObserveServiceAsync(string? clusterArn, string? serviceArn)
        {
            if (clusterArn is null || serviceArn is null || policy.FindCluster(clusterArn) is not { } cluster) return new ServiceObservation();
            var service = await observer.GetServiceAsync(clusterArn, serviceArn, ct);
            var record = await store.GetServicePlacementAsync(cluster.Name, Arns.ServiceName(serviceArn), ct);
            return new ServiceObservation { Service = service, Record = record };
        }
    }
}

/// <summary>The pure decision the engine makes for an event (the dispatch of <see cref="Reactor"/>), given what it observed.</summary>
public static class CoreDecisions
{
    public static Decision? Decide(EventEnvelope e, ReflexPolicy policy, Observations o, DateTimeOffset now)
    {
        var handler = Handlers.For(e.Detail);
        if (handler is null) return null;
        if (handler == Handlers.PlacementGuard && PlacementGuardStep.Handles(e.Detail))
        {
            return e.Detail switch
            {
                ContainerInstanceStateChange i => PlacementGuard.DecideInstance(i, policy, o.Instance, now).Decision,
                TaskStateChange t => PlacementGuard.DecideTaskRunning(t, policy, o.TaskRunning, now).Decision,
                DeploymentStateChange d => PlacementGuard.DecideDeployment(d, policy, o.Service, now).Decision,
                ServiceAction a => PlacementGuard.DecideServiceAction(a, policy, o.Service, now).Decision,
                _ => null,
            };
        }
        return e.Detail switch
        {
            TaskStateChange t => TaskRescheduler.Decide(t, policy, o.Task, now),
            AlarmStateChange a => ServiceScaler.Decide(a, policy, o.Scaling, now).Decision,
            _ => null,
        };
    }
}
