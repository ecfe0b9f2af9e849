using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Local;
using EcsReflex.Engine.State;

namespace EcsReflex.Lambda.Emulator;

/// <summary>A message the bootstrap put on the emulator's delay queue: the body exactly as sent, and the work it carries.</summary>
public sealed record QueuedWork(string Body, DeferredWork Work);

/// <summary>
/// The world a bootstrap in local replay mode works against, shared by every handler process of one
/// replay (as deployed functions share the table and the account): the in-memory state store, the
/// embedded cluster (observer and ECS API), the delay queue and the dead-letter queue, and the replay's
/// simulated clock. <see cref="ServeAsync"/> answers the <see cref="LocalProtocol"/> calls by running the
/// member on the store or the cluster, so their semantics are exactly those of the in-process replay.
/// </summary>
public sealed class LocalServices(InMemoryStateStore store, EmbeddedCluster cluster)
{
    private static readonly LocalProtocolJsonContext J = LocalProtocolJsonContext.Default;
    private static readonly BoolResult Done = new(true);
    private readonly ConcurrentQueue<QueuedWork> _deferred = new();
    private readonly ConcurrentQueue<DeadLetter> _deadLetters = new();
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public InMemoryStateStore Store => store;
    public EmbeddedCluster Cluster => cluster;

    /// <summary>The simulated "now": sent with each invocation, and used for the store's expiry and the cluster's clock.</summary>
    public DateTimeOffset? Now
    {
        get => store.Now;
        set
        {
            store.Now = value;
            if (value is { } v) cluster.Now = v;
        }
    }

    public IReadOnlyCollection<DeadLetter> DeadLetters => _deadLetters;

    /// <summary>How many times each protocol path was called (for the tests and the curious).</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    public void Enqueue(QueuedWork work) => _deferred.Enqueue(work);
    public void DeadLetter(DeadLetter letter) => _deadLetters.Enqueue(letter);

    /// <summary>Takes the deferred work queued so far, in the order it was sent.</summary>
    public IReadOnlyList<QueuedWork> DrainDeferred()
    {
        var list = new List<QueuedWork>();
        while (_deferred.TryDequeue(out var w)) list.Add(w);
        return list;
    }

    /// <summary>
    /// Runs one <see cref="LocalProtocol"/> call: the answer's JSON, or null when <paramref name="path"/> is not a
    /// local service. A body that cannot be read throws <see cref="JsonException"/>.
    /// </summary>
    public async Task<byte[]?> ServeAsync(string path, byte[] body, CancellationToken ct)
    {
        // A handler sends the reads a decision needs together (issue 17): they overlap on the wire, as in AWS, and run
        // here one at a time, because the store and the embedded cluster are one account, not thread-safe objects.
        await _serving.WaitAsync(ct);
        try
        {
            return await ServeOneAsync(path, body, ct);
        }
        finally
        {
            _serving.Release();
        }
    }

    private readonly SemaphoreSlim _serving = new(1, 1);

