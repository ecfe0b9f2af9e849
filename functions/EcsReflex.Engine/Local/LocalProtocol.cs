using System.Text.Json.Serialization;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Local;

/// <summary>
/// The local services the Runtime API emulator serves beside the Runtime API, on the same loopback port,
/// for a bootstrap started in local replay mode (<c>REFLEX_LOCAL_REPLAY=1</c>): the one in-memory state
/// store and embedded cluster that every handler process shares (as deployed functions share the table
/// and the account), the delay queue and the dead-letter queue, and the replay's simulated clock. Never
/// used in AWS.
/// </summary>
/// <remarks>
/// Every member of <see cref="IStateStore"/>, <see cref="IClusterObserver"/> and <see cref="IEcsApi"/> is one
/// <c>POST</c> with a JSON body, answered <c>200</c> with a JSON body; the emulator runs the member on its
/// in-memory store or embedded cluster, so the semantics are theirs (conditional writes stay conditional:
/// the compare and the write happen in one call on the emulator's side). Anything else is an error the
/// client turns into an exception that fails the invocation.
/// </remarks>
public static class LocalProtocol
{
    public const string Prefix = "/reflex-local/v1/";

    // IStateStore
    public const string GetClaim = Prefix + "state/get-claim";
    public const string TryPutClaim = Prefix + "state/try-put-claim";
    public const string PutClaim = Prefix + "state/put-claim";
    public const string TryDeleteClaim = Prefix + "state/try-delete-claim";
    public const string GetLineage = Prefix + "state/get-lineage";
    public const string PutLineage = Prefix + "state/put-lineage";
    /// <summary>
    /// <see cref="IStateStore.TakeRelaunchSlotAsync"/>: answers the minute's new count (<see cref="CountResult"/>). Its own path,
    /// not the earlier conditional <c>state/take-relaunch-slot</c> (a yes or no under a limit): a bootstrap built before the
    /// change is refused with the path it asked for, rather than reading a yes or no as a count.
    /// </summary>
    public const string TakeSlot = Prefix + "state/count-relaunch";
    public const string Audit = Prefix + "state/audit";
    public const string GetScalingRecord = Prefix + "state/get-scaling-record";
    public const string TryPutScalingRecord = Prefix + "state/try-put-scaling-record";
    public const string GetInstanceSeen = Prefix + "state/get-instance-seen";
    public const string TryPutInstanceSeen = Prefix + "state/try-put-instance-seen";
    public const string GetDrainMove = Prefix + "state/get-drain-move";
    public const string PutDrainMove = Prefix + "state/put-drain-move";
    public const string GetServicePlacement = Prefix + "state/get-service-placement";
    public const string PutServicePlacement = Prefix + "state/put-service-placement";
    public const string WriteBatch = Prefix + "state/write-batch";

    // IClusterObserver
    public const string Ec2InstanceId = Prefix + "cluster/ec2-instance-id";
    public const string DescribeServiceScaling = Prefix + "cluster/describe-service-scaling";
    public const string DescribeAlarmStates = Prefix + "cluster/describe-alarm-states";
    public const string DescribeAlarmNow = Prefix + "cluster/describe-alarm-now";
    public const string DescribeTaskTags = Prefix + "cluster/describe-task-tags";
    public const string ListTasksOnInstance = Prefix + "cluster/list-tasks-on-instance";
    public const string GetService = Prefix + "cluster/get-service";
    public const string GetContainerInstance = Prefix + "cluster/get-container-instance";
    public const string ListStoppedTasks = Prefix + "cluster/list-stopped-tasks";
    public const string ListContainerInstances = Prefix + "cluster/list-container-instances";

    // IEcsApi (the embedded cluster: nothing leaves the machine)
    public const string RunTask = Prefix + "ecs/run-task";
    public const string StopTask = Prefix + "ecs/stop-task";
    public const string UpdateService = Prefix + "ecs/update-service";

    // Queues
    public const string DelayQueue = Prefix + "delay-queue";
    public const string DeadLetters = Prefix + "dead-letters";

    /// <summary>Every path the protocol has, for the emulator's dispatch and the tests.</summary>
    public static readonly IReadOnlyList<string> Paths =
    [
        GetClaim, TryPutClaim, PutClaim, TryDeleteClaim, GetLineage, PutLineage, TakeSlot, Audit, GetScalingRecord, TryPutScalingRecord,
        GetInstanceSeen, TryPutInstanceSeen, GetDrainMove, PutDrainMove, GetServicePlacement, PutServicePlacement, WriteBatch,
        Ec2InstanceId, DescribeServiceScaling, DescribeAlarmStates, DescribeAlarmNow, DescribeTaskTags, ListTasksOnInstance, GetService, GetContainerInstance,
        ListStoppedTasks, ListContainerInstances, RunTask, StopTask, UpdateService, DelayQueue, DeadLetters,
    ];

    /// <summary>Header of the emulator's <c>next</c> response: the replay's simulated "now" for this invocation.</summary>
    public const string NowHeader = "Reflex-Local-Now";
}

