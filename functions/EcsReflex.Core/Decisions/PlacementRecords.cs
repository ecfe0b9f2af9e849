namespace EcsReflex.Core.Decisions;

// What the placement guard remembers between events. Declared by its decisions (InstanceSeenWrite,
// DrainMoveWrite, ServicePlacementWrite), committed by the engine's actuator; read back into the
// observation records of the next decision.

/// <summary>The last state change seen for a container instance: staleness and the disconnect grace are judged against it.</summary>
public sealed record InstanceSeenRecord
{
    public required string Cluster { get; init; }
    public required string ContainerInstanceArn { get; init; }
    /// <summary><c>detail.version</c> of the last event taken into account.</summary>
    public long? Version { get; init; }
    public string? Status { get; init; }
    public bool? AgentConnected { get; init; }
    /// <summary>When the agent was first seen disconnected, while it stays disconnected; null when connected.</summary>
    public DateTimeOffset? DisconnectedSince { get; init; }
    public DateTimeOffset SeenAt { get; init; }
    /// <summary>
    /// The EC2 instance behind the container instance, as its events say (<c>ec2InstanceId</c>): what the rescheduler
    /// places a failed task's relaunch away from, read from here instead of asking ECS (issue 17). Null in a record
    /// written before it was kept, or from an event without it.
    /// </summary>
    public string? Ec2InstanceId { get; init; }
}

/// <summary>Why a task is being moved off its container instance.</summary>
public enum DrainReason
{
    /// <summary>The instance is DRAINING: the original is stopped once the replacement is RUNNING.</summary>
    Draining,
    /// <summary>The agent stayed disconnected past the grace: the original cannot be reached and is left to ECS.</summary>
    AgentDisconnected,
}

/// <summary>
/// A make-before-break move: a replacement started for <see cref="OriginalTaskArn"/>, keyed by the task
/// lineage the replacement carries on (<c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>), so its RUNNING event
/// finds the original to stop whatever task ARN ECS gave it.
/// </summary>
public sealed record DrainMoveRecord
{
    public required string Cluster { get; init; }
    public required string Lineage { get; init; }
    public required string Rule { get; init; }
    public required string OriginalTaskArn { get; init; }
    public required string ContainerInstanceArn { get; init; }
    public string? Ec2InstanceId { get; init; }
    public DrainReason Reason { get; init; }
    public required string ReplacementStartedBy { get; init; }
    public required string ReplacementClientToken { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When the original is stopped even if the replacement is not RUNNING (drain.stopOriginalAfterSeconds).</summary>
    public DateTimeOffset? StopOriginalAt { get; init; }
    public string? ReplacementTaskArn { get; init; }
    public DateTimeOffset? ReplacementRunningAt { get; init; }
    public DateTimeOffset? OriginalStoppedAt { get; init; }

    /// <summary>The original cannot be reached (its agent is disconnected): it is left to ECS.</summary>
    public bool LeaveOriginal => Reason == DrainReason.AgentDisconnected;

    /// <summary>Nothing more to do: the original was stopped, or it is left to ECS and the replacement runs.</summary>
    public bool Done => OriginalStoppedAt is not null || (LeaveOriginal && ReplacementRunningAt is not null);
}

/// <summary>A service's placement state: when the fallback placement was applied, if it is in effect.</summary>
public sealed record ServicePlacementRecord
{
    public required string Cluster { get; init; }
    public required string Service { get; init; }
    /// <summary>When EcsReflex switched the service to its fallback placement; null when the preferred placement is in effect.</summary>
    public DateTimeOffset? FallbackAppliedAt { get; init; }
    /// <summary>The placement failure that caused the switch.</summary>
    public string? FallbackReason { get; init; }
}
