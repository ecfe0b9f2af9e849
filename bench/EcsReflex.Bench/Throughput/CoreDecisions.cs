using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// What the engine observes before the pure decision, gathered once (outside the timed code) through the
/// engine's own observe steps (<see cref="Reactor.ObserveTaskAsync"/>, <see cref="PlacementGuardStep"/>'s and
/// <see cref="ScalerStep.ObserveAsync"/>) on the embedded cluster of <c>events/cluster.snapshot.json</c> and an
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
        var actuator = new EcsReflex.Engine.Acting.Actuator(cluster, store, policy, dryRun: true, audit: false); // never used to act here
        var now = e.EffectiveTime ?? DateTimeOffset.UnixEpoch;
        var guard = new PlacementGuardStep(policy, store, cluster, actuator);
        return e.Detail switch
        {
            TaskStateChange t when PlacementGuard.WatchesTask(t) => new Observations { TaskRunning = await guard.ObserveRunningAsync(t, ct) },
            TaskStateChange t => new Observations { Task = await new Reactor(policy, store, cluster, actuator).ObserveTaskAsync(t, ct) },
            ContainerInstanceStateChange i => new Observations { Instance = await guard.ObserveInstanceAsync(i, false, ct) },
            DeploymentStateChange d => new Observations { Service = await guard.ObserveServiceAsync(d.ClusterArn, d.ServiceArn, ct) },
            ServiceAction a => new Observations { Service = await guard.ObserveServiceAsync(a.ClusterArn, a.ServiceArn, ct) },
            AlarmStateChange a => new Observations { Scaling = await new ScalerStep(policy, store, cluster, actuator).ObserveAsync(a, now, ct) },
            _ => new Observations(),
        };
    }
}

/// <summary>The pure decision the engine makes for an event (the dispatch of <see cref="Reactor"/>), given what it observed.</summary>
public static class CoreDecisions
{
    public static Decision? Decide(EventEnvelope e, ReflexPolicy policy, Observations o, DateTimeOffset now)
    {
        var handler = Handlers.For(e.Detail);
        if (handler is null) return null;
        if (handler == HandlerNames.PlacementGuard && PlacementGuardStep.Handles(e.Detail))
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
