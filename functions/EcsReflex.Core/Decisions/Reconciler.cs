using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>
/// What the sweep read of one policy cluster: its stopped tasks, its container instances when it drains (else null), and the
/// scaling records of its scaled services (null when it scales none; a service never scaled has no record).
/// </summary>
public sealed record ClusterSweep(ClusterPolicy Cluster, StoppedTasksObservation Stopped, ContainerInstancesObservation? Instances = null,
    IReadOnlyList<ServiceScalingRecord>? Scaling = null);

/// <summary>
/// The reconciler's sweep, pure (after Blox's reconciler and Kubernetes' level-based controllers: the event stream misses
/// some changes, so the state is looked at too). Of the stopped tasks ECS still shows, those the rescheduler would not
/// ignore on their STOPPED event alone are found (<see cref="Decision.Found"/>); so are the container instances of a
/// cluster with a drain policy that are DRAINING or whose agent is disconnected. The engine decides each exactly as its
/// event, under its deduplication keys, so one already decided from its event is a duplicate and is not decided again
/// (and the placement guard ignores an instance version it has already seen).
/// </summary>
public static class Reconciler
{
    /// <summary>ListTasks and DescribeTasks calls a sweep may make per cluster for its stopped tasks (ECS refills about 20 a second).</summary>
    public const int MaxCallsPerCluster = 10;

    /// <summary>ListContainerInstances and DescribeContainerInstances calls a sweep may make per cluster (100 instances per 2 calls).</summary>
    public const int MaxInstanceCallsPerCluster = 10;

