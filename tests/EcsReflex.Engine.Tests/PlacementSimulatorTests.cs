using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Engine.Cluster;
using static EcsReflex.Engine.Tests.PlacementTestSupport;

namespace EcsReflex.Engine.Tests;

public class PlacementSimulatorTests
{
    private static ObservedContainerInstance Instance(string id, string az, string type = "m5.large", string status = "ACTIVE", bool connected = true) => new()
    {
        ContainerInstanceArn = $"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/{id}",
        Ec2InstanceId = $"i-{id}",
        Status = status,
        AgentConnected = connected,
        Attributes = [new KeyValue("ecs.availability-zone", az), new KeyValue("ecs.instance-type", type)],
    };

    private static ObservedTask GroupTask(string group, int n) => new() { TaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/t{n}", Group = group, LastStatus = "RUNNING" };

    private static PlacementCandidate Candidate(string id, string az, long cpu, long memory, int workers = 0, string type = "m5.large", string status = "ACTIVE", bool connected = true) =>
        PlacementCandidate.FromTasks(Instance(id, az, type, status, connected), cpu, memory, Enumerable.Range(0, workers).Select(n => GroupTask("family:worker", n)));

    private static PlacementAsk Ask(params PlacementStrategy[] strategy) => new()
    {
        Cpu = 512, Memory = 2048, Group = "family:worker", Strategy = strategy, RandomKey = "key",
    };

    private static string? Chosen(PlacementOutcome o) => o.Chosen?.Instance.Ec2InstanceId;

    /// <summary>The parse cache the embedded cluster keeps changes nothing: the same choice, the same refusal of a bad expression, every time.</summary>
    [Fact]
    public void Place_WithTheExpressionCache_DecidesAsWithout_ForGoodAndBadExpressions()
    {
        var all = new[] { Candidate("a", "us-east-1a", 4096, 16384, type: "m5.large"), Candidate("b", "us-east-1b", 4096, 16384, type: "c5.large") };
        var cache = new Dictionary<string, (Core.Placement.QueryExpression?, string?)>();
        var good = Ask(new PlacementStrategy { Type = "binpack", Field = "memory" }) with
        {
            Constraints = [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type =~ c5.*" }],
        };
        var bad = good with { Constraints = [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type =~ (" }] };
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal("i-b", Chosen(PlacementSimulator.Place(good, all, cache)));
            Assert.Equal(Chosen(PlacementSimulator.Place(good, all)), Chosen(PlacementSimulator.Place(good, all, cache)));
            var refused = Assert.Single(PlacementSimulator.Place(bad, all, cache).Failures);
            Assert.Equal(Assert.Single(PlacementSimulator.Place(bad, all).Failures), refused);
            Assert.Equal("InvalidParameterException", refused.Reason);
        }
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Place_BinpackMemory_TakesTheInstanceLeftWithTheLeastMemoryThatStillFits()
    {
        var o = PlacementSimulator.Place(Ask(new PlacementStrategy { Type = "binpack", Field = "memory" }),
            [Candidate("a", "us-east-1a", 4096, 8192), Candidate("b", "us-east-1b", 4096, 3000), Candidate("c", "us-east-1c", 4096, 2000)]);
        Assert.Equal("i-b", Chosen(o)); // c has less, but not enough
    }

    [Fact]
    public void Place_BinpackCpu_TakesTheInstanceLeftWithTheLeastCpu()
    {
        var o = PlacementSimulator.Place(Ask(new PlacementStrategy { Type = "binpack", Field = "cpu" }),
            [Candidate("a", "us-east-1a", 600, 8192), Candidate("b", "us-east-1b", 4096, 3000), Candidate("c", "us-east-1c", 1024, 8192)]);
        Assert.Equal("i-a", Chosen(o));
    }

    [Fact]
    public void Place_SpreadInstanceId_TakesTheInstanceWithFewestTasksOfTheGroup()
    {
        var o = PlacementSimulator.Place(Ask(new PlacementStrategy { Type = "spread", Field = "instanceId" }),
            [Candidate("a", "us-east-1a", 4096, 8192, workers: 2), Candidate("b", "us-east-1a", 4096, 8192, workers: 1), Candidate("c", "us-east-1b", 4096, 8192, workers: 3)]);
        Assert.Equal("i-b", Chosen(o));
    }

    [Fact]
    public void Place_SpreadOverAnAttribute_TakesTheValueWithFewestTasksOfTheGroup()
    {
        // Zone a holds 1 + 1 workers, zone b 3: zone a wins although instance c alone holds fewer than a and b together.
        var o = PlacementSimulator.Place(Ask(new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }),
            [Candidate("a", "us-east-1a", 4096, 8192, workers: 1), Candidate("b", "us-east-1a", 4096, 8192, workers: 1), Candidate("c", "us-east-1b", 4096, 8192, workers: 3)]);
        Assert.Equal("i-a", Chosen(o)); // a and b tie on the zone: the lower ARN
    }

    [Fact]
    public void Place_StrategiesApplyInOrder_SpreadOverZonesThenBinpackWithinTheZone()
    {
        var o = PlacementSimulator.Place(Ask(new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }, new PlacementStrategy { Type = "binpack", Field = "memory" }),
            [Candidate("a", "us-east-1a", 4096, 8192, workers: 1), Candidate("b", "us-east-1b", 4096, 8192), Candidate("c", "us-east-1b", 4096, 4096)]);
        Assert.Equal("i-c", Chosen(o));
    }

    [Fact]
    public void Place_Random_IsRepeatableForAKeyAndSpreadsOverKeys()
    {
        PlacementCandidate[] all = [Candidate("a", "us-east-1a", 4096, 8192), Candidate("b", "us-east-1b", 4096, 8192), Candidate("c", "us-east-1c", 4096, 8192)];
        var random = new PlacementStrategy { Type = "random" };
        var first = Chosen(PlacementSimulator.Place(Ask(random) with { RandomKey = "token-1" }, all));
        Assert.Equal(first, Chosen(PlacementSimulator.Place(Ask(random) with { RandomKey = "token-1" }, all)));
        var picks = Enumerable.Range(0, 60).Select(i => Chosen(PlacementSimulator.Place(Ask(random) with { RandomKey = $"token-{i}" }, all))).ToHashSet();
        Assert.Equal(3, picks.Count);
        // Without a strategy the choice is random as well.
        Assert.Equal(first, Chosen(PlacementSimulator.Place(Ask() with { RandomKey = "token-1" }, all)));
    }

    [Fact]
    public void Place_MemberOf_KeepsOnlyTheInstancesTheExpressionSelects()
    {
        var ask = Ask() with { Constraints = [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type =~ c5.* and ec2InstanceId != i-b" }] };
        var o = PlacementSimulator.Place(ask,
            [Candidate("a", "us-east-1a", 4096, 8192), Candidate("b", "us-east-1b", 4096, 8192, type: "c5.large"), Candidate("c", "us-east-1c", 4096, 8192, type: "c5.xlarge")]);
        Assert.Equal("i-c", Chosen(o));
    }

    [Fact]
    public void Place_DistinctInstance_AvoidsInstancesRunningATaskOfTheGroup()
    {
        var ask = Ask(new PlacementStrategy { Type = "binpack", Field = "memory" }) with { Constraints = [new PlacementConstraint { Type = "distinctInstance" }] };
        var o = PlacementSimulator.Place(ask, [Candidate("a", "us-east-1a", 4096, 3000, workers: 1), Candidate("b", "us-east-1b", 4096, 8192)]);
        Assert.Equal("i-b", Chosen(o));
    }

    [Fact]
    public void Place_WhenNothingFits_ReportsWhatEcsWouldForEachInstance()
    {
        var ask = Ask() with { Constraints = [new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId != i-d" }] };
        var o = PlacementSimulator.Place(ask,
        [
            Candidate("a", "us-east-1a", 256, 8192),
            Candidate("b", "us-east-1b", 4096, 512),
            Candidate("c", "us-east-1c", 4096, 8192, connected: false),
            Candidate("d", "us-east-1d", 4096, 8192),
            Candidate("e", "us-east-1e", 4096, 8192, status: "DRAINING"),
        ]);
        Assert.Null(o.Chosen);
        Assert.Equal(
        [
            ("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/a", "RESOURCE:CPU", "i-a: 256 CPU units free, the task needs 512"),
            ("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/b", "RESOURCE:MEMORY", "i-b: 512 MiB free, the task needs 2048"),
            ("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c", "AGENT", "i-c: its agent is disconnected"),
            ("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/d", "MemberOf placement constraint unsatisfied.", "i-d does not satisfy \"ec2InstanceId != i-d\""),
        ], o.Failures.Select(f => (f.Arn, f.Reason, f.Detail)).ToList());
    }

    [Fact]
    public void Place_NoActiveInstance_ReportsNoContainerInstances()
    {
        var o = PlacementSimulator.Place(Ask(), [Candidate("e", "us-east-1e", 4096, 8192, status: "DRAINING")]);
        Assert.Null(o.Chosen);
        Assert.Equal("No Container Instances were found in your cluster.", Assert.Single(o.Failures).Reason);
    }

    // ---------------------------------------------------------------- the embedded cluster on the repository snapshot

    private static RunTaskRequest Worker(string token, params PlacementConstraint[] constraints) => new()
    {
        Cluster = ClusterArn,
        TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7",
        StartedBy = "reflex/test/1",
        LaunchType = "EC2",
        PlacementConstraints = constraints.Length == 0 ? null : constraints,
        PlacementStrategy = [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }],
        ClientToken = token,
    };

    private static long Memory(EmbeddedCluster c, string instance) =>
        c.ContainerInstances.Single(i => i.ContainerInstanceArn == instance).RemainingResources.Single(r => r.Name == "MEMORY").IntegerValue!.Value;

    [Fact]
    public async Task RunTask_OnTheSnapshot_PlacesTheWorkerWhereItFitsAndTakesItsResources()
    {
        var cluster = SnapshotCluster();
        cluster.Now = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        // A has 256 CPU units and 512 MiB left, the worker needs 512 and 2048 (its family's size in the snapshot); B is excluded.
        var r = await cluster.RunTaskAsync(Worker("t1", new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId != i-0bbbb4609287edcaa" }), default);
        Assert.Empty(r.Failures);
        var task = cluster.FindTask(Assert.Single(r.TaskArns))!;
        Assert.Equal(InstanceC, task.ContainerInstanceArn);
        Assert.Equal("us-east-1c", task.AvailabilityZone);
        Assert.Equal(("512", "2048"), (task.Cpu, task.Memory));
        Assert.Equal("PROVISIONING", task.LastStatus);
        Assert.Equal(3584 - 2048, Memory(cluster, InstanceC));
        Assert.Equal(4, cluster.ContainerInstances.Single(i => i.ContainerInstanceArn == InstanceC).RunningTasksCount);
    }

    [Fact]
    public async Task RunTask_SameClientToken_StartsOneTask()
    {
        var cluster = SnapshotCluster();
        var first = await cluster.RunTaskAsync(Worker("same"), default);
        var second = await cluster.RunTaskAsync(Worker("same"), default);
        Assert.Equal(first.TaskArns, second.TaskArns);
        Assert.Equal(1, cluster.TasksStarted);
    }

    [Fact]
    public async Task RunTask_WhenNothingFits_ReturnsEcsFailuresAndStartsNothing_AndTheTokenStaysUsable()
    {
        var cluster = SnapshotCluster();
        var onlyA = new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId == i-0aaa0e242d1d87a6e" };
        var r = await cluster.RunTaskAsync(Worker("t", onlyA), default);
        Assert.Empty(r.TaskArns);
        Assert.Equal(0, cluster.TasksStarted);
        Assert.Equal(
        [
            (InstanceA, "RESOURCE:CPU"),
            (InstanceC, "MemberOf placement constraint unsatisfied."), // instances in ARN order, resource failures first
            (InstanceB, "MemberOf placement constraint unsatisfied."),
        ], r.Failures.Select(f => (f.Arn, f.Reason)).ToList());

        // A worker on A stops: its memory comes back, and the same request now starts.
        cluster.Observe(Stopped("arn:aws:ecs:us-east-1:123456789012:task/prod/c7e041f45d11b81a4df78d8b117d8e3a"));
        var retry = await cluster.RunTaskAsync(Worker("t", onlyA), default);
        Assert.Empty(retry.Failures);
        Assert.Equal(InstanceA, cluster.FindTask(Assert.Single(retry.TaskArns))!.ContainerInstanceArn);
    }

    private static EventEnvelope Stopped(string taskArn, string instance = InstanceA) => new()
    {
        Version = "0", Id = Guid.NewGuid().ToString(), DetailType = DetailTypes.TaskStateChange, Source = DetailTypes.EcsSource,
        Detail = new TaskStateChange
        {
            ClusterArn = ClusterArn, TaskArn = taskArn, LastStatus = "STOPPED", ContainerInstanceArn = instance, Cpu = "512", Memory = "2048",
            TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", StopCode = "EssentialContainerExited",
        },
    };

    [Fact]
    public void Observe_TheSameStopTwice_GivesTheResourcesBackOnce()
    {
        var cluster = SnapshotCluster();
        var unknown = "arn:aws:ecs:us-east-1:123456789012:task/prod/ffff0000ffff0000ffff0000ffff0000";
        cluster.Observe(Stopped(unknown, InstanceB));
        cluster.Observe(Stopped(unknown, InstanceB));
        Assert.Equal(3584 + 2048, Memory(cluster, InstanceB));
    }

    [Fact]
    public async Task RunTask_NeverPlacesOnADrainingInstance()
    {
        var cluster = SnapshotCluster();
        cluster.Observe(new EventEnvelope
        {
            Version = "0", Id = "x", DetailType = DetailTypes.ContainerInstanceStateChange, Source = DetailTypes.EcsSource,
            Detail = new ContainerInstanceStateChange { ClusterArn = ClusterArn, ContainerInstanceArn = InstanceC, Status = "DRAINING", AgentConnected = true, Version = 99 },
        });
        var onlyC = new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId == i-0ccc04949171d49ad" };
        var r = await cluster.RunTaskAsync(Worker("t", onlyC), default);
        Assert.Empty(r.TaskArns);
        Assert.DoesNotContain(r.Failures, f => f.Arn == InstanceC);
    }

    [Fact]
    public async Task RunTask_ThenStopTask_EmitsRunningAndStoppedUserInitiatedAtTheSimulatedTimes()
    {
        var cluster = SnapshotCluster();
        var t0 = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        cluster.Now = t0;
        var arn = Assert.Single((await cluster.RunTaskAsync(Worker("t"), default)).TaskArns);
        Assert.Equal(t0 + cluster.TaskStartDelay, cluster.NextEventAt);
        var running = Assert.IsType<TaskStateChange>(cluster.TakeNextEvent()!.Detail);
        Assert.Equal(("RUNNING", arn, "reflex/test/1"), (running.LastStatus, running.TaskArn, running.StartedBy));
        Assert.Equal(t0 + cluster.TaskStartDelay, running.StartedAt);
        Assert.Equal("RUNNING", cluster.FindTask(arn)!.LastStatus);

        var before = Memory(cluster, cluster.FindTask(arn)!.ContainerInstanceArn!);
        await cluster.StopTaskAsync(new StopTaskRequest { Cluster = ClusterArn, Task = arn, Reason = "EcsReflex: test" }, default);
        var e = cluster.TakeNextEvent()!;
        var stopped = Assert.IsType<TaskStateChange>(e.Detail);
        Assert.Equal(("STOPPED", "UserInitiated", "EcsReflex: test"), (stopped.LastStatus, stopped.StopCode, stopped.StoppedReason));
        Assert.Equal(t0 + cluster.TaskStartDelay + cluster.TaskStopDelay, e.Time);
        Assert.Equal(before + 2048, Memory(cluster, stopped.ContainerInstanceArn!));
        Assert.Null(cluster.NextEventAt);
    }

    [Fact]
    public async Task RunTask_WithoutContainerInstancesInTheSnapshot_StartsTheTaskWithoutPlacement()
    {
        var cluster = new EmbeddedCluster(ClusterSnapshot.Empty);
        var r = await cluster.RunTaskAsync(Worker("t"), default);
        Assert.Empty(r.Failures);
        Assert.Null(cluster.FindTask(Assert.Single(r.TaskArns))!.ContainerInstanceArn);
    }

    [Fact]
    public async Task RunTask_OnAFullCapacityProvider_WaitsInProvisioningLikeEcs()
    {
        var cluster = SnapshotCluster();
        var request = Worker("spot", new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId != i-0ccc04949171d49ad" }) with
        {
            LaunchType = null,
            CapacityProviderStrategy = [new CapacityProviderStrategyItem { CapacityProvider = "spot-capacity", Weight = 1 }],
        };
        var r = await cluster.RunTaskAsync(request, default);
        Assert.Empty(r.Failures);
        var arn = Assert.Single(r.TaskArns);
        Assert.Equal("PROVISIONING", cluster.FindTask(arn)!.LastStatus);
        Assert.Null(cluster.FindTask(arn)!.ContainerInstanceArn);
        Assert.Null(cluster.NextEventAt);
    }
}
