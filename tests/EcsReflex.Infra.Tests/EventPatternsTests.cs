using System.Text.Json.Nodes;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra.Tests;

public class EventPatternsTests
{
    private static string Json(RuleSpec rule) => EventPatterns.Json(rule.Pattern);

    private static ClusterScope Cluster(string name, bool byArn = false, bool rules = true, bool drain = false, params ServiceScope[] services) => new()
    {
        Name = name, Path = "clusters[0]", ByArn = byArn,
        Arn = byArn ? $"{Stacks.ProdPrefix}cluster/{name}" : $"{Stacks.StackPrefix}cluster/{name}",
        ResourcePrefix = byArn ? Stacks.ProdPrefix : Stacks.StackPrefix,
        HasRescheduleRules = rules, Drain = drain, Services = services,
        TaskDefinitions = new TaskDefinitionScope { Families = ["worker"], RulesWithoutFamily = [] },
    };

    private static ServiceScope Service(string cluster, string name, object matcher, bool scaling = false, bool placement = false, params string[] alarms) => new()
    {
        Cluster = cluster, Name = name, Arn = $"{Stacks.ProdPrefix}service/{cluster}/{name}", EventMatcher = matcher,
        Scaling = scaling, Placement = placement, AlarmNames = alarms,
    };

    [Fact]
    public void For_TestPolicy_CreatesOnlyTheReschedulerRuleWithTheExactPattern_LeavingOutServiceTasksAndStopCodesThatAreNeverAFailure()
    {
        var rules = EventPatterns.For(PolicyScope.From(PolicyLoader.Load(Stacks.TestPolicy)));

        var rule = Assert.Single(rules);
        Assert.Equal(("TaskStopped", HandlerNames.TaskRescheduler), (rule.Id, rule.Handler));
        Assert.Equal(
            """{"source":["aws.ecs"],"detail-type":["ECS Task State Change"],"detail":{"clusterArn":["arn:aws:ecs:eu-west-1:111122223333:cluster/prod",{"suffix":":cluster/batch"}],"lastStatus":["STOPPED"],""" +
            """ "group":[{"anything-but":{"prefix":"service:"}},{"exists":false}],"startedBy":[{"anything-but":{"prefix":"ecs-svc/"}},{"exists":false}],""".TrimStart() +
            """ "stopCode":["EssentialContainerExited","TaskFailedToStart","SpotInterruption","TerminationNotice",{"exists":false}]}}""".TrimStart(),
            Json(rule));
    }

    [Fact]
    public void For_WhenNoClusterHasRulesDrainServicesOrAlarms_CreatesNoRule()
    {
        var scope = new PolicyScope { Clusters = [Cluster("idle", rules: false)] };

        Assert.Empty(EventPatterns.For(scope));
    }

    [Fact]
    public void For_ClustersWithDrain_GiveThePlacementGuardContainerInstanceChangesAndRunningReplacementsOfThoseClustersOnly()
    {
        var scope = new PolicyScope { Clusters = [Cluster("prod", byArn: true, rules: false, drain: true), Cluster("batch", rules: false, drain: true), Cluster("other", rules: false)] };

        var rules = EventPatterns.For(scope);

        Assert.Equal(["ContainerInstanceChanged", "ReplacementRunning"], rules.Select(r => r.Id));
        Assert.All(rules, r => Assert.Equal(HandlerNames.PlacementGuard, r.Handler));
        Assert.Equal(
            """{"source":["aws.ecs"],"detail-type":["ECS Container Instance State Change"],"detail":{"clusterArn":["arn:aws:ecs:eu-west-1:111122223333:cluster/prod",{"suffix":":cluster/batch"}]}}""",
            Json(rules[0]));
        // Make before break: the guard stops an original when its replacement (startedBy reflex/…) is RUNNING.
        Assert.Equal(
            """{"source":["aws.ecs"],"detail-type":["ECS Task State Change"],"detail":{"clusterArn":["arn:aws:ecs:eu-west-1:111122223333:cluster/prod",{"suffix":":cluster/batch"}],"lastStatus":["RUNNING"],"startedBy":[{"prefix":"reflex/"}]}}""",
            Json(rules[1]));
    }

