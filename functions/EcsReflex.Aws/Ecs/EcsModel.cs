using System.Text.Json;
using System.Text.Json.Serialization;
using EcsReflex.Aws.Http;
using EcsReflex.Core.Ecs;

namespace EcsReflex.Aws.Ecs;

// Shapes of the ECS API (2014-11-13) that EcsReflex reads and the describe/list requests it sends, named
// after the official model (operation, shape and member names). RunTask, StopTask and UpdateService
// requests are the core's own records (EcsReflex.Core.Ecs), sent unchanged. Members EcsReflex does not
// read are ignored when answers are parsed. Lists that answers may leave out have a setter (not init): the
// source generator sets init-only members through an object initializer, which would turn a missing list into null.

public sealed record DescribeTasksRequest
{
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }
    [JsonPropertyName("tasks")] public required IReadOnlyList<string> Tasks { get; init; }
    [JsonPropertyName("include")] public IReadOnlyList<string>? Include { get; init; }
}

public sealed record ListTasksRequest
{
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }
    [JsonPropertyName("containerInstance")] public string? ContainerInstance { get; init; }
    [JsonPropertyName("family")] public string? Family { get; init; }
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
    [JsonPropertyName("maxResults")] public int? MaxResults { get; init; }
    [JsonPropertyName("startedBy")] public string? StartedBy { get; init; }
    [JsonPropertyName("serviceName")] public string? ServiceName { get; init; }
    [JsonPropertyName("desiredStatus")] public string? DesiredStatus { get; init; }
    [JsonPropertyName("launchType")] public string? LaunchType { get; init; }
}

public sealed record DescribeServicesRequest
{
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }
    [JsonPropertyName("services")] public required IReadOnlyList<string> Services { get; init; }
    [JsonPropertyName("include")] public IReadOnlyList<string>? Include { get; init; }
}

public sealed record ListContainerInstancesRequest
{
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }
    [JsonPropertyName("filter")] public string? Filter { get; init; }
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
    [JsonPropertyName("maxResults")] public int? MaxResults { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
}

public sealed record DescribeContainerInstancesRequest
{
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }
    [JsonPropertyName("containerInstances")] public required IReadOnlyList<string> ContainerInstances { get; init; }
    [JsonPropertyName("include")] public IReadOnlyList<string>? Include { get; init; }
}

public sealed record Failure
{
    [JsonPropertyName("arn")] public string? Arn { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}

public sealed record KeyValuePair
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
}

public sealed record Attachment
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("details")] public IReadOnlyList<KeyValuePair> Details { get; set; } = [];
}

public sealed record Attribute
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
    [JsonPropertyName("targetType")] public string? TargetType { get; init; }
    [JsonPropertyName("targetId")] public string? TargetId { get; init; }
}

public sealed record Container
{
    [JsonPropertyName("containerArn")] public string? ContainerArn { get; init; }
    [JsonPropertyName("taskArn")] public string? TaskArn { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("image")] public string? Image { get; init; }
    [JsonPropertyName("lastStatus")] public string? LastStatus { get; init; }
    [JsonPropertyName("exitCode")] public int? ExitCode { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("healthStatus")] public string? HealthStatus { get; init; }
}