    private async Task<byte[]?> ServeOneAsync(string path, byte[] body, CancellationToken ct)
    {
        var answer = path switch
        {
            // ---- IStateStore
            LocalProtocol.GetClaim => Answer(new ClaimRecordResult(await store.GetClaimAsync(Read(body, J.EventKeyRequest).Key, ct)), J.ClaimRecordResult),
            LocalProtocol.TryPutClaim => await TryPutClaimAsync(Read(body, J.ClaimPutRequest), ct),
            LocalProtocol.PutClaim => await PutClaimAsync(Read(body, J.ClaimPutRequest), ct),
            LocalProtocol.TryDeleteClaim => await TryDeleteClaimAsync(Read(body, J.ClaimDeleteRequest), ct),
            LocalProtocol.GetLineage => await GetLineageAsync(Read(body, J.LineageKeyRequest), ct),
            LocalProtocol.PutLineage => await AckAsync(store.PutLineageAsync(Read(body, J.LineageRecord), ct)),
            LocalProtocol.TakeSlot => await TakeSlotAsync(Read(body, J.RelaunchSlotRequest), ct),
            LocalProtocol.Audit => await AckAsync(store.AppendAuditAsync(Read(body, J.AuditEntry), ct)),
            LocalProtocol.GetScalingRecord => await GetScalingRecordAsync(Read(body, J.ServiceKeyRequest), ct),
            LocalProtocol.TryPutScalingRecord => await TryPutScalingRecordAsync(Read(body, J.ScalingRecordPutRequest), ct),
            LocalProtocol.GetInstanceSeen => await GetInstanceSeenAsync(Read(body, J.Ec2InstanceIdRequest), ct),
            LocalProtocol.TryPutInstanceSeen => Answer(new BoolResult(await store.TryPutInstanceSeenAsync(Read(body, J.InstanceSeenRecord), ct)), J.BoolResult),
            LocalProtocol.GetDrainMove => await GetDrainMoveAsync(Read(body, J.LineageKeyRequest), ct),
            LocalProtocol.PutDrainMove => await AckAsync(store.PutDrainMoveAsync(Read(body, J.DrainMoveRecord), ct)),
            LocalProtocol.GetServicePlacement => await GetServicePlacementAsync(Read(body, J.ServiceKeyRequest), ct),
            LocalProtocol.PutServicePlacement => await AckAsync(store.PutServicePlacementAsync(Read(body, J.ServicePlacementRecord), ct)),
            LocalProtocol.WriteBatch => await AckAsync(store.WriteAsync(Read(body, J.StateBatch), ct)),

            // ---- IClusterObserver
            LocalProtocol.Ec2InstanceId => await Ec2InstanceIdAsync(Read(body, J.Ec2InstanceIdRequest), ct),
            LocalProtocol.DescribeServiceScaling => await DescribeServiceScalingAsync(Read(body, J.ServiceKeyRequest), ct),
            LocalProtocol.DescribeAlarmStates => Answer(await cluster.DescribeAlarmStatesAsync(Read(body, J.AlarmNamesRequest).AlarmNames, ct), J.AlarmStatesObservation),
            LocalProtocol.DescribeAlarmNow => Answer(await cluster.DescribeAlarmNowAsync(Read(body, J.AlarmNamesRequest).AlarmNames.Single(), ct), J.AlarmStatesObservation),
            LocalProtocol.DescribeTaskTags => await DescribeTaskTagsAsync(Read(body, J.TaskKeyRequest), ct),
            LocalProtocol.ListTasksOnInstance => await ListTasksOnInstanceAsync(Read(body, J.Ec2InstanceIdRequest), ct),
            LocalProtocol.ListStoppedTasks => await ListStoppedTasksAsync(Read(body, J.StoppedTasksRequest), ct),
            LocalProtocol.ListContainerInstances => await ListContainerInstancesAsync(Read(body, J.StoppedTasksRequest), ct),
            LocalProtocol.GetService => await GetServiceAsync(Read(body, J.ServiceKeyRequest), ct),
            LocalProtocol.GetContainerInstance => await GetContainerInstanceAsync(Read(body, J.Ec2InstanceIdRequest), ct),

            // ---- IEcsApi
            LocalProtocol.RunTask => Answer(await cluster.RunTaskAsync(Read(body, J.RunTaskRequest), ct), J.RunTaskResponse),
            LocalProtocol.StopTask => Answer(await cluster.StopTaskAsync(Read(body, J.StopTaskRequest), ct), J.StopTaskResponse),
            LocalProtocol.UpdateService => Answer(await cluster.UpdateServiceAsync(Read(body, J.UpdateServiceRequest), ct), J.UpdateServiceResponse),

            // ---- queues
            LocalProtocol.DelayQueue => EnqueueBody(body),
            LocalProtocol.DeadLetters => DeadLetterBody(body),
            _ => null,
        };
        if (answer is not null) _calls.AddOrUpdate(path, 1, (_, n) => n + 1);
        return answer;
    }

