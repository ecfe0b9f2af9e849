using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Reflexes;

/// <summary>The task rescheduler: a STOPPED standalone task a rule covers is relaunched (<see cref="TaskRescheduler"/>).</summary>
public sealed class TaskReschedulerReflex : IReflex
{
    public string Name => HandlerNames.TaskRescheduler;

    /// <summary>Its reads are three table items (and ECS for an EC2 id on a miss); a relaunch decided again is the same RunTask, whose client token ECS dedupes.</summary>
    public bool ObservesBesideTheClaim => true;

    /// <summary>Task state changes, except the RUNNING tasks EcsReflex started (the placement guard's).</summary>
    public bool Takes(EventDetail detail) => detail is TaskStateChange t && !PlacementGuard.WatchesTask(t);

    /// <summary>A stop the rescheduler ignores whatever the lineage, the instance or a drain move (<see cref="TaskRescheduler.SettledByItsEvent"/>).</summary>
    public Decision? SettledByTheEvent(EventEnvelope e, ReflexPolicy policy, DateTimeOffset now) =>
        e.Detail is TaskStateChange t && TaskRescheduler.SettledByItsEvent(t, policy) ? TaskRescheduler.Decide(t, policy, TaskObservation.None, now) : null;

    public async ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct)
    {
        var t = (TaskStateChange)input.Event.Detail;
        // The stopped task's tags are read only for a relaunch that carries them (never for an ignored or deferred stop),
        // then the same pure decision is made again with them. When the event alone says it relaunches now, they are read
        // beside the other reads (one round trip less); otherwise after the decision, when it wants them.
        var tagsRead = TaskRescheduler.LikelyRelaunchesWithTags(t, context.Policy, input.Now) ? ReadTagsAsync(context, t, ct) : (ValueTask<TaskTagsObservation>?)null;
        var observed = await ObserveAsync(context, t, ct);
        var decision = TaskRescheduler.Decide(t, context.Policy, observed, input.Now);
        var wants = TaskRescheduler.WantsTags(context.Policy, t, observed, decision);
        var tags = tagsRead is { } early ? await early : wants ? await ReadTagsAsync(context, t, ct) : null;
        if (wants) decision = TaskRescheduler.Decide(t, context.Policy, observed with { Tags = tags }, input.Now);
        return decision;
    }

    /// <summary>What the decision reads: the lineage, the failed EC2 instance, a drain move (public for the benchmarks, which time the decision alone).</summary>
    public static async ValueTask<TaskObservation> ObserveAsync(ReflexContext context, TaskStateChange t, CancellationToken ct)
    {
        if (t.LastStatus != "STOPPED" || context.Policy.FindCluster(t.ClusterArn) is not { } cluster) return TaskObservation.None;
        var lineage = TaskRescheduler.LineageIdOf(t);
        // The reads depend on nothing but the event: sent together, one round trip. The failed instance's EC2 id is kept
        // with its container instance record (the guard writes it from the instance's events); ECS is asked only when
        // the record does not have it and the decision places the relaunch away from it.
        var recordRead = context.State.GetLineageAsync(cluster.Name, lineage, ct);
        var moveRead = context.State.GetDrainMoveAsync(cluster.Name, lineage, ct);
        var onEc2 = t.ContainerInstanceArn is not null && !TaskRescheduler.IsFargate(t);
        var seenRead = onEc2 ? context.State.GetInstanceSeenAsync(cluster.Name, t.ContainerInstanceArn!, ct) : ValueTask.FromResult<InstanceSeenRecord?>(null);
        var record = await recordRead;
        var move = await moveRead;
        var ec2 = (await seenRead)?.Ec2InstanceId;
        if (ec2 is null && onEc2 && TaskRescheduler.UsesFailedEc2InstanceId(t, context.Policy, record))
            ec2 = await context.Observer.GetEc2InstanceIdAsync(t.ClusterArn, t.ContainerInstanceArn!, ct);
        return new TaskObservation { Lineage = record, FailedEc2InstanceId = ec2, DrainMove = move };
    }

    /// <summary>The stopped task's tags; a read that throws is said in the observation, and the relaunch goes on without them.</summary>
    private static async ValueTask<TaskTagsObservation> ReadTagsAsync(ReflexContext context, TaskStateChange t, CancellationToken ct)
    {
        try
        {
            return await context.Observer.DescribeTaskTagsAsync(t.ClusterArn, t.TaskArn, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var message = ex.Message.Length <= 200 ? ex.Message : ex.Message[..197] + "...";
            return TaskTagsObservation.None($"DescribeTasks failed: {message}");
        }
    }
}
