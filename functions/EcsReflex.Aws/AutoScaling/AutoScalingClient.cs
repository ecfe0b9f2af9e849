using EcsReflex.Aws.Config;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;
using EcsReflex.Core.Observed;

namespace EcsReflex.Aws.AutoScaling;

/// <summary>
/// Application Auto Scaling over AWS JSON 1.1 (target prefix <c>AnyScaleFrontendService</c>): what EcsReflex
/// reads to learn whether a service's scaling is owned by an Application Auto Scaling policy.
/// </summary>
public sealed class AutoScalingClient(AwsTransport transport)
{
    public const string EcsNamespace = "ecs";
    public const string DesiredCountDimension = "ecs:service:DesiredCount";

    private static readonly AutoScalingJsonContext Json = AutoScalingJsonContext.Default;

    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.ApplicationAutoScaling, "DescribeScalableTargets", request,
            Json.DescribeScalableTargetsRequest, Json.DescribeScalableTargetsResponse, ct);

    public Task<DescribeScalingPoliciesResponse> DescribeScalingPoliciesAsync(DescribeScalingPoliciesRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.ApplicationAutoScaling, "DescribeScalingPolicies", request,
            Json.DescribeScalingPoliciesRequest, Json.DescribeScalingPoliciesResponse, ct);

    /// <summary>Every scalable target, following <c>NextToken</c>.</summary>
    public Task<IReadOnlyList<ScalableTarget>> DescribeAllScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken ct) =>
        Paging.AllAsync(AwsService.ApplicationAutoScaling, "DescribeScalableTargets", request.NextToken,
            token => DescribeScalableTargetsAsync(request with { NextToken = token }, ct), r => r.ScalableTargets, r => r.NextToken);

    /// <summary>Every scaling policy, following <c>NextToken</c>.</summary>
    public Task<IReadOnlyList<ScalingPolicy>> DescribeAllScalingPoliciesAsync(DescribeScalingPoliciesRequest request, CancellationToken ct) =>
        Paging.AllAsync(AwsService.ApplicationAutoScaling, "DescribeScalingPolicies", request.NextToken,
            token => DescribeScalingPoliciesAsync(request with { NextToken = token }, ct), r => r.ScalingPolicies, r => r.NextToken);

    /// <summary>The resource id Application Auto Scaling gives an ECS service: <c>service/CLUSTER/SERVICE</c>.</summary>
    public static string ServiceResourceId(string cluster, string service) =>
        $"service/{Core.Arns.ClusterName(cluster)}/{Core.Arns.ServiceName(service)}";

    public static ObservedScalableTarget ToObserved(ScalableTarget t) => new()
    {
        ServiceNamespace = t.ServiceNamespace,
        ResourceId = t.ResourceId,
        ScalableDimension = t.ScalableDimension,
        MinCapacity = t.MinCapacity,
        MaxCapacity = t.MaxCapacity,
    };
}