    private async Task<byte[]> PutClaimAsync(ClaimPutRequest r, CancellationToken ct)
    {
        var put = await store.PutClaimAsync(r.Record, Condition(r), ct);
        return Answer(new ClaimPutResult(put.Written, put.Holder), J.ClaimPutResult);
    }

    private async Task<byte[]> TryPutClaimAsync(ClaimPutRequest r, CancellationToken ct) =>
        Answer(new BoolResult(await store.TryPutClaimAsync(r.Record, Condition(r), ct)), J.BoolResult);

    private static ClaimCondition Condition(ClaimPutRequest r) => r.HeldBy is { } token ? ClaimCondition.Holds(token) : ClaimCondition.Free;

    private async Task<byte[]> TryDeleteClaimAsync(ClaimDeleteRequest r, CancellationToken ct) =>
        Answer(new BoolResult(await store.TryDeleteClaimAsync(r.Key, r.Token, ct)), J.BoolResult);

    private async Task<byte[]> GetLineageAsync(LineageKeyRequest r, CancellationToken ct) =>
        Answer(new LineageResult(await store.GetLineageAsync(r.Cluster, r.Lineage, ct)), J.LineageResult);

    private async Task<byte[]> TakeSlotAsync(RelaunchSlotRequest r, CancellationToken ct) =>
        Answer(new CountResult(await store.TakeRelaunchSlotsAsync(r.Cluster, r.Minute, Math.Max(1, r.Count), ct)), J.CountResult);

    private async Task<byte[]> GetScalingRecordAsync(ServiceKeyRequest r, CancellationToken ct) =>
        Answer(new ScalingRecordResult(await store.GetScalingRecordAsync(r.Cluster, r.Service, ct)), J.ScalingRecordResult);

    private async Task<byte[]> TryPutScalingRecordAsync(ScalingRecordPutRequest r, CancellationToken ct) =>
        Answer(new BoolResult(await store.TryPutScalingRecordAsync(r.Record, r.ExpectedVersion, ct)), J.BoolResult);

    private async Task<byte[]> GetInstanceSeenAsync(Ec2InstanceIdRequest r, CancellationToken ct) =>
        Answer(new InstanceSeenResult(await store.GetInstanceSeenAsync(r.ClusterArn, r.ContainerInstanceArn, ct)), J.InstanceSeenResult);

    private async Task<byte[]> GetDrainMoveAsync(LineageKeyRequest r, CancellationToken ct) =>
        Answer(new DrainMoveResult(await store.GetDrainMoveAsync(r.Cluster, r.Lineage, ct)), J.DrainMoveResult);

    private async Task<byte[]> GetServicePlacementAsync(ServiceKeyRequest r, CancellationToken ct) =>
        Answer(new ServicePlacementResult(await store.GetServicePlacementAsync(r.Cluster, r.Service, ct)), J.ServicePlacementResult);

    private async Task<byte[]> Ec2InstanceIdAsync(Ec2InstanceIdRequest r, CancellationToken ct) =>
        Answer(new StringResult(await cluster.GetEc2InstanceIdAsync(r.ClusterArn, r.ContainerInstanceArn, ct)), J.StringResult);

    private async Task<byte[]> DescribeServiceScalingAsync(ServiceKeyRequest r, CancellationToken ct) =>
        Answer(await cluster.DescribeServiceScalingAsync(r.Cluster, r.Service, ct), J.ServiceScalingView);

    private async Task<byte[]> DescribeTaskTagsAsync(TaskKeyRequest r, CancellationToken ct) =>
        Answer(await cluster.DescribeTaskTagsAsync(r.ClusterArn, r.TaskArn, ct), J.TaskTagsObservation);

    private readonly Dictionary<string, EventEnvelope> _served = new(StringComparer.Ordinal);