    /// <summary>The id of the event a found drain or disconnect is decided as: one per instance version.</summary>
    public static string FoundEventId(ContainerInstanceStateChange i) =>
        $"sweep-{Arns.ContainerInstanceId(i.ContainerInstanceArn)}-{i.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0"}";

    /// <summary>The id of the event a found stop is decided as: one per task version, so two sweeps find it once.</summary>
    public static string FoundEventId(TaskStateChange t) => $"sweep-{t.TaskId}-{t.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0"}";

    public static Decision Decide(EventEnvelope schedule, ReflexPolicy policy, IReadOnlyList<ClusterSweep> swept, DateTimeOffset now)
    {
        var found = new List<EventEnvelope>();
        var parts = new List<string>();
        var failed = new List<string>();
        var due = new List<FoundDue>();
        foreach (var (cluster, stopped, instances, scaling) in swept)
        {
            var read = new List<string>();
            if (stopped.Unavailable is { } why) failed.Add($"{cluster.Name}: {why}");
            else if (cluster.Reschedule.Count > 0)
            {
                var before = found.Count;
                foreach (var t in stopped.Tasks)
                    if (Missed(t, policy)) found.Add(AsEvent(t, schedule));
                read.Add($"{Read(stopped.Tasks.Count, "stopped task", stopped.Calls, stopped.Truncated)}, {found.Count - before} a rule would relaunch");
            }
            if (instances is not null)
            {
                if (instances.Unavailable is { } whyNot) failed.Add($"{cluster.Name}: {whyNot}");
                var moving = 0;
                foreach (var i in instances.Instances)
                    if (string.Equals(i.Status, "DRAINING", StringComparison.Ordinal) || i.AgentConnected == false)
                    {
                        found.Add(AsEvent(i, schedule, now));
                        moving++;
                    }
                read.Add($"{Read(instances.Instances.Count, "container instance", instances.Calls, instances.Truncated)}, {moving} draining or disconnected");
            }
            // Placement drift: every service whose placement the policy enforces is checked as a deployment would have it
            // checked (the guard reads the service and restores the policy's placement, or the fallback's when in effect).
            var checks = DriftChecks(cluster, schedule, now).ToList();
            found.AddRange(checks);
            var checkedServices = checks.Count;
            if (checkedServices > 0) read.Add($"{Count(checkedServices, "service placement")} to check");
            if (scaling is not null)
            {
                var before = due.Count;
                due.AddRange(LostRedecisions(policy, cluster, scaling, schedule, now));
                read.Add($"{Count(scaling.Count, "scaling record")}, {Count(due.Count - before, "sustained alarm re-decision")} overdue");
            }
            if (read.Count > 0) parts.Add($"{cluster.Name}: {string.Join("; ", read)}");
        }
        var what = swept.Count == 0
            ? "swept no cluster: no cluster of the policy has a reschedule rule, a drain policy, an enforced placement or a scaled service"
            : $"swept {Count(swept.Count, "cluster")} for what no event said ({string.Join("; ", parts.Concat(failed))})";
        return new Decision
        {
            Outcome = failed.Count > 0 ? Outcome.Failed : Outcome.Ignored,
            Code = failed.Count > 0 ? ReasonCodes.ReconcilerReadFailed : ReasonCodes.ReconcilerSwept,
            Reason = failed.Count > 0 ? what + "; failed so that the schedule's retry sweeps again" : what,
            Found = found,
            FoundDue = due,
        };
    }

    /// <summary>
    /// A sustained alarm's re-decision not run this long after it was due is taken as lost (its delay queue message
    /// dead-lettered, or never sent) and re-armed. A late original that still comes finds it replaced (the scaler's record
    /// schedules one re-decision per alarm), so the two act once.
    /// </summary>
    public static readonly TimeSpan RedecisionGrace = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The re-decisions of sustained alarms of <paramref name="cluster"/> that did not come: an alarm its service's scaling
    /// record remembers in ALARM with a re-decision due more than <see cref="RedecisionGrace"/> ago, and that the policy
    /// still maps to that service. Each is the work as it would have come due (<see cref="AsRedecision"/>).
    /// </summary>
    public static IEnumerable<FoundDue> LostRedecisions(ReflexPolicy policy, ClusterPolicy cluster, IReadOnlyList<ServiceScalingRecord> records,
        EventEnvelope schedule, DateTimeOffset now)
    {
        foreach (var record in records)
            foreach (var m in record.Alarms)
                if (m.State == ServiceScaler.Alarm && m.RedecideAt is { } due && due + RedecisionGrace <= now
                    && ServiceScaler.FindTarget(policy, m.AlarmName) is { } t && t.Cluster.Name == cluster.Name && t.Service.Name == record.Service)
                    yield return new FoundDue(AsRedecision(m, due, schedule, now), due);
    }

    /// <summary>
    /// The alarm's state change a re-armed re-decision is decided on: the alarm in ALARM since the time its record says,
    /// with the evaluation period it remembers (the re-decision reads the state and the newest datapoint now, as any
    /// re-decision does). One id per alarm and due time, so two sweeps re-arm it once.
    /// </summary>
    public static EventEnvelope AsRedecision(RememberedAlarm m, DateTimeOffset due, EventEnvelope schedule, DateTimeOffset now)
    {
        var period = m.PeriodSeconds ?? ServiceScaler.DefaultPeriodSeconds;
        var arn = schedule.Region is { } region && schedule.Account is { } account ? $"arn:aws:cloudwatch:{region}:{account}:alarm:{m.AlarmName}" : null;
        return Found(schedule, $"sweep-{m.AlarmName}-{due.UtcDateTime:yyyyMMdd'T'HHmmss.fff'Z'}", DetailTypes.AlarmStateChange, DetailTypes.CloudWatchSource,
            now, arn is null ? [] : [arn], new AlarmStateChange
            {
                AlarmName = m.AlarmName,
                AlarmArn = arn,
                State = new AlarmState
                {
                    Value = ServiceScaler.Alarm,
                    Reason = RedecisionReason,
                    ReasonDataJson = $"{{\"version\":\"1.0\",\"period\":{period.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}",
                    ReasonData = new AlarmReasonData { Period = period },
                    Timestamp = m.StateTimestamp,
                },
            });
    }

    /// <summary>The <c>state.reason</c> of a re-armed re-decision's alarm state change.</summary>
    public const string RedecisionReason = "the reconciler's sweep re-arms the re-decision of a sustained alarm";

    /// <summary>
    /// A stop the rescheduler would act on from its event alone (relaunch, defer or give up), or a task EcsReflex started
    /// (its chain's rule is in its lineage record, which the rescheduler reads).
    /// </summary>
    private static bool Missed(TaskStateChange t, ReflexPolicy policy) =>
        t.LastStatus == "STOPPED" && !TaskRescheduler.IsServiceTask(t)
        && (TaskRescheduler.TryParseLineage(t.StartedBy, out _, out _)
            || TaskRescheduler.ActsOnItsEventAlone(t, policy));

    /// <summary>The task as the STOPPED event that did not arrive would have carried it.</summary>
    public static EventEnvelope AsEvent(TaskStateChange t, EventEnvelope schedule) =>
        Found(schedule, FoundEventId(t), DetailTypes.TaskStateChange, DetailTypes.EcsSource, t.StoppedAt ?? t.UpdatedAt ?? schedule.Time, [t.TaskArn], t);

    /// <summary>
    /// The instance as the state change event that did not arrive would have carried it (ECS's describe gives no time of
    /// the change: the sweep's; a disconnected agent's grace then counts from the sweep that first saw it).
    /// </summary>
    public static EventEnvelope AsEvent(ContainerInstanceStateChange i, EventEnvelope schedule, DateTimeOffset now) =>
        Found(schedule, FoundEventId(i), DetailTypes.ContainerInstanceStateChange, DetailTypes.EcsSource, i.UpdatedAt ?? now, [i.ContainerInstanceArn],
            i.UpdatedAt is null ? i with { UpdatedAt = now } : i);

    /// <summary>The placement checks a sweep at <paramref name="now"/> makes in <paramref name="cluster"/>: one per service whose placement the policy enforces.</summary>
    public static IEnumerable<EventEnvelope> DriftChecks(ClusterPolicy cluster, EventEnvelope schedule, DateTimeOffset now)
    {
        foreach (var service in cluster.Services)
            if (service.Placement is { Enforce: true })
                yield return AsDriftCheck(cluster, service, schedule, now);
    }

    /// <summary>The reason of a placement check the sweep asks for (<see cref="DeploymentStateChange.Reason"/>).</summary>
    public const string DriftCheckReason = "the reconciler's sweep checks the service's placement";

    /// <summary>
    /// A placement check of <paramref name="service"/>, as the guard makes one on a completed deployment: one per sweep (its
    /// id has the sweep's time), so it is decided every sweep; a placement that matches changes nothing.
    /// </summary>
    public static EventEnvelope AsDriftCheck(ClusterPolicy cluster, ServicePolicy service, EventEnvelope schedule, DateTimeOffset now)
    {
        var clusterArn = cluster.Cluster.StartsWith("arn:", StringComparison.Ordinal) || schedule.Region is null || schedule.Account is null
            ? cluster.Cluster
            : $"arn:aws:ecs:{schedule.Region}:{schedule.Account}:cluster/{cluster.Cluster}";
        var serviceArn = service.Service.StartsWith("arn:", StringComparison.Ordinal) || !clusterArn.StartsWith("arn:", StringComparison.Ordinal)
            ? service.Service
            : $"{clusterArn.Replace(":cluster/", ":service/", StringComparison.Ordinal)}/{service.Service}";
        return Found(schedule, $"sweep-{Arns.ServiceName(service.Service)}-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}", DetailTypes.DeploymentStateChange,
            DetailTypes.EcsSource, now, [serviceArn], new DeploymentStateChange
            {
                EventType = "INFO", EventName = "SERVICE_DEPLOYMENT_COMPLETED", ClusterArn = clusterArn, ServiceArn = serviceArn,
                Reason = DriftCheckReason, UpdatedAt = now,
            });
    }

    /// <summary>The event a sweep found, in the schedule's account and region: every found event is made here.</summary>
    private static EventEnvelope Found(EventEnvelope schedule, string id, string detailType, string source, DateTimeOffset? time,
        IReadOnlyList<string> resources, EventDetail detail) => new()
    {
        Version = "0", Id = id, DetailType = detailType, Source = source, Account = schedule.Account, Time = time, Region = schedule.Region,
        Resources = resources, Detail = detail,
    };

    /// <summary>What one read gave: <c>14 stopped tasks in 2 calls</c>, and whether its call budget ran out.</summary>
    private static string Read(int items, string what, int calls, bool truncated) =>
        $"{Count(items, what)} in {Count(calls, "call")}" + (truncated ? " (the call budget ran out: the rest at the next sweep)" : "");

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}