/// <summary>The ECS <c>Task</c> shape (named so to keep clear of <see cref="System.Threading.Tasks.Task"/>).</summary>
public sealed record EcsTask
{
    [JsonPropertyName("taskArn")] public required string TaskArn { get; init; }
    [JsonPropertyName("clusterArn")] public string? ClusterArn { get; init; }
    [JsonPropertyName("taskDefinitionArn")] public string? TaskDefinitionArn { get; init; }
    [JsonPropertyName("containerInstanceArn")] public string? ContainerInstanceArn { get; init; }
    [JsonPropertyName("group")] public string? Group { get; init; }
    [JsonPropertyName("startedBy")] public string? StartedBy { get; init; }
    [JsonPropertyName("lastStatus")] public string? LastStatus { get; init; }
    [JsonPropertyName("desiredStatus")] public string? DesiredStatus { get; init; }
    [JsonPropertyName("healthStatus")] public string? HealthStatus { get; init; }
    [JsonPropertyName("launchType")] public string? LaunchType { get; init; }
    [JsonPropertyName("capacityProviderName")] public string? CapacityProviderName { get; init; }
    [JsonPropertyName("cpu")] public string? Cpu { get; init; }
    [JsonPropertyName("memory")] public string? Memory { get; init; }
    [JsonPropertyName("availabilityZone")] public string? AvailabilityZone { get; init; }
    [JsonPropertyName("platformVersion")] public string? PlatformVersion { get; init; }
    [JsonPropertyName("stopCode")] public string? StopCode { get; init; }
    [JsonPropertyName("stoppedReason")] public string? StoppedReason { get; init; }
    [JsonPropertyName("version")] public long? Version { get; init; }
    [JsonPropertyName("enableExecuteCommand")] public bool? EnableExecuteCommand { get; init; }
    [JsonPropertyName("createdAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? CreatedAt { get; init; }
    [JsonPropertyName("startedAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? StartedAt { get; init; }
    [JsonPropertyName("stoppingAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? StoppingAt { get; init; }
    [JsonPropertyName("stoppedAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? StoppedAt { get; init; }
    [JsonPropertyName("containers")] public IReadOnlyList<Container> Containers { get; set; } = [];
    [JsonPropertyName("attachments")] public IReadOnlyList<Attachment> Attachments { get; set; } = [];
    [JsonPropertyName("attributes")] public IReadOnlyList<Attribute> Attributes { get; set; } = [];
    [JsonPropertyName("tags")] public IReadOnlyList<Tag> Tags { get; set; } = [];
    /// <summary>Kept as received: a relaunch sends it back unchanged.</summary>
    [JsonPropertyName("overrides")] public JsonElement? Overrides { get; init; }
}

public sealed record Resource
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("doubleValue")] public double? DoubleValue { get; init; }
    [JsonPropertyName("longValue")] public long? LongValue { get; init; }
    [JsonPropertyName("integerValue")] public long? IntegerValue { get; init; }
    [JsonPropertyName("stringSetValue")] public IReadOnlyList<string> StringSetValue { get; set; } = [];
}

public sealed record VersionInfo
{
    [JsonPropertyName("agentVersion")] public string? AgentVersion { get; init; }
    [JsonPropertyName("agentHash")] public string? AgentHash { get; init; }
    [JsonPropertyName("dockerVersion")] public string? DockerVersion { get; init; }
}

public sealed record ContainerInstance
{
    [JsonPropertyName("containerInstanceArn")] public required string ContainerInstanceArn { get; init; }
    [JsonPropertyName("ec2InstanceId")] public string? Ec2InstanceId { get; init; }
    [JsonPropertyName("capacityProviderName")] public string? CapacityProviderName { get; init; }
    [JsonPropertyName("version")] public long? Version { get; init; }
    [JsonPropertyName("versionInfo")] public VersionInfo? VersionInfo { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("statusReason")] public string? StatusReason { get; init; }
    [JsonPropertyName("agentConnected")] public bool? AgentConnected { get; init; }
    [JsonPropertyName("runningTasksCount")] public int RunningTasksCount { get; init; }
    [JsonPropertyName("pendingTasksCount")] public int PendingTasksCount { get; init; }
    [JsonPropertyName("registeredAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? RegisteredAt { get; init; }
    [JsonPropertyName("attributes")] public IReadOnlyList<Attribute> Attributes { get; set; } = [];
    [JsonPropertyName("registeredResources")] public IReadOnlyList<Resource> RegisteredResources { get; set; } = [];
    [JsonPropertyName("remainingResources")] public IReadOnlyList<Resource> RemainingResources { get; set; } = [];
    [JsonPropertyName("tags")] public IReadOnlyList<Tag> Tags { get; set; } = [];
}

public sealed record Service
{
    [JsonPropertyName("serviceArn")] public required string ServiceArn { get; init; }
    [JsonPropertyName("serviceName")] public required string ServiceName { get; init; }
    [JsonPropertyName("clusterArn")] public string? ClusterArn { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("desiredCount")] public int DesiredCount { get; init; }
    [JsonPropertyName("runningCount")] public int RunningCount { get; init; }
    [JsonPropertyName("pendingCount")] public int PendingCount { get; init; }
    [JsonPropertyName("launchType")] public string? LaunchType { get; init; }
    [JsonPropertyName("platformVersion")] public string? PlatformVersion { get; init; }
    [JsonPropertyName("taskDefinition")] public string? TaskDefinition { get; init; }
    [JsonPropertyName("schedulingStrategy")] public string? SchedulingStrategy { get; init; }
    [JsonPropertyName("createdAt"), JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? CreatedAt { get; init; }
    [JsonPropertyName("capacityProviderStrategy")] public IReadOnlyList<CapacityProviderStrategyItem> CapacityProviderStrategy { get; set; } = [];
    [JsonPropertyName("placementConstraints")] public IReadOnlyList<PlacementConstraint> PlacementConstraints { get; set; } = [];
    [JsonPropertyName("placementStrategy")] public IReadOnlyList<PlacementStrategy> PlacementStrategy { get; set; } = [];
    [JsonPropertyName("tags")] public IReadOnlyList<Tag> Tags { get; set; } = [];
}

public sealed record RunTaskResponse
{
    [JsonPropertyName("tasks")] public IReadOnlyList<EcsTask> Tasks { get; set; } = [];
    [JsonPropertyName("failures")] public IReadOnlyList<Failure> Failures { get; set; } = [];
}

public sealed record StopTaskResponse
{
    [JsonPropertyName("task")] public EcsTask? Task { get; init; }
}

public sealed record UpdateServiceResponse
{
    [JsonPropertyName("service")] public Service? Service { get; init; }
}

public sealed record DescribeTasksResponse
{
    [JsonPropertyName("tasks")] public IReadOnlyList<EcsTask> Tasks { get; set; } = [];
    [JsonPropertyName("failures")] public IReadOnlyList<Failure> Failures { get; set; } = [];
}

public sealed record ListTasksResponse
{
    [JsonPropertyName("taskArns")] public IReadOnlyList<string> TaskArns { get; set; } = [];
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
}

public sealed record DescribeServicesResponse
{
    [JsonPropertyName("services")] public IReadOnlyList<Service> Services { get; set; } = [];
    [JsonPropertyName("failures")] public IReadOnlyList<Failure> Failures { get; set; } = [];
}

public sealed record ListContainerInstancesResponse
{
    [JsonPropertyName("containerInstanceArns")] public IReadOnlyList<string> ContainerInstanceArns { get; set; } = [];
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
}

public sealed record DescribeContainerInstancesResponse
{
    [JsonPropertyName("containerInstances")] public IReadOnlyList<ContainerInstance> ContainerInstances { get; set; } = [];
    [JsonPropertyName("failures")] public IReadOnlyList<Failure> Failures { get; set; } = [];
}

/// <summary>
/// Source-generated (AOT-safe) serialisation of the ECS shapes (the core's RunTask, StopTask and UpdateService
/// requests go out through the core's own <see cref="EcsRequestJsonContext"/>, byte for byte what is printed). Nulls are not written; an answer that puts
/// null where the model promises a list or a required member is malformed (it fails to parse, and the client
/// reports <see cref="AwsErrorKind.MalformedResponse"/>).
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(DescribeTasksRequest))]
[JsonSerializable(typeof(ListTasksRequest))]
[JsonSerializable(typeof(DescribeServicesRequest))]
[JsonSerializable(typeof(ListContainerInstancesRequest))]
[JsonSerializable(typeof(DescribeContainerInstancesRequest))]
[JsonSerializable(typeof(RunTaskResponse))]
[JsonSerializable(typeof(StopTaskResponse))]
[JsonSerializable(typeof(UpdateServiceResponse))]
[JsonSerializable(typeof(DescribeTasksResponse))]
[JsonSerializable(typeof(ListTasksResponse))]
[JsonSerializable(typeof(DescribeServicesResponse))]
[JsonSerializable(typeof(ListContainerInstancesResponse))]
[JsonSerializable(typeof(DescribeContainerInstancesResponse))]
public sealed partial class EcsJsonContext : JsonSerializerContext;
