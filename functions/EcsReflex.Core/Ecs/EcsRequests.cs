using System.Text.Json;
using System.Text.Json.Serialization;

namespace EcsReflex.Core.Ecs;

// Request shapes EcsReflex sends, named after the official ECS API (operation and member names).
// They are plain data so decisions stay pure; the AWS adapter serialises them unchanged.

public sealed record Tag([property: JsonPropertyName("key")] string Key, [property: JsonPropertyName("value")] string Value);

public sealed record PlacementConstraint
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("expression")] public string? Expression { get; init; }
}

public sealed record PlacementStrategy
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("field")] public string? Field { get; init; }
}

public sealed record CapacityProviderStrategyItem
{
    [JsonPropertyName("capacityProvider")] public required string CapacityProvider { get; init; }
    [JsonPropertyName("weight")] public int? Weight { get; init; }
    [JsonPropertyName("base")] public int? Base { get; init; }
}

public sealed record AwsVpcConfiguration
{
    [JsonPropertyName("subnets")] public required IReadOnlyList<string> Subnets { get; init; }
    [JsonPropertyName("securityGroups")] public IReadOnlyList<string>? SecurityGroups { get; init; }
    [JsonPropertyName("assignPublicIp")] public string? AssignPublicIp { get; init; }
}

public sealed record NetworkConfiguration
{
    [JsonPropertyName("awsvpcConfiguration")] public required AwsVpcConfiguration AwsvpcConfiguration { get; init; }
}

/// <summary>RunTask's <c>TaskVolumeConfiguration</c>: a volume of the task definition that is <c>configuredAtLaunch</c>.</summary>
public sealed record TaskVolumeConfiguration
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("managedEBSVolume")] public TaskManagedEbsVolumeConfiguration? ManagedEbsVolume { get; init; }
}

/// <summary>RunTask's <c>TaskManagedEBSVolumeConfiguration</c>: the Amazon EBS volume ECS creates for the task.</summary>
public sealed record TaskManagedEbsVolumeConfiguration
{
    [JsonPropertyName("encrypted")] public bool? Encrypted { get; init; }
    [JsonPropertyName("kmsKeyId")] public string? KmsKeyId { get; init; }
    [JsonPropertyName("volumeType")] public string? VolumeType { get; init; }
    [JsonPropertyName("sizeInGiB")] public int? SizeInGiB { get; init; }
    [JsonPropertyName("snapshotId")] public string? SnapshotId { get; init; }
    [JsonPropertyName("volumeInitializationRate")] public int? VolumeInitializationRate { get; init; }
    [JsonPropertyName("iops")] public int? Iops { get; init; }
    [JsonPropertyName("throughput")] public int? Throughput { get; init; }
    [JsonPropertyName("tagSpecifications")] public IReadOnlyList<EbsTagSpecification>? TagSpecifications { get; init; }
    [JsonPropertyName("roleArn")] public required string RoleArn { get; init; }
    [JsonPropertyName("terminationPolicy")] public TaskManagedEbsVolumeTerminationPolicy? TerminationPolicy { get; init; }
    [JsonPropertyName("filesystemType")] public string? FilesystemType { get; init; }
}

/// <summary><c>EBSTagSpecification</c>: tags for the volume ECS creates.</summary>
public sealed record EbsTagSpecification
{
    [JsonPropertyName("resourceType")] public required string ResourceType { get; init; }
    [JsonPropertyName("tags")] public IReadOnlyList<Tag>? Tags { get; init; }
    [JsonPropertyName("propagateTags")] public string? PropagateTags { get; init; }
}

/// <summary><c>TaskManagedEBSVolumeTerminationPolicy</c>.</summary>
public sealed record TaskManagedEbsVolumeTerminationPolicy
{
    [JsonPropertyName("deleteOnTermination")] public required bool DeleteOnTermination { get; init; }
}

/// <summary>Marker for every request an action carries; <see cref="ActionJson"/> writes each exactly.</summary>
public abstract record ActionRequest;

