using EcsReflex.Aws.AutoScaling;
using EcsReflex.Aws.CloudWatch;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Ports;
using EcsReflex.Aws.Tests.Support;

namespace EcsReflex.Aws.Tests;

public sealed class ClientTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

    [Fact]
    public async Task ListAllTaskArns_FollowsNextTokenToTheLastPage()
    {
        await using var stub = await AwsStub.StartAsync(r => r.Index switch
        {
            0 => StubReply.Json("""{"taskArns":["t1","t2"],"nextToken":"p2"}"""),
            1 => StubReply.Json("""{"taskArns":["t3"],"nextToken":"p3"}"""),
            _ => StubReply.Json("""{"taskArns":["t4"]}"""),
        });
        using var clients = StubClients.Create(stub);

        var arns = await clients.Ecs.ListAllTaskArnsAsync(new ListTasksRequest { Cluster = Cluster, DesiredStatus = "RUNNING" }, default);

        Assert.Equal(["t1", "t2", "t3", "t4"], arns);
        Assert.Equal(["""{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","desiredStatus":"RUNNING"}""",
                      """{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","nextToken":"p2","desiredStatus":"RUNNING"}""",
                      """{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","nextToken":"p3","desiredStatus":"RUNNING"}"""],
            stub.Requests.Select(r => r.Body));
    }

    [Fact]
    public async Task ListAllContainerInstanceArns_WhenTheServiceRepeatsAToken_StopsWithAMalformedResponse()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json("""{"containerInstanceArns":["c"],"nextToken":"same"}"""));
        using var clients = StubClients.Create(stub);

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListAllContainerInstanceArnsAsync(new ListContainerInstancesRequest { Cluster = Cluster }, default));

        Assert.Equal(AwsErrorKind.MalformedResponse, ex.Kind);
        Assert.Contains("nextToken same came twice", ex.Message);
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task DescribeAllTasks_SplitsIntoBatchesOfAHundred()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json("""{"tasks":[{"taskArn":"x"}],"failures":[{"arn":"y","reason":"MISSING"}]}"""));
        using var clients = StubClients.Create(stub);
        var arns = Enumerable.Range(0, 250).Select(i => $"t{i}").ToList();

        var r = await clients.Ecs.DescribeAllTasksAsync(Cluster, arns, default);

        Assert.Equal(3, stub.Requests.Count);
        Assert.Equal(3, r.Tasks.Count);
        Assert.Equal(3, r.Failures.Count);
    }

    [Fact]
    public async Task DescribeAllScalableTargets_FollowsNextTokenAndMapsToTheObservedModel()
    {
        await using var stub = await AwsStub.StartAsync(r => r.Index == 0
            ? StubReply.Json("""{"ScalableTargets":[{"ServiceNamespace":"ecs","ResourceId":"service/prod/web","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":2,"MaxCapacity":40,"CreationTime":1733800000.5}],"NextToken":"n"}""")
            : StubReply.Json("""{"ScalableTargets":[]}"""));
        using var clients = StubClients.Create(stub);

        var targets = await clients.AutoScaling.DescribeAllScalableTargetsAsync(new DescribeScalableTargetsRequest { ServiceNamespace = "ecs" }, default);

        var t = AutoScalingClient.ToObserved(Assert.Single(targets));
        Assert.Equal(("service/prod/web", 2, 40), (t.ResourceId, t.MinCapacity, t.MaxCapacity));
        Assert.Equal("AnyScaleFrontendService.DescribeScalableTargets", stub.Requests[0].Target);
        Assert.Contains(""""NextToken":"n"""", stub.Requests[1].Body);
    }

    [Fact]
    public async Task DescribeAlarms_SendsQueryParametersAndFollowsNextToken()
    {
        await using var stub = await AwsStub.StartAsync(r => StubReply.Xml(r.Index == 0
            ? """<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>a</AlarmName></member></MetricAlarms><NextToken>t2</NextToken></DescribeAlarmsResult></DescribeAlarmsResponse>"""
            : """<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>b</AlarmName></member></MetricAlarms><CompositeAlarms><member><AlarmName>c</AlarmName></member></CompositeAlarms></DescribeAlarmsResult></DescribeAlarmsResponse>"""));
        using var clients = StubClients.Create(stub);

        var r = await clients.CloudWatch.DescribeAllAlarmsAsync(new DescribeAlarmsRequest { AlarmNamePrefix = "web-", AlarmTypes = ["MetricAlarm", "CompositeAlarm"] }, default);

        Assert.Equal(["a", "b"], r.MetricAlarms.Select(a => a.AlarmName));
        Assert.Equal(["c"], r.CompositeAlarms.Select(a => a.AlarmName));
        var first = stub.Requests[0];
        Assert.Null(first.Target);
        Assert.StartsWith("application/x-www-form-urlencoded", first.ContentType);
        Assert.Equal("Action=DescribeAlarms&Version=2010-08-01&AlarmNamePrefix=web-&AlarmTypes.member.1=MetricAlarm&AlarmTypes.member.2=CompositeAlarm", first.Body);
        Assert.Equal("t2", stub.Requests[1].Form["NextToken"]);
        Assert.Matches("Credential=AKIDEXAMPLE/\\d{8}/eu-west-3/monitoring/aws4_request", first.Headers["Authorization"]);
    }

    [Fact]
    public async Task DescribeAlarms_WhenThrottled_ReadsTheQueryErrorAndRetries()
    {
        await using var stub = await AwsStub.StartAsync(r => r.Index == 0
            ? StubReply.Raw(400, """<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>q-1</RequestId></ErrorResponse>""", "text/xml")
            : StubReply.Xml("""<DescribeAlarmsResponse><DescribeAlarmsResult><MetricAlarms/></DescribeAlarmsResult></DescribeAlarmsResponse>"""));
        using var clients = StubClients.Create(stub);

        var r = await clients.CloudWatch.DescribeAlarmsAsync(new DescribeAlarmsRequest(), default);

        Assert.Empty(r.MetricAlarms);
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task DescribeAlarms_WhenAccessIsDenied_ThrowsTheQueryErrorCodeAndRequestId()
    {
        await using var stub = await AwsStub.StartAsync(_ =>
            StubReply.Raw(403, """<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: cloudwatch:DescribeAlarms</Message></Error><RequestId>q-2</RequestId></ErrorResponse>""", "text/xml"));
        using var clients = StubClients.Create(stub);

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.CloudWatch.DescribeAlarmsAsync(new DescribeAlarmsRequest(), default));

        Assert.Equal(("AccessDenied", "q-2", AwsErrorKind.Client, "cloudwatch"), (ex.ErrorCode, ex.RequestId, ex.Kind, ex.Service));
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task ClusterObserver_AsksOncePerContainerInstanceAndInvocation()
    {
        const string ci = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/8b2c";
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json($$"""{"containerInstances":[{"containerInstanceArn":"{{ci}}","ec2InstanceId":"i-0abc"}],"failures":[]}"""));
        using var clients = StubClients.Create(stub);
        var observer = new AwsClusterObserver(clients.Ecs);

        var first = await observer.GetEc2InstanceIdAsync(Cluster, ci, default);
        var second = await observer.GetEc2InstanceIdAsync(Cluster, ci, default);
        var fresh = await new AwsClusterObserver(clients.Ecs).GetEc2InstanceIdAsync(Cluster, ci, default);

        Assert.Equal(("i-0abc", "i-0abc", "i-0abc"), (first, second, fresh));
        Assert.Equal(2, stub.For("DescribeContainerInstances").Count);
    }

    [Fact]
    public async Task ClusterObserver_WhenTheInstanceIsMissing_ReturnsNull()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json("""{"containerInstances":[],"failures":[{"arn":"x","reason":"MISSING"}]}"""));
        using var clients = StubClients.Create(stub);

        Assert.Null(await new AwsClusterObserver(clients.Ecs).GetEc2InstanceIdAsync(Cluster, "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/gone", default));
    }

    [Fact]
    public async Task ClusterObserver_DoesNotRememberAFailure()
    {
        await using var stub = await AwsStub.StartAsync(r => r.Index == 0
            ? StubReply.Error("AccessDeniedException", "no")
            : StubReply.Json("""{"containerInstances":[{"containerInstanceArn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1","ec2InstanceId":"i-1"}]}"""));
        using var clients = StubClients.Create(stub);
        var observer = new AwsClusterObserver(clients.Ecs);
        const string ci = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1";

        await Assert.ThrowsAsync<AwsServiceException>(() => observer.GetEc2InstanceIdAsync(Cluster, ci, default).AsTask());
        Assert.Equal("i-1", await observer.GetEc2InstanceIdAsync(Cluster, ci, default));
    }
}
