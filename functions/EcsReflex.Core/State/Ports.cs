using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;

namespace EcsReflex.Core.State;

/// <summary>
/// The records a reflex reads before deciding (<see cref="Reflexes.ReflexContext"/>). Reading only: what a decision wants
/// written it declares as data (<see cref="Decision.Writes"/>), and the engine's actuator commits it.
/// </summary>
public interface IStateReader
{
    ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct);

    /// <summary>The service scaler's record of a service (policy cluster name, service name), or null before its first write.</summary>
    ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct);

    ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct);

    /// <summary>The drain move of a task lineage (the replacement carries the lineage on), or null.</summary>
    ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct);

    ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct);
}

/// <summary>
/// What EcsReflex remembers between invocations. One record logic (<see cref="StateStore"/>) over two backends: in
/// memory (replay, tests, local runs) and DynamoDB (Lambda). Both pass the same contract tests. Written by the
/// engine's actuator only.
/// </summary>
public interface IStateStore : IStateReader
{
    // Claims (claim before acting): the store applies the conditions, the rules are the engine's (Engine/EventClaims.cs).

    /// <summary>The live record under a deduplication key (claim or processed), or null: none, or expired by the store's clock.</summary>
    ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct);

    /// <summary>
    /// Writes <paramref name="record"/> under its key only when <paramref name="condition"/> holds, checked and written in
    /// one step; false, changing nothing, when it does not (another delivery holds or processed the key).
    /// </summary>
    ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct);

    /// <summary>
    /// <see cref="TryPutClaimAsync"/>, and when the write is refused, the live record that refused it (another delivery's
    /// claim, or the processed record), in the same request where the store can: a duplicate delivery then costs one round
    /// trip. <see cref="ClaimPut.Holder"/> is null when the refusing record is gone or expired. The default reads it after.
    /// </summary>
    async ValueTask<ClaimPut> PutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct) =>
        await TryPutClaimAsync(record, condition, ct).ConfigureAwait(false)
            ? new ClaimPut(true, null)
            : new ClaimPut(false, await GetClaimAsync(record.Key, ct).ConfigureAwait(false));

    /// <summary>Deletes the record under <paramref name="key"/> only when it carries <paramref name="token"/>: a claim released.</summary>
    ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct);

    ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct);

    /// <summary>
    /// Counts one more relaunch of <paramref name="cluster"/> asked for in the minute starting at <paramref name="minute"/>
    /// and returns its number n in that minute (1 for the first): one atomic increment, unconditional, shared by concurrent
    /// invocations, so no two get the same n. What n means against the limit is <see cref="RelaunchSlots"/>' rule.
    /// </summary>
    ValueTask<long> TakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, CancellationToken ct);

    /// <summary>
    /// Counts <paramref name="count"/> relaunches at once (a drain's replacements): one increment; they are the numbers
    /// up to the one returned. The default counts them one by one.
    /// </summary>
    async ValueTask<long> TakeRelaunchSlotsAsync(string cluster, DateTimeOffset minute, int count, CancellationToken ct)
    {
        long n = 0;
        for (var i = 0; i < count; i++) n = await TakeRelaunchSlotAsync(cluster, minute, ct).ConfigureAwait(false);
        return n;
    }

    /// <summary>Appends one entry to the decision audit trail.</summary>
    ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct);

    /// <summary>
    /// Writes <paramref name="record"/> only if the stored record's version is still
    /// <paramref name="expectedVersion"/> (0: no record yet); the stored copy gets version
    /// <paramref name="expectedVersion"/> + 1. False when another writer came first: re-read and decide again.
    /// </summary>
    ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct);

    // Placement guard: the last state change seen per container instance, drain moves, service fallbacks.

    /// <summary>
    /// Records the instance state unless a newer version is already recorded (a conditional write, so a
    /// late delivery cannot roll it back); false when it was not written.
    /// </summary>
    ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct);

    ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct);

    ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct);

    /// <summary>
    /// The committer's unconditional writes of one decision, together (issue 17): one request where the backend allows it
    /// (DynamoDB: <c>BatchWriteItem</c>), not one per record. Not atomic: when it throws, some may have been written, and
    /// the reaction fails so that its retry decides again. The default writes them one by one.
    /// </summary>
    async ValueTask WriteAsync(StateBatch batch, CancellationToken ct)
    {
        foreach (var r in batch.Lineages) await PutLineageAsync(r, ct).ConfigureAwait(false);
        foreach (var r in batch.DrainMoves) await PutDrainMoveAsync(r, ct).ConfigureAwait(false);
        foreach (var r in batch.ServicePlacements) await PutServicePlacementAsync(r, ct).ConfigureAwait(false);
        foreach (var r in batch.Audit) await AppendAuditAsync(r, ct).ConfigureAwait(false);
        foreach (var r in batch.Processed) await TryPutClaimAsync(r, ClaimCondition.Holds(r.Token!), ct).ConfigureAwait(false);
    }
}

