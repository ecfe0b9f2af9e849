using System.Text.Json;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Ports;
using EcsReflex.Aws.Tests.Support;

namespace EcsReflex.Aws.Tests;

/// <summary>The cluster observer's reads on the loopback stub: what it asks, how it pages and batches, what it maps.</summary>
public sealed class ClusterObserverTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string Instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/8b2c0e6e4f6a4d5c9e0f1a2b3c4d5e6f";
    private const string WebArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    private static string Service(int desired = 4, string status = "ACTIVE") => $$"""
        {"serviceArn":"{{WebArn}}","serviceName":"web","clusterArn":"{{Cluster}}","status":"{{status}}","desiredCount":{{desired}},"runningCount":3,"pendingCount":1,
         "launchType":"EC2","placementConstraints":[{"type":"memberOf","expression":"attribute:ecs.instance-type =~ t3.*"}],
         "placementStrategy":[{"type":"spread","field":"attribute:ecs.availability-zone"},{"type":"binpack","field":"memory"}],"deployments":[],"events":[]}
        """;

    private static async Task<(AwsStub Stub, AwsClients Clients, AwsClusterObserver Observer)> StartAsync(Func<StubRequest, StubReply> handler)
    {
        var stub = await AwsStub.StartAsync(handler);
        var clients = StubClients.Create(stub);
        return (stub, clients, new AwsClusterObserver(clients.Ecs, clients.AutoScaling, clients.CloudWatch));
    }

    private static JsonElement Body(StubRequest r) => JsonDocument.Parse(r.Body).RootElement.Clone();

    // ---------------- DescribeServiceScaling ----------------

    [Fact]
    public async Task DescribeServiceScaling_ReadsTheDesiredCountAndTheServicesScalableTargetAcrossPages()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation switch
        {
            "DescribeServices" => StubReply.Json($$"""{"services":[{{Service(desired: 6)}}],"failures":[]}"""),
            "DescribeScalableTargets" when r.Index == 0 => StubReply.Json("""{"ScalableTargets":[],"NextToken":"p2"}"""),
            "DescribeScalableTargets" => StubReply.Json("""{"ScalableTargets":[{"ServiceNamespace":"ecs","ResourceId":"service/prod/web","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":2,"MaxCapacity":10,"RoleARN":"arn:aws:iam::123456789012:role/aas","CreationTime":1733800000.5}]}"""),
            _ => StubReply.Error("UnknownOperationException", r.Operation),
        });
        await using var _ = stub;
        using var __ = clients;

        var view = await observer.DescribeServiceScalingAsync("prod", "web", default);

        Assert.Equal((6, "ACTIVE"), (view.Service!.DesiredCount, view.Service.Status));
        Assert.Equal(("service/prod/web", 2, 10), (view.ScalableTarget!.ResourceId, view.ScalableTarget.MinCapacity, view.ScalableTarget.MaxCapacity));
        var describe = Body(Assert.Single(stub.For("DescribeServices")));
        Assert.Equal(("prod", "web"), (describe.GetProperty("cluster").GetString(), describe.GetProperty("services")[0].GetString()));
        var targets = stub.For("DescribeScalableTargets");
        Assert.Equal(2, targets.Count);
        Assert.Equal("""{"ServiceNamespace":"ecs","ResourceIds":["service/prod/web"],"ScalableDimension":"ecs:service:DesiredCount"}""", targets[0].Body);
        Assert.Equal("p2", Body(targets[1]).GetProperty("NextToken").GetString());
    }

    [Fact]
    public async Task DescribeServiceScaling_GivenArns_AsksForTheResourceIdOfTheirNames()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "DescribeServices"
            ? StubReply.Json($$"""{"services":[{{Service()}}]}""")
            : StubReply.Json("""{"ScalableTargets":[]}"""));
        await using var _ = stub;
        using var __ = clients;

        var view = await observer.DescribeServiceScalingAsync(Cluster, WebArn, default);

        Assert.Null(view.ScalableTarget);
        Assert.Equal("service/prod/web", Body(Assert.Single(stub.For("DescribeScalableTargets"))).GetProperty("ResourceIds")[0].GetString());
        Assert.Equal(WebArn, Body(Assert.Single(stub.For("DescribeServices"))).GetProperty("services")[0].GetString());
    }

    [Fact]
    public async Task DescribeServiceScaling_OnlyTakesTheDesiredCountTargetOfThatService()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "DescribeServices"
            ? StubReply.Json($$"""{"services":[{{Service()}}]}""")
            : StubReply.Json("""{"ScalableTargets":[{"ServiceNamespace":"ecs","ResourceId":"service/prod/web-canary","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2}]}"""));
        await using var _ = stub;
        using var __ = clients;

        Assert.Null((await observer.DescribeServiceScalingAsync("prod", "web", default)).ScalableTarget);
    }

    [Fact]
    public async Task DescribeServiceScaling_WhenTheServiceIsMissing_HasNoService()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "DescribeServices"
            ? StubReply.Json("""{"services":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service/prod/web","reason":"MISSING"}]}""")
            : StubReply.Json("""{"ScalableTargets":[]}"""));
        await using var _ = stub;
        using var __ = clients;

        var view = await observer.DescribeServiceScalingAsync("prod", "web", default);

        Assert.Equal((null, null), (view.Service, view.ScalableTarget));
    }

    [Fact]
    public async Task DescribeServiceScaling_WhenApplicationAutoScalingRefuses_ThrowsItsErrorCode()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "DescribeServices"
            ? StubReply.Json($$"""{"services":[{{Service()}}]}""")
            : StubReply.Error("AccessDeniedException", "not authorized to perform: application-autoscaling:DescribeScalableTargets"));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => observer.DescribeServiceScalingAsync("prod", "web", default).AsTask());

        Assert.Equal(("application-autoscaling", "DescribeScalableTargets", "AccessDeniedException"), (ex.Service, ex.Operation, ex.ErrorCode));
    }

    // ---------------- DescribeAlarmStates ----------------

    private static string Alarms(IEnumerable<(string Name, string State)> metric, IEnumerable<string>? composite = null, string? next = null) =>
        $"""
        <DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult>
        <MetricAlarms>{string.Concat(metric.Select(a => $"<member><AlarmName>{a.Name}</AlarmName><StateValue>{a.State}</StateValue><StateUpdatedTimestamp>2026-03-02T10:00:34.120Z</StateUpdatedTimestamp></member>"))}</MetricAlarms>
        <CompositeAlarms>{string.Concat((composite ?? []).Select(c => $"<member><AlarmName>{c}</AlarmName><StateValue>ALARM</StateValue></member>"))}</CompositeAlarms>
        {(next is null ? "" : $"<NextToken>{next}</NextToken>")}
        </DescribeAlarmsResult></DescribeAlarmsResponse>
        """;

    [Fact]
    public async Task DescribeAlarmStates_ReadsMetricAndCompositeAlarmsByNameFollowingNextToken()
    {
        var (stub, clients, observer) = await StartAsync(r => StubReply.Xml(r.Index == 0
            ? Alarms([("web-cpu-high", "ALARM")], next: "n2")
            : Alarms([("web-cpu-low", "OK")], ["web-composite"])));
        await using var _ = stub;
        using var __ = clients;

        var observed = await observer.DescribeAlarmStatesAsync(["web-cpu-high", "web-cpu-low", "web-composite", "web-gone"], default);

        Assert.Null(observed.Unavailable);
        Assert.Equal([("web-cpu-high", "ALARM"), ("web-cpu-low", "OK"), ("web-composite", "ALARM")], observed.States.Select(s => (s.AlarmName, s.StateValue)));
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 10, 0, 34, 120, TimeSpan.Zero), observed.States[0].StateUpdatedTimestamp);
        var first = stub.Requests[0].Form;
        Assert.Equal(("web-cpu-high", "web-gone", "MetricAlarm", "CompositeAlarm"),
            (first["AlarmNames.member.1"], first["AlarmNames.member.4"], first["AlarmTypes.member.1"], first["AlarmTypes.member.2"]));
        Assert.Equal("n2", stub.Requests[1].Form["NextToken"]);
    }

    [Fact]
    public async Task DescribeAlarmStates_AsksForAtMostAHundredNamesACall()
    {
        var names = Enumerable.Range(0, 250).Select(i => $"alarm-{i:D3}").ToList();
        var (stub, clients, observer) = await StartAsync(r =>
        {
            var asked = r.Form.Where(p => p.Key.StartsWith("AlarmNames.member.", StringComparison.Ordinal)).Select(p => p.Value);
            return StubReply.Xml(Alarms(asked.Select(n => (n, "OK"))));
        });
        await using var _ = stub;
        using var __ = clients;

        var observed = await observer.DescribeAlarmStatesAsync([.. names, "alarm-000"], default);

        Assert.Equal([100, 100, 50], stub.Requests.Select(r => r.Form.Keys.Count(k => k.StartsWith("AlarmNames.member.", StringComparison.Ordinal))));
        Assert.Equal(names, observed.States.Select(s => s.AlarmName));
    }

    [Fact]
    public async Task DescribeAlarmStates_WhenCloudWatchRefuses_ThrowsItsErrorCode()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Raw(403,
            """<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>q-3</RequestId></ErrorResponse>""", "text/xml"));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => observer.DescribeAlarmStatesAsync(["web-cpu-high"], default).AsTask());

        Assert.Equal(("cloudwatch", "AccessDenied"), (ex.Service, ex.ErrorCode));
    }

    // ---------------- ListTasksOnInstance ----------------

    private static string Task(string arn, string lastStatus = "RUNNING") => $$"""
        {"taskArn":"{{arn}}","clusterArn":"{{Cluster}}","taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7","containerInstanceArn":"{{Instance}}",
         "group":"family:worker","startedBy":"reflex/abc/2","lastStatus":"{{lastStatus}}","desiredStatus":"RUNNING","launchType":"EC2","cpu":"256","memory":"512",
         "availabilityZone":"us-east-1a","version":3,"enableExecuteCommand":true,"createdAt":1733911190.5,"startedAt":1733911201.004,
         "overrides":{"containerOverrides":[{"name":"worker","command":["run","--shard","3"]}],"inferenceAcceleratorOverrides":[]},
         "attachments":[{"id":"att-1","type":"ElasticNetworkInterface","status":"ATTACHED","details":[{"name":"subnetId","value":"subnet-1"}]}],"containers":[]}
        """;

    [Fact]
    public async Task ListTasksOnInstance_ListsEveryPageThenDescribesInBatchesOfAHundred_LeavingStoppedTasksOut()
    {
        var arns = Enumerable.Range(0, 150).Select(i => $"arn:aws:ecs:us-east-1:123456789012:task/prod/t{i:D3}").ToList();
        var (stub, clients, observer) = await StartAsync(r =>
        {
            switch (r.Operation)
            {
                case "ListTasks" when r.Index == 0:
                    return StubReply.Json(JsonSerializer.Serialize(new { taskArns = arns[..120], nextToken = "p2" }));
                case "ListTasks":
                    return StubReply.Json(JsonSerializer.Serialize(new { taskArns = arns[120..] }));
                case "DescribeTasks":
                    var asked = Body(r).GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToList();
                    return StubReply.Json($$"""{"tasks":[{{string.Join(",", asked.Select(a => Task(a, a.EndsWith("t007", StringComparison.Ordinal) ? "STOPPED" : "RUNNING")))}}],"failures":[]}""");
                default:
                    return StubReply.Error("UnknownOperationException", r.Operation);
            }
        });
        await using var _ = stub;
        using var __ = clients;

        var tasks = await observer.ListTasksOnInstanceAsync(Cluster, Instance, default);

        Assert.Equal(arns.Where(a => !a.EndsWith("t007", StringComparison.Ordinal)), tasks.Select(t => t.TaskArn));
        var lists = stub.For("ListTasks");
        Assert.Equal($$"""{"cluster":"{{Cluster}}","containerInstance":"{{Instance}}","desiredStatus":"RUNNING"}""", lists[0].Body);
        Assert.Equal("p2", Body(lists[1]).GetProperty("nextToken").GetString());
        Assert.Equal([100, 50], stub.For("DescribeTasks").Select(r => Body(r).GetProperty("tasks").GetArrayLength()));
    }

    // ---------------- ListStoppedTasks (the reconciler's sweep) ----------------

    private static string Stopped(string arn) => Task(arn, "STOPPED").Replace("\"containers\":[]",
        "\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\",\"stoppedAt\":1733911260.25,"
        + "\"containers\":[{\"name\":\"worker\",\"lastStatus\":\"STOPPED\",\"exitCode\":137,\"reason\":\"OutOfMemoryError\"}]");

    [Fact]
    public async Task ListStoppedTasks_ListsStoppedPagesOfAHundredAndDescribesEach_AsTheirStoppedEventsWouldCarryThem()
    {
        var arns = Enumerable.Range(0, 150).Select(i => $"arn:aws:ecs:us-east-1:123456789012:task/prod/s{i:D3}").ToList();
        var (stub, clients, observer) = await StartAsync(r => r.Operation switch
        {
            "ListTasks" when r.Index == 0 => StubReply.Json(JsonSerializer.Serialize(new { taskArns = arns[..100], nextToken = "p2" })),
            "ListTasks" => StubReply.Json(JsonSerializer.Serialize(new { taskArns = arns[100..] })),
            "DescribeTasks" => StubReply.Json($$"""{"tasks":[{{string.Join(",", Body(r).GetProperty("tasks").EnumerateArray().Select(t => Stopped(t.GetString()!)))}}],"failures":[]}"""),
            _ => StubReply.Error("UnknownOperationException", r.Operation),
        });
        await using var _ = stub;
        using var __ = clients;

        var seen = await observer.ListStoppedTasksAsync(Cluster, 10, default);

        Assert.Equal((150, 4, false, (string?)null), (seen.Tasks.Count, seen.Calls, seen.Truncated, seen.Unavailable));
        var lists = stub.For("ListTasks");
        Assert.Equal($$"""{"cluster":"{{Cluster}}","maxResults":100,"desiredStatus":"STOPPED"}""", lists[0].Body);
        Assert.Equal("p2", Body(lists[1]).GetProperty("nextToken").GetString());
        var t = seen.Tasks[0];
        Assert.Equal((arns[0], "STOPPED", "EssentialContainerExited", 3L), (t.TaskArn, t.LastStatus, t.StopCode, t.Version!.Value));
        Assert.Equal((137, "OutOfMemoryError"), (t.Containers[0].ExitCode, t.Containers[0].Reason));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1733911260250), t.StoppedAt);
        Assert.Contains("--shard", t.Overrides!.Value.GetRawText());
    }

    [Fact]
    public async Task ListStoppedTasks_StopsAtTheCallBudget_AndSaysAFailedCall()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation switch
        {
            "ListTasks" => StubReply.Json("""{"taskArns":["arn:aws:ecs:us-east-1:123456789012:task/prod/a"],"nextToken":"more"}"""),
            _ => StubReply.Json($$"""{"tasks":[{{Stopped("arn:aws:ecs:us-east-1:123456789012:task/prod/a")}}]}"""),
        });
        await using var _ = stub;
        using var __ = clients;

        var budget = await observer.ListStoppedTasksAsync(Cluster, 3, default);
        Assert.Equal((1, 2, true), (budget.Tasks.Count, budget.Calls, budget.Truncated));

        var (stub2, clients2, observer2) = await StartAsync(r => r.Operation == "ListTasks"
            ? StubReply.Json("""{"taskArns":["arn:aws:ecs:us-east-1:123456789012:task/prod/a"]}""")
            : StubReply.Error("AccessDeniedException", "not authorized to perform ecs:DescribeTasks", 400));
        await using var ___ = stub2;
        using var ____ = clients2;
        var failed = await observer2.ListStoppedTasksAsync(Cluster, 10, default);
        Assert.Empty(failed.Tasks);
        Assert.StartsWith("DescribeTasks failed at call 2 (0 stopped tasks read before it): ", failed.Unavailable, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListContainerInstances_ListsPagesAndDescribesEach_AsTheirStateChangeEventsWouldCarryThem_WithinTheBudget()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation switch
        {
            "ListContainerInstances" when r.Index == 0 => StubReply.Json($$"""{"containerInstanceArns":["{{Instance}}"],"nextToken":"p2"}"""),
            "ListContainerInstances" => StubReply.Json($$"""{"containerInstanceArns":["{{Instance}}"]}"""),
            _ => StubReply.Json(Fixture("ecs-describe-container-instances.json")),
        });
        await using var _ = stub;
        using var __ = clients;

        var seen = await observer.ListContainerInstancesAsync(Cluster, 10, default);

        Assert.Equal((2, 4, false, (string?)null), (seen.Instances.Count, seen.Calls, seen.Truncated, seen.Unavailable));
        Assert.Equal($$"""{"cluster":"{{Cluster}}","maxResults":100}""", stub.For("ListContainerInstances")[0].Body);
        Assert.Equal("p2", Body(stub.For("ListContainerInstances")[1]).GetProperty("nextToken").GetString());
        Assert.Equal($$"""{"cluster":"{{Cluster}}","containerInstances":["{{Instance}}"]}""", stub.For("DescribeContainerInstances")[0].Body);
        var i = seen.Instances[0];
        Assert.Equal((Instance, "DRAINING", true, 42L, "i-0abc1234def567890"), (i.ContainerInstanceArn, i.Status, i.AgentConnected!.Value, i.Version!.Value, i.Ec2InstanceId));
        Assert.Equal(Cluster, i.ClusterArn);

    }

    [Fact]
    public async Task ListContainerInstances_StopsAtTheCallBudget_AndSaysSo()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "ListContainerInstances"
            ? StubReply.Json($$"""{"containerInstanceArns":["{{Instance}}"],"nextToken":"more"}""")
            : StubReply.Json(Fixture("ecs-describe-container-instances.json")));
        await using var _ = stub;
        using var __ = clients;

        var budget = await observer.ListContainerInstancesAsync(Cluster, 3, default);

        Assert.Equal((1, 2, true), (budget.Instances.Count, budget.Calls, budget.Truncated));
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task ListContainerInstances_WhenACallFails_SaysWhichAndKeepsWhatWasRead()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "ListContainerInstances"
            ? StubReply.Json($$"""{"containerInstanceArns":["{{Instance}}"]}""")
            : StubReply.Error("AccessDeniedException", "not authorized to perform ecs:DescribeContainerInstances", 400));
        await using var _ = stub;
        using var __ = clients;

        var failed = await observer.ListContainerInstancesAsync(Cluster, 10, default);

        Assert.Empty(failed.Instances);
        Assert.StartsWith("DescribeContainerInstances failed at call 2 (0 container instances read before it): ", failed.Unavailable, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListTasksOnInstance_MapsWhatAReplacementNeeds()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "ListTasks"
            ? StubReply.Json("""{"taskArns":["arn:aws:ecs:us-east-1:123456789012:task/prod/abc"]}""")
            : StubReply.Json($$"""{"tasks":[{{Task("arn:aws:ecs:us-east-1:123456789012:task/prod/abc")}}]}"""));
        await using var _ = stub;
        using var __ = clients;

        var t = Assert.Single(await observer.ListTasksOnInstanceAsync(Cluster, Instance, default));

        Assert.Equal((Instance, "family:worker", "reflex/abc/2", "EC2", "256", "512", 3L, true),
            (t.ContainerInstanceArn, t.Group, t.StartedBy, t.LaunchType, t.Cpu, t.Memory, t.Version!.Value, t.EnableExecuteCommand!.Value));
        Assert.Equal("""{"containerOverrides":[{"name":"worker","command":["run","--shard","3"]}],"inferenceAcceleratorOverrides":[]}""", t.Overrides!.Value.GetRawText());
        var attachment = Assert.Single(t.Attachments);
        Assert.Equal(("ElasticNetworkInterface", "subnetId", "subnet-1"), (attachment.Type, attachment.Details[0].Name, attachment.Details[0].Value));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1733911201004), t.StartedAt);
    }

    [Fact]
    public async Task ListTasksOnInstance_WhenTheInstanceRunsNothing_DoesNotDescribe()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json("""{"taskArns":[]}"""));
        await using var _ = stub;
        using var __ = clients;

        Assert.Empty(await observer.ListTasksOnInstanceAsync(Cluster, Instance, default));
        Assert.Equal(["ListTasks"], stub.Requests.Select(r => r.Operation));
    }

    // ---------------- DescribeTaskTags (issue 16: a relaunch carries the task's tags) ----------------

    private const string StoppedTask = "arn:aws:ecs:us-east-1:123456789012:task/prod/7f1fbd3629434cc4b82d72d2f09b67c9";

    [Fact]
    public async Task DescribeTaskTags_AsksDescribeTasksWithIncludeTags_AndReadsTheTags()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json($$"""
            {"tasks":[{"taskArn":"{{StoppedTask}}","lastStatus":"STOPPED","tags":[{"key":"team","value":"data"},{"key":"aws:ecs:clusterName","value":"prod"}]}],"failures":[]}
            """));
        await using var _ = stub;
        using var __ = clients;

        var tags = await observer.DescribeTaskTagsAsync(Cluster, StoppedTask, default);

        Assert.Null(tags.Unavailable);
        Assert.Equal([("team", "data"), ("aws:ecs:clusterName", "prod")], tags.Tags.Select(t => (t.Key, t.Value)));
        Assert.Equal($$"""{"cluster":"{{Cluster}}","tasks":["{{StoppedTask}}"],"include":["TAGS"]}""", Assert.Single(stub.For("DescribeTasks")).Body);
    }

    [Fact]
    public async Task DescribeTaskTags_WhenEcsAnswersMissing_SaysSoWithoutThrowing()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json($$"""{"tasks":[],"failures":[{"arn":"{{StoppedTask}}","reason":"MISSING"}]}"""));
        await using var _ = stub;
        using var __ = clients;

        var tags = await observer.DescribeTaskTagsAsync(Cluster, StoppedTask, default);

        Assert.Empty(tags.Tags);
        Assert.Equal("DescribeTasks answered MISSING for task 7f1fbd3629434cc4b82d72d2f09b67c9: ECS describes a stopped task for about an hour", tags.Unavailable);
    }

    [Fact]
    public async Task DescribeTaskTags_WhenTheCallIsRefused_SaysSoWithTheErrorCodeWithoutThrowing()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Error("AccessDeniedException", "not authorized to perform: ecs:DescribeTasks"));
        await using var _ = stub;
        using var __ = clients;

        var tags = await observer.DescribeTaskTagsAsync(Cluster, StoppedTask, default);

        Assert.Empty(tags.Tags);
        Assert.StartsWith("DescribeTasks failed: ", tags.Unavailable, StringComparison.Ordinal);
        Assert.Contains("AccessDeniedException", tags.Unavailable);
    }

    [Fact]
    public async Task ListTasksOnInstance_DescribesWithTags_SoAMovedTaskKeepsThem()
    {
        var (stub, clients, observer) = await StartAsync(r => r.Operation == "ListTasks"
            ? StubReply.Json("""{"taskArns":["arn:aws:ecs:us-east-1:123456789012:task/prod/abc"]}""")
            : StubReply.Json("""{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/abc","lastStatus":"RUNNING","tags":[{"key":"team","value":"data"}]}]}"""));
        await using var _ = stub;
        using var __ = clients;

        var t = Assert.Single(await observer.ListTasksOnInstanceAsync(Cluster, Instance, default));

        Assert.Equal("team", Assert.Single(t.Tags).Key);
        Assert.Equal(["TAGS"], Body(Assert.Single(stub.For("DescribeTasks"))).GetProperty("include").EnumerateArray().Select(e => e.GetString()));
    }

    // ---------------- GetService, GetContainerInstance ----------------

    [Fact]
    public async Task GetService_MapsItsCountsAndPlacement()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json($$"""{"services":[{{Service()}}],"failures":[]}"""));
        await using var _ = stub;
        using var __ = clients;

        var s = await observer.GetServiceAsync(Cluster, WebArn, default);

        Assert.NotNull(s);
        Assert.Equal((WebArn, "web", 4, 3, 1, "EC2"), (s.ServiceArn, s.ServiceName, s.DesiredCount, s.RunningCount, s.PendingCount, s.LaunchType));
        Assert.Equal([("memberOf", "attribute:ecs.instance-type =~ t3.*")], s.PlacementConstraints.Select(c => (c.Type, c.Expression)));
        Assert.Equal([("spread", "attribute:ecs.availability-zone"), ("binpack", "memory")], s.PlacementStrategy.Select(p => (p.Type, p.Field)));
        Assert.Equal($$"""{"cluster":"{{Cluster}}","services":["{{WebArn}}"]}""", Assert.Single(stub.Requests).Body);
    }

    [Fact]
    public async Task GetService_WhenEcsReportsItMissing_IsNull()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json("""{"services":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service/prod/gone","reason":"MISSING"}]}"""));
        await using var _ = stub;
        using var __ = clients;

        Assert.Null(await observer.GetServiceAsync(Cluster, "gone", default));
    }

    [Fact]
    public async Task GetContainerInstance_MapsItsStateResourcesAndAgent()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json(Fixture("ecs-describe-container-instances.json")));
        await using var _ = stub;
        using var __ = clients;

        var c = await observer.GetContainerInstanceAsync(Cluster, Instance, default);

        Assert.NotNull(c);
        Assert.Equal(("i-0abc1234def567890", "DRAINING", true, 42L, "asg-prod", "1.87.0", 3),
            (c.Ec2InstanceId, c.Status, c.AgentConnected!.Value, c.Version!.Value, c.CapacityProviderName, c.AgentVersion, c.RunningTasksCount));
        Assert.Equal("t3.large", c.Attribute("ecs.instance-type"));
        Assert.Equal([("CPU", 1536), ("MEMORY", 6144), ("PORTS", 0)], c.RemainingResources.Select(r => (r.Name, r.IntegerValue ?? -1)));
        Assert.Equal(["22", "2375", "2376", "51678", "51679"], c.RemainingResources[2].StringSetValue!);
        Assert.Equal($$"""{"cluster":"{{Cluster}}","containerInstances":["{{Instance}}"]}""", Assert.Single(stub.Requests).Body);
    }

    [Fact]
    public async Task GetContainerInstance_WhenEcsReportsItMissing_IsNull()
    {
        var (stub, clients, observer) = await StartAsync(_ => StubReply.Json("""{"containerInstances":[],"failures":[{"arn":"x","reason":"MISSING"}]}"""));
        await using var _ = stub;
        using var __ = clients;

        Assert.Null(await observer.GetContainerInstanceAsync(Cluster, Instance, default));
    }

    [Fact]
    public async Task Observer_BuiltFromTheEcsClientAlone_ReachesTheOtherServicesThroughTheSameTransport()
    {
        var (stub, clients, _) = await StartAsync(r => r.Operation switch
        {
            "DescribeAlarms" => StubReply.Xml(Alarms([("a", "OK")])),
            "DescribeServices" => StubReply.Json($$"""{"services":[{{Service()}}]}"""),
            _ => StubReply.Json("""{"ScalableTargets":[]}"""),
        });
        await using var __ = stub;
        using var ___ = clients;
        var observer = new AwsClusterObserver(clients.Ecs);

        await observer.DescribeAlarmStatesAsync(["a"], default);
        await observer.DescribeServiceScalingAsync("prod", "web", default);

        Assert.Equal(["DescribeAlarms", "DescribeScalableTargets", "DescribeServices"], stub.Requests.Select(r => r.Operation).Order(StringComparer.Ordinal));
        Assert.All(stub.Requests, r => Assert.Matches("Credential=AKIDEXAMPLE/\\d{8}/eu-west-3/", r.Headers["Authorization"]));
    }
}
