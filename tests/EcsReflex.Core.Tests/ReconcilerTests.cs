using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>The reconciler's sweep, pure: which stopped tasks it finds, what it says, and the policy's <c>reconcile</c>.</summary>
public class ReconcilerTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 5, 0, TimeSpan.Zero);

    private static readonly ReflexPolicy Policy = PolicyLoader.Load("""
    {"clusters":[{"cluster":"prod","reschedule":[{"name":"workers","match":{"group":"family:worker"},"backoff":{"initialSeconds":0}}]}]}
    """);

    private static readonly EventEnvelope Schedule = new()
    {
        Version = "0", Id = "sched-1", DetailType = DetailTypes.ScheduledEvent, Source = DetailTypes.EventsSource,
        Account = "123456789012", Region = "us-east-1", Time = Now, Detail = new ScheduledEvent(["arn:aws:events:us-east-1:123456789012:rule/r"]),
    };

    private static TaskStateChange Stopped(string id, int? exit = 1, string stopCode = "EssentialContainerExited", string group = "family:worker",
        string? startedBy = null) => new()
    {
        ClusterArn = Cluster, TaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}",
        TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", Group = group, StartedBy = startedBy,
        LastStatus = "STOPPED", StopCode = stopCode, LaunchType = "EC2", Version = 4, StoppedAt = Now.AddMinutes(-3),
        Containers = [new ContainerDetail { Name = "worker", ExitCode = exit }],
    };

    private static Decision Sweep(params TaskStateChange[] tasks) =>
        Reconciler.Decide(Schedule, Policy, [new ClusterSweep(Policy.Clusters[0], new StoppedTasksObservation(tasks, 2))], Now);

    [Fact]
    public void FindsTheStopsTheReschedulerWouldActOn_NotThoseItsEventAloneWouldIgnore()
    {
        var d = Sweep(Stopped("failed"), Stopped("done", exit: 0), Stopped("user", stopCode: "UserInitiated"),
            Stopped("svc", group: "service:web", startedBy: "ecs-svc/123"), Stopped("other", group: "family:other"),
            Stopped("ours", exit: 0, startedBy: "reflex/abc123/2"));

        // "ours" was started by EcsReflex: its chain's rule and count are in its lineage record, which the rescheduler reads.
        Assert.Equal(["failed", "ours"], d.Found.Select(e => ((TaskStateChange)e.Detail).TaskId));
        Assert.Equal((Outcome.Ignored, ReasonCodes.ReconcilerSwept), (d.Outcome, d.Code));
        Assert.Equal("swept 1 cluster for what no event said (prod: 6 stopped tasks in 2 calls, 2 a rule would relaunch)", d.Reason);
        Assert.Empty(d.Actions);
    }

    [Fact]
    public void AFoundStop_IsTheEventThatDidNotArrive_OneIdPerTaskVersion()
    {
        var e = Assert.Single(Sweep(Stopped("failed")).Found);

        Assert.Equal(("sweep-failed-4", DetailTypes.TaskStateChange, DetailTypes.EcsSource), (e.Id, e.DetailType, e.Source));
        Assert.Equal((Now.AddMinutes(-3), "us-east-1", "123456789012"), (e.Time!.Value, e.Region, e.Account));
        Assert.Equal(["arn:aws:ecs:us-east-1:123456789012:task/prod/failed"], e.Resources);
    }

    [Fact]
    public void AClusterThatCouldNotBeRead_FailsTheSweep_SayingWhy_AndTheOthersAreStillDecided()
    {
        var other = Policy.Clusters[0] with { Cluster = "batch" };
        var d = Reconciler.Decide(Schedule, Policy,
            [new ClusterSweep(Policy.Clusters[0], new StoppedTasksObservation([Stopped("failed")], 2)),
             new ClusterSweep(other, StoppedTasksObservation.None("ListTasks failed at call 1 (0 stopped tasks read before it): AccessDenied"))], Now);

        Assert.Equal((Outcome.Failed, ReasonCodes.ReconcilerReadFailed), (d.Outcome, d.Code));
        Assert.Contains("batch: ListTasks failed at call 1", d.Reason, StringComparison.Ordinal);
        Assert.EndsWith("failed so that the schedule's retry sweeps again", d.Reason, StringComparison.Ordinal);
        Assert.Single(d.Found);
    }

    [Fact]
    public void ATruncatedRead_SaysTheRestWaitsForTheNextSweep()
    {
        var d = Reconciler.Decide(Schedule, Policy, [new ClusterSweep(Policy.Clusters[0], new StoppedTasksObservation([Stopped("a")], 10, Truncated: true))], Now);
        Assert.Contains("prod: 1 stopped task in 10 calls (the call budget ran out: the rest at the next sweep), 1 a rule would relaunch", d.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"intervalSeconds":90}""", "reconcile.intervalSeconds", "90 is not a whole number of minutes (EventBridge's rate() schedule counts minutes); use 60 or 120")]
    [InlineData("""{"intervalSeconds":30}""", "reconcile.intervalSeconds", "30 is out of range; use a value from 60 to 86400")]
    [InlineData("""{"every":300}""", "reconcile.every", "unknown field; expected one of: intervalSeconds")]
    public void ThePolicysReconcile_IsCheckedNamingTheFieldAndTheFix(string reconcile, string path, string message)
    {
        var (policy, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"clusters":[{"cluster":"prod"}],"reconcile":{{reconcile}}}"""));
        Assert.Null(policy);
        Assert.Contains(errors, e => e.Path == path && e.Message == message);
    }

    [Fact]
    public void ThePolicysReconcile_DefaultsToFiveMinutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), Policy.Reconcile.Interval);
        Assert.Equal(600, PolicyLoader.Load("""{"clusters":[{"cluster":"prod"}],"reconcile":{"intervalSeconds":600}}""").Reconcile.IntervalSeconds);
    }

    [Fact]
    public void ChecksEveryEnforcedPlacement_AsACompletedDeployment_OnePerSweep()
    {
        var policy = PolicyLoader.Load("""
        {"clusters":[{"cluster":"prod","services":[
          {"service":"web","placement":{"constraints":[],"strategy":[{"type":"spread","field":"attribute:ecs.availability-zone"}],"enforce":true}},
          {"service":"api","placement":{"constraints":[],"strategy":[{"type":"binpack","field":"memory"}]}}]}]}
        """);
        var d = Reconciler.Decide(Schedule, policy, [new ClusterSweep(policy.Clusters[0], new StoppedTasksObservation([], 0))], Now);

        var check = Assert.Single(d.Found); // api's placement is not enforced: not checked
        Assert.Equal(("sweep-web-20260302T090500Z", DetailTypes.DeploymentStateChange, DetailTypes.EcsSource), (check.Id, check.DetailType, check.Source));
        var deployment = Assert.IsType<DeploymentStateChange>(check.Detail);
        Assert.Equal(("SERVICE_DEPLOYMENT_COMPLETED", Cluster, "arn:aws:ecs:us-east-1:123456789012:service/prod/web", (DateTimeOffset?)Now),
            (deployment.EventName, deployment.ClusterArn, deployment.ServiceArn, deployment.UpdatedAt));
        Assert.Equal(["arn:aws:ecs:us-east-1:123456789012:service/prod/web"], check.Resources);
        Assert.Contains("prod: 1 service placement to check", d.Reason, StringComparison.Ordinal);
        // The next sweep checks it again, under its own id.
        Assert.NotEqual(check.Id, Assert.Single(Reconciler.DriftChecks(policy.Clusters[0], Schedule, Now.AddMinutes(5))).Id);
    }

    [Fact]
    public void ReArmsTheReDecisionsOfSustainedAlarms_ThatAreOverdue_OnlyThose()
    {
        var policy = PolicyLoader.Load("""
        {"clusters":[{"cluster":"prod","services":[{"service":"web","scaling":{"minCount":1,"maxCount":10,"alarms":[
          {"alarmName":"web-cpu-high","adjustmentType":"ChangeInCapacity","steps":[{"lowerBound":0,"adjustment":1}]},
          {"alarmName":"web-cpu-low","adjustmentType":"ChangeInCapacity","steps":[{"upperBound":0,"adjustment":-1}]}]}}]}]}
        """);
        RememberedAlarm Alarm(string name, string state, DateTimeOffset? due) =>
            new() { AlarmName = name, State = state, StateTimestamp = Now.AddMinutes(-10), SeenAt = Now.AddMinutes(-10), RedecideAt = due, PeriodSeconds = 120 };
        ServiceScalingRecord Record(string service, params RememberedAlarm[] alarms) => new() { Cluster = "prod", Service = service, Version = 3, Alarms = alarms };
        Decision Sweep(params ServiceScalingRecord[] records) =>
            Reconciler.Decide(Schedule, policy, [new ClusterSweep(policy.Clusters[0], new StoppedTasksObservation([], 0), Scaling: records)], Now);

        // Due 60 s ago or more, in ALARM, mapped to the record's service: re-armed, at its due time.
        var overdue = Sweep(Record("web", Alarm("web-cpu-high", "ALARM", Now.AddSeconds(-60))));
        var found = Assert.Single(overdue.FoundDue);
        Assert.Equal(Now.AddSeconds(-60), found.DueAt);
        var a = Assert.IsType<AlarmStateChange>(found.Event.Detail);
        Assert.Equal(("web-cpu-high", "ALARM", (DateTimeOffset?)Now.AddMinutes(-10), 120), (a.AlarmName, a.State.Value, a.State.Timestamp, a.State.ReasonData!.Period));
        Assert.Equal("arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high", a.AlarmArn);
        Assert.Equal("sweep-web-cpu-high-20260302T090400.000Z", found.Event.Id);
        Assert.Contains("1 scaling record, 1 sustained alarm re-decision overdue", overdue.Reason, StringComparison.Ordinal);
        Assert.Empty(overdue.Found);

        // Not yet overdue (its message may still come), no re-decision scheduled, no longer in ALARM, or an alarm the
        // policy maps to no service or to another one: nothing.
        Assert.Empty(Sweep(Record("web", Alarm("web-cpu-high", "ALARM", Now.AddSeconds(-59)))).FoundDue);
        Assert.Empty(Sweep(Record("web", Alarm("web-cpu-high", "ALARM", null))).FoundDue);
        Assert.Empty(Sweep(Record("web", Alarm("web-cpu-high", "OK", Now.AddMinutes(-5)))).FoundDue);
        Assert.Empty(Sweep(Record("web", Alarm("gone-from-the-policy", "ALARM", Now.AddMinutes(-5)))).FoundDue);
        Assert.Empty(Sweep(Record("api", Alarm("web-cpu-high", "ALARM", Now.AddMinutes(-5)))).FoundDue);
        // Two alarms of one record: each its own.
        Assert.Equal(2, Sweep(Record("web", Alarm("web-cpu-high", "ALARM", Now.AddMinutes(-5)), Alarm("web-cpu-low", "ALARM", Now.AddMinutes(-2)))).FoundDue.Count);
    }
}

