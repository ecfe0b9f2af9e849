using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Local;
using EcsReflex.Engine.State;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Local;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// The local replay's protocol: the bootstrap's <see cref="EmulatorServicesClient"/> must behave exactly as the
/// in-memory store and the embedded cluster the in-process replay uses, member for member.
/// </summary>
public sealed class LocalProtocolTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-03-02T09:00:00Z");
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string Instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/424b1fee9709931505d95954058b4714";
    private static readonly LocalProtocolJsonContext J = LocalProtocolJsonContext.Default;

    private static EmbeddedCluster NewCluster() => new(Replays.Snapshot) { Now = T0 };

    [Theory]
    [InlineData(typeof(IStateStore))]
    [InlineData(typeof(IClusterObserver))]
    [InlineData(typeof(IEcsApi))]
    public void EmulatorServicesClient_ImplementsEveryMemberOfThePortItself(Type port)
    {
        var map = typeof(EmulatorServicesClient).GetInterfaceMap(port);

        var inherited = map.TargetMethods.Where(m => m.DeclaringType != typeof(EmulatorServicesClient)).Select(m => m.Name).ToList();
        Assert.True(inherited.Count == 0, $"left to the interface's default body: {string.Join(", ", inherited)}");
    }

    [Fact]
    public void UnknownClusterObserver_ImplementsEveryMemberOfTheObserverItself()
    {
        var map = typeof(UnknownClusterObserver).GetInterfaceMap(typeof(IClusterObserver));

        Assert.All(map.TargetMethods, m => Assert.Equal(typeof(UnknownClusterObserver), m.DeclaringType));
    }

    /// <summary>One step of a sequence run twice: through the protocol, and on an in-process twin.</summary>
    private sealed record Step(string Name, Func<IStateStore, IClusterObserver, IEcsApi, CancellationToken, Task<string>> Run);

    private static string Js<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    /// <summary>What a sweep reads of a stopped task, as text: the same in process and through the emulator.</summary>
    private static string Stopped(Core.Observed.StoppedTasksObservation o) =>
        $"{o.Calls} {o.Truncated} {o.Unavailable} " + string.Join(";", o.Tasks.Select(t =>
            $"{t.TaskArn} {t.Version} {t.StopCode} {t.StoppedAt:O} {string.Join(",", t.Containers.Select(c => $"{c.Name}={c.ExitCode}"))}"));

    /// <summary>What a sweep reads of the container instances, as text: the same in process and through the emulator.</summary>
    private static string Instances(Core.Observed.ContainerInstancesObservation o) =>
        $"{o.Calls} {o.Truncated} {o.Unavailable} " + string.Join(";", o.Instances.Select(i =>
            $"{i.ContainerInstanceArn} {i.ClusterArn} {i.Status} {i.AgentConnected} {i.Version} {i.Ec2InstanceId} {i.RunningTasksCount} {i.RegisteredAt:O} "
            + string.Join(",", i.Attributes.Select(a => $"{a.Name}={a.Value}")) + " "
            + string.Join(",", i.RemainingResources.Select(r => $"{r.Name}={r.IntegerValue}/{r.LongValue}/{r.DoubleValue}/{string.Join("|", r.StringSetValue)}"))));

    private static string Jn<T>(T? value, JsonTypeInfo<T> type) where T : class => value is null ? "null" : JsonSerializer.Serialize(value, type);

    private static ServiceScalingRecord Scaling(int target) => new()
    {
        Cluster = "prod", Service = "web", LastTarget = target, LastFrom = target - 1, LastScaledAt = T0, LastDirection = Core.Policy.ScalingDirection.Out,
        LastAlarm = "web-cpu-high", CooldownBase = target - 1,
        Alarms = [new RememberedAlarm { AlarmName = "web-cpu-high", State = "ALARM", StateTimestamp = T0.AddSeconds(-3), SeenAt = T0, Recommendation = target }],
        Recommendations = [new ScalingRecommendation(T0, target, "web-cpu-high")],
    };

    private static ClaimRecord Claim(string key, ClaimStatus status, string token, DateTimeOffset expiresAt) =>
        new() { Key = key, Status = status, Token = token, ExpiresAt = expiresAt };

    private static InstanceSeenRecord Seen(long version, bool agent) => new()
    {
        Cluster = "prod", ContainerInstanceArn = Instance, Version = version, Status = "ACTIVE", AgentConnected = agent,
        DisconnectedSince = agent ? null : T0.AddTicks(1234567), SeenAt = T0,
    };

    private static readonly DrainMoveRecord Move = new()
    {
        Cluster = "prod", Lineage = "c7e041f45d11b81a4df78d8b117d8e3a", Rule = "batch-workers",
        OriginalTaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/c7e041f45d11b81a4df78d8b117d8e3a", ContainerInstanceArn = Instance,
        Ec2InstanceId = "i-0aaa0e242d1d87a6e", Reason = DrainReason.AgentDisconnected, ReplacementStartedBy = "reflex/c7e041f45d11b81a4df78d8b117d8e3a/0",
        ReplacementClientToken = "reflex-token", StartedAt = T0, StopOriginalAt = T0.AddSeconds(30),
    };

    private static readonly RunTaskRequest Run = new()
    {
        Cluster = ClusterArn, TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", Group = "family:worker",
        StartedBy = "reflex/abc/1", LaunchType = "EC2", ClientToken = "reflex-test-token",
        Overrides = JsonDocument.Parse("""{"containerOverrides":[{"name":"worker","command":["a","b"]}]}""").RootElement,
        PlacementConstraints = [new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId != i-0aaa0e242d1d87a6e" }],
        PlacementStrategy = [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }],
        Tags = [new Tag("reflex:lineage", "abc")],
    };

    private static IReadOnlyList<Step> Sequence() =>
    [
        new("TryPutClaim already expired", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#old", ClaimStatus.Completed, "t0", T0.AddSeconds(-1)), ClaimCondition.Free, ct)).ToString()),
        new("GetClaim expired", async (s, _, _, ct) => Js(new ClaimRecordResult(await s.GetClaimAsync("event#old", ct)), J.ClaimRecordResult)),
        new("TryPutClaim over an expired record", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#old", ClaimStatus.InProgress, "t9", T0.AddMinutes(1)), ClaimCondition.Free, ct)).ToString()),
        new("GetClaim before", async (s, _, _, ct) => Js(new ClaimRecordResult(await s.GetClaimAsync("event#c", ct)), J.ClaimRecordResult)),
        new("TryPutClaim on a free key", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#c", ClaimStatus.InProgress, "t1", T0.AddMinutes(1)), ClaimCondition.Free, ct)).ToString()),
        new("TryPutClaim on a held key", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#c", ClaimStatus.InProgress, "t2", T0.AddMinutes(1)), ClaimCondition.Free, ct)).ToString()),
        new("GetClaim in progress", async (s, _, _, ct) => Js(new ClaimRecordResult(await s.GetClaimAsync("event#c", ct)), J.ClaimRecordResult)),
        new("PutClaim on a held key (the holder comes back)", async (s, _, _, ct) =>
        {
            var put = await s.PutClaimAsync(Claim("event#c", ClaimStatus.InProgress, "t3", T0.AddMinutes(1)), ClaimCondition.Free, ct);
            return Js(new ClaimPutResult(put.Written, put.Holder), J.ClaimPutResult);
        }),
        new("PutClaim on a free key", async (s, _, _, ct) =>
        {
            var put = await s.PutClaimAsync(Claim("event#p", ClaimStatus.InProgress, "t4", T0.AddMinutes(1)), ClaimCondition.Free, ct);
            return Js(new ClaimPutResult(put.Written, put.Holder), J.ClaimPutResult);
        }),
        new("TryPutClaim completing another's claim", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#c", ClaimStatus.Completed, "t2", T0.AddHours(24)), ClaimCondition.Holds("t2"), ct)).ToString()),
        new("TryPutClaim completing its own claim", async (s, _, _, ct) => (await s.TryPutClaimAsync(Claim("event#c", ClaimStatus.Completed, "t1", T0.AddHours(24)), ClaimCondition.Holds("t1"), ct)).ToString()),
        new("GetClaim completed", async (s, _, _, ct) => Js(new ClaimRecordResult(await s.GetClaimAsync("event#c", ct)), J.ClaimRecordResult)),
        new("TryDeleteClaim with another token", async (s, _, _, ct) => (await s.TryDeleteClaimAsync("event#c", "t2", ct)).ToString()),
        new("TryDeleteClaim with its token", async (s, _, _, ct) => (await s.TryDeleteClaimAsync("event#c", "t1", ct)).ToString()),
        new("GetClaim released", async (s, _, _, ct) => Js(new ClaimRecordResult(await s.GetClaimAsync("event#c", ct)), J.ClaimRecordResult)),
        new("GetLineage unknown", async (s, _, _, ct) => Jn(await s.GetLineageAsync("prod", "abc", ct), J.LineageRecord)),
        new("PutLineage", async (s, _, _, ct) => { await s.PutLineageAsync(new LineageRecord { Cluster = "prod", Lineage = "abc", Rule = "batch-workers", Attempt = 2, LastFailureAt = T0, GivenUp = true }, ct); return ""; }),
        new("GetLineage", async (s, _, _, ct) => Jn(await s.GetLineageAsync("prod", "abc", ct), J.LineageRecord)),
        new("TakeSlot 1", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("prod", T0, ct)).ToString()),
        new("TakeSlot 2", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("prod", T0, ct)).ToString()),
        new("TakeSlot 3 (counted past any limit)", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("prod", T0, ct)).ToString()),
        new("TakeSlots 4 at once (a drain's replacements)", async (s, _, _, ct) => (await s.TakeRelaunchSlotsAsync("prod", T0, 4, ct)).ToString()),
        new("TakeSlot after them", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("prod", T0, ct)).ToString()),
        new("TakeSlot in the next minute", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("prod", T0.AddMinutes(1), ct)).ToString()),
        new("TakeSlot of another cluster", async (s, _, _, ct) => (await s.TakeRelaunchSlotAsync("staging", T0, ct)).ToString()),
        new("AppendAudit", async (s, _, _, ct) => { await s.AppendAuditAsync(new AuditEntry(T0, "e-1", "placement-guard", "done", "why", "StopTask", "{}", "stopping x"), ct); return ""; }),
        new("GetScalingRecord before", async (s, _, _, ct) => Jn(await s.GetScalingRecordAsync("prod", "web", ct), J.ServiceScalingRecord)),
        new("TryPutScalingRecord v0", async (s, _, _, ct) => (await s.TryPutScalingRecordAsync(Scaling(5), 0, ct)).ToString()),
        new("TryPutScalingRecord v0 again (the race is lost)", async (s, _, _, ct) => (await s.TryPutScalingRecordAsync(Scaling(6), 0, ct)).ToString()),
        new("GetScalingRecord v1", async (s, _, _, ct) => Jn(await s.GetScalingRecordAsync("prod", "web", ct), J.ServiceScalingRecord)),
        new("TryPutScalingRecord v1", async (s, _, _, ct) => (await s.TryPutScalingRecordAsync(Scaling(7), 1, ct)).ToString()),
        new("GetScalingRecord v2", async (s, _, _, ct) => Jn(await s.GetScalingRecordAsync("prod", "web", ct), J.ServiceScalingRecord)),
        new("GetInstanceSeen before", async (s, _, _, ct) => Jn(await s.GetInstanceSeenAsync("prod", Instance, ct), J.InstanceSeenRecord)),
        new("TryPutInstanceSeen v5", async (s, _, _, ct) => (await s.TryPutInstanceSeenAsync(Seen(5, false), ct)).ToString()),
        new("TryPutInstanceSeen v3 (late delivery)", async (s, _, _, ct) => (await s.TryPutInstanceSeenAsync(Seen(3, true), ct)).ToString()),
        new("GetInstanceSeen", async (s, _, _, ct) => Jn(await s.GetInstanceSeenAsync("prod", Instance, ct), J.InstanceSeenRecord)),
        new("GetDrainMove before", async (s, _, _, ct) => Jn(await s.GetDrainMoveAsync("prod", Move.Lineage, ct), J.DrainMoveRecord)),
        new("PutDrainMove", async (s, _, _, ct) => { await s.PutDrainMoveAsync(Move, ct); return ""; }),
        new("GetDrainMove", async (s, _, _, ct) => Jn(await s.GetDrainMoveAsync("prod", Move.Lineage, ct), J.DrainMoveRecord)),
        new("GetServicePlacement before", async (s, _, _, ct) => Jn(await s.GetServicePlacementAsync("prod", "web", ct), J.ServicePlacementRecord)),
        new("PutServicePlacement", async (s, _, _, ct) => { await s.PutServicePlacementAsync(new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = T0, FallbackReason = "RESOURCE:MEMORY" }, ct); return ""; }),
        new("GetServicePlacement", async (s, _, _, ct) => Jn(await s.GetServicePlacementAsync("prod", "web", ct), J.ServicePlacementRecord)),
        new("WriteBatch", async (s, _, _, ct) =>
        {
            await s.WriteAsync(new StateBatch(
                [new LineageRecord { Cluster = "prod", Lineage = "batch", Rule = "batch-workers", Attempt = 1, LastFailureAt = T0 }],
                [Move with { Lineage = "batch" }],
                [new ServicePlacementRecord { Cluster = "prod", Service = "api", FallbackAppliedAt = T0, FallbackReason = "RESOURCE:CPU" }],
                [new AuditEntry(T0, "e-2", "task-rescheduler", "done", "why", "RunTask", "{}", "started t"), new AuditEntry(T0, "e-2", "task-rescheduler", "done", "then", null, null, null)],
                [Claim("task#batch#3", ClaimStatus.Completed, "e-2#t3", T0.AddHours(24))]), ct);
            return "";
        }),
        new("after WriteBatch", async (s, _, _, ct) => Jn(await s.GetLineageAsync("prod", "batch", ct), J.LineageRecord) + Jn(await s.GetDrainMoveAsync("prod", "batch", ct), J.DrainMoveRecord)
            + Jn(await s.GetServicePlacementAsync("prod", "api", ct), J.ServicePlacementRecord) + Js(new ClaimRecordResult(await s.GetClaimAsync("task#batch#3", ct)), J.ClaimRecordResult)),

        new("GetEc2InstanceId", async (_, o, _, ct) => await o.GetEc2InstanceIdAsync(ClusterArn, Instance, ct) ?? "null"),
        new("GetEc2InstanceId unknown", async (_, o, _, ct) => await o.GetEc2InstanceIdAsync(ClusterArn, Instance + "00", ct) ?? "null"),
        new("DescribeServiceScaling web", async (_, o, _, ct) => Jn(await o.DescribeServiceScalingAsync(ClusterArn, "web", ct), J.ServiceScalingView)),
        new("DescribeServiceScaling api", async (_, o, _, ct) => Js(await o.DescribeServiceScalingAsync(ClusterArn, "api", ct), J.ServiceScalingView)),
        new("DescribeServiceScaling unknown", async (_, o, _, ct) => Js(await o.DescribeServiceScalingAsync(ClusterArn, "nope", ct), J.ServiceScalingView)),
        new("DescribeAlarmStates", async (_, o, _, ct) => Js(await o.DescribeAlarmStatesAsync(["web-cpu-high", "web-cpu-low"], ct), J.AlarmStatesObservation)),
        new("DescribeAlarmNow unknown", async (_, o, _, ct) => Js(await o.DescribeAlarmNowAsync("web-cpu-high", ct), J.AlarmStatesObservation)),
        new("ListTasksOnInstance", async (_, o, _, ct) => Js(new TasksResult(await o.ListTasksOnInstanceAsync(ClusterArn, Instance, ct)), J.TasksResult)),
        new("DescribeTaskTags", async (_, o, _, ct) => Js(await o.DescribeTaskTagsAsync(ClusterArn, "arn:aws:ecs:us-east-1:123456789012:task/prod/c7e041f45d11b81a4df78d8b117d8e3a", ct), J.TaskTagsObservation)),
        new("DescribeTaskTags unknown", async (_, o, _, ct) => Js(await o.DescribeTaskTagsAsync(ClusterArn, "arn:aws:ecs:us-east-1:123456789012:task/prod/nope", ct), J.TaskTagsObservation)),
        new("GetService", async (_, o, _, ct) => Js(await o.GetServiceAsync(ClusterArn, "arn:aws:ecs:us-east-1:123456789012:service/prod/web", ct), J.ObservedService)),
        new("GetService unknown", async (_, o, _, ct) => Jn(await o.GetServiceAsync(ClusterArn, "nope", ct), J.ObservedService)),
        new("GetContainerInstance", async (_, o, _, ct) => Jn(await o.GetContainerInstanceAsync(ClusterArn, Instance, ct), J.ObservedContainerInstance)),
        new("GetContainerInstance unknown", async (_, o, _, ct) => Jn(await o.GetContainerInstanceAsync(ClusterArn, Instance + "00", ct), J.ObservedContainerInstance)),
        new("ListStoppedTasks", async (_, o, _, ct) => Stopped(await o.ListStoppedTasksAsync(ClusterArn, 10, ct))),
        new("ListContainerInstances", async (_, o, _, ct) => Instances(await o.ListContainerInstancesAsync(ClusterArn, 10, ct))),
        new("ListContainerInstances on a budget", async (_, o, _, ct) => Instances(await o.ListContainerInstancesAsync(ClusterArn, 1, ct))),

        new("RunTask", async (_, _, e, ct) => Jn(await e.RunTaskAsync(Run, ct), J.RunTaskResponse)),
        new("RunTask with an EBS volume and tags", async (_, o, e, ct) =>
        {
            var r = await e.RunTaskAsync(Run with
            {
                ClientToken = "ebs", Tags = [new Tag("reflex:lineage", "abc"), new Tag("team", "data")], PropagateTags = "TASK_DEFINITION", EnableEcsManagedTags = true,
                VolumeConfigurations = [new TaskVolumeConfiguration { Name = "data", ManagedEbsVolume = new TaskManagedEbsVolumeConfiguration { RoleArn = "arn:aws:iam::123456789012:role/infra", SizeInGiB = 10 } }],
            }, ct);
            return Js(r, J.RunTaskResponse) + Js(await o.DescribeTaskTagsAsync(ClusterArn, r.TaskArns[0], ct), J.TaskTagsObservation);
        }),
        new("RunTask again with the same client token", async (_, _, e, ct) => Js(await e.RunTaskAsync(Run, ct), J.RunTaskResponse)),
        new("RunTask that nothing can place", async (_, _, e, ct) => Js(await e.RunTaskAsync(Run with { ClientToken = "other", PlacementConstraints = [new PlacementConstraint { Type = "memberOf", Expression = "ec2InstanceId == i-none" }] }, ct), J.RunTaskResponse)),
        new("StopTask", async (_, _, e, ct) => Js(await e.StopTaskAsync(new StopTaskRequest { Cluster = ClusterArn, Task = "c7e041f45d11b81a4df78d8b117d8e3a", Reason = "moving" }, ct), J.StopTaskResponse)),
        new("UpdateService desired count", async (_, _, e, ct) => Js(await e.UpdateServiceAsync(new UpdateServiceRequest { Cluster = ClusterArn, Service = "web", DesiredCount = 6 }, ct), J.UpdateServiceResponse)),
        new("UpdateService placement", async (_, _, e, ct) => Js(await e.UpdateServiceAsync(new UpdateServiceRequest { Cluster = ClusterArn, Service = "api", PlacementStrategy = [new PlacementStrategy { Type = "binpack", Field = "memory" }] }, ct), J.UpdateServiceResponse)),
        new("UpdateService unknown", async (_, _, e, ct) => Js(await e.UpdateServiceAsync(new UpdateServiceRequest { Cluster = ClusterArn, Service = "nope", DesiredCount = 1 }, ct), J.UpdateServiceResponse)),
        new("the cluster after the actions", async (_, o, _, ct) => Js(await o.DescribeServiceScalingAsync(ClusterArn, "web", ct), J.ServiceScalingView)
                                                                   + Js(new TasksResult(await o.ListTasksOnInstanceAsync(ClusterArn, Instance, ct)), J.TasksResult)
                                                                   + Js(await o.GetServiceAsync(ClusterArn, "api", ct), J.ObservedService)),
    ];

    [Fact]
    public async Task EveryMember_ThroughTheProtocol_AnswersAsTheInMemoryStoreAndEmbeddedClusterDo()
    {
        var local = new LocalServices(new InMemoryStateStore { Now = T0 }, NewCluster());
        await using var emulator = await RuntimeApiEmulator.StartAsync(local);
        using var client = new EmulatorServicesClient(emulator.RuntimeApi);
        var twinStore = new InMemoryStateStore { Now = T0 };
        var twinCluster = NewCluster();
        var ct = CancellationToken.None;

        foreach (var step in Sequence())
        {
            var expected = await step.Run(twinStore, twinCluster, twinCluster, ct);
            var actual = await step.Run(client, client, client, ct);
            Assert.True(expected == actual, $"{step.Name}:\n in process: {expected}\n protocol:   {actual}");
        }

        Assert.Equal(twinStore.Audit, local.Store.Audit);
        Assert.Equal(twinCluster.NextEventAt, local.Cluster.NextEventAt);
        Assert.NotNull(local.Cluster.NextEventAt); // the run task and the stop task are both on their way
        Assert.Equal(twinCluster.Generation, local.Cluster.Generation);
    }

    [Fact]
    public async Task EveryProtocolPath_IsServed()
    {
        var local = new LocalServices(new InMemoryStateStore { Now = T0 }, NewCluster());
        await using var emulator = await RuntimeApiEmulator.StartAsync(local);
        using var client = new EmulatorServicesClient(emulator.RuntimeApi);
        var ct = CancellationToken.None;

        foreach (var step in Sequence()) await step.Run(client, client, client, ct);
        await ((IDelayQueue)client).SendAsync(new DeferredWork("{\"id\":\"e\"}", T0), ct);
        await ((IDeadLetterSender)client).SendAsync(new DeadLetter { Handler = "h", Code = "invalid-json", Reason = "r", Payload = "x", RejectedAt = T0 }, ct);

        Assert.Equal(LocalProtocol.Paths.Order(StringComparer.Ordinal), local.Calls.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ConditionalWrites_FromConcurrentBootstraps_LetExactlyOneWriterWin()
    {
        var local = new LocalServices(new InMemoryStateStore { Now = T0 }, NewCluster());
        await using var emulator = await RuntimeApiEmulator.StartAsync(local);
        var clients = Enumerable.Range(0, 12).Select(_ => new EmulatorServicesClient(emulator.RuntimeApi)).ToList();
        try
        {
            var scaling = await Task.WhenAll(clients.Select((c, i) => Task.Run(() => c.TryPutScalingRecordAsync(Scaling(i + 2), 0, CancellationToken.None).AsTask())));
            var slots = await Task.WhenAll(clients.Select(c => Task.Run(() => c.TakeRelaunchSlotAsync("prod", T0, CancellationToken.None).AsTask())));

            Assert.Single(scaling, won => won);
            Assert.Equal(1, Assert.Single(local.Store.ScalingRecords).Version);
            Assert.Equal(Enumerable.Range(1, clients.Count).Select(n => (long)n), slots.Order()); // one increment each, none lost or shared
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Fact]
    public async Task EmulatorWithoutLocalServices_RefusesTheCall_AndTheClientSaysWhichPath()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        using var client = new EmulatorServicesClient(emulator.RuntimeApi);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetScalingRecordAsync("prod", "web", CancellationToken.None).AsTask());

        Assert.Contains(LocalProtocol.GetScalingRecord, ex.Message, StringComparison.Ordinal);
        Assert.Contains("404", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LocalProtocol.TryPutScalingRecord, "not json", HttpStatusCode.BadRequest)]
    [InlineData(LocalProtocol.DelayQueue, "{\"event\":{}}", HttpStatusCode.BadRequest)]
    [InlineData(LocalProtocol.Prefix + "state/no-such-member", "{}", HttpStatusCode.NotFound)]
    public async Task LocalServices_AnswerABadCallWithAnErrorNamingThePath(string path, string body, HttpStatusCode status)
    {
        var local = new LocalServices(new InMemoryStateStore { Now = T0 }, NewCluster());
        await using var emulator = await RuntimeApiEmulator.StartAsync(local);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{emulator.RuntimeApi}") };

        using var response = await http.PostAsync(path, new StringContent(body));

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(path, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void ProtocolJson_IsSourceGenerated_ForEveryRequestAndResultType()
    {
        var types = typeof(LocalProtocol).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(LocalProtocol).Namespace && t.IsClass && t.IsSealed && !t.IsAbstract
                        && (t.Name.EndsWith("Request", StringComparison.Ordinal) || t.Name.EndsWith("Result", StringComparison.Ordinal)))
            .ToList();

        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.NotNull(J.GetTypeInfo(t)));
    }
}
