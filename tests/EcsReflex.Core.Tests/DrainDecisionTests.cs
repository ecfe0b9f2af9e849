using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class DrainDecisionTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string InstanceB = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/eee5ec7b4db846c31a728415e4a8e902";
    private const string Ec2B = "i-0bbbb4609287edcaa";
    private const string Worker = "arn:aws:ecs:us-east-1:123456789012:task/prod/34c9b3e6fb6db0102948768be15d1b5e";
    private const string WorkerId = "34c9b3e6fb6db0102948768be15d1b5e";
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 44, 15, TimeSpan.Zero);

    private static ReflexPolicy Policy(string drain = "") => PolicyLoader.Load($$"""
        {
          "clusters": [{
            "cluster": "{{Cluster}}"{{drain}},
            "reschedule": [{
              "name": "batch-workers",
              "match": { "group": "family:worker" },
              "placement": { "strategy": [ { "type": "spread", "field": "attribute:ecs.availability-zone" } ] }
            }]
          }]
        }
        """);

    private static ObservedTask Task(string arn = Worker, string group = "family:worker", string? startedBy = "scheduler/nightly") => new()
    {
        TaskArn = arn,
        ClusterArn = Cluster,
        TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7",
        ContainerInstanceArn = InstanceB,
        Group = group,
        StartedBy = startedBy,
        LastStatus = "RUNNING",
        DesiredStatus = "RUNNING",
        LaunchType = "EC2",
        Cpu = "512",
        Memory = "2048",
        Overrides = JsonDocument.Parse("""{"containerOverrides":[{"name":"worker"}]}""").RootElement.Clone(),
    };

    private static ContainerInstanceStateChange Instance(string status = "DRAINING", bool? connected = true, long? version = 47, DateTimeOffset? at = null) => new()
    {
        ClusterArn = Cluster,
        ContainerInstanceArn = InstanceB,
        Ec2InstanceId = Ec2B,
        Status = status,
        AgentConnected = connected,
        Version = version,
        UpdatedAt = at ?? Now,
    };

    private static InstanceSeenRecord Seen(long version, bool? connected = true, DateTimeOffset? disconnectedSince = null, string status = "ACTIVE") => new()
    {
        Cluster = "prod", ContainerInstanceArn = InstanceB, Version = version, Status = status,
        AgentConnected = connected, DisconnectedSince = disconnectedSince, SeenAt = Now.AddMinutes(-10),
    };

    /// <summary>The documented client token rule, derived here independently: "reflex-" + SHA-256 of purpose, cluster and task ARN.</summary>
    private static string Token(string purpose, string taskArn) =>
        "reflex-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{purpose}\n{Cluster}\n{taskArn}")))[..57];

    [Fact]
    public void Decide_WhenInstanceDrains_StartsAReplacementAwayFromItWithTheSameLaunchParameters()
    {
        var d = PlacementGuard.DecideInstance(Instance(), Policy(),
            new InstanceObservation { LastSeen = Seen(44), Tasks = [Task()] }, Now);

        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardDrainReplace, d.Code);
        var action = Assert.Single(d.Actions);
        Assert.Equal(("ecs", "RunTask"), (action.Service, action.Operation));
        Assert.Equal(
            "{\"cluster\":\"" + Cluster + "\",\"taskDefinition\":\"arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7\",\"count\":1," +
            "\"group\":\"family:worker\",\"startedBy\":\"reflex/" + WorkerId + "/0\",\"launchType\":\"EC2\"," +
            "\"overrides\":{\"containerOverrides\":[{\"name\":\"worker\"}]}," +
            "\"placementConstraints\":[{\"type\":\"memberOf\",\"expression\":\"ec2InstanceId != " + Ec2B + "\"}]," +
            "\"placementStrategy\":[{\"type\":\"spread\",\"field\":\"attribute:ecs.availability-zone\"}]," +
            "\"tags\":[{\"key\":\"reflex:lineage\",\"value\":\"" + WorkerId + "\"},{\"key\":\"reflex:attempt\",\"value\":\"0\"}," +
            "{\"key\":\"reflex:rule\",\"value\":\"batch-workers\"},{\"key\":\"reflex:startedBy\",\"value\":\"scheduler/nightly\"}," +
            "{\"key\":\"reflex:movedFrom\",\"value\":\"eee5ec7b4db846c31a728415e4a8e902\"}]," +
            "\"clientToken\":\"" + Token("drain", Worker) + "\"}",
            ActionJson.ToJson(action.Request));
        Assert.Contains("is DRAINING", d.Reason);
        Assert.Contains("each original stops once its replacement is RUNNING", d.Reason);

        // Remembered once the RunTask is done: the move (replacement → original) and the lineage, not counted as a failure.
        var move = Assert.Single(d.Writes.OfType<DrainMoveWrite>());
        Assert.Equal(CommitPoint.AfterAction, move.When);
        Assert.Same(action, d.Actions[move.ActionIndex]);
        Assert.Equal(Worker, move.Record.OriginalTaskArn);
        Assert.Equal(WorkerId, move.Record.Lineage);
        Assert.Equal($"reflex/{WorkerId}/0", move.Record.ReplacementStartedBy);
        Assert.Equal(DrainReason.Draining, move.Record.Reason);
        Assert.Null(move.Record.StopOriginalAt);
        var lineage = Assert.Single(d.Writes.OfType<LineageWrite>()).Record;
        Assert.Equal(0, lineage.Attempt);
        Assert.Equal("scheduler/nightly", lineage.OriginalStartedBy);
        Assert.Null(lineage.LastFailure);
        Assert.Equal(47, d.Write<InstanceSeenWrite>()!.Record.Version);
        Assert.Null(d.FollowUpAt);
    }

    [Fact]
    public void Decide_WhenInstanceDrains_LeavesServiceTasksAndTasksNoRuleCovers()
    {
        var d = PlacementGuard.DecideInstance(Instance(), Policy(), new InstanceObservation
        {
            Tasks =
            [
                Task("arn:aws:ecs:us-east-1:123456789012:task/prod/56113ae871758eb6b9fca40bed4121c6", "service:web", "ecs-svc/1234567890123456789"),
                Task("arn:aws:ecs:us-east-1:123456789012:task/prod/aaaa0000aaaa0000aaaa0000aaaa0000", "family:report", "scheduler/nightly"),
            ],
        }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardDrainNothingToMove, d.Code);
        Assert.Empty(d.Actions);
        Assert.Contains("1 service task left to the ECS service scheduler", d.Reason);
        Assert.Contains("1 standalone task no reschedule rule covers left alone", d.Reason);
    }

    [Theory]
    [InlineData(47, 47)]
    [InlineData(46, 47)]
    public void Decide_WhenVersionIsNotNewerThanTheLastSeen_ChangesNothing(long version, long seen)
    {
        var d = PlacementGuard.DecideInstance(Instance(version: version), Policy(),
            new InstanceObservation { LastSeen = Seen(seen), Tasks = [Task()] }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardStale, d.Code);
        Assert.Empty(d.Actions);
        Assert.Empty(d.Writes);
        Assert.Null(d.Write<InstanceSeenWrite>()?.Record);
        Assert.Equal($"stale: version {version} of {Ec2B} (eee5ec7b) is not newer than version {seen} already seen; nothing changes", d.Reason);
    }

    [Fact]
    public void Decide_DeferredWorkOnTheLastSeenVersion_IsNotStale()
    {
        var d = PlacementGuard.DecideInstance(Instance(), Policy(),
            new InstanceObservation { LastSeen = Seen(47, status: "DRAINING"), Tasks = [Task()], DueCheck = true }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
    }

    [Fact]
    public void Decide_WhenTheReplacementIsAlreadyStarted_StartsNoOther()
    {
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, ReplacementStartedBy = $"reflex/{WorkerId}/0", ReplacementClientToken = Token("drain", Worker), StartedAt = Now.AddSeconds(-5),
        };
        var d = PlacementGuard.DecideInstance(Instance(), Policy(), new InstanceObservation
        {
            Tasks = [Task()], Moves = new Dictionary<string, DrainMoveRecord> { [WorkerId] = move }, DueCheck = true, LastSeen = Seen(47),
        }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardDrainNothingToMove, d.Code);
        Assert.Empty(d.Actions);
        Assert.Contains("waits for its replacement", d.Reason);
    }

    [Fact]
    public void Decide_WithStopOriginalAfterSeconds_AsksForAFollowUpAndStopsTheOriginalWhenTimeIsUp()
    {
        var policy = Policy(""", "drain": { "stopOriginalAfterSeconds": 120 }""");
        var first = PlacementGuard.DecideInstance(Instance(), policy, new InstanceObservation { Tasks = [Task()] }, Now);
        Assert.Equal(Now.AddSeconds(120), first.FollowUpAt);
        var move = first.Writes.OfType<DrainMoveWrite>().Single().Record;
        Assert.Equal(Now.AddSeconds(120), move.StopOriginalAt);
        Assert.Contains("or after 120 s", first.Reason);

        // The follow-up, two minutes later, with the replacement not yet RUNNING.
        var later = Now.AddSeconds(120);
        var second = PlacementGuard.DecideInstance(Instance(), policy, new InstanceObservation
        {
            Tasks = [Task()], Moves = new Dictionary<string, DrainMoveRecord> { [WorkerId] = move }, DueCheck = true, LastSeen = Seen(47, status: "DRAINING"),
        }, later);
        Assert.Equal(Outcome.Acted, second.Outcome);
        Assert.Equal(ReasonCodes.GuardDrainStopOriginal, second.Code);
        var stop = Assert.IsType<StopTaskRequest>(Assert.Single(second.Actions).Request);
        Assert.Equal(
            "{\"cluster\":\"" + Cluster + "\",\"task\":\"" + Worker + "\",\"reason\":\"EcsReflex: moved off draining container instance " + Ec2B +
            "; drain.stopOriginalAfterSeconds (120 s) elapsed\"}",
            ActionJson.ToJson(stop));
        Assert.Equal(later, second.Writes.OfType<DrainMoveWrite>().Single().Record.OriginalStoppedAt);
    }

    [Fact]
    public void Decide_WhenTheReplacementRuns_StopsTheOriginalWithAReasonNamingEcsReflexAndTheDrain()
    {
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, ReplacementStartedBy = $"reflex/{WorkerId}/0", ReplacementClientToken = "t", StartedAt = Now,
        };
        var replacement = new TaskStateChange
        {
            ClusterArn = Cluster,
            TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/a1aa32eb2b46775f7e8737f8904d5cb8",
            TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7",
            StartedBy = $"reflex/{WorkerId}/0",
            LastStatus = "RUNNING",
        };
        Assert.True(PlacementGuard.WatchesTask(replacement));
        var d = PlacementGuard.DecideTaskRunning(replacement, Policy(), new TaskRunningObservation { Move = move, Ec2InstanceId = "i-0ccc04949171d49ad" }, Now.AddSeconds(15));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardReplacementStopOriginal, d.Code);
        var stop = Assert.Single(d.Actions);
        Assert.Equal(
            "{\"cluster\":\"" + Cluster + "\",\"task\":\"" + Worker + "\",\"reason\":\"EcsReflex: moved off draining container instance " + Ec2B + "; replacement a1aa32eb is RUNNING\"}",
            ActionJson.ToJson(stop.Request));
        Assert.Equal("task a1aa32eb (worker), the replacement of 34c9b3e6, is RUNNING on i-0ccc04949171d49ad: stopping the original on draining i-0bbbb4609287edcaa (make before break)", d.Reason);
        var stopped = Assert.IsType<DrainMoveWrite>(d.Writes.Single(w => w.When == CommitPoint.AfterAction));
        Assert.Same(stop, d.Actions[stopped.ActionIndex]);
        Assert.Equal(Now.AddSeconds(15), stopped.Record.OriginalStoppedAt);
        Assert.Equal(replacement.TaskArn, stopped.Record.ReplacementTaskArn);
    }

    [Fact]
    public void Decide_ALateRunningEventOfAnOlderTaskOfTheLineage_StopsNothing()
    {
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, ReplacementStartedBy = $"reflex/{WorkerId}/2", ReplacementClientToken = "t", StartedAt = Now,
        };
        var older = new TaskStateChange
        {
            ClusterArn = Cluster, TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/eeee3333", StartedBy = $"reflex/{WorkerId}/1", LastStatus = "RUNNING",
        };
        var d = PlacementGuard.DecideTaskRunning(older, Policy(), new TaskRunningObservation { Move = move }, Now.AddSeconds(30));
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Contains("older than the replacement", d.Reason);
        var createdBefore = older with { StartedBy = $"reflex/{WorkerId}/2", CreatedAt = Now.AddMinutes(-30) };
        Assert.Equal(Outcome.Ignored, PlacementGuard.DecideTaskRunning(createdBefore, Policy(), new TaskRunningObservation { Move = move }, Now.AddSeconds(30)).Outcome);
        Assert.Empty(d.Writes);
    }

    [Fact]
    public void Decide_RunningTaskWithoutAMove_IsIgnored()
    {
        var t = new TaskStateChange { ClusterArn = Cluster, TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/bbbb", StartedBy = "reflex/x/1", LastStatus = "RUNNING" };
        var d = PlacementGuard.DecideTaskRunning(t, Policy(), new TaskRunningObservation(), Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardNoMove, d.Code);
        Assert.Equal("task bbbb is RUNNING: no drain move waits for it", d.Reason);
        Assert.False(PlacementGuard.WatchesTask(t with { StartedBy = "scheduler/nightly" }));
        Assert.False(PlacementGuard.WatchesTask(t with { LastStatus = "STOPPED" }));
    }

    [Fact]
    public void Decide_WhenTheAgentDisconnects_DefersForTheGrace()
    {
        var at = Now;
        var d = PlacementGuard.DecideInstance(Instance("ACTIVE", connected: false, version: 45, at: at), Policy(), new InstanceObservation { LastSeen = Seen(44), Tasks = [Task()] }, at);
        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(ReasonCodes.GuardAgentGrace, d.Code);
        Assert.Equal(at.AddSeconds(300), d.DueAt);
        Assert.Empty(d.Actions);
        Assert.Equal(at, d.Write<InstanceSeenWrite>()!.Record.DisconnectedSince);
        Assert.False(d.Write<InstanceSeenWrite>()!.Record.AgentConnected);
    }

    [Fact]
    public void Decide_WhenTheAgentStaysDisconnectedPastTheGrace_StartsReplacementsAndLeavesTheOriginalsToEcs()
    {
        var since = Now.AddSeconds(-60);
        var policy = Policy(""", "drain": { "agentDisconnectedGraceSeconds": 60 }""");
        var d = PlacementGuard.DecideInstance(Instance("ACTIVE", connected: false, version: 45, at: since), policy,
            new InstanceObservation { LastSeen = Seen(45, connected: false, disconnectedSince: since), Tasks = [Task()], DueCheck = true }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardDisconnectReplace, d.Code);
        var run = Assert.IsType<RunTaskRequest>(Assert.Single(d.Actions).Request);
        Assert.Equal($"ec2InstanceId != {Ec2B}", Assert.Single(run.PlacementConstraints!).Expression);
        Assert.Contains("the originals cannot be reached and are left to ECS", d.Reason);
        Assert.Equal(DrainReason.AgentDisconnected, d.Writes.OfType<DrainMoveWrite>().Single().Record.Reason);
        Assert.DoesNotContain(d.Actions, a => a.Operation == "StopTask");
    }

    [Fact]
    public void Decide_ALaterDisconnectedVersion_KeepsTheFirstDisconnectTime()
    {
        var since = Now.AddSeconds(-200);
        var d = PlacementGuard.DecideInstance(Instance("ACTIVE", connected: false, version: 46), Policy(),
            new InstanceObservation { LastSeen = Seen(45, connected: false, disconnectedSince: since), Tasks = [Task()] }, Now);
        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(since.AddSeconds(300), d.DueAt);
        Assert.Equal(since, d.Write<InstanceSeenWrite>()!.Record.DisconnectedSince);
    }

    [Fact]
    public void Decide_TheGraceCheckAfterAReconnect_IsCancelled()
    {
        var d = PlacementGuard.DecideInstance(Instance("ACTIVE", connected: false, version: 45), Policy(),
            new InstanceObservation { LastSeen = Seen(46, connected: true), Tasks = [Task()], DueCheck = true }, Now.AddSeconds(300));
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardCheckCancelled, d.Code);
        Assert.Empty(d.Actions);
        Assert.Equal("the deferred check of i-0bbbb4609287edcaa (eee5ec7b) (version 45) is cancelled: the agent reconnected (version 46)", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheAgentReconnectsAfterItsTasksWereReplaced_StopsTheOriginals()
    {
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, Reason = DrainReason.AgentDisconnected, ReplacementStartedBy = $"reflex/{WorkerId}/0", ReplacementClientToken = "t",
            StartedAt = Now.AddMinutes(-5), ReplacementTaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/9a0f36e8aaaa", ReplacementRunningAt = Now.AddMinutes(-4),
        };
        var d = PlacementGuard.DecideInstance(Instance("ACTIVE", connected: true, version: 48), Policy(), new InstanceObservation
        {
            LastSeen = Seen(47, connected: false, disconnectedSince: Now.AddMinutes(-10)),
            Tasks = [Task()],
            Moves = new Dictionary<string, DrainMoveRecord> { [WorkerId] = move },
        }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardReconnectStopOriginal, d.Code);
        var stop = Assert.IsType<StopTaskRequest>(Assert.Single(d.Actions).Request);
        Assert.Equal(Worker, stop.Task);
        Assert.StartsWith("EcsReflex: agent of i-0bbbb4609287edcaa reconnected", stop.Reason);
        Assert.True(d.Write<InstanceSeenWrite>()!.Record.AgentConnected);
        Assert.Null(d.Write<InstanceSeenWrite>()!.Record.DisconnectedSince);
    }

    [Fact]
    public void Decide_InstanceOfAClusterNotInThePolicy_IsIgnored()
    {
        var d = PlacementGuard.DecideInstance(Instance() with { ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/staging" }, Policy(),
            new InstanceObservation { Tasks = [Task()] }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardClusterNotInPolicy, d.Code);
        Assert.Equal("cluster staging is not in the policy", d.Reason);
    }

    [Fact]
    public void Reschedule_AReplacementThatFailsToStart_IsRetriedLikeAnyFailedTask_AndItsRetryStopsTheOriginalWhenRunning()
    {
        // The lineage record the drain wrote, and the move it recorded.
        var record = new LineageRecord { Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", Attempt = 0, OriginalStartedBy = "scheduler/nightly", LastTaskArn = Worker };
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, ReplacementStartedBy = $"reflex/{WorkerId}/0", ReplacementClientToken = "t", StartedAt = Now,
        };
        var failed = new TaskStateChange
        {
            ClusterArn = Cluster, TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/cccc1111cccc1111cccc1111cccc1111",
            TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", Group = "family:worker",
            StartedBy = $"reflex/{WorkerId}/0", LastStatus = "STOPPED", StopCode = "TaskFailedToStart",
            StoppedReason = "CannotPullContainerError: pull access denied", StoppedAt = Now.AddSeconds(20),
        };
        var retry = TaskRescheduler.Decide(failed, Policy(), new TaskObservation { Lineage = record, DrainMove = move }, Now.AddSeconds(20));
        Assert.Equal(Outcome.Deferred, retry.Outcome);
        Assert.Contains("failed to start", retry.Reason);
        Assert.Contains("attempt 1 of 3", retry.Reason);
        var due = TaskRescheduler.Decide(failed, Policy(), new TaskObservation { Lineage = record, DrainMove = move }, retry.DueAt!.Value);
        var run = Assert.IsType<RunTaskRequest>(Assert.Single(due.Actions).Request);
        Assert.Equal($"reflex/{WorkerId}/1", run.StartedBy);

        var running = new TaskStateChange
        {
            ClusterArn = Cluster, TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/dddd2222dddd2222dddd2222dddd2222",
            StartedBy = run.StartedBy, LastStatus = "RUNNING",
        };
        var stop = PlacementGuard.DecideTaskRunning(running, Policy(), new TaskRunningObservation { Move = move }, Now.AddMinutes(1));
        Assert.Equal(Worker, Assert.IsType<StopTaskRequest>(Assert.Single(stop.Actions).Request).Task);
    }

    [Fact]
    public void Reschedule_TheOriginalStoppingOnItsOwnDuringAMove_IsNotRelaunched()
    {
        var stopped = new TaskStateChange
        {
            ClusterArn = Cluster, TaskArn = Worker, TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7",
            Group = "family:worker", StartedBy = "scheduler/nightly", LastStatus = "STOPPED", StopCode = "EssentialContainerExited",
            Containers = [new ContainerDetail { Name = "worker", ExitCode = 1 }], ContainerInstanceArn = InstanceB,
        };
        var move = new DrainMoveRecord
        {
            Cluster = "prod", Lineage = WorkerId, Rule = "batch-workers", OriginalTaskArn = Worker, ContainerInstanceArn = InstanceB,
            Ec2InstanceId = Ec2B, ReplacementStartedBy = $"reflex/{WorkerId}/0", ReplacementClientToken = "t", StartedAt = Now,
        };
        var d = TaskRescheduler.Decide(stopped, Policy(), new TaskObservation { DrainMove = move }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.ReschedulerBeingMoved, d.Code);
        Assert.Contains("its replacement (reflex/34c9b3e6fb6db0102948768be15d1b5e/0) carries lineage", d.Reason);
        // Without the move it would have been relaunched.
        Assert.Equal(Outcome.Deferred, TaskRescheduler.Decide(stopped, Policy(), TaskObservation.None, Now).Outcome);
    }
}