/// <summary>The sweep's container instances: a drain or a disconnect no event said, in a cluster with a drain policy.</summary>
public class ReconcilerInstanceTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 5, 0, TimeSpan.Zero);

    private static readonly ReflexPolicy Policy = PolicyLoader.Load("""
    {"clusters":[{"cluster":"prod","drain":{"agentDisconnectedGraceSeconds":120},"reschedule":[{"name":"workers","match":{"group":"family:worker"}}]}]}
    """);

    private static readonly EventEnvelope Schedule = new()
    {
        Version = "0", Id = "sched-1", DetailType = DetailTypes.ScheduledEvent, Source = DetailTypes.EventsSource,
        Account = "123456789012", Region = "us-east-1", Time = Now, Detail = new ScheduledEvent([]),
    };

    private static ContainerInstanceStateChange Instance(string id, string status, bool agent) => new()
    {
        ClusterArn = Cluster, ContainerInstanceArn = $"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/{id}",
        Status = status, AgentConnected = agent, Version = 7, Ec2InstanceId = "i-" + id,
    };

    [Fact]
    public void FindsTheDrainingAndTheDisconnected_AsTheirStateChangeEvents_OneIdPerVersion()
    {
        var d = Reconciler.Decide(Schedule, Policy,
        [
            new ClusterSweep(Policy.Clusters[0], new StoppedTasksObservation([], 1),
                new ContainerInstancesObservation([Instance("a", "ACTIVE", true), Instance("b", "DRAINING", true), Instance("c", "ACTIVE", false)], 2)),
        ], Now);

        Assert.Equal(["sweep-b-7", "sweep-c-7"], d.Found.Select(e => e.Id));
        Assert.All(d.Found, e => Assert.Equal((DetailTypes.ContainerInstanceStateChange, DetailTypes.EcsSource, Now), (e.DetailType, e.Source, e.Time!.Value)));
        // ECS's describe says no time of the change: the sweep's, from which a disconnected agent's grace then counts.
        Assert.Equal(Now, ((ContainerInstanceStateChange)d.Found[1].Detail).UpdatedAt);
        Assert.Equal("swept 1 cluster for what no event said (prod: 0 stopped tasks in 1 call, 0 a rule would relaunch; "
                     + "3 container instances in 2 calls, 2 draining or disconnected)", d.Reason);
    }

    [Fact]
    public void AFailedInstanceRead_FailsTheSweepSayingWhich_ButKeepsWhatTheOtherReadsFound()
    {
        var d = Reconciler.Decide(Schedule, Policy,
        [
            new ClusterSweep(Policy.Clusters[0], new StoppedTasksObservation([], 1), ContainerInstancesObservation.None("DescribeContainerInstances failed at call 2: denied")),
        ], Now);

        Assert.Equal((Outcome.Failed, ReasonCodes.ReconcilerReadFailed), (d.Outcome, d.Code));
        Assert.Contains("prod: DescribeContainerInstances failed at call 2: denied", d.Reason, StringComparison.Ordinal);
    }
}

