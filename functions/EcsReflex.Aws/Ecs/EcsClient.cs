using EcsReflex.Aws.Config;
using EcsReflex.Aws.Http;
using EcsReflex.Core.Ecs;

namespace EcsReflex.Aws.Ecs;

/// <summary>
/// Amazon ECS over AWS JSON 1.1 (target prefix <c>AmazonEC2ContainerServiceV20141113</c>): the operations
/// EcsReflex uses, shaped like the official client. Every method throws <see cref="AwsServiceException"/> on failure.
/// </summary>
public sealed class EcsClient(AwsTransport transport)
{
    /// <summary>Most ARNs DescribeTasks and DescribeContainerInstances take in one call.</summary>
    public const int DescribeBatch = 100;
    /// <summary>Most services DescribeServices takes in one call.</summary>
    public const int DescribeServicesBatch = 10;

    private static readonly EcsJsonContext Json = EcsJsonContext.Default;

    /// <summary>The signed transport it sends through (region, credentials, endpoints, retries).</summary>
    public AwsTransport Transport => transport;
    private static readonly EcsRequestJsonContext CoreJson = EcsRequestJsonContext.Default;

    public Task<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "RunTask", request, CoreJson.RunTaskRequest, Json.RunTaskResponse, ct);

    public Task<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "StopTask", request, CoreJson.StopTaskRequest, Json.StopTaskResponse, ct);

    public Task<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "UpdateService", request, CoreJson.UpdateServiceRequest, Json.UpdateServiceResponse, ct);

    public Task<DescribeTasksResponse> DescribeTasksAsync(DescribeTasksRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "DescribeTasks", request, Json.DescribeTasksRequest, Json.DescribeTasksResponse, ct);

    public Task<ListTasksResponse> ListTasksAsync(ListTasksRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "ListTasks", request, Json.ListTasksRequest, Json.ListTasksResponse, ct);

    public Task<DescribeServicesResponse> DescribeServicesAsync(DescribeServicesRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "DescribeServices", request, Json.DescribeServicesRequest, Json.DescribeServicesResponse, ct);

    public Task<ListContainerInstancesResponse> ListContainerInstancesAsync(ListContainerInstancesRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "ListContainerInstances", request, Json.ListContainerInstancesRequest, Json.ListContainerInstancesResponse, ct);

    public Task<DescribeContainerInstancesResponse> DescribeContainerInstancesAsync(DescribeContainerInstancesRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Ecs, "DescribeContainerInstances", request, Json.DescribeContainerInstancesRequest, Json.DescribeContainerInstancesResponse, ct);

    /// <summary>Every task ARN ListTasks returns, following <c>nextToken</c> to the last page.</summary>
    public Task<IReadOnlyList<string>> ListAllTaskArnsAsync(ListTasksRequest request, CancellationToken ct) =>
        Paging.AllAsync(AwsService.Ecs, "ListTasks", request.NextToken, token => ListTasksAsync(request with { NextToken = token }, ct),
            r => r.TaskArns, r => r.NextToken);

    /// <summary>Every container instance ARN ListContainerInstances returns, following <c>nextToken</c>.</summary>
    public Task<IReadOnlyList<string>> ListAllContainerInstanceArnsAsync(ListContainerInstancesRequest request, CancellationToken ct) =>
        Paging.AllAsync(AwsService.Ecs, "ListContainerInstances", request.NextToken, token => ListContainerInstancesAsync(request with { NextToken = token }, ct),
            r => r.ContainerInstanceArns, r => r.NextToken);

    /// <summary>DescribeTasks for any number of tasks, in batches of <see cref="DescribeBatch"/>.</summary>
    public async Task<DescribeTasksResponse> DescribeAllTasksAsync(string cluster, IReadOnlyList<string> tasks, CancellationToken ct, IReadOnlyList<string>? include = null)
    {
        var found = new List<EcsTask>();
        var failures = new List<Failure>();
        foreach (var chunk in tasks.Chunk(DescribeBatch))
        {
            var r = await DescribeTasksAsync(new DescribeTasksRequest { Cluster = cluster, Tasks = chunk, Include = include }, ct).ConfigureAwait(false);
            found.AddRange(r.Tasks);
            failures.AddRange(r.Failures);
        }
        return new DescribeTasksResponse { Tasks = found, Failures = failures };
    }

    /// <summary>DescribeServices for any number of services, in batches of <see cref="DescribeServicesBatch"/>.</summary>
    public async Task<DescribeServicesResponse> DescribeAllServicesAsync(string cluster, IReadOnlyList<string> services, CancellationToken ct)
    {
        var found = new List<Service>();
        var failures = new List<Failure>();
        foreach (var chunk in services.Chunk(DescribeServicesBatch))
        {
            var r = await DescribeServicesAsync(new DescribeServicesRequest { Cluster = cluster, Services = chunk }, ct).ConfigureAwait(false);
            found.AddRange(r.Services);
            failures.AddRange(r.Failures);
        }
        return new DescribeServicesResponse { Services = found, Failures = failures };
    }
}

/// <summary>Follows <c>nextToken</c>/<c>NextToken</c> to the last page, refusing a service that repeats a token.</summary>
public static class Paging
{
    public const int MaxPages = 10_000;

    public static async Task<IReadOnlyList<TItem>> AllAsync<TPage, TItem>(AwsService service, string operation, string? firstToken, Func<string?, Task<TPage>> fetch,
        Func<TPage, IEnumerable<TItem>> items, Func<TPage, string?> next)
    {
        var all = new List<TItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var token = firstToken;
        for (var page = 0; page < MaxPages; page++)
        {
            var r = await fetch(token).ConfigureAwait(false);
            all.AddRange(items(r));
            token = next(r);
            if (string.IsNullOrEmpty(token)) return all;
            if (!seen.Add(token))
                throw Malformed(service, operation, $"the nextToken {token} came twice: stopping instead of looping", page + 1);
        }
        throw Malformed(service, operation, $"still a nextToken after {MaxPages} pages", MaxPages);
    }

    private static AwsServiceException Malformed(AwsService service, string operation, string message, int pages) =>
        new(service.Name, operation, AwsErrorKind.MalformedResponse, AwsServiceException.MalformedResponseCode, message, null, null, pages);
}