public sealed record RunTaskRequest : ActionRequest
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("taskDefinition")] public required string TaskDefinition { get; init; }
    [JsonPropertyName("count")] public int Count { get; init; } = 1;
    [JsonPropertyName("group")] public string? Group { get; init; }
    [JsonPropertyName("startedBy")] public string? StartedBy { get; init; }
    [JsonPropertyName("launchType")] public string? LaunchType { get; init; }
    [JsonPropertyName("capacityProviderStrategy")] public IReadOnlyList<CapacityProviderStrategyItem>? CapacityProviderStrategy { get; init; }
    [JsonPropertyName("platformVersion")] public string? PlatformVersion { get; init; }
    [JsonPropertyName("enableExecuteCommand")] public bool? EnableExecuteCommand { get; init; }
    [JsonPropertyName("networkConfiguration")] public NetworkConfiguration? NetworkConfiguration { get; init; }
    [JsonPropertyName("overrides")] public JsonElement? Overrides { get; init; }
    [JsonPropertyName("placementConstraints")] public IReadOnlyList<PlacementConstraint>? PlacementConstraints { get; init; }
    [JsonPropertyName("placementStrategy")] public IReadOnlyList<PlacementStrategy>? PlacementStrategy { get; init; }
    [JsonPropertyName("tags")] public IReadOnlyList<Tag>? Tags { get; init; }
    [JsonPropertyName("enableECSManagedTags")] public bool? EnableEcsManagedTags { get; init; }
    [JsonPropertyName("propagateTags")] public string? PropagateTags { get; init; }
    [JsonPropertyName("volumeConfigurations")] public IReadOnlyList<TaskVolumeConfiguration>? VolumeConfigurations { get; init; }
    [JsonPropertyName("clientToken")] public string? ClientToken { get; init; }
}

public sealed record StopTaskRequest : ActionRequest
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("task")] public required string Task { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
}

public sealed record UpdateServiceRequest : ActionRequest
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("service")] public required string Service { get; init; }
    [JsonPropertyName("desiredCount")] public int? DesiredCount { get; init; }
    [JsonPropertyName("placementConstraints")] public IReadOnlyList<PlacementConstraint>? PlacementConstraints { get; init; }
    [JsonPropertyName("placementStrategy")] public IReadOnlyList<PlacementStrategy>? PlacementStrategy { get; init; }
}

/// <summary>EcsReflex's own record that a task lineage was given up: logged, counted, never sent to AWS.</summary>
public sealed record GiveUpRequest : ActionRequest
{
    [JsonPropertyName("cluster")] public required string Cluster { get; init; }
    [JsonPropertyName("taskArn")] public required string TaskArn { get; init; }
    [JsonPropertyName("lineage")] public required string Lineage { get; init; }
    [JsonPropertyName("attempt")] public required int Attempt { get; init; }
    [JsonPropertyName("maxAttempts")] public required int MaxAttempts { get; init; }
    [JsonPropertyName("rule")] public required string Rule { get; init; }
    [JsonPropertyName("reason")] public required string Reason { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunTaskRequest))]
[JsonSerializable(typeof(StopTaskRequest))]
[JsonSerializable(typeof(UpdateServiceRequest))]
[JsonSerializable(typeof(GiveUpRequest))]
public sealed partial class EcsRequestJsonContext : JsonSerializerContext;

public static class ActionJson
{
    /// <summary>Writes the exact request body of <paramref name="request"/>.</summary>
    public static void Write(Utf8JsonWriter writer, ActionRequest request)
    {
        var ctx = EcsRequestJsonContext.Default;
        switch (request)
        {
            case RunTaskRequest r: JsonSerializer.Serialize(writer, r, ctx.RunTaskRequest); break;
            case StopTaskRequest r: JsonSerializer.Serialize(writer, r, ctx.StopTaskRequest); break;
            case UpdateServiceRequest r: JsonSerializer.Serialize(writer, r, ctx.UpdateServiceRequest); break;
            case GiveUpRequest r: JsonSerializer.Serialize(writer, r, ctx.GiveUpRequest); break;
            default: throw new NotSupportedException($"no serializer for {request.GetType().Name}");
        }
    }

    public static string ToJson(ActionRequest request)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, request);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