/// <summary>
/// What <see cref="IStateStore.WriteAsync"/> writes: records whose write has no condition, and the processed records of
/// a reaction's claims (<see cref="Processed"/>, completed in the same request when the reaction leaves nothing to hand on).
/// </summary>
public sealed record StateBatch(
    IReadOnlyList<LineageRecord> Lineages,
    IReadOnlyList<DrainMoveRecord> DrainMoves,
    IReadOnlyList<ServicePlacementRecord> ServicePlacements,
    IReadOnlyList<AuditEntry> Audit,
    IReadOnlyList<ClaimRecord> Processed)
{
    public static readonly StateBatch Empty = new([], [], [], [], []);

    public int Count => Lineages.Count + DrainMoves.Count + ServicePlacements.Count + Audit.Count + Processed.Count;
}

/// <summary>What <see cref="IStateStore.PutClaimAsync"/> did: written, or refused by <see cref="Holder"/> (null: gone by the time it was read).</summary>
public readonly record struct ClaimPut(bool Written, ClaimRecord? Holder);

public sealed record AuditEntry(DateTimeOffset Time, string EventId, string Handler, string Outcome, string Reason,
    string? Operation, string? RequestJson, string? Result);

/// <summary>The ECS operations the actuator sends. Implemented by the embedded cluster and by the AWS adapter.</summary>
public interface IEcsApi
{
    ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct);
    ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct);
    ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct);
}

/// <summary>What the engine reads about the cluster before deciding.</summary>
public interface IClusterObserver
{
    /// <summary>The EC2 instance id behind a container instance, or null when it is not known.</summary>
    ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct);

    /// <summary>
    /// A service's desired count and the Application Auto Scaling scalable target registered for it
    /// (<c>ecs:service:DesiredCount</c> of <c>service/CLUSTER/NAME</c>), for the service scaler. The cluster and
    /// the service are as the policy writes them (a name or an ARN).
    /// </summary>
    ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct);

    /// <summary>The current states of some CloudWatch alarms, or why they cannot be had (CloudWatch <c>DescribeAlarms</c> live).</summary>
    ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct);

    /// <summary>
    /// One alarm's state now and the newest datapoint of its metric, the way Application Auto Scaling is given it at each
    /// evaluation of a sustained alarm (live: <c>DescribeAlarms</c>, then <c>GetMetricData</c> on the alarm's own metric and
    /// period; the replay: the newest state and datapoint replayed so far): what a sustained alarm's re-decision reads. An
    /// observer that cannot read datapoints answers the state alone.
    /// </summary>
    async ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct) =>
        await DescribeAlarmStatesAsync([alarmName], ct).ConfigureAwait(false);

    /// <summary>
    /// A task's tags (DescribeTasks with <c>include: ["TAGS"]</c>), read only when the rescheduler relaunches it. Never
    /// throws for a read that fails: the observation says why (<see cref="TaskTagsObservation.Unavailable"/>), and the
    /// task is relaunched without its tags.
    /// </summary>
    ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct);

    /// <summary>The tasks on a container instance that are not stopped (ListTasks by container instance + DescribeTasks with TAGS).</summary>
    ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct);

    /// <summary>A service as describe-services shows it (with its placement), or null when it does not exist.</summary>
    ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct);

    /// <summary>
    /// The stopped tasks of a cluster ECS still shows, at most <paramref name="maxCalls"/> API calls' worth, newest pages
    /// first (the reconciler's sweep). Never throws for a read that fails: the observation says why. An observer that
    /// cannot list them says so.
    /// </summary>
    ValueTask<StoppedTasksObservation> ListStoppedTasksAsync(string clusterArn, int maxCalls, CancellationToken ct) =>
        ValueTask.FromResult(StoppedTasksObservation.None("this observer cannot list stopped tasks"));

    /// <summary>
    /// The container instances of a cluster (ACTIVE and DRAINING; ListContainerInstances + DescribeContainerInstances), at
    /// most <paramref name="maxCalls"/> API calls' worth (the reconciler's sweep). Never throws for a read that fails: the
    /// observation says why. An observer that cannot list them says so.
    /// </summary>
    ValueTask<ContainerInstancesObservation> ListContainerInstancesAsync(string clusterArn, int maxCalls, CancellationToken ct) =>
        ValueTask.FromResult(ContainerInstancesObservation.None("this observer cannot list container instances"));

    /// <summary>A container instance as describe-container-instances shows it, or null when it is unknown.</summary>
    ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct);
}

public sealed record RunTaskFailure(string? Arn, string? Reason, string? Detail);
public sealed record RunTaskResponse(IReadOnlyList<string> TaskArns, IReadOnlyList<RunTaskFailure> Failures);
public sealed record StopTaskResponse(string? TaskArn, string? LastStatus);
public sealed record UpdateServiceResponse(string? ServiceArn, int? DesiredCount);
