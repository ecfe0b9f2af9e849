using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Observed;

// What EcsReflex observes of a cluster, in the shapes `aws ecs describe-*` prints. Plain data: the
// replay's embedded cluster holds them, the AWS adapter fills them from the live account, and the
// core's decisions read them.

public sealed record ObservedService
{
    public required string ServiceArn { get; init; }
    public required string ServiceName { get; init; }
    public string? ClusterArn { get; init; }
    public string? Status { get; init; }
    public int DesiredCount { get; init; }
    public int RunningCount { get; init; }
    public int PendingCount { get; init; }
    public string? LaunchType { get; init; }
    public IReadOnlyList<CapacityProviderStrategyItem> CapacityProviderStrategy { get; init; } = [];
    public IReadOnlyList<PlacementConstraint> PlacementConstraints { get; init; } = [];
    public IReadOnlyList<PlacementStrategy> PlacementStrategy { get; init; } = [];
}

public sealed record ObservedTask
{
    public required string TaskArn { get; init; }
    public string? ClusterArn { get; init; }
    public string? TaskDefinitionArn { get; init; }
    public string? ContainerInstanceArn { get; init; }
    public string? Group { get; init; }
    public string? StartedBy { get; init; }
    public string? LastStatus { get; init; }
    public string? DesiredStatus { get; init; }
    public string? LaunchType { get; init; }
    public string? CapacityProviderName { get; init; }
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? PlatformVersion { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public IReadOnlyList<Tag> Tags { get; init; } = [];
    /// <summary>The task's overrides as described, sent back unchanged when the task is replaced.</summary>
    public System.Text.Json.JsonElement? Overrides { get; init; }
    public bool? EnableExecuteCommand { get; init; }
    public IReadOnlyList<Attachment> Attachments { get; init; } = [];
    /// <summary><c>version</c>: grows with every change of the task.</summary>
    public long? Version { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    public string? StopCode { get; init; }
    public string? StoppedReason { get; init; }
    /// <summary>The containers as described (names, statuses, exit codes): a stopped task's say why it stopped.</summary>
    public IReadOnlyList<ContainerDetail> Containers { get; init; } = [];
}

public sealed record ObservedContainerInstance
{
    /// <summary>
    /// The instance as the state change event that describes it now would carry it (the reconciler's sweep decides a drain
    /// or a disconnect no event said as that event); <paramref name="clusterArn"/> when the instance's own is not known.
    /// </summary>
    public Events.ContainerInstanceStateChange ToStateChange(string clusterArn) => new()
    {
        ClusterArn = ClusterArn ?? clusterArn,
        ContainerInstanceArn = ContainerInstanceArn,
        Ec2InstanceId = Ec2InstanceId,
        Status = Status ?? "ACTIVE",
        AgentConnected = AgentConnected,
        Version = Version,
        Attributes = Attributes,
        RegisteredResources = RegisteredResources,
        RemainingResources = RemainingResources,
        RunningTasksCount = RunningTasksCount,
        PendingTasksCount = PendingTasksCount,
        RegisteredAt = RegisteredAt,
    };

    public required string ContainerInstanceArn { get; init; }
    /// <summary>
    /// The cluster the instance is registered in. <c>describe-container-instances</c> does not print it: the snapshot
    /// reader takes it from a new-format ARN (<c>container-instance/CLUSTER/ID</c>), else from the tasks the snapshot
    /// says run on the instance, else from the output's <c>cluster</c> key; an event about the instance says it too.
    /// Null: unknown, and the embedded cluster places nothing on the instance.
    /// </summary>
    public string? ClusterArn { get; init; }
    public string? Ec2InstanceId { get; init; }
    public string? Status { get; init; }
    public bool? AgentConnected { get; init; }
    public long? Version { get; init; }
    public IReadOnlyList<KeyValue> Attributes { get; init; } = [];
    public IReadOnlyList<InstanceResource> RegisteredResources { get; init; } = [];
    public IReadOnlyList<InstanceResource> RemainingResources { get; init; } = [];
    public int RunningTasksCount { get; init; }
    public int PendingTasksCount { get; init; }
    public DateTimeOffset? RegisteredAt { get; init; }
    /// <summary>The capacity provider the instance belongs to, when it was registered through one.</summary>
    public string? CapacityProviderName { get; init; }
    /// <summary><c>versionInfo.agentVersion</c>: the ECS container agent version.</summary>
    public string? AgentVersion { get; init; }

    public string? Attribute(string name)
    {
        for (var i = 0; i < Attributes.Count; i++)
            if (Attributes[i].Name == name) return Attributes[i].Value;
        return null;
    }
}

/// <summary>An Application Auto Scaling scalable target, as `describe-scalable-targets` prints it.</summary>
public sealed record ObservedScalableTarget
{
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
    public int MinCapacity { get; init; }
    public int MaxCapacity { get; init; }
}

public sealed record ClusterSnapshot
{
    public IReadOnlyList<ObservedService> Services { get; init; } = [];
    public IReadOnlyList<ObservedTask> Tasks { get; init; } = [];
    public IReadOnlyList<ObservedContainerInstance> ContainerInstances { get; init; } = [];
    public IReadOnlyList<ObservedScalableTarget> ScalableTargets { get; init; } = [];

    public static readonly ClusterSnapshot Empty = new();
}

/// <summary>
/// A task's own tags as <c>aws ecs describe-tasks --include TAGS</c> prints them (the events do not carry tags), or
/// why they could not be read (<see cref="Unavailable"/>: the read failed, or ECS no longer describes the task).
/// </summary>
public sealed record TaskTagsObservation(IReadOnlyList<Tag> Tags, string? Unavailable)
{
    public static TaskTagsObservation Read(IReadOnlyList<Tag> tags) => new(tags, null);
    public static TaskTagsObservation None(string why) => new([], why);
}

/// <summary>
/// The stopped tasks of one cluster ECS still describes (for about an hour after they stop), as their STOPPED events would
/// carry them: what the reconciler's sweep reads (live: <c>ListTasks desiredStatus=STOPPED</c> then <c>DescribeTasks</c>).
/// </summary>
/// <param name="Calls">The API calls the read took.</param>
/// <param name="Truncated">True when the call budget ran out before the last page: the rest waits for the next sweep.</param>
/// <param name="Unavailable">Why they could not be read, or null.</param>
public sealed record StoppedTasksObservation(IReadOnlyList<Events.TaskStateChange> Tasks, int Calls, bool Truncated = false, string? Unavailable = null)
{
    public static StoppedTasksObservation None(string why) => new([], 0, false, why);
}

/// <summary>
/// The container instances of a cluster (ACTIVE and DRAINING) as the reconciler's sweep read them, each as the state
/// change event that would describe it now; <paramref name="Calls"/> API calls; <paramref name="Truncated"/> when the call
/// budget ran out first; <paramref name="Unavailable"/> when a read failed (what was read before it is kept).
/// </summary>
public sealed record ContainerInstancesObservation(IReadOnlyList<Events.ContainerInstanceStateChange> Instances, int Calls, bool Truncated = false, string? Unavailable = null)
{
    public static ContainerInstancesObservation None(string why) => new([], 0, false, why);
}