    /// <summary>
    /// The stopped task or container instance served to a sweep as the event with id <paramref name="eventId"/> (the
    /// event the sweep decides it as), for the records of what the sweep found; null when none was served under that id.
    /// </summary>
    public EventEnvelope? ServedFound(string eventId)
    {
        lock (_served) return _served.GetValueOrDefault(eventId);
    }

    /// <summary>Forgets what was served to sweeps so far (the Lambda replay does before each sweep).</summary>
    public void ForgetServedFound()
    {
        lock (_served) _served.Clear();
    }

    /// <summary>Remembers what a sweep was served (<see cref="ServedFound"/>) and writes it as the event's JSON.</summary>
    private string Serve(EventEnvelope e)
    {
        lock (_served) _served[e.Id] = e;
        return System.Text.Encoding.UTF8.GetString(EventJson.Write(e));
    }

    private async Task<byte[]> ListStoppedTasksAsync(StoppedTasksRequest r, CancellationToken ct)
    {
        var seen = await cluster.ListStoppedTasksAsync(r.ClusterArn, r.MaxCalls, ct);
        var events = new List<string>(seen.Tasks.Count);
        foreach (var t in seen.Tasks)
        {
            events.Add(Serve(new EventEnvelope
            {
                Version = "0", Id = Reconciler.FoundEventId(t), DetailType = DetailTypes.TaskStateChange, Source = DetailTypes.EcsSource,
                Time = t.StoppedAt, Resources = [t.TaskArn], Detail = t,
            }));
        }
        return Answer(new StoppedEventsResult(events, seen.Calls, seen.Truncated, seen.Unavailable), J.StoppedEventsResult);
    }

    private async Task<byte[]> ListContainerInstancesAsync(StoppedTasksRequest r, CancellationToken ct)
    {
        var seen = await cluster.ListContainerInstancesAsync(r.ClusterArn, r.MaxCalls, ct);
        var events = new List<string>(seen.Instances.Count);
        foreach (var i in seen.Instances)
        {
            events.Add(Serve(new EventEnvelope
            {
                Version = "0", Id = Reconciler.FoundEventId(i), DetailType = DetailTypes.ContainerInstanceStateChange, Source = DetailTypes.EcsSource,
                Time = i.UpdatedAt, Resources = [i.ContainerInstanceArn], Detail = i,
            }));
        }
        return Answer(new InstanceEventsResult(events, seen.Calls, seen.Truncated, seen.Unavailable), J.InstanceEventsResult);
    }

    private async Task<byte[]> ListTasksOnInstanceAsync(Ec2InstanceIdRequest r, CancellationToken ct) =>
        Answer(new TasksResult(await cluster.ListTasksOnInstanceAsync(r.ClusterArn, r.ContainerInstanceArn, ct)), J.TasksResult);

    private async Task<byte[]> GetServiceAsync(ServiceKeyRequest r, CancellationToken ct) =>
        Answer(new ServiceResult(await cluster.GetServiceAsync(r.Cluster, r.Service, ct)), J.ServiceResult);

    private async Task<byte[]> GetContainerInstanceAsync(Ec2InstanceIdRequest r, CancellationToken ct) =>
        Answer(new ContainerInstanceResult(await cluster.GetContainerInstanceAsync(r.ClusterArn, r.ContainerInstanceArn, ct)), J.ContainerInstanceResult);

    private byte[] EnqueueBody(byte[] body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        Enqueue(new QueuedWork(text, DeferredWorkJson.Parse(text)));
        return Answer(Done, J.BoolResult);
    }

    private byte[] DeadLetterBody(byte[] body)
    {
        DeadLetter(Read(body, J.DeadLetter));
        return Answer(Done, J.BoolResult);
    }

    private static async Task<byte[]> AckAsync(ValueTask write)
    {
        await write;
        return Answer(Done, J.BoolResult);
    }

    private static T Read<T>(byte[] body, JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(body, type) ?? throw new JsonException($"the body of a local service call is null, not a {typeof(T).Name}");

    private static byte[] Answer<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);
}
