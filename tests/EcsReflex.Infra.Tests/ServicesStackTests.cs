using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using EcsReflex.Core.Policy;
using static EcsReflex.Infra.Tests.Stacks;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// A stack whose policy gives the placement guard and the service scaler work: drain on one cluster, services
/// with placement and with scaling. The loader does not read those sections yet, so the policy is built from
/// the records their issues fill in.
/// </summary>
public sealed class ServicesPolicyStack : IDisposable
{
    private readonly TempDir dir = new();
    public Template Template { get; }
    public JsonNode Json { get; }

    public ServicesPolicyStack()
    {
        var policy = new ReflexPolicy
        {
            Clusters =
            [
                new ClusterPolicy
                {
                    Cluster = ProdArn, Limits = new(), Drain = new DrainPolicy(),
                    Reschedule = [new RescheduleRule { Name = "workers", Match = new TaskMatch { Group = "family:worker" } }],
                    Services =
                    [
                        new ServicePolicy { Service = "web", Scaling = new ScalingPolicy { MinCount = 1, MaxCount = 10, Alarms =
                            [
                                new ScalingAlarm { AlarmName = "web-cpu-high", AdjustmentType = AdjustmentType.ChangeInCapacity, Direction = ScalingDirection.Out, Steps = [new ScalingStep(0, null, 1)] },
                                new ScalingAlarm { AlarmName = "web-cpu-low", AdjustmentType = AdjustmentType.ChangeInCapacity, Direction = ScalingDirection.In, Steps = [new ScalingStep(null, 0, -1)] },
                            ], } },
                        new ServicePolicy { Service = "api", Placement = new ServicePlacementPolicy() },
                    ],
                },
                new ClusterPolicy
                {
                    Cluster = "batch", Limits = new(), Reschedule = [],
                    Services = [new ServicePolicy { Service = "queue", Placement = new ServicePlacementPolicy() }],
                },
                // Drain without reschedule rules: the guard may stop and list here, but names no task definition to run.
                new ClusterPolicy { Cluster = "edge", Limits = new(), Reschedule = [], Drain = new DrainPolicy() },
            ],
        };
        Template = Template.FromStack(Build(dir, policy));
        Json = Stacks.Json(Template);
    }

    public void Dispose() => dir.Dispose();
}

public class ServicesStackTests(ServicesPolicyStack fixture) : IClassFixture<ServicesPolicyStack>
{
    private readonly Template template = fixture.Template;
    private readonly JsonNode json = fixture.Json;

    private static object Pattern(string detailType, object detail, object[]? resources = null)
    {
        var p = Obj(("source", new[] { "aws.ecs" }), ("detail-type", new[] { detailType }), ("detail", detail));
        if (resources is not null) p["resources"] = resources;
        return Match.ObjectLike(Obj(("EventPattern", Match.ObjectEquals(p))));
    }

    private static readonly object[] PlacementServices = [ProdPrefix + "service/prod/api", Obj(("suffix", ":service/batch/queue"))];

    [Fact]
    public void PlacementGuard_Rules_MatchContainerInstancesOfDrainClustersAndEventsOfPlacementServicesExactly()
    {
        template.ResourceCountIs("AWS::Events::Rule", 7); // rescheduler, four for the placement guard, scaler, the reconciler's schedule
        template.HasResourceProperties("AWS::Events::Rule", Pattern("ECS Task State Change",
            Obj(("clusterArn", new object[] { ProdArn, Obj(("suffix", ":cluster/edge")) }), ("lastStatus", new[] { "RUNNING" }),
                ("startedBy", new object[] { Obj(("prefix", "reflex/")) }))));
        template.HasResourceProperties("AWS::Events::Rule", Pattern("ECS Container Instance State Change",
            Obj(("clusterArn", new object[] { ProdArn, Obj(("suffix", ":cluster/edge")) }))));
        template.HasResourceProperties("AWS::Events::Rule", Pattern("ECS Service Action",
            Obj(("eventName", new[] { "SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_STEADY_STATE" })), PlacementServices));
        template.HasResourceProperties("AWS::Events::Rule", Pattern("ECS Deployment State Change",
            Obj(("eventName", new[] { "SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED" })), PlacementServices));
    }