public sealed record EventKeyRequest(string Key);
public sealed record LineageKeyRequest(string Cluster, string Lineage);
/// <summary>Relaunches to count in a cluster's minute: <see cref="Count"/> of them (one when absent or less than one).</summary>
public sealed record RelaunchSlotRequest(string Cluster, DateTimeOffset Minute, int Count = 1);
/// <summary>A container instance of a cluster (cluster ARN or policy cluster name, as the caller passes it).</summary>
public sealed record Ec2InstanceIdRequest(string ClusterArn, string ContainerInstanceArn);
/// <summary>A service of a cluster (cluster ARN or policy cluster name, service ARN or name, as the caller passes them).</summary>
public sealed record ServiceKeyRequest(string Cluster, string Service);
public sealed record ScalingRecordPutRequest(ServiceScalingRecord Record, long ExpectedVersion);
public sealed record AlarmNamesRequest(IReadOnlyList<string> AlarmNames);
/// <summary>A claim write and its condition (<see cref="ClaimCondition.HeldBy"/>: null for a free key).</summary>
public sealed record ClaimPutRequest(ClaimRecord Record, string? HeldBy);
public sealed record ClaimDeleteRequest(string Key, string Token);
/// <summary>A task of a cluster (cluster ARN, task ARN).</summary>
public sealed record TaskKeyRequest(string ClusterArn, string TaskArn);

public sealed record BoolResult(bool Value);
public sealed record CountResult(long Value);
public sealed record StringResult(string? Value);
public sealed record LineageResult(LineageRecord? Value);
public sealed record ClaimRecordResult(ClaimRecord? Value);
/// <summary>A claim written, or the record that refused it (<see cref="IStateStore.PutClaimAsync"/>).</summary>
public sealed record ClaimPutResult(bool Written, ClaimRecord? Holder);
public sealed record ScalingRecordResult(ServiceScalingRecord? Value);
public sealed record InstanceSeenResult(InstanceSeenRecord? Value);
public sealed record DrainMoveResult(DrainMoveRecord? Value);
public sealed record ServicePlacementResult(ServicePlacementRecord? Value);
public sealed record TasksResult(IReadOnlyList<ObservedTask> Value);
public sealed record StoppedTasksRequest(string ClusterArn, int MaxCalls);
/// <summary>
/// The stopped tasks of a cluster, each as the JSON of its STOPPED event (the bootstrap reads it with the event parser it
/// already has, rather than with serializer metadata for the task's every member, which the 6 MiB zip cannot afford).
/// </summary>
public sealed record StoppedEventsResult(IReadOnlyList<string> Events, int Calls, bool Truncated, string? Unavailable);
/// <summary>The container instances of a cluster, each as the JSON of the state change event that describes it now (as <see cref="StoppedEventsResult"/>).</summary>
public sealed record InstanceEventsResult(IReadOnlyList<string> Events, int Calls, bool Truncated, string? Unavailable);
public sealed record ServiceResult(ObservedService? Value);
public sealed record ContainerInstanceResult(ObservedContainerInstance? Value);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EventKeyRequest))]
[JsonSerializable(typeof(LineageKeyRequest))]
[JsonSerializable(typeof(RelaunchSlotRequest))]
[JsonSerializable(typeof(Ec2InstanceIdRequest))]
[JsonSerializable(typeof(ServiceKeyRequest))]
[JsonSerializable(typeof(ScalingRecordPutRequest))]
[JsonSerializable(typeof(AlarmNamesRequest))]
[JsonSerializable(typeof(ClaimPutRequest))]
[JsonSerializable(typeof(ClaimDeleteRequest))]
[JsonSerializable(typeof(ClaimRecordResult))]
[JsonSerializable(typeof(ClaimPutResult))]
[JsonSerializable(typeof(TaskKeyRequest))]
[JsonSerializable(typeof(TaskTagsObservation))]
[JsonSerializable(typeof(BoolResult))]
[JsonSerializable(typeof(CountResult))]
[JsonSerializable(typeof(StringResult))]
[JsonSerializable(typeof(LineageResult))]
[JsonSerializable(typeof(ScalingRecordResult))]
[JsonSerializable(typeof(InstanceSeenResult))]
[JsonSerializable(typeof(DrainMoveResult))]
[JsonSerializable(typeof(ServicePlacementResult))]
[JsonSerializable(typeof(TasksResult))]
[JsonSerializable(typeof(StoppedTasksRequest))]
[JsonSerializable(typeof(StoppedEventsResult))]
[JsonSerializable(typeof(InstanceEventsResult))]
[JsonSerializable(typeof(ServiceResult))]
[JsonSerializable(typeof(ContainerInstanceResult))]
[JsonSerializable(typeof(ServiceScalingView))]
[JsonSerializable(typeof(AlarmStatesObservation))]
[JsonSerializable(typeof(LineageRecord))]
[JsonSerializable(typeof(InstanceSeenRecord))]
[JsonSerializable(typeof(DrainMoveRecord))]
[JsonSerializable(typeof(ServicePlacementRecord))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(StateBatch))]
[JsonSerializable(typeof(DeadLetter))]
[JsonSerializable(typeof(RunTaskRequest))]
[JsonSerializable(typeof(StopTaskRequest))]
[JsonSerializable(typeof(UpdateServiceRequest))]
[JsonSerializable(typeof(RunTaskResponse))]
[JsonSerializable(typeof(StopTaskResponse))]
[JsonSerializable(typeof(UpdateServiceResponse))]
public sealed partial class LocalProtocolJsonContext : JsonSerializerContext;
