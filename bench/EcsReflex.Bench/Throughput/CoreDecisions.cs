using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// What the engine observes before the pure decision, gathered once (outside the timed code) through the
/// reflexes' own observe steps (<see cref="TaskReschedulerReflex.ObserveAsync"/>, <see cref="PlacementGuardReflex"/>'s and
/// <see cref="ServiceScalerReflex.ObserveAsync"/>) on the embedded cluster of <c>events/cluster.snapshot.json</c> and an
/// empty state store: a first failure, a first sight of the instance, no scaling history.
/// </summary>
public sealed record Observations
{
    public TaskObservation Task { get; init; } = TaskObservation.None;
    public TaskRunningObservation TaskRunning { get; init; } = new();
    public InstanceObservation Instance { get; init; } = new();
    public ServiceObservation Service { get; init; } = new();
    public ScalingObservation Scaling { get; init; } = new();

    public static async Task<Observations> GatherAsync(EventEnvelope e, ReflexPolicy policy, EcsReflex.Engine.Cluster.EmbeddedCluster cluster,
        IStateStore store, CancellationToken ct = default)
    {
        var now = e.EffectiveTime ?? DateTimeOffset.UnixEpoch;
        var context = new ReflexContext(policy, store, cluster);
        return e.Detail switch
        {
            TaskStateChange t when PlacementGuard.WatchesTask(t) => new Observations { TaskRunning = await PlacementGuardReflex.ObserveRunningAsync(context, t, ct) },
            TaskStateChange t => new Observations { Task = await TaskReschedulerReflex.ObserveAsync(context, t, ct) },
            ContainerInstanceStateChange i => new Observations { Instance = await PlacementGuardReflex.ObserveInstanceAsync(context, i, false, ct) },
            DeploymentStateChange d => new Observations { Service = await PlacementGuardReflex.ObserveServiceAsync(context, d.ClusterArn, d.ServiceArn, ct) },
            ServiceAction a => new Observations { Service = await PlacementGuardReflex.ObserveServiceAsync(context, a.ClusterArn, a.ServiceArn, ct) },
            AlarmStateChange a => new Observations { Scaling = await ServiceScalerReflex.ObserveAsync(context, a, now, ct) },
            _ => new Observations(),
        };
    }
}

/// <summary>The pure decision the engine makes for an event (the reflex <see cref="Reflexes.For"/> picks), given what it observed.</summary>
public static class CoreDecisions
{
    public static Decision? Decide(EventEnvelope e, ReflexPolicy policy, Observations o, DateTimeOffset now)
    {
        if (Reflexes.For(e.Detail) is null) return null;
        return e.Detail switch
        {
            ContainerInstanceStateChange i => PlacementGuard.DecideInstance(i, policy, o.Instance, now),
            TaskStateChange t when PlacementGuard.WatchesTask(t) => PlacementGuard.DecideTaskRunning(t, policy, o.TaskRunning, now),
            DeploymentStateChange d => PlacementGuard.DecideDeployment(d, policy, o.Service, now),
            ServiceAction a => PlacementGuard.DecideServiceAction(a, policy, o.Service, now),
            TaskStateChange t => TaskRescheduler.Decide(t, policy, o.Task, now),
            AlarmStateChange a => ServiceScaler.Decide(a, policy, o.Scaling, now),
            _ => null,
        };
    }
}