    [Fact]
    public void ServiceScaler_Rule_MatchesOnlyTheAlarmsThePolicyMaps()
    {
        var p = Obj(("source", new[] { "aws.cloudwatch" }), ("detail-type", new[] { "CloudWatch Alarm State Change" }),
            ("detail", Obj(("alarmName", new[] { "web-cpu-high", "web-cpu-low" }))));
        template.HasResourceProperties("AWS::Events::Rule", Match.ObjectLike(Obj(("EventPattern", Match.ObjectEquals(p)))));
        // The reconciler's schedule rule has no pattern.
        var sources = json["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == "AWS::Events::Rule" && r.Value!["Properties"]!["EventPattern"] is not null)
            .Select(r => (string?)r.Value!["Properties"]!["EventPattern"]!["source"]![0]).ToList();
        Assert.Single(sources, s => s == "aws.cloudwatch");
    }

    [Fact]
    public void RelaunchDue_Iam_CanDoTheGuardsAndTheScalersDeferredWork_InTheSameScope()
    {
        // A drain's stop deadline, a disconnect's grace check and a deferred move come due in relaunch-due, not in the guard.
        var guard = StatementsOf(json, HandlerNames.PlacementGuard).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);
        var due = StatementsOf(json, HandlerNames.RelaunchDue).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);
        var scaler = StatementsOf(json, HandlerNames.ServiceScaler).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);
        foreach (var sid in new[] { "StopAndDescribeTasks", "ListTasks", "ListContainerInstances" })
            Assert.Equal(guard[sid].ToJsonString(), due[sid].ToJsonString());
        // A sustained alarm's re-decision comes due there too: the scaler's reads, and the services of either.
        foreach (var sid in new[] { "DescribeAlarms", "ReadAlarmMetrics", "ReadAutoScaling" })
            Assert.Equal(scaler[sid].ToJsonString(), due[sid].ToJsonString());
        var services = AsList(guard["DescribeAndUpdateServices"]["Resource"]).Concat(AsList(scaler["DescribeAndUpdateServices"]["Resource"]))
            .Select(r => r!.ToJsonString()).Distinct().Order().ToList();
        Assert.Equal(services, AsList(due["DescribeAndUpdateServices"]["Resource"]).Select(r => r!.ToJsonString()).Order().ToList());
        Assert.NotEqual(AsList(guard["DescribeAndUpdateServices"]["Resource"]).Count(), services.Count);
        // Nothing beyond what the rescheduler, the guard and the scaler (a sustained alarm's re-decisions) have.
        var theirs = StatementsOf(json, HandlerNames.TaskRescheduler).Concat(guard.Values).Concat(StatementsOf(json, HandlerNames.ServiceScaler))
            .SelectMany(s => AsList(s["Action"]).Select(a => (string)a!)).ToHashSet();
        Assert.All(due.Values.SelectMany(s => AsList(s["Action"]).Select(a => (string)a!)).Where(a => !a.StartsWith("dynamodb:") && !a.StartsWith("sqs:")),
            a => Assert.Contains(a, theirs));
    }

    [Fact]
    public void PlacementGuard_Iam_StopsListsAndRunsOnlyInDrainClustersAndUpdatesOnlyPlacementServices()
    {
        var statements = StatementsOf(json, HandlerNames.PlacementGuard).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);
        var drainClusters = $$$"""{"ArnEquals":{"ecs:cluster":["{{{ProdArn}}}",{"Fn::Sub":"{{{StackPrefix}}}cluster/edge"}]}}""";
        var prodCondition = $$$"""{"ArnEquals":{"ecs:cluster":["{{{ProdArn}}}"]}}""";

        Assert.Equal(["DescribeAndUpdateServices", "DescribeContainerInstances", "ListContainerInstances", "ListTasks", "RunTaskInCluster0", "StopAndDescribeTasks", "TagLaunchedTasks"],
            statements.Keys.Order());
        Assert.Equal(JsonNode.Parse($$$"""["ecs:StopTask","ecs:DescribeTasks"]""")!.ToJsonString(), statements["StopAndDescribeTasks"]["Action"]!.ToJsonString());
        Assert.Equal(JsonNode.Parse($$$"""["{{{ProdPrefix}}}task/prod/*",{"Fn::Sub":"{{{StackPrefix}}}task/edge/*"}]""")!.ToJsonString(),
            statements["StopAndDescribeTasks"]["Resource"]!.ToJsonString());
        Assert.Equal(drainClusters, statements["StopAndDescribeTasks"]["Condition"]!.ToJsonString());
        Assert.Equal("*", (string?)statements["ListTasks"]["Resource"]);
        Assert.Equal(drainClusters, statements["ListTasks"]["Condition"]!.ToJsonString());
        Assert.Equal(JsonNode.Parse($$$"""["{{{ProdArn}}}",{"Fn::Sub":"{{{StackPrefix}}}cluster/edge"}]""")!.ToJsonString(),
            statements["ListContainerInstances"]["Resource"]!.ToJsonString());
        // edge has no reschedule rule, so it names no task definition: RunTask only in prod, on its family.
        Assert.Equal(ProdPrefix + "task-definition/worker:*", (string?)statements["RunTaskInCluster0"]["Resource"]);
        Assert.Equal(prodCondition, statements["RunTaskInCluster0"]["Condition"]!.ToJsonString());
        Assert.Equal(ProdPrefix + "task/prod/*", (string?)statements["TagLaunchedTasks"]["Resource"]);
        Assert.Equal(
            JsonNode.Parse($$$"""[ "{{{ProdPrefix}}}service/prod/api", {"Fn::Sub":"{{{StackPrefix}}}service/batch/queue"} ]""")!.ToJsonString(),
            statements["DescribeAndUpdateServices"]["Resource"]!.ToJsonString());
    }

    [Fact]
    public void ServiceScaler_Iam_UpdatesOnlyScalingServicesAndReadsAutoScalingWithoutChangingIt()
    {
        var statements = StatementsOf(json, HandlerNames.ServiceScaler).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);

        Assert.Equal(["DescribeAlarms", "DescribeAndUpdateServices", "ReadAlarmMetrics", "ReadAutoScaling"], statements.Keys.Order());
        // A sustained alarm's re-decision reads its newest datapoint: GetMetricData, which has no resource-level permission.
        Assert.Equal(("cloudwatch:GetMetricData", "*"), ((string?)statements["ReadAlarmMetrics"]["Action"], (string?)statements["ReadAlarmMetrics"]["Resource"]));
        Assert.Equal("cloudwatch:DescribeAlarms", (string?)statements["DescribeAlarms"]["Action"]);
        Assert.Equal(ProdPrefix + "service/prod/web", (string?)statements["DescribeAndUpdateServices"]["Resource"]);
        Assert.All(statements["ReadAutoScaling"]["Action"]!.AsArray(), a => Assert.StartsWith("application-autoscaling:Describe", (string?)a));
    }

    [Fact]
    public void Iam_NoStatementAllowsAMutatingEcsActionOnEveryResource() => AssertNoMutatingEcsActionOnEveryResource(json);

    [Fact]
    public void NoPassRoles_MeansNoPassRoleStatement()
    {
        Assert.DoesNotContain(Statements(json), s => AsList(s.Statement["Action"]).Any(a => (string?)a == "iam:PassRole"));
    }
}
