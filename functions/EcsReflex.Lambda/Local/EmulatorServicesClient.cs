using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;
using EcsReflex.Engine.Local;

namespace EcsReflex.Lambda.Local;

/// <summary>
/// Local replay mode only: the state store, cluster observer, ECS API, delay queue and dead-letter queue
/// served by the project's Runtime API emulator (<see cref="LocalProtocol"/>), so every handler process of
/// one replay shares one in-memory store and one embedded cluster, as deployed functions share one table
/// and one account. Each member is one call; the emulator runs it on its store or cluster, so conditional
/// writes stay conditional. Nothing here reaches AWS.
/// </summary>
public sealed class EmulatorServicesClient : IStateStore, IClusterObserver, IEcsApi, IDelayQueue, IDeadLetterSender, IDisposable
{
    private static readonly LocalProtocolJsonContext Json = LocalProtocolJsonContext.Default;
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly HttpClient _http;

    public EmulatorServicesClient(string runtimeApi, HttpMessageHandler? handler = null)
    {
        _http = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, UseCookies = false }, disposeHandler: true)
        {
            BaseAddress = new Uri($"http://{runtimeApi}"),
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestVersion = HttpVersion.Version11,
        };
    }

    // ---------------------------------------------------------------- IStateStore

    public async ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetClaim, new EventKeyRequest(key), Json.EventKeyRequest, Json.ClaimRecordResult, ct)).Value;

    /// <summary>Conditional on the emulator's side: the check and the write are one call on its store.</summary>
    public async ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.TryPutClaim, new ClaimPutRequest(record, condition.HeldBy), Json.ClaimPutRequest, Json.BoolResult, ct)).Value;

    /// <summary>One call: the claim, or the record that refused it.</summary>
    public async ValueTask<ClaimPut> PutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct)
    {
        var r = await PostAsync(LocalProtocol.PutClaim, new ClaimPutRequest(record, condition.HeldBy), Json.ClaimPutRequest, Json.ClaimPutResult, ct);
        return new ClaimPut(r.Written, r.Holder);
    }

    public async ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.TryDeleteClaim, new ClaimDeleteRequest(key, token), Json.ClaimDeleteRequest, Json.BoolResult, ct)).Value;

    public async ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetLineage, new LineageKeyRequest(cluster, lineage), Json.LineageKeyRequest, Json.LineageResult, ct)).Value;

    public ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct) =>
        new ValueTask(PostAsync(LocalProtocol.PutLineage, record, Json.LineageRecord, Json.BoolResult, ct));

    public ValueTask<long> TakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, CancellationToken ct) =>
        TakeRelaunchSlotsAsync(cluster, minute, 1, ct);

    /// <summary>One call for the k relaunches, as one UpdateItem in AWS.</summary>
    public async ValueTask<long> TakeRelaunchSlotsAsync(string cluster, DateTimeOffset minute, int count, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.TakeSlot, new RelaunchSlotRequest(cluster, minute, count), Json.RelaunchSlotRequest, Json.CountResult, ct)).Value;

    public ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct) =>
        new ValueTask(PostAsync(LocalProtocol.Audit, entry, Json.AuditEntry, Json.BoolResult, ct));

    /// <summary>One call for the whole batch, as one BatchWriteItem in AWS.</summary>
    public ValueTask WriteAsync(StateBatch batch, CancellationToken ct) =>
        batch.Count == 0 ? ValueTask.CompletedTask : new ValueTask(PostAsync(LocalProtocol.WriteBatch, batch, Json.StateBatch, Json.BoolResult, ct));

    public async ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetScalingRecord, new ServiceKeyRequest(cluster, service), Json.ServiceKeyRequest, Json.ScalingRecordResult, ct)).Value;

    /// <summary>Conditional on the emulator's side: the compare and the write are one call on its store.</summary>
    public async ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.TryPutScalingRecord, new ScalingRecordPutRequest(record, expectedVersion), Json.ScalingRecordPutRequest, Json.BoolResult, ct)).Value;

    public async ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetInstanceSeen, new Ec2InstanceIdRequest(cluster, containerInstanceArn), Json.Ec2InstanceIdRequest, Json.InstanceSeenResult, ct)).Value;

    /// <summary>Conditional on the emulator's side (a newer recorded version wins).</summary>
    public async ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.TryPutInstanceSeen, record, Json.InstanceSeenRecord, Json.BoolResult, ct)).Value;

    public async ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetDrainMove, new LineageKeyRequest(cluster, lineage), Json.LineageKeyRequest, Json.DrainMoveResult, ct)).Value;

    public ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct) =>
        new ValueTask(PostAsync(LocalProtocol.PutDrainMove, record, Json.DrainMoveRecord, Json.BoolResult, ct));

    public async ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetServicePlacement, new ServiceKeyRequest(cluster, service), Json.ServiceKeyRequest, Json.ServicePlacementResult, ct)).Value;

    public ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct) =>
        new ValueTask(PostAsync(LocalProtocol.PutServicePlacement, record, Json.ServicePlacementRecord, Json.BoolResult, ct));

    // ---------------------------------------------------------------- IClusterObserver

    public async ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.Ec2InstanceId, new Ec2InstanceIdRequest(clusterArn, containerInstanceArn), Json.Ec2InstanceIdRequest, Json.StringResult, ct)).Value;

    public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct) =>
        new ValueTask<ServiceScalingView>(PostAsync(LocalProtocol.DescribeServiceScaling, new ServiceKeyRequest(cluster, service), Json.ServiceKeyRequest, Json.ServiceScalingView, ct));

    public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) =>
        new ValueTask<AlarmStatesObservation>(PostAsync(LocalProtocol.DescribeAlarmStates, new AlarmNamesRequest(alarmNames), Json.AlarmNamesRequest, Json.AlarmStatesObservation, ct));

    public ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct) =>
        new ValueTask<AlarmStatesObservation>(PostAsync(LocalProtocol.DescribeAlarmNow, new AlarmNamesRequest([alarmName]), Json.AlarmNamesRequest, Json.AlarmStatesObservation, ct));

    public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct) =>
        new ValueTask<TaskTagsObservation>(PostAsync(LocalProtocol.DescribeTaskTags, new TaskKeyRequest(clusterArn, taskArn), Json.TaskKeyRequest, Json.TaskTagsObservation, ct));

    public async ValueTask<StoppedTasksObservation> ListStoppedTasksAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        var r = await PostAsync(LocalProtocol.ListStoppedTasks, new StoppedTasksRequest(clusterArn, maxCalls), Json.StoppedTasksRequest, Json.StoppedEventsResult, ct);
        var tasks = new List<Core.Events.TaskStateChange>(r.Events.Count);
        foreach (var e in r.Events) tasks.Add((Core.Events.TaskStateChange)Core.Events.EventParser.Parse(e).Detail);
        return new StoppedTasksObservation(tasks, r.Calls, r.Truncated, r.Unavailable);
    }

    public async ValueTask<ContainerInstancesObservation> ListContainerInstancesAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        var r = await PostAsync(LocalProtocol.ListContainerInstances, new StoppedTasksRequest(clusterArn, maxCalls), Json.StoppedTasksRequest, Json.InstanceEventsResult, ct);
        var instances = new List<Core.Events.ContainerInstanceStateChange>(r.Events.Count);
        foreach (var e in r.Events) instances.Add((Core.Events.ContainerInstanceStateChange)Core.Events.EventParser.Parse(e).Detail);
        return new ContainerInstancesObservation(instances, r.Calls, r.Truncated, r.Unavailable);
    }

    public async ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.ListTasksOnInstance, new Ec2InstanceIdRequest(clusterArn, containerInstanceArn), Json.Ec2InstanceIdRequest, Json.TasksResult, ct)).Value;

    public async ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetService, new ServiceKeyRequest(clusterArn, serviceArnOrName), Json.ServiceKeyRequest, Json.ServiceResult, ct)).Value;

    public async ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        (await PostAsync(LocalProtocol.GetContainerInstance, new Ec2InstanceIdRequest(clusterArn, containerInstanceArn), Json.Ec2InstanceIdRequest, Json.ContainerInstanceResult, ct)).Value;

    // ---------------------------------------------------------------- IEcsApi (the emulator's embedded cluster)

    public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) =>
        new(InOrderAsync(LocalProtocol.RunTask, request, Json.RunTaskRequest, Json.RunTaskResponse, ct));

    public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) =>
        new(InOrderAsync(LocalProtocol.StopTask, request, Json.StopTaskRequest, Json.StopTaskResponse, ct));

    public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) =>
        new(InOrderAsync(LocalProtocol.UpdateService, request, Json.UpdateServiceRequest, Json.UpdateServiceResponse, ct));

    /// <summary>
    /// The embedded cluster's changes, sent one at a time in the order they were asked for (the gate is first come, first
    /// served): a drain's replacements are sent together, and where the simulation places each task depends on the order
    /// it sees them, which must be the in-process replay's for the two replays to agree. AWS has no such order to keep.
    /// </summary>
    private async Task<TResponse> InOrderAsync<TRequest, TResponse>(string path, TRequest request, JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        await _clusterChanges.WaitAsync(ct);
        try
        {
            return await PostAsync(path, request, requestType, responseType, ct);
        }
        finally
        {
            _clusterChanges.Release();
        }
    }

    private readonly SemaphoreSlim _clusterChanges = new(1, 1);

    // ---------------------------------------------------------------- queues

    async Task IDelayQueue.SendAsync(DeferredWork work, CancellationToken ct)
    {
        using var content = new StringContent(DeferredWorkJson.Write(work), Encoding.UTF8);
        content.Headers.ContentType = JsonType;
        using var response = await _http.PostAsync(LocalProtocol.DelayQueue, content, ct);
        await EnsureOkAsync(response, LocalProtocol.DelayQueue, ct);
    }

    Task IDeadLetterSender.SendAsync(DeadLetter letter, CancellationToken ct) =>
        PostAsync(LocalProtocol.DeadLetters, letter, Json.DeadLetter, Json.BoolResult, ct);

    private async Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest body, JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, requestType));
        content.Headers.ContentType = JsonType;
        using var response = await _http.PostAsync(path, content, ct);
        await EnsureOkAsync(response, path, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        return JsonSerializer.Deserialize(bytes, responseType)
               ?? throw new InvalidOperationException($"the emulator answered {path} with null");
    }

    private static async Task EnsureOkAsync(HttpResponseMessage response, string path, CancellationToken ct)
    {
        if (response.StatusCode == HttpStatusCode.OK) return;
        throw new InvalidOperationException($"the emulator's local services refused {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    public void Dispose() => _http.Dispose();
}