    [Fact]
    public void For_ServicesWithPlacement_GiveThePlacementGuardTheirServiceActionsAndDeploymentsMatchedInResources()
    {
        var api = Service("prod", "api", $"{Stacks.ProdPrefix}service/prod/api", placement: true);
        var queue = Service("batch", "queue", new Dictionary<string, object> { ["suffix"] = ":service/batch/queue" }, placement: true);
        var web = Service("prod", "web", $"{Stacks.ProdPrefix}service/prod/web", scaling: true);
        var scope = new PolicyScope { Clusters = [Cluster("prod", byArn: true, rules: false, services: [api, web]), Cluster("batch", rules: false, services: [queue])] };

        var rules = EventPatterns.For(scope);

        Assert.Equal(["ServiceAction", "Deployment"], rules.Select(r => r.Id));
        Assert.All(rules, r => Assert.Equal(HandlerNames.PlacementGuard, r.Handler));
        Assert.Equal(
            """{"source":["aws.ecs"],"detail-type":["ECS Service Action"],"resources":["arn:aws:ecs:eu-west-1:111122223333:service/prod/api",{"suffix":":service/batch/queue"}],"detail":{"eventName":["SERVICE_TASK_PLACEMENT_FAILURE","SERVICE_STEADY_STATE"]}}""",
            Json(rules[0]));
        Assert.Equal(
            """{"source":["aws.ecs"],"detail-type":["ECS Deployment State Change"],"resources":["arn:aws:ecs:eu-west-1:111122223333:service/prod/api",{"suffix":":service/batch/queue"}],"detail":{"eventName":["SERVICE_DEPLOYMENT_IN_PROGRESS","SERVICE_DEPLOYMENT_COMPLETED"]}}""",
            Json(rules[1]));
    }

    [Fact]
    public void For_AlarmNamesOfScalingServices_GiveTheScalerTheirStateChangesOnceEach()
    {
        var web = Service("prod", "web", "web-arn", scaling: true, alarms: ["web-cpu-high", "web-cpu-low"]);
        var api = Service("prod", "api", "api-arn", scaling: true, alarms: ["web-cpu-high", "api-latency"]);
        var scope = new PolicyScope { Clusters = [Cluster("prod", byArn: true, rules: false, services: [web, api])] };

        var rule = Assert.Single(EventPatterns.For(scope));

        Assert.Equal(("AlarmStateChanged", HandlerNames.ServiceScaler), (rule.Id, rule.Handler));
        Assert.Equal(
            """{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"alarmName":["web-cpu-high","web-cpu-low","api-latency"]}}""",
            Json(rule));
    }

    [Fact]
    public void For_WhenOnePatternWouldExceedTheQuota_SplitsItIntoRulesThatEachFitAndTogetherCoverEveryCluster()
    {
        var clusters = Enumerable.Range(0, 120).Select(i => Cluster($"cluster-with-a-rather-long-name-{i:000}", byArn: true)).ToList();
        var scope = new PolicyScope { Clusters = clusters };

        var rules = EventPatterns.For(scope);

        Assert.True(rules.Count > 1);
        Assert.Equal(rules.Count, rules.Select(r => r.Id).Distinct().Count());
        Assert.Equal("TaskStopped", rules[0].Id);
        Assert.All(rules, r => Assert.InRange(Json(r).Length, 1, EventPatterns.MaxPatternLength));
        var covered = rules.SelectMany(r => JsonNode.Parse(Json(r))!["detail"]!["clusterArn"]!.AsArray().Select(n => (string)n!)).ToList();
        Assert.Equal(clusters.Select(c => c.Arn), covered);
    }
}
