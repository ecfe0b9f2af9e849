using System.Collections.Concurrent;
using EcsReflex.Aws.AutoScaling;
using EcsReflex.Aws.CloudWatch;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;
using EcsReflex.Core;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Ports;

/// <summary>
/// The core's <see cref="IClusterObserver"/> on real ECS, Application Auto Scaling and CloudWatch. Every read asks
/// the service again (a decision never works on an answer older than its invocation), except the EC2 instance id
/// behind a container instance: that never changes for a container instance ARN, so it is remembered (at most
/// <see cref="MaxRememberedInstances"/> of them). So one instance can serve a whole process (the Lambda host creates
/// one at init) as well as one invocation.
/// </summary>
public sealed class AwsClusterObserver(EcsClient ecs, AutoScalingClient autoScaling, CloudWatchClient cloudWatch) : IClusterObserver
{
    /// <summary>Most alarm names DescribeAlarms takes in one call.</summary>
    public const int AlarmNamesBatch = 100;
    public const int MaxRememberedInstances = 1000;

    /// <summary>Application Auto Scaling and CloudWatch through the same signed transport (region, credentials, endpoints) as <paramref name="ecs"/>.</summary>
    public AwsClusterObserver(EcsClient ecs) : this(ecs, new AutoScalingClient(ecs.Transport), new CloudWatchClient(ecs.Transport)) { }

    private readonly ConcurrentDictionary<(string Cluster, string Instance), Task<string?>> _ec2Ids = new();

    /// <summary>How many DescribeContainerInstances calls <see cref="GetEc2InstanceIdAsync"/> made (for tests and logs).</summary>
    public int Calls => _calls;
    private int _calls;

