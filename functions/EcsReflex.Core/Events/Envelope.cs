using System.Text.Json;

namespace EcsReflex.Core.Events;

/// <summary>The EventBridge envelope around every event EcsReflex reads.</summary>
public sealed record EventEnvelope
{
    public required string Version { get; init; }
    public required string Id { get; init; }
    public required string DetailType { get; init; }
    public required string Source { get; init; }
    public string? Account { get; init; }
    /// <summary>Envelope time. Some published snippets omit it: see <see cref="EffectiveTime"/>.</summary>
    public DateTimeOffset? Time { get; init; }
    public string? Region { get; init; }
    public IReadOnlyList<string> Resources { get; init; } = [];
    public required EventDetail Detail { get; init; }

    /// <summary>The envelope time, or, when absent, the newest timestamp the detail carries.</summary>
    public DateTimeOffset? EffectiveTime => Time ?? Detail.Timestamp;
}

/// <summary>Base of the typed details. <see cref="Timestamp"/> is the detail's own notion of "when".</summary>
public abstract record EventDetail
{
    public abstract DateTimeOffset? Timestamp { get; }
}

public static class DetailTypes
{
    public const string TaskStateChange = "ECS Task State Change";
    public const string ContainerInstanceStateChange = "ECS Container Instance State Change";
    public const string ServiceAction = "ECS Service Action";
    public const string DeploymentStateChange = "ECS Deployment State Change";
    public const string AlarmStateChange = "CloudWatch Alarm State Change";
    public const string EcsSource = "aws.ecs";
    public const string CloudWatchSource = "aws.cloudwatch";
    /// <summary>An EventBridge schedule's event (a <c>rate()</c> or <c>cron()</c> rule): what starts the reconciler's sweep.</summary>
    public const string ScheduledEvent = "Scheduled Event";
    public const string EventsSource = "aws.events";
}

/// <summary>
/// EventBridge's <c>Scheduled Event</c> (source <c>aws.events</c>, an empty detail): the reconciler's sweep is due. The
/// envelope's time is when; <see cref="Rules"/> the schedule rules that fired it (the envelope's <c>resources</c>).
/// </summary>
public sealed record ScheduledEvent(IReadOnlyList<string> Rules) : EventDetail
{
    public override DateTimeOffset? Timestamp => null;
}

public sealed record KeyValue(string Name, string? Value);

// ---------------- ECS Task State Change ----------------