/// <summary>The sweep's cheap question agrees with the rescheduler's whole decision, stop by stop.</summary>
public class ReconcilerAgreementTests
{
    public static TheoryData<string> Stops => [.. Directory.GetFiles(Repository.Path("events"), "ecs-task-*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Stops))]
    public void ActsOnItsEventAlone_IsTrueExactlyWhenDecideDoesNotIgnoreTheEvent(string file)
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Policy));
        var t = (TaskStateChange)EventParser.Parse(File.ReadAllBytes(Repository.Path("events", file))).Detail;
        // And the same task as a relaunch (startedBy reflex/…), and as a success under each rule's restart mode.
        foreach (var variant in new[] { t, t with { StartedBy = "reflex/abc/1" }, t with { Containers = [.. t.Containers.Select(c => c with { ExitCode = 0 })], StopCode = "EssentialContainerExited" } })
        {
            var decided = TaskRescheduler.Decide(variant, policy, TaskObservation.None, variant.StoppedAt ?? DateTimeOffset.UnixEpoch).Outcome != Outcome.Ignored;
            Assert.Equal(decided, TaskRescheduler.ActsOnItsEventAlone(variant, policy));
        }
    }

    /// <summary>
    /// The hot path's shortcut (issue 17): when the event alone settles the rescheduler's ignore, nothing observed changes
    /// it. Each sample stop and its variants, decided with nothing, with a lineage record (ongoing and given up, under
    /// each rule) and with a drain move of the task: the same ignore, with the same code, as with nothing observed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Stops))]
    public void SettledByItsEvent_IsAnIgnoreNoObservationChanges(string file)
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Policy));
        var t = (TaskStateChange)EventParser.Parse(File.ReadAllBytes(Repository.Path("events", file))).Detail;
        var settled = 0;
        foreach (var variant in new[]
                 {
                     t, t with { StartedBy = "reflex/abc/1" }, t with { Containers = [.. t.Containers.Select(c => c with { ExitCode = 0 })], StopCode = "EssentialContainerExited" },
                     t with { StopCode = "UserInitiated" }, t with { LastStatus = "RUNNING" }, t with { Group = "service:web", StartedBy = "ecs-svc/1" },
                 })
        {
            if (!TaskRescheduler.SettledByItsEvent(variant, policy)) continue;
            settled++;
            var now = variant.StoppedAt ?? DateTimeOffset.UnixEpoch;
            var alone = TaskRescheduler.Decide(variant, policy, TaskObservation.None, now);
            Assert.Equal(Outcome.Ignored, alone.Outcome);
            var cluster = policy.FindCluster(variant.ClusterArn)?.Name ?? "prod";
            var observations = new List<TaskObservation>();
            foreach (var rule in policy.Clusters.SelectMany(c => c.Reschedule))
                foreach (var givenUp in new[] { false, true })
                    observations.Add(new TaskObservation
                    {
                        Lineage = new LineageRecord { Cluster = cluster, Lineage = variant.TaskId, Rule = rule.Name, Attempt = 2, GivenUp = givenUp, OriginalStartedBy = variant.StartedBy },
                        FailedEc2InstanceId = "i-0123456789abcdef0",
                    });
            observations.Add(new TaskObservation
            {
                DrainMove = new DrainMoveRecord
                {
                    Cluster = cluster, Lineage = variant.TaskId, Rule = "batch-workers", OriginalTaskArn = variant.TaskArn, ContainerInstanceArn = "ci",
                    ReplacementStartedBy = $"reflex/{variant.TaskId}/1", ReplacementClientToken = "token",
                },
            });
            foreach (var o in observations)
            {
                var d = TaskRescheduler.Decide(variant, policy, o, now);
                // A given-up record says so first (still an ignore). It cannot meet a settled stop in ECS: a record is keyed by
                // its chain's first task, which stopped as a failure to start the chain, and a task stops once.
                Assert.Equal((Outcome.Ignored, o.Lineage is { GivenUp: true } && d.Code == ReasonCodes.ReschedulerGivenUp ? d.Code : alone.Code), (d.Outcome, d.Code));
            }
        }
        Assert.True(settled >= 3, $"{file}: only {settled} variants settled by their event"); // RUNNING, a service's task and a user's stop always are
    }
}