    public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        var key = (clusterArn, containerInstanceArn);
        if (_ec2Ids.Count >= MaxRememberedInstances) _ec2Ids.Clear();
        var task = _ec2Ids.GetOrAdd(key, k => FetchEc2IdAsync(k.Cluster, k.Instance, ct));
        if (task.IsFaulted || task.IsCanceled) _ec2Ids.TryRemove(new KeyValuePair<(string, string), Task<string?>>(key, task)); // failures are not remembered
        return new ValueTask<string?>(task);
    }

    private async Task<string?> FetchEc2IdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        try
        {
            return (await DescribeInstanceAsync(clusterArn, containerInstanceArn, ct).ConfigureAwait(false))?.Ec2InstanceId;
        }
        catch
        {
            _ec2Ids.TryRemove((clusterArn, containerInstanceArn), out _);
            throw;
        }
    }

    /// <summary>
    /// DescribeServices for the service's desired count, and DescribeScalableTargets for the scalable target of
    /// <c>ecs:service:DesiredCount</c> of <c>service/CLUSTER/NAME</c>; both asked at once.
    /// </summary>
    public async ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct)
    {
        var resourceId = AutoScalingClient.ServiceResourceId(cluster, service);
        var found = GetServiceAsync(cluster, service, ct).AsTask();
        var targets = autoScaling.DescribeAllScalableTargetsAsync(new DescribeScalableTargetsRequest
        {
            ServiceNamespace = AutoScalingClient.EcsNamespace,
            ResourceIds = [resourceId],
            ScalableDimension = AutoScalingClient.DesiredCountDimension,
        }, ct);
        await Task.WhenAll(found, targets).ConfigureAwait(false);
        var target = targets.Result.FirstOrDefault(t => t.ServiceNamespace == AutoScalingClient.EcsNamespace
                                                        && t.ScalableDimension == AutoScalingClient.DesiredCountDimension
                                                        && t.ResourceId == resourceId);
        return new ServiceScalingView(found.Result, target is null ? null : AutoScalingClient.ToObserved(target));
    }

    /// <summary>
    /// DescribeAlarms by name (metric and composite alarms), <see cref="AlarmNamesBatch"/> names a call, following
    /// <c>NextToken</c>. Alarms CloudWatch does not know are left out of the states; failures are thrown.
    /// </summary>
    public async ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct)
    {
        var states = new List<ObservedAlarmState>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in alarmNames.Distinct(StringComparer.Ordinal).Chunk(AlarmNamesBatch))
        {
            var r = await cloudWatch.DescribeAllAlarmsAsync(new DescribeAlarmsRequest
            {
                AlarmNames = chunk,
                AlarmTypes = ["MetricAlarm", "CompositeAlarm"],
            }, ct).ConfigureAwait(false);
            var found = r.MetricAlarms.Select(a => (a.AlarmName, a.StateValue, a.StateUpdatedTimestamp))
                .Concat(r.CompositeAlarms.Select(a => (a.AlarmName, a.StateValue, a.StateUpdatedTimestamp)));
            foreach (var (name, state, at) in found)
                if (state is not null && seen.Add(name))
                    states.Add(new ObservedAlarmState { AlarmName = name, StateValue = state, StateUpdatedTimestamp = at });
        }
        return new AlarmStatesObservation(states, null);
    }

    /// <summary>
    /// A sustained alarm now, as Application Auto Scaling is given it at each evaluation: <c>DescribeAlarms</c> for its state,
    /// threshold and metric, then <c>GetMetricData</c> on the alarm's own metric (or metric math) with its own period and
    /// statistic over its last evaluation periods, newest first: the newest datapoint is the value the alarm evaluated last.
    /// A composite alarm has no datapoint. A GetMetricData that fails or finds nothing leaves the datapoint out (the
    /// decision then uses the transition's) and says why; a DescribeAlarms that fails is thrown.
    /// </summary>
    public async ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct)
    {
        var r = await cloudWatch.DescribeAllAlarmsAsync(new DescribeAlarmsRequest
        {
            AlarmNames = [alarmName],
            AlarmTypes = ["MetricAlarm", "CompositeAlarm"],
        }, ct).ConfigureAwait(false);
        if (r.CompositeAlarms.FirstOrDefault(a => a.AlarmName == alarmName) is { StateValue: { } compositeState } composite)
            return new AlarmStatesObservation([new ObservedAlarmState
            {
                AlarmName = alarmName, StateValue = compositeState, StateUpdatedTimestamp = composite.StateUpdatedTimestamp,
                Source = "CloudWatch DescribeAlarms", NoDatapoint = "a composite alarm has no datapoint",
            }], null);
        if (r.MetricAlarms.FirstOrDefault(a => a.AlarmName == alarmName) is not { StateValue: { } state } alarm)
            return new AlarmStatesObservation([], null);
        var observed = new ObservedAlarmState
        {
            AlarmName = alarmName, StateValue = state, StateUpdatedTimestamp = alarm.StateUpdatedTimestamp, Threshold = alarm.Threshold,
            Source = "CloudWatch DescribeAlarms and GetMetricData",
        };
        if (MetricQuery(alarm) is not { } query)
            return new AlarmStatesObservation([observed with { Source = "CloudWatch DescribeAlarms", NoDatapoint = "the alarm names no metric to read" }], null);
        try
        {
            var data = await cloudWatch.GetMetricDataAsync(query.Request, ct).ConfigureAwait(false);
            var result = data.MetricDataResults.FirstOrDefault(m => m.Id == query.Returned);
            return new AlarmStatesObservation([result is { Values.Count: > 0 }
                ? observed with { NewestDatapoint = result.Values[0] }
                : observed with { NoDatapoint = $"GetMetricData found no datapoint in the last {query.Window.TotalSeconds:0} s" }], null);
        }
        catch (Exception ex) when (ex is AwsServiceException or HttpRequestException or FormatException)
        {
            return new AlarmStatesObservation([observed with { Source = "CloudWatch DescribeAlarms", NoDatapoint = $"GetMetricData failed: {ex.Message}" }], null);
        }
    }

    /// <summary>
    /// The GetMetricData request that reads what <paramref name="alarm"/> evaluates: its metric with its period and statistic,
    /// or its metric math (the query it returns is the one it alarms on), over its evaluation periods plus one, newest first.
    /// </summary>
    public static (GetMetricDataRequest Request, string Returned, TimeSpan Window)? MetricQuery(MetricAlarm alarm, DateTimeOffset? now = null)
    {
        List<MetricDataQuery> queries;
        string returned;
        int period;
        if (alarm.Metrics.Count > 0)
        {
            queries = [.. alarm.Metrics];
            var ret = alarm.Metrics.FirstOrDefault(m => m.ReturnData != false) ?? alarm.Metrics[^1];
            returned = ret.Id;
            period = ret.Period ?? ret.MetricStat?.Period ?? 0;
            foreach (var m in alarm.Metrics)
                if (period <= 0 && (m.MetricStat?.Period ?? m.Period) is int p and > 0) period = p;
            if (period <= 0) period = 60;
        }
        else if (alarm is { MetricName: { } name, Namespace: { } ns } && (alarm.Statistic ?? alarm.ExtendedStatistic) is { } stat)
        {
            returned = "m1";
            period = alarm.Period ?? 60;
            queries = [new MetricDataQuery
            {
                Id = returned, ReturnData = true,
                MetricStat = new MetricStat { Metric = new Metric { Namespace = ns, MetricName = name, Dimensions = alarm.Dimensions }, Period = period, Stat = stat, Unit = alarm.Unit },
            }];
        }
        else return null;
        var window = TimeSpan.FromSeconds(period * ((alarm.EvaluationPeriods ?? 1) + 1));
        var end = now ?? DateTimeOffset.UtcNow;
        return (new GetMetricDataRequest
        {
            MetricDataQueries = queries,
            StartTime = (end - window).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            EndTime = end.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ScanBy = "TimestampDescending",
            MaxDatapoints = 100,
        }, returned, window);
    }

    /// <summary>DescribeTasks' <c>include</c> for the tasks' own tags.</summary>
    public static readonly IReadOnlyList<string> IncludeTags = ["TAGS"];

    /// <summary>
    /// DescribeTasks of one task with <c>include: ["TAGS"]</c>. A failure ECS reports for the task (MISSING: stopped tasks
    /// are described for about an hour) or a failed call is said in the observation, never thrown.
    /// </summary>
    public async ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct)
    {
        DescribeTasksResponse r;
        try
        {
            r = await ecs.DescribeTasksAsync(new DescribeTasksRequest { Cluster = clusterArn, Tasks = [taskArn], Include = IncludeTags }, ct).ConfigureAwait(false);
        }
        catch (Http.AwsServiceException ex)
        {
            return TaskTagsObservation.None($"DescribeTasks failed: {ex.Message}");
        }
        var id = Arns.LastSegment(taskArn);
        var found = r.Tasks.FirstOrDefault(t => t.TaskArn == taskArn || Arns.LastSegment(t.TaskArn) == id);
        if (found is not null) return TaskTagsObservation.Read(found.Tags);
        var failure = r.Failures.FirstOrDefault(f => f.Arn == taskArn || (f.Arn is not null && Arns.LastSegment(f.Arn) == id)) ?? r.Failures.FirstOrDefault();
        return TaskTagsObservation.None(failure is null
            ? $"DescribeTasks did not return task {id}"
            : $"DescribeTasks answered {failure.Reason ?? "a failure"}{(failure.Detail is { } d ? $" ({d})" : "")} for task {id}{(failure.Reason == "MISSING" ? ": ECS describes a stopped task for about an hour" : "")}");
    }

    /// <summary>ListTasks by container instance (desired status RUNNING, every page), then DescribeTasks (with TAGS) in batches of 100; stopped tasks are left out.</summary>
    public async ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        var arns = await ecs.ListAllTaskArnsAsync(new ListTasksRequest
        {
            Cluster = clusterArn, ContainerInstance = containerInstanceArn, DesiredStatus = "RUNNING",
        }, ct).ConfigureAwait(false);
        if (arns.Count == 0) return [];
        // With their tags (the same calls): a task moved off the instance keeps them.
        var described = await ecs.DescribeAllTasksAsync(clusterArn, arns.Distinct(StringComparer.Ordinal).ToList(), ct, IncludeTags).ConfigureAwait(false);
        return described.Tasks
            .Where(t => !string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal))
            .Select(EcsObserved.ToObserved)
            .OrderBy(t => t.TaskArn, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// ListTasks with <c>desiredStatus: STOPPED</c> (pages of 100), then DescribeTasks of each page, until the pages end or
    /// <paramref name="maxCalls"/> calls are spent (the rest at the next sweep). A call that fails ends the read: what was
    /// described is kept, and the observation says what failed.
    /// </summary>
    public async ValueTask<StoppedTasksObservation> ListStoppedTasksAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        var tasks = new List<Core.Events.TaskStateChange>();
        var calls = 0;
        var operation = "ListTasks";
        string? token = null;
        try
        {
            do
            {
                if (calls + 2 > maxCalls) return new StoppedTasksObservation(tasks, calls, Truncated: true);
                calls++;
                operation = "ListTasks";
                var page = await ecs.ListTasksAsync(new ListTasksRequest
                {
                    Cluster = clusterArn, DesiredStatus = "STOPPED", MaxResults = EcsClient.DescribeBatch, NextToken = token,
                }, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _calls);
                token = page.NextToken;
                if (page.TaskArns.Count == 0) continue;
                calls++;
                operation = "DescribeTasks";
                var described = await ecs.DescribeTasksAsync(new DescribeTasksRequest { Cluster = clusterArn, Tasks = page.TaskArns }, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _calls);
                foreach (var t in described.Tasks)
                    if (string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal)) tasks.Add(EcsObserved.ToStateChange(t, clusterArn));
            }
            while (token is not null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new StoppedTasksObservation(tasks, calls, Unavailable: $"{operation} failed at call {calls} ({tasks.Count} stopped tasks read before it): {ex.Message}");
        }
        return new StoppedTasksObservation(tasks, calls);
    }

    /// <summary>
    /// ListContainerInstances (ACTIVE and DRAINING, ECS's default; pages of 100), then DescribeContainerInstances of each
    /// page, until the pages end or <paramref name="maxCalls"/> calls are spent (the rest at the next sweep). A call that
    /// fails ends the read: what was described is kept, and the observation says what failed.
    /// </summary>
    public async ValueTask<ContainerInstancesObservation> ListContainerInstancesAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        var instances = new List<Core.Events.ContainerInstanceStateChange>();
        var calls = 0;
        var operation = "ListContainerInstances";
        string? token = null;
        try
        {
            do
            {
                if (calls + 2 > maxCalls) return new ContainerInstancesObservation(instances, calls, Truncated: true);
                calls++;
                operation = "ListContainerInstances";
                var page = await ecs.ListContainerInstancesAsync(new ListContainerInstancesRequest
                {
                    Cluster = clusterArn, MaxResults = EcsClient.DescribeBatch, NextToken = token,
                }, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _calls);
                token = page.NextToken;
                if (page.ContainerInstanceArns.Count == 0) continue;
                calls++;
                operation = "DescribeContainerInstances";
                var described = await ecs.DescribeContainerInstancesAsync(new DescribeContainerInstancesRequest
                {
                    Cluster = clusterArn, ContainerInstances = page.ContainerInstanceArns,
                }, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _calls);
                foreach (var c in described.ContainerInstances) instances.Add(EcsObserved.ToObserved(c).ToStateChange(clusterArn));
            }
            while (token is not null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new ContainerInstancesObservation(instances, calls,
                Unavailable: $"{operation} failed at call {calls} ({instances.Count} container instances read before it): {ex.Message}");
        }
        return new ContainerInstancesObservation(instances, calls);
    }

    /// <summary>DescribeServices; null when ECS reports the service missing.</summary>
    public async ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct)
    {
        var r = await ecs.DescribeServicesAsync(new DescribeServicesRequest { Cluster = clusterArn, Services = [serviceArnOrName] }, ct).ConfigureAwait(false);
        var name = Arns.ServiceName(serviceArnOrName);
        var found = r.Services.FirstOrDefault(s => s.ServiceArn == serviceArnOrName || s.ServiceName == name);
        return found is null ? null : EcsObserved.ToObserved(found);
    }

    /// <summary>DescribeContainerInstances; null when ECS reports the container instance missing.</summary>
    public async ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        await DescribeInstanceAsync(clusterArn, containerInstanceArn, ct).ConfigureAwait(false) is { } c ? EcsObserved.ToObserved(c) : null;

    private async Task<ContainerInstance?> DescribeInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        var r = await ecs.DescribeContainerInstancesAsync(new DescribeContainerInstancesRequest
        {
            Cluster = clusterArn,
            ContainerInstances = [containerInstanceArn],
        }, ct).ConfigureAwait(false);
        var id = Arns.ContainerInstanceId(containerInstanceArn);
        return r.ContainerInstances.FirstOrDefault(c => c.ContainerInstanceArn == containerInstanceArn
                                                        || Arns.ContainerInstanceId(c.ContainerInstanceArn) == id);
    }
}