public sealed record TaskStateChange : EventDetail
{
    public required string ClusterArn { get; init; }
    public required string TaskArn { get; init; }
    public string? TaskDefinitionArn { get; init; }
    public string? Group { get; init; }
    public string? StartedBy { get; init; }
    public required string LastStatus { get; init; }
    public string? DesiredStatus { get; init; }
    public string? StopCode { get; init; }
    public string? StoppedReason { get; init; }
    public string? LaunchType { get; init; }
    public string? CapacityProviderName { get; init; }
    public string? PlatformVersion { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? ContainerInstanceArn { get; init; }
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    public bool? EnableExecuteCommand { get; init; }
    /// <summary><c>detail.version</c>: grows with every change of the task.</summary>
    public long? Version { get; init; }
    public IReadOnlyList<ContainerDetail> Containers { get; init; } = [];
    /// <summary>The task's overrides exactly as received, to be sent back unchanged on a relaunch.</summary>
    public JsonElement? Overrides { get; init; }
    public IReadOnlyList<Attachment> Attachments { get; init; } = [];
    public IReadOnlyList<KeyValue> Attributes { get; init; } = [];
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? StoppingAt { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    public override DateTimeOffset? Timestamp => UpdatedAt ?? StoppedAt ?? StartedAt ?? CreatedAt;

    /// <summary>The last segment of the task ARN (the task id), computed once: the handlers ask often.</summary>
    public string TaskId => field ??= Arns.LastSegment(TaskArn);
}

public sealed record ContainerDetail
{
    public string? Name { get; init; }
    public string? ContainerArn { get; init; }
    public string? LastStatus { get; init; }
    public int? ExitCode { get; init; }
    public string? Reason { get; init; }
    public string? Image { get; init; }
}

public sealed record Attachment
{
    public string? Id { get; init; }
    public string? Type { get; init; }
    public string? Status { get; init; }
    public IReadOnlyList<KeyValue> Details { get; init; } = [];
}

// ---------------- ECS Container Instance State Change ----------------

public sealed record ContainerInstanceStateChange : EventDetail
{
    public required string ClusterArn { get; init; }
    public required string ContainerInstanceArn { get; init; }
    public string? Ec2InstanceId { get; init; }
    public required string Status { get; init; }
    public string? StatusReason { get; init; }
    public bool? AgentConnected { get; init; }
    public long? Version { get; init; }
    public IReadOnlyList<KeyValue> Attributes { get; init; } = [];
    public IReadOnlyList<InstanceResource> RegisteredResources { get; init; } = [];
    public IReadOnlyList<InstanceResource> RemainingResources { get; init; } = [];
    public int? RunningTasksCount { get; init; }
    public int? PendingTasksCount { get; init; }
    public DateTimeOffset? RegisteredAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    public override DateTimeOffset? Timestamp => UpdatedAt;
}

public sealed record InstanceResource
{
    public required string Name { get; init; }
    public string? Type { get; init; }
    public long? IntegerValue { get; init; }
    public double? DoubleValue { get; init; }
    public long? LongValue { get; init; }
    public IReadOnlyList<string> StringSetValue { get; init; } = [];
}

// ---------------- ECS Service Action ----------------

public sealed record ServiceAction : EventDetail
{
    public string? EventType { get; init; }
    public required string EventName { get; init; }
    /// <summary>From <c>detail.clusterArn</c>, or derived from the service ARN in <c>resources</c>.</summary>
    public string? ClusterArn { get; init; }
    /// <summary>The service ARN, from <c>resources</c>.</summary>
    public string? ServiceArn { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<string> CapacityProviderArns { get; init; } = [];
    public IReadOnlyList<string> ContainerInstanceArns { get; init; } = [];
    public int? DesiredCount { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }

    public override DateTimeOffset? Timestamp => CreatedAt;
}

// ---------------- ECS Deployment State Change ----------------

public sealed record DeploymentStateChange : EventDetail
{
    public string? EventType { get; init; }
    public required string EventName { get; init; }
    public string? DeploymentId { get; init; }
    /// <summary>From <c>detail.clusterArn</c> when present, else derived from the service ARN.</summary>
    public string? ClusterArn { get; init; }
    public string? ServiceArn { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    public override DateTimeOffset? Timestamp => UpdatedAt;
}

// ---------------- CloudWatch Alarm State Change ----------------

public sealed record AlarmStateChange : EventDetail
{
    public required string AlarmName { get; init; }
    /// <summary>The alarm ARN, from <c>resources</c>.</summary>
    public string? AlarmArn { get; init; }
    public required AlarmState State { get; init; }
    public AlarmState? PreviousState { get; init; }
    public AlarmConfiguration? Configuration { get; init; }

    public override DateTimeOffset? Timestamp => State.Timestamp;
}

public sealed record AlarmState
{
    /// <summary><c>OK</c>, <c>ALARM</c> or <c>INSUFFICIENT_DATA</c>.</summary>
    public required string Value { get; init; }
    public string? Reason { get; init; }
    /// <summary>The raw <c>reasonData</c> string.</summary>
    public string? ReasonDataJson { get; init; }
    /// <summary><c>reasonData</c> parsed, where it held datapoints or a threshold.</summary>
    public AlarmReasonData? ReasonData { get; init; }
    public DateTimeOffset? Timestamp { get; init; }
    public string? ActionsSuppressedBy { get; init; }
}

public sealed record AlarmReasonData
{
    public IReadOnlyList<double> RecentDatapoints { get; init; } = [];
    public double? Threshold { get; init; }
    public string? Statistic { get; init; }
    public int? Period { get; init; }
    public IReadOnlyList<string> TriggeringAlarmArns { get; init; } = [];

    /// <summary>The newest datapoint: CloudWatch lists them oldest first.</summary>
    public double? NewestDatapoint => RecentDatapoints.Count > 0 ? RecentDatapoints[^1] : null;
}

public enum AlarmKind { SingleMetric, MetricMath, Composite, Unknown }

public sealed record AlarmConfiguration
{
    public string? Description { get; init; }
    public IReadOnlyList<AlarmMetric> Metrics { get; init; } = [];
    public string? AlarmRule { get; init; }

    public AlarmKind Kind =>
        AlarmRule is not null ? AlarmKind.Composite
        : Metrics.Any(m => m.Expression is not null) ? AlarmKind.MetricMath
        : Metrics.Count > 0 ? AlarmKind.SingleMetric
        : AlarmKind.Unknown;
}

public sealed record AlarmMetric
{
    public required string Id { get; init; }
    public string? Expression { get; init; }
    public string? Label { get; init; }
    public bool? ReturnData { get; init; }
    public string? Namespace { get; init; }
    public string? MetricName { get; init; }
    public IReadOnlyDictionary<string, string> Dimensions { get; init; } = new Dictionary<string, string>();
    public int? Period { get; init; }
    public string? Stat { get; init; }
}
