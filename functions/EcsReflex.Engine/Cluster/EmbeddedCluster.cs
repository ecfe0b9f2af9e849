using System.Security.Cryptography;
using System.Text;
using EcsReflex.Core;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Cluster;

/// <summary>
/// The replay's in-memory ECS: starts from a snapshot and applies what the actuator sends, so later
/// events see the effect of earlier actions. Behaves like ECS where EcsReflex relies on it:
/// RunTask is idempotent on its client token, places tasks and emits task state changes
/// (EmbeddedCluster.Simulation.cs).
/// </summary>
public sealed partial class EmbeddedCluster : IEcsApi, IClusterObserver
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ObservedService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ObservedTask> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ObservedContainerInstance> _instances = new(StringComparer.Ordinal);
    private readonly List<ObservedScalableTarget> _scalableTargets;

    public EmbeddedCluster(ClusterSnapshot snapshot)
    {
        foreach (var s in snapshot.Services) _services[s.ServiceArn] = s;
        foreach (var t in snapshot.Tasks) Put(t);
        foreach (var c in snapshot.ContainerInstances)
            _instances[c.ContainerInstanceArn] = c.ClusterArn is null && Arns.ClusterArnOfContainerInstance(c.ContainerInstanceArn) is { } own
                ? c with { ClusterArn = own } : c;
        _scalableTargets = [.. snapshot.ScalableTargets];
    }

    /// <summary>The simulated time, set by the replay before each step; what was kept long enough is forgotten as it moves (see <see cref="StoppedTaskRetention"/>).</summary>
    public DateTimeOffset Now
    {
        get => _now;
        set
        {
            _now = value;
            if (_forget.Count > 0) Forget(value);
        }
    }

    private DateTimeOffset _now;

    public IReadOnlyList<ObservedTask> Tasks { get { lock (_gate) return [.. _tasks.Values]; } }
    public IReadOnlyList<ObservedService> Services { get { lock (_gate) return [.. _services.Values]; } }
    public IReadOnlyList<ObservedContainerInstance> ContainerInstances { get { lock (_gate) return [.. _instances.Values]; } }
    public IReadOnlyList<ObservedScalableTarget> ScalableTargets { get { lock (_gate) return [.. _scalableTargets]; } }

    /// <summary>How many RunTask calls actually started a task (idempotent replays excluded).</summary>
    public int TasksStarted { get; private set; }

    public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct)
    {
        lock (_gate) return ValueTask.FromResult(Run(request)); // placement: EmbeddedCluster.Simulation.cs
    }

    public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct)
    {
        lock (_gate) return ValueTask.FromResult(Stop(request));
    }

    public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct)
    {
        lock (_gate)
        {
            var service = FindService(request.Cluster, request.Service);
            if (service is null)
                return ValueTask.FromResult(new UpdateServiceResponse(null, null));
            service = service with
            {
                DesiredCount = request.DesiredCount ?? service.DesiredCount,
                PlacementConstraints = request.PlacementConstraints ?? service.PlacementConstraints,
                PlacementStrategy = request.PlacementStrategy ?? service.PlacementStrategy,
            };
            _services[service.ServiceArn] = service;
            Generation++;
            return ValueTask.FromResult(new UpdateServiceResponse(service.ServiceArn, service.DesiredCount));
        }
    }

    public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_instances.TryGetValue(containerInstanceArn, out var c)) return ValueTask.FromResult(c.Ec2InstanceId);
            var id = Arns.ContainerInstanceId(containerInstanceArn);
            foreach (var i in _instances.Values)
                if (Arns.ContainerInstanceId(i.ContainerInstanceArn) == id) return ValueTask.FromResult(i.Ec2InstanceId);
            return ValueTask.FromResult<string?>(null);
        }
    }

    public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct)
    {
        lock (_gate)
        {
            var found = FindService(cluster, service);
            var resourceId = $"service/{Arns.ClusterName(found?.ClusterArn ?? cluster)}/{found?.ServiceName ?? Arns.ServiceName(service)}";
            var target = _scalableTargets.FirstOrDefault(t => t is { ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount" } && t.ResourceId == resourceId);
            return ValueTask.FromResult(new ServiceScalingView(found, target));
        }
    }

    /// <summary>The embedded cluster has no CloudWatch: the scaler knows alarm states only from the events replayed.</summary>
    public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) =>
        ValueTask.FromResult(AlarmStatesObservation.None("the embedded cluster cannot describe alarms: it knows only the alarm events replayed"));

    /// <summary>
    /// A sustained alarm's state now, as the replay knows it: the newest transition replayed so far (by its state
    /// timestamp) and its newest datapoint and threshold.
    /// </summary>
    public ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_alarms.TryGetValue(alarmName, out var a))
                return ValueTask.FromResult(AlarmStatesObservation.None($"no event of {alarmName} was replayed"));
            var data = a.State.ReasonData;
            return ValueTask.FromResult(new AlarmStatesObservation([new ObservedAlarmState
            {
                AlarmName = a.AlarmName, StateValue = a.State.Value, StateUpdatedTimestamp = a.State.Timestamp,
                NewestDatapoint = data?.NewestDatapoint, Threshold = data?.Threshold,
                Source = "the alarm's newest transition replayed so far",
                NoDatapoint = data?.NewestDatapoint is null ? "no datapoint in its events" : null,
            }], null));
        }
    }

    /// <summary>The newest transition replayed of each alarm, by name (<see cref="DescribeAlarmNowAsync"/>).</summary>
    private readonly Dictionary<string, AlarmStateChange> _alarms = new(StringComparer.Ordinal);

    private void ObserveAlarm(AlarmStateChange a)
    {
        if (_alarms.TryGetValue(a.AlarmName, out var seen) && seen.State.Timestamp is { } was && a.State.Timestamp is { } at && at < was)
            return; // delivered out of order: the newer one stays
        _alarms[a.AlarmName] = a;
    }

    public ObservedService? FindService(string cluster, string service)
    {
        lock (_gate)
        {
            if (_services.TryGetValue(service, out var s)) return s;
            var name = Arns.ServiceName(service);
            var clusterName = Arns.ClusterName(cluster);
            return _services.Values.FirstOrDefault(x => x.ServiceName == name
                && (x.ClusterArn is null || Arns.ClusterName(x.ClusterArn) == clusterName));
        }
    }

    public ObservedTask? FindTask(string taskArnOrId)
    {
        lock (_gate)
        {
            return FindTaskUnlocked(taskArnOrId);
        }
    }

    private static string TaskArn(string cluster, string id)
    {
        if (cluster.StartsWith("arn:", StringComparison.Ordinal))
        {
            var i = cluster.IndexOf(":cluster/", StringComparison.Ordinal);
            if (i > 0) return $"{cluster[..i]}:task/{Arns.ClusterName(cluster)}/{id}";
        }
        return $"arn:aws:ecs:local:000000000000:task/{Arns.ClusterName(cluster)}/{id}";
    }
}
