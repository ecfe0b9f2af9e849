using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;

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
            if (cluster.Reschedule.Count == 0) continue;
            var stopped = await context.Observer.ListStoppedTasksAsync(cluster.Cluster, Reconciler.MaxCallsPerCluster, ct);
            swept.Add(new ClusterSweep(cluster, stopped));
        }
        return Reconciler.Decide(input.Event, context.Policy, swept, input.Now);
    }
}
