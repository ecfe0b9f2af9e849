using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Reflexes;

/// <summary>The reconciler: on a schedule, finds what no event said (<see cref="Reconciler"/>).</summary>
public sealed class ReconcilerReflex : IReflex
{
    public string Name => HandlerNames.Reconciler;

    public bool Takes(EventDetail detail) => detail is ScheduledEvent;

    public async ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct)
    {
        var swept = new List<ClusterSweep>();
        foreach (var cluster in context.Policy.Clusters)
        {
            // The clusters whose stops and drains EcsReflex handles (the stack subscribes instance events where the policy
            // has a drain policy): what the rescheduler and the guard would have heard of.
            // (and the clusters whose placement or scaling it keeps).
            var scaled = cluster.Services.Where(s => s.Scaling is not null).ToList();
            if (cluster.Reschedule.Count == 0 && cluster.Drain is null && !cluster.Services.Any(s => s.Placement is { Enforce: true }) && scaled.Count == 0) continue;
            var stopped = cluster.Reschedule.Count == 0
                ? new StoppedTasksObservation([], 0)
                : await context.Observer.ListStoppedTasksAsync(cluster.Cluster, Reconciler.MaxCallsPerCluster, ct);
            var instances = cluster.Drain is null ? null
                : await context.Observer.ListContainerInstancesAsync(cluster.Cluster, Reconciler.MaxInstanceCallsPerCluster, ct);
            var scaling = scaled.Count == 0 ? null : await ScalingRecordsAsync(context.State, cluster, ct);
            swept.Add(new ClusterSweep(cluster, stopped, instances, scaling));
        }
        return Reconciler.Decide(input.Event, context.Policy, swept, input.Now);
    }

    /// <summary>
    /// The scaling records of the services <paramref name="cluster"/> scales (one read each; a service never scaled has
    /// none): they say which sustained alarms wait for a re-decision, and when it is due.
    /// </summary>
    public static async ValueTask<List<ServiceScalingRecord>> ScalingRecordsAsync(IStateReader state, ClusterPolicy cluster, CancellationToken ct)
    {
        var records = new List<ServiceScalingRecord>();
        foreach (var service in cluster.Services)
            if (service.Scaling is not null && await state.GetScalingRecordAsync(cluster.Name, service.Name, ct) is { } record) records.Add(record);
        return records;
    }
}
