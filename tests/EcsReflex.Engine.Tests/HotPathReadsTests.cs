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
