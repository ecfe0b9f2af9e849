using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class TaskReschedulerTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string Instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/aaaa";
    private static readonly DateTimeOffset Stop = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly ReflexPolicy Policy = PolicyLoader.Load("""
    {"clusters":[{"cluster":"prod","limits":{"maxRelaunchesPerMinute":20},"reschedule":[
      {"name":"batch-workers","match":{"group":"family:worker"},"maxAttempts":5,
       "backoff":{"initialSeconds":10,"multiplier":2,"maxSeconds":360},"resetAfterSeconds":600,
       "ignoreExitCodes":[143],"avoidFailedInstance":true,
       "placement":{"strategy":[{"type":"spread","field":"attribute:ecs.availability-zone"}]}},
      {"name":"reports","match":{"taskDefinitionFamily":"report","startedByPrefix":"scheduler"},"maxAttempts":3,
       "backoff":{"initialSeconds":0,"multiplier":2,"maxSeconds":60},
       "network":{"subnets":["subnet-1","subnet-2"],"securityGroups":["sg-1"]}},
      {"name":"reports-no-network","match":{"taskDefinitionFamily":"report-legacy"}},
      {"name":"always","match":{"taskDefinitionFamily":"daemonish"},"restart":"Always"}
    ]}]}
    """);

    private static TaskStateChange Task(string id = "t0", string? stopCode = "EssentialContainerExited", int? exit = 1,
        string? reason = null, string group = "family:worker", string? startedBy = null, string taskDef = "worker:7",
        TimeSpan? ranFor = null, string launchType = "EC2", string? capacityProvider = null, bool eni = false) => new()
    {
        ClusterArn = Cluster,
        TaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}",
        TaskDefinitionArn = $"arn:aws:ecs:us-east-1:123456789012:task-definition/{taskDef}",
        Group = group,
        StartedBy = startedBy,
        LastStatus = "STOPPED",
        StopCode = stopCode,
        LaunchType = launchType,
        CapacityProviderName = capacityProvider,
        ContainerInstanceArn = launchType == "FARGATE" ? null : Instance,
        StartedAt = Stop - (ranFor ?? TimeSpan.FromSeconds(30)),
        StoppedAt = Stop,
        Version = 3,
        Containers = [new ContainerDetail { Name = "worker", ExitCode = exit, Reason = reason }],
        Attachments = eni ? [new Attachment { Type = "eni", Details = [new KeyValue("subnetId", "subnet-x")] }] : [],
        Overrides = JsonDocument.Parse("""{"containerOverrides":[{"name":"worker","command":["run","--fast"]}]}""").RootElement,
    };

    private static readonly TaskObservation OnInstance = new() { FailedEc2InstanceId = "i-0abc" };

    private static Decision Decide(TaskStateChange t, TaskObservation? o = null, DateTimeOffset? now = null) =>
        TaskRescheduler.Decide(t, Policy, o ?? OnInstance, now ?? Stop);

    private static RunTaskRequest RunTask(Decision d) =>
        Assert.IsType<RunTaskRequest>(Assert.Single(d.Actions).Request);

    // ---- what is ignored ----

    public static TheoryData<string, TaskStateChange, string, string> IgnoredCases => new()
    {
        { "user stop", Task(stopCode: "UserInitiated", exit: 143), "stopped by a user", ReasonCodes.ReschedulerNotAFailure },
        { "service group", Task(group: "service:web"), "belongs to a service", ReasonCodes.ReschedulerServiceTask },
        { "service startedBy", Task(group: "family:web", startedBy: "ecs-svc/123"), "belongs to a service", ReasonCodes.ReschedulerServiceTask },
        { "no rule", Task(group: "family:other", taskDef: "other:1"), "matches no reschedule rule", ReasonCodes.ReschedulerNoRule },
        { "exit 0 under OnFailure", Task(exit: 0), "restarts on failure only", ReasonCodes.ReschedulerSuccess },
        { "ignored exit code", Task(exit: 143), "listed in ignoreExitCodes", ReasonCodes.ReschedulerSuccess },
        { "scheduler stop", Task(stopCode: "ServiceSchedulerInitiated", exit: 143), "not a failure", ReasonCodes.ReschedulerNotAFailure },
        { "running", Task() with { LastStatus = "RUNNING" }, "not STOPPED", ReasonCodes.ReschedulerNotStopped },
        { "other cluster", Task() with { ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/staging" }, "not in the policy", ReasonCodes.ReschedulerClusterNotInPolicy },
        { "report started by a person", Task(group: "family:report", taskDef: "report:3", startedBy: "alice"), "matches no reschedule rule", ReasonCodes.ReschedulerNoRule },
    };

    [Theory]
    [MemberData(nameof(IgnoredCases))]
    public void Decide_IgnoresWhatIsNotARelaunchableFailure(string _, TaskStateChange t, string reason, string code)
    {
        var d = Decide(t);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(code, d.Code);
        Assert.Empty(d.Actions);
        Assert.Contains(reason, d.Reason);
    }

    // ---- classification ----

    [Theory]
    [InlineData("EssentialContainerExited", 1, null, StopKind.Exit)]
    [InlineData("EssentialContainerExited", 0, null, StopKind.Success)]
    [InlineData("EssentialContainerExited", 143, null, StopKind.Success)]
    [InlineData("EssentialContainerExited", 137, "OutOfMemoryError: Container killed due to memory usage", StopKind.Oom)]
    [InlineData("EssentialContainerExited", null, "OutOfMemoryError: Container killed", StopKind.Oom)]
    [InlineData("EssentialContainerExited", null, "CannotStartContainerError", StopKind.Exit)]
    [InlineData(null, 2, null, StopKind.Exit)]
    [InlineData("TaskFailedToStart", null, "CannotPullContainerError: not found", StopKind.Start)]
    [InlineData("SpotInterruption", 143, null, StopKind.Infrastructure)]
    [InlineData("TerminationNotice", null, null, StopKind.Infrastructure)]
    [InlineData("UserInitiated", 1, null, StopKind.UserInitiated)]
    public void Classify_FollowsTheStopCodeThenTheContainers(string? stopCode, int? exit, string? reason, StopKind kind) =>
        Assert.Equal(kind, TaskRescheduler.Classify(Task(stopCode: stopCode, exit: exit, reason: reason), [143]).Kind);

    // ---- relaunch ----

    [Fact]
    public void Decide_WhenEssentialContainerExitsNonZero_DefersByTheFirstBackoff()
    {
        var d = Decide(Task());
        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerBackoff, d.Code);
        Assert.Equal(Stop.AddSeconds(10), d.DueAt);
        Assert.Equal("task t0 (worker): worker exited 1 (attempt 1 of 5); relaunching in 10 s away from i-0abc", d.Reason);
        Assert.Empty(d.Actions);
    }

    [Fact]
    public void Decide_WhenTheBackoffHasPassed_RelaunchesWithTheSameLaunchParameters()
    {
        var t = Task();
        var d = Decide(t, now: Stop.AddSeconds(10));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerRelaunch, d.Code);
        var r = RunTask(d);
        Assert.Equal(Cluster, r.Cluster);
        Assert.Equal(t.TaskDefinitionArn, r.TaskDefinition);
        Assert.Equal(1, r.Count);
        Assert.Equal("family:worker", r.Group);
        Assert.Equal("EC2", r.LaunchType);
        Assert.Null(r.CapacityProviderStrategy);
        Assert.Equal("reflex/t0/1", r.StartedBy);
        Assert.Equal(t.Overrides!.Value.GetRawText(), r.Overrides!.Value.GetRawText());
        Assert.Equal([new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId != i-0abc" }], r.PlacementConstraints);
        Assert.Equal([new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }], r.PlacementStrategy);
        Assert.Contains(new Tag("reflex:lineage", "t0"), r.Tags!);
        Assert.Contains(new Tag("reflex:attempt", "1"), r.Tags!);
        Assert.Null(r.NetworkConfiguration);
        Assert.Equal(TaskRescheduler.ClientToken(Cluster, t.TaskArn), r.ClientToken);
        Assert.Equal(new LineageRecordView("t0", 1, false), View(d.Lineage));
    }

    private sealed record LineageRecordView(string Lineage, int Attempt, bool GivenUp);
    private static LineageRecordView? View(LineageRecord? r) => r is null ? null : new(r.Lineage, r.Attempt, r.GivenUp);

    [Theory]
    [InlineData(1, 2, 20)]
    [InlineData(2, 3, 40)]
    [InlineData(4, 5, 160)]
    public void Decide_CountsAttemptsFromStartedBy_AndBacksOffExponentially(int failedAttempt, int next, int seconds)
    {
        var d = Decide(Task(id: "t9", startedBy: $"reflex/t0/{failedAttempt}"));
        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(Stop.AddSeconds(seconds), d.DueAt);
        Assert.Contains($"(attempt {next} of 5)", d.Reason);
        Assert.Equal($"reflex/t0/{next}", RunTask(Decide(Task(id: "t9", startedBy: $"reflex/t0/{failedAttempt}"), now: Stop.AddSeconds(seconds))).StartedBy);
    }

    [Fact]
    public void Decide_WhenTheLastAttemptFails_GivesUp()
    {
        var d = Decide(Task(id: "t5", startedBy: "reflex/t0/5"));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerGaveUp, d.Code);
        var a = Assert.Single(d.Actions);
        Assert.Equal(("reflex", "GiveUp"), (a.Service, a.Operation));
        var g = Assert.IsType<GiveUpRequest>(a.Request);
        Assert.Equal(("t0", 5, 5, "batch-workers"), (g.Lineage, g.Attempt, g.MaxAttempts, g.Rule));
        Assert.True(d.Lineage!.GivenUp);
        Assert.Contains("giving up on lineage t0", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheLineageWasGivenUp_RelaunchesNothing()
    {
        var record = new LineageRecord { Cluster = "prod", Lineage = "t0", Rule = "batch-workers", Attempt = 5, GivenUp = true };
        var d = Decide(Task(id: "t6", startedBy: "reflex/t0/3"), OnInstance with { Lineage = record }, Stop.AddHours(1));
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerGivenUp, d.Code);
        Assert.Contains("given up", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheTaskRanLongerThanResetAfter_RestartsTheCountAt1()
    {
        var d = Decide(Task(id: "t7", startedBy: "reflex/t0/4", ranFor: TimeSpan.FromMinutes(11)), now: Stop.AddSeconds(10));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal("reflex/t0/1", RunTask(d).StartedBy);
        Assert.Contains("count reset", d.Reason);
    }

    [Theory]
    [InlineData("SpotInterruption", "reflex/t0/2", "reflex/t0/2")]
    [InlineData("TerminationNotice", null, "reflex/t0/0")]
    public void Decide_InfrastructureLoss_RelaunchesAtOnceWithoutCounting(string stopCode, string? startedBy, string expected)
    {
        var d = Decide(Task(stopCode: stopCode, exit: null, startedBy: startedBy));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(expected, RunTask(d).StartedBy);
        Assert.Contains("not counted", d.Reason);
    }

    [Fact]
    public void Decide_InfrastructureLossOfTheLastAttempt_StillRelaunches()
    {
        var d = Decide(Task(stopCode: "SpotInterruption", exit: 143, startedBy: "reflex/t0/5"));
        Assert.Equal("reflex/t0/5", RunTask(d).StartedBy);
    }

    [Fact]
    public void Decide_WhenTheTaskFailedToStart_DoesNotAvoidTheInstance()
    {
        var d = Decide(Task(stopCode: "TaskFailedToStart", exit: null, reason: "CannotPullContainerError"), now: Stop.AddSeconds(10));
        Assert.Null(RunTask(d).PlacementConstraints);
        Assert.DoesNotContain("away from", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheInstancesEc2IdIsUnknown_SaysItCannotAvoidIt()
    {
        var d = Decide(Task(), TaskObservation.None, Stop.AddSeconds(10));
        Assert.Null(RunTask(d).PlacementConstraints);
        Assert.Contains("cannot avoid the failed instance", d.Reason);
    }

    [Fact]
    public void Decide_OomIsAFailureOfItsOwnKind()
    {
        var d = Decide(Task(exit: 137, reason: "OutOfMemoryError: Container killed due to memory usage"));
        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Contains("ran out of memory", d.Reason);
    }

    [Fact]
    public void Decide_FargateAwsvpcTask_UsesThePolicyNetworkAndNoPlacement()
    {
        var t = Task(group: "family:report", taskDef: "report:3", startedBy: "scheduler/nightly", launchType: "FARGATE", eni: true)
            with { PlatformVersion = "1.4.0" };
        var d = Decide(t);
        Assert.Equal(Outcome.Acted, d.Outcome); // initialSeconds 0: at once
        var r = RunTask(d);
        Assert.Equal(["subnet-1", "subnet-2"], r.NetworkConfiguration!.AwsvpcConfiguration.Subnets);
        Assert.Equal(["sg-1"], r.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups!);
        Assert.Equal("DISABLED", r.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp);
        Assert.Null(r.PlacementConstraints);
        Assert.Null(r.PlacementStrategy);
        Assert.Equal("FARGATE", r.LaunchType);
        Assert.Equal("1.4.0", r.PlatformVersion);
        Assert.Contains(new Tag("reflex:startedBy", "scheduler/nightly"), r.Tags!);
    }

    [Fact]
    public void Decide_AwsvpcTaskWithoutPolicyNetwork_IsRejectedNamingTheField()
    {
        var d = Decide(Task(group: "family:report", taskDef: "report-legacy:1", eni: true));
        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerCannotRelaunch, d.Code);
        Assert.Contains("clusters[0].reschedule[2].network", d.Reason);
        Assert.Empty(d.Actions);
    }

    [Fact]
    public void Decide_CapacityProviderTask_KeepsItsCapacityProviderNotALaunchType()
    {
        var r = RunTask(Decide(Task(stopCode: "SpotInterruption", exit: null, capacityProvider: "spot-capacity")));
        Assert.Null(r.LaunchType);
        Assert.Equal("spot-capacity", Assert.Single(r.CapacityProviderStrategy!).CapacityProvider);
    }

    [Fact]
    public void Decide_RestartAlways_RelaunchesASuccessAtOnce()
    {
        var d = Decide(Task(group: "family:daemonish", taskDef: "daemonish:1", exit: 0));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal("reflex/t0/0", RunTask(d).StartedBy);
    }

    [Fact]
    public void Decide_RelaunchedTaskOfAStartedByRule_KeepsItsRuleViaTheLineage()
    {
        var record = new LineageRecord { Cluster = "prod", Lineage = "r0", Rule = "reports", Attempt = 1, OriginalStartedBy = "scheduler/nightly" };
        var t = Task(id: "r1", group: "family:report", taskDef: "report:3", startedBy: "reflex/r0/1", launchType: "FARGATE", eni: true);
        var d = Decide(t, new TaskObservation { Lineage = record });
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Contains(new Tag("reflex:startedBy", "scheduler/nightly"), RunTask(d).Tags!);
    }

    // ---- identity ----

    [Fact]
    public void ClientToken_IsStablePerStop_DistinctAcrossStops_AndFitsEcs()
    {
        var a = TaskRescheduler.ClientToken(Cluster, "arn:aws:ecs:us-east-1:123456789012:task/prod/t1");
        Assert.Equal(a, TaskRescheduler.ClientToken(Cluster, "arn:aws:ecs:us-east-1:123456789012:task/prod/t1"));
        Assert.NotEqual(a, TaskRescheduler.ClientToken(Cluster, "arn:aws:ecs:us-east-1:123456789012:task/prod/t2"));
        Assert.NotEqual(a, TaskRescheduler.ClientToken("other", "arn:aws:ecs:us-east-1:123456789012:task/prod/t1"));
        Assert.InRange(a.Length, 1, 64);
    }

    /// <summary>
    /// Tokens already recorded by a running deployment must stay valid across upgrades: the token is the first
    /// 57 hex digits of SHA-256 over "purpose\ncluster\ntask ARN", after "reflex-". Long and non-ASCII inputs
    /// take the other buffer paths.
    /// </summary>
    [Theory]
    [InlineData("relaunch", "prod", "arn:aws:ecs:us-east-1:123456789012:task/prod/t1")]
    [InlineData("move", "arn:aws:ecs:eu-west-1:123456789012:cluster/zürich-Ω", "arn:aws:ecs:eu-west-1:123456789012:task/zürich-Ω/0123456789abcdef")]
    [InlineData("relaunch", "prod", "arn:aws:ecs:us-east-1:123456789012:task/prod/a-very-long-task-id-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-end")]
    public void ClientToken_IsTheDocumentedDigest(string purpose, string cluster, string taskArn)
    {
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(purpose + "\n" + cluster + "\n" + taskArn));
        var expected = "reflex-" + Convert.ToHexStringLower(digest)[..57];
        Assert.Equal(expected, TaskRescheduler.ClientToken(cluster, taskArn, purpose));
    }

    [Theory]
    [InlineData("reflex/abc/3", true, "abc", 3)]
    [InlineData("reflex/abc/0", true, "abc", 0)]
    [InlineData("reflex/abc", false, "", 0)]
    [InlineData("reflex//3", false, "", 0)]
    [InlineData("reflex/abc/x", false, "", 0)]
    [InlineData("scheduler/nightly", false, "", 0)]
    [InlineData(null, false, "", 0)]
    public void TryParseLineage_ReadsOnlyOurStartedBy(string? startedBy, bool ok, string lineage, int attempt)
    {
        Assert.Equal(ok, TaskRescheduler.TryParseLineage(startedBy, out var l, out var a));
        if (ok) Assert.Equal((lineage, attempt), (l, a));
    }

    // ---- what the stop code alone settles (issue 17: the stack's rule lets only the other codes through) ----

    public static TheoryData<string> CodesThatAreNeverAFailure => ["UserInitiated", "ServiceSchedulerInitiated", "SomeCodeEcsAddsLater", ""];

    /// <summary>
    /// A stop code outside <see cref="TaskRescheduler.StopCodesThatMayFail"/> is an ignore under every rule, for a task
    /// EcsReflex started too, whatever its lineage record (ongoing or given up, any rule) or a drain move says, and whatever
    /// its containers say (a non-zero exit, an OutOfMemoryError): so the event alone settles it.
    /// </summary>
    [Theory]
    [MemberData(nameof(CodesThatAreNeverAFailure))]
    public void SettledByItsEvent_AStopCodeThatIsNeverAFailure_IsAnIgnoreWhateverIsObservedOrWhoStartedIt(string code)
    {
        var rules = Policy.Clusters[0].Reschedule;
        foreach (var taskDef in new[] { "worker:7", "daemonish:1", "report:2" })
            foreach (var startedBy in new string?[] { null, "scheduler/nightly", "reflex/t0/2" })
                foreach (var (exit, reason) in new (int?, string?)[] { (1, null), (0, null), (137, "OutOfMemoryError: Container killed") })
                {
                    var t = Task(stopCode: code, exit: exit, reason: reason, taskDef: taskDef, startedBy: startedBy);
                    Assert.True(TaskRescheduler.NotAFailureByItsStopCode(t));
                    Assert.True(TaskRescheduler.SettledByItsEvent(t, Policy), $"{code} {taskDef} {startedBy}");
                    var observations = rules.SelectMany(r => new[] { false, true }.Select(g => new TaskObservation
                    {
                        Lineage = new LineageRecord { Cluster = "prod", Lineage = "t0", Rule = r.Name, Attempt = 2, GivenUp = g, OriginalStartedBy = "scheduler/nightly" },
                        FailedEc2InstanceId = "i-0abc",
                    })).Append(TaskObservation.None).Append(OnInstance);
                    foreach (var o in observations)
                    {
                        var d = Decide(t, o);
                        Assert.Equal(Outcome.Ignored, d.Outcome);
                        Assert.Empty(d.Actions);
                        Assert.Empty(d.Writes);
                    }
                }
    }

    /// <summary>
    /// The other way round, so the list is no wider than it must be and no narrower: each code of
    /// <see cref="TaskRescheduler.StopCodesThatMayFail"/>, and no code at all, is acted on for some task (not settled by the
    /// code), and <c>NotAFailureByItsStopCode</c> is false for it.
    /// </summary>
    [Theory]
    [InlineData("EssentialContainerExited")]
    [InlineData("TaskFailedToStart")]
    [InlineData("SpotInterruption")]
    [InlineData("TerminationNotice")]
    [InlineData(null)]
    public void NotAFailureByItsStopCode_IsFalseForTheCodesUnderWhichAStopIsActedOn(string? code)
    {
        var t = Task(stopCode: code, exit: 1);
        Assert.False(TaskRescheduler.NotAFailureByItsStopCode(t));
        Assert.False(TaskRescheduler.SettledByItsEvent(t, Policy));
        Assert.NotEqual(Outcome.Ignored, Decide(t).Outcome);
        Assert.Contains(code ?? "EssentialContainerExited", TaskRescheduler.StopCodesThatMayFail);
    }
}
