using System.Text.Json;
using System.Text.Json.Serialization;
using EcsReflex.Aws.Http;

namespace EcsReflex.Aws.AutoScaling;

// Shapes of the Application Auto Scaling API (2016-02-06) that EcsReflex uses, named after the official
// model. This service spells its members in PascalCase.

public sealed record DescribeScalableTargetsRequest
{
    public required string ServiceNamespace { get; init; }
    public IReadOnlyList<string>? ResourceIds { get; init; }
    public string? ScalableDimension { get; init; }
    public int? MaxResults { get; init; }
    public string? NextToken { get; init; }
}

public sealed record SuspendedState
{
    public bool? DynamicScalingInSuspended { get; init; }
    public bool? DynamicScalingOutSuspended { get; init; }
    public bool? ScheduledScalingSuspended { get; init; }
}

public sealed record ScalableTarget
{
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
    public int MinCapacity { get; init; }
    public int MaxCapacity { get; init; }
    public string? RoleARN { get; init; }
    public string? ScalableTargetARN { get; init; }
    [JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? CreationTime { get; init; }
    public SuspendedState? SuspendedState { get; init; }
}

public sealed record DescribeScalableTargetsResponse
{
    public IReadOnlyList<ScalableTarget> ScalableTargets { get; set; } = [];
    public string? NextToken { get; init; }
}

public sealed record DescribeScalingPoliciesRequest
{
    public IReadOnlyList<string>? PolicyNames { get; init; }
    public required string ServiceNamespace { get; init; }
    public string? ResourceId { get; init; }
    public string? ScalableDimension { get; init; }
    public int? MaxResults { get; init; }
    public string? NextToken { get; init; }
}

public sealed record StepAdjustment
{
    public double? MetricIntervalLowerBound { get; init; }
    public double? MetricIntervalUpperBound { get; init; }
    public int ScalingAdjustment { get; init; }
}

public sealed record StepScalingPolicyConfiguration
{
    public string? AdjustmentType { get; init; }
    public IReadOnlyList<StepAdjustment> StepAdjustments { get; set; } = [];
    public int? MinAdjustmentMagnitude { get; init; }
    public int? Cooldown { get; init; }
    public string? MetricAggregationType { get; init; }
}

public sealed record PredefinedMetricSpecification
{
    public required string PredefinedMetricType { get; init; }
    public string? ResourceLabel { get; init; }
}

public sealed record TargetTrackingScalingPolicyConfiguration
{
    public double TargetValue { get; init; }
    public PredefinedMetricSpecification? PredefinedMetricSpecification { get; init; }
    /// <summary>Kept as received; EcsReflex only needs to know that one is there.</summary>
    public JsonElement? CustomizedMetricSpecification { get; init; }
    public int? ScaleOutCooldown { get; init; }
    public int? ScaleInCooldown { get; init; }
    public bool? DisableScaleIn { get; init; }
}

public sealed record Alarm
{
    public required string AlarmName { get; init; }
    public string? AlarmARN { get; init; }
}

public sealed record ScalingPolicy
{
    public required string PolicyARN { get; init; }
    public required string PolicyName { get; init; }
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
    public required string PolicyType { get; init; }
    public StepScalingPolicyConfiguration? StepScalingPolicyConfiguration { get; init; }
    public TargetTrackingScalingPolicyConfiguration? TargetTrackingScalingPolicyConfiguration { get; init; }
    public IReadOnlyList<Alarm> Alarms { get; set; } = [];
    [JsonConverter(typeof(EpochSecondsConverter))] public DateTimeOffset? CreationTime { get; init; }
}

public sealed record DescribeScalingPoliciesResponse
{
    public IReadOnlyList<ScalingPolicy> ScalingPolicies { get; set; } = [];
    public string? NextToken { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(DescribeScalableTargetsRequest))]
[JsonSerializable(typeof(DescribeScalableTargetsResponse))]
[JsonSerializable(typeof(DescribeScalingPoliciesRequest))]
[JsonSerializable(typeof(DescribeScalingPoliciesResponse))]
public sealed partial class AutoScalingJsonContext : JsonSerializerContext;
