using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using EcsReflex.TestSupport;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// What a reflex reads before deciding (issue 17). The placement guard, for a container instance event: the records of the
/// tasks a rule covers or EcsReflex started, never those of a service's tasks or of tasks no rule covers, so the cost does
/// not grow with them. The rescheduler: the failed instance's EC2 id from its container instance record, ECS asked only
/// on a miss, and only when the decision places the relaunch away from it.
/// </summary>
public sealed class HotPathReadsTests
{
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string Instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/424b1fee9709931505d95954058b4714";

    private static ObservedTask Task(string id, string group, string? startedBy = null) => new()
    {
        TaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}", ClusterArn = ClusterArn, Group = group, StartedBy = startedBy,
        TaskDefinitionArn = group.StartsWith("family:", StringComparison.Ordinal)
            ? $"arn:aws:ecs:us-east-1:123456789012:task-definition/{group[7..]}:7"
            : "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
        LastStatus = "RUNNING",
    };

    [Fact]
    public async Task AnInstanceWithTwentyServiceTasks_ReadsTheRecordsOfItsCoveredTasksOnly()
    {
        var tasks = new List<ObservedTask>();
        for (var i = 0; i < 20; i++) tasks.Add(Task($"svc{i:D2}", "service:web", "ecs-svc/1234"));
        tasks.Add(Task("worker01", "family:worker"));                              // a rule covers it
        tasks.Add(Task("worker02", "family:worker", "reflex/chain9/2"));          // EcsReflex started it
        tasks.Add(Task("other01", "family:nobody-covers-this"));                   // no rule covers it
        var reads = new CountingReader(new InMemoryStateStore());
        var observer = new ListingObserver(new EmbeddedCluster(ReplayHarness.Snapshot()), tasks);
        var e = new ContainerInstanceStateChange { ClusterArn = ClusterArn, ContainerInstanceArn = Instance, Status = "DRAINING", Ec2InstanceId = "i-0aaa0e242d1d87a6e", Version = 9 };

        var observed = await PlacementGuardReflex.ObserveInstanceAsync(new ReflexContext(ReplayHarness.Policy(), reads, observer), e, due: false, default);

        Assert.Equal(23, observed.Tasks.Count);
        Assert.Equal(["chain9", "worker01"], reads.Lineages.Order(StringComparer.Ordinal));
        Assert.Equal(["chain9", "worker01"], reads.Moves.Order(StringComparer.Ordinal));
        Assert.Equal(0, observer.Ec2Reads); // the event carries it
    }

    private static TaskStateChange ExitOne() =>
        (TaskStateChange)Core.Events.EventParser.Parse(File.ReadAllBytes(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json"))).Detail;

    [Fact]
    public async Task AFailedTasksEc2Instance_IsReadFromItsContainerInstanceRecord_AndAskedOfEcsOnlyOnAMiss()
    {
        var t = ExitOne();
        var policy = ReplayHarness.Policy();
        var store = new InMemoryStateStore();
        var observer = new ListingObserver(new EmbeddedCluster(ReplayHarness.Snapshot()), []);
        var context = new ReflexContext(policy, store, observer);

        // No record of the instance: ECS is asked (the rule avoids the failed instance).
        var missed = await TaskReschedulerReflex.ObserveAsync(context, t, default);
        Assert.Equal(1, observer.Ec2Reads);
        Assert.NotNull(missed.FailedEc2InstanceId);

        // The guard kept the instance's EC2 id from its events: read with the lineage and the drain move, ECS is not asked.
        await store.TryPutInstanceSeenAsync(new InstanceSeenRecord
        {
            Cluster = policy.FindCluster(t.ClusterArn)!.Name, ContainerInstanceArn = t.ContainerInstanceArn!, Version = 1, Status = "ACTIVE",
            AgentConnected = true, SeenAt = DateTimeOffset.UnixEpoch, Ec2InstanceId = "i-from-the-record",
        }, default);
        var kept = await TaskReschedulerReflex.ObserveAsync(context, t, default);
        Assert.Equal(1, observer.Ec2Reads);
        Assert.Equal("i-from-the-record", kept.FailedEc2InstanceId);
    }

    [Fact]
    public async Task AFailedTasksEc2Instance_IsNotAskedOfEcs_WhenTheDecisionDoesNotPlaceAwayFromIt()
    {
        var t = ExitOne();
        var policy = ReplayHarness.Policy();
        var observer = new ListingObserver(new EmbeddedCluster(ReplayHarness.Snapshot()), []);
        var context = new ReflexContext(policy, new InMemoryStateStore(), observer);

        // A task that never started (its image could not be pulled) is relaunched anywhere.
        var notStarted = t with { StopCode = "TaskFailedToStart", StoppedReason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)" };
        Assert.False(TaskRescheduler.UsesFailedEc2InstanceId(notStarted, policy, null));
        var observed = await TaskReschedulerReflex.ObserveAsync(context, notStarted, default);
        Assert.Equal(0, observer.Ec2Reads);
        Assert.Null(observed.FailedEc2InstanceId);
        Assert.True(TaskRescheduler.UsesFailedEc2InstanceId(t, policy, null));
    }

    [Fact]
    public void TheTagsAreReadBesideTheOtherReads_ExactlyWhenTheEventAloneSaysTheStopIsRelaunchedNow()
    {
        var t = ExitOne();
        var policy = ReplayHarness.Policy();
        var stopped = t.StoppedAt!.Value;

        // The rule carries tags and its first back-off is 10 s: relaunched now only once the back-off is over.
        Assert.True(TaskRescheduler.LikelyRelaunchesWithTags(t, policy, stopped.AddSeconds(30)));
        Assert.False(TaskRescheduler.LikelyRelaunchesWithTags(t, policy, stopped.AddSeconds(2)));
        // Each prediction agrees with the decision itself (with nothing observed) on whether the tags are wanted.
        foreach (var at in new[] { stopped.AddSeconds(2), stopped.AddSeconds(30) })
        {
            var decision = TaskRescheduler.Decide(t, policy, TaskObservation.None, at);
            Assert.Equal(TaskRescheduler.WantsTags(policy, t, TaskObservation.None, decision), TaskRescheduler.LikelyRelaunchesWithTags(t, policy, at));
        }
        // A stop that is not a failure, and a task of a rule that does not copy tags, never.
        Assert.False(TaskRescheduler.LikelyRelaunchesWithTags(t with { StopCode = "UserInitiated" }, policy, stopped.AddSeconds(30)));
        Assert.False(TaskRescheduler.LikelyRelaunchesWithTags(t with { Group = "family:nobody-covers-this" }, policy, stopped.AddSeconds(30)));
    }

    [Fact]
    public async Task TheReschedulersReads_GoBesideTheClaim_NotAfterIt()
    {
        // The claim waits until the lineage has been read: made one after the other, the claim would wait alone and fail.
        var e = Core.Events.EventParser.Parse(File.ReadAllBytes(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")));
        var store = new ReadBeforeClaimStore(new InMemoryStateStore { Now = e.EffectiveTime!.Value.AddMinutes(1) });
        var policy = ReplayHarness.Policy();
        var cluster = new EmbeddedCluster(ReplayHarness.Snapshot());
        var reactor = new Reactor(policy, store, cluster, new Acting.Actuator(cluster, store, policy, dryRun: true));

        var r = await reactor.HandleEventAsync(e, e.EffectiveTime!.Value.AddMinutes(1), default);

        Assert.Equal(Core.Decisions.Outcome.Acted, r.Outcome);
        Assert.True(store.ReadBeforeClaim);
        // A second delivery: refused by the claim; its decision beside it is dropped, nothing acted.
        var again = await reactor.HandleEventAsync(e, e.EffectiveTime!.Value.AddMinutes(2), default);
        Assert.Equal(Core.Decisions.ReasonCodes.EngineDuplicate, again.Code);
    }

    /// <summary>The in-memory store, except that an event's claim waits (at most 5 s) until a lineage has been read.</summary>
    private sealed class ReadBeforeClaimStore(IStateStore inner) : DelegatingStateStore(inner), IStateStore
    {
        private readonly TaskCompletionSource _read = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool ReadBeforeClaim { get; private set; }

        public async ValueTask<ClaimPut> PutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct)
        {
            if (condition.HeldBy is null && record.Key.StartsWith("task#", StringComparison.Ordinal))
            {
                await _read.Task.WaitAsync(TimeSpan.FromSeconds(5), ct);
                ReadBeforeClaim = true;
            }
            return await Inner.PutClaimAsync(record, condition, ct);
        }

        public override ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct)
        {
            _read.TrySetResult();
            return base.GetLineageAsync(cluster, lineage, ct);
        }

        public ValueTask WriteAsync(StateBatch batch, CancellationToken ct) => Inner.WriteAsync(batch, ct);
    }

    private sealed class CountingReader(IStateReader inner) : IStateReader
    {
        public List<string> Lineages { get; } = [];
        public List<string> Moves { get; } = [];

        public ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct)
        {
            lock (Lineages) Lineages.Add(lineage);
            return inner.GetLineageAsync(cluster, lineage, ct);
        }

        public ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct)
        {
            lock (Moves) Moves.Add(lineage);
            return inner.GetDrainMoveAsync(cluster, lineage, ct);
        }

        public ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct) => inner.GetScalingRecordAsync(cluster, service, ct);
        public ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) => inner.GetInstanceSeenAsync(cluster, containerInstanceArn, ct);
        public ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) => inner.GetServicePlacementAsync(cluster, service, ct);
    }

    private sealed class ListingObserver(EmbeddedCluster inner, IReadOnlyList<ObservedTask> tasks) : IClusterObserver
    {
        public int Ec2Reads { get; private set; }

        public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => ValueTask.FromResult(tasks);

        public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
        {
            Ec2Reads++;
            return inner.GetEc2InstanceIdAsync(clusterArn, containerInstanceArn, ct);
        }

        public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct) => inner.DescribeTaskTagsAsync(clusterArn, taskArn, ct);
        public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct) => inner.DescribeServiceScalingAsync(cluster, service, ct);
        public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) => inner.DescribeAlarmStatesAsync(alarmNames, ct);
        public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) => inner.GetServiceAsync(clusterArn, serviceArnOrName, ct);
        public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.GetContainerInstanceAsync(clusterArn, containerInstanceArn, ct);
    }
}
