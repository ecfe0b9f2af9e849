using EcsReflex.Core.Hosting;
using EcsReflex.Core.Policy;

namespace EcsReflex.Infra.Tests;

public class PolicyScopeTests
{
    private static PolicyScope Scope(string json) => PolicyScope.From(PolicyLoader.Load(json));

    private static string OneCluster(string cluster, string match) =>
        $$"""{ "clusters": [ { "cluster": "{{cluster}}", "reschedule": [ { "name": "r", "match": {{match}} } ] } ] }""";

    [Fact]
    public void From_WhenClusterIsAnArn_UsesItAndPlacesItsResourcesInItsRegionAndAccount()
    {
        var c = Scope(OneCluster(Stacks.ProdArn, """{ "taskDefinitionFamily": "report" }""")).Clusters.Single();

        Assert.Equal(Stacks.ProdArn, c.Arn);
        Assert.Equal(Stacks.ProdArn, c.EventMatcher);
        Assert.Equal(Stacks.ProdPrefix + "task/prod/*", c.TasksArn);
        Assert.Equal(Stacks.ProdPrefix + "container-instance/prod/*", c.ContainerInstancesArn);
        Assert.Equal([Stacks.ProdPrefix + "task-definition/report:*"], c.TaskDefinitionArns);
        Assert.False(PolicyScope.IsTemplate(c.Arn));
    }

    [Fact]
    public void From_TheRulesEbsVolumeRoles_AreTheClustersVolumeRoles_AndThePassRoleToEcsIsOnThemOnly()
    {
        const string infra = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";
        var policy = $$$"""
            { "clusters": [ { "cluster": "{{{Stacks.ProdArn}}}", "reschedule": [
              { "name": "a", "match": { "taskDefinitionFamily": "a" }, "volumeConfigurations": [ { "name": "d", "managedEBSVolume": { "roleArn": "{{{infra}}}", "sizeInGiB": 10 } } ] },
              { "name": "b", "match": { "taskDefinitionFamily": "b" }, "volumeConfigurations": [ { "name": "d", "managedEBSVolume": { "roleArn": "{{{infra}}}", "snapshotId": "snap-1" } } ] },
              { "name": "c", "match": { "taskDefinitionFamily": "c" } } ] } ] }
            """;
        var scope = Scope(policy);

        Assert.Equal([infra], scope.Clusters.Single().VolumeRoles);
        Assert.Empty(Scope(OneCluster("batch", """{ "taskDefinitionFamily": "etl" }""")).Clusters.Single().VolumeRoles);
        var pass = EcsPermissions.For(HandlerNames.TaskRescheduler, scope, []).Statements
            .Select(s => System.Text.Json.JsonSerializer.Serialize(s.ToStatementJson()))
            .Where(j => j.Contains("iam:PassRole", StringComparison.Ordinal)).ToList();
        var only = Assert.Single(pass);
        Assert.Contains("\"PassVolumeRoles\"", only);
        Assert.Contains("ecs.amazonaws.com", only);
        Assert.Contains(infra, only);
    }

    [Fact]
    public void From_WhenClusterIsAName_PlacesItInTheStacksAccountAndMatchesEventsBySuffix()
    {
        var c = Scope(OneCluster("batch", """{ "taskDefinitionFamily": "etl" }""")).Clusters.Single();

        Assert.Equal(Stacks.StackPrefix + "cluster/batch", c.Arn);
        Assert.True(PolicyScope.IsTemplate(c.Arn));
        Assert.Equal(Stacks.StackPrefix + "task/batch/*", c.TasksArn);
        Assert.Equal([Stacks.StackPrefix + "task-definition/etl:*"], c.TaskDefinitionArns);
        var matcher = Assert.IsType<Dictionary<string, object>>(c.EventMatcher);
        Assert.Equal(":cluster/batch", Assert.Single(matcher, kv => kv.Key == "suffix").Value);
    }

    public static TheoryData<string, string, string?> FamilyCases => new()
    {
        { "taskDefinitionFamily names the family", """{ "taskDefinitionFamily": "report" }""", "report" },
        { "family wins over the other conditions", """{ "taskDefinitionFamily": "report", "group": "family:other", "startedByPrefix": "x" }""", "report" },
        { "a family: group names the family", """{ "group": "family:worker" }""", "worker" },
        { "a family: group with a startedBy prefix", """{ "group": "family:worker", "startedByPrefix": "cron" }""", "worker" },
        { "a custom group allows any family", """{ "group": "nightly" }""", null },
        { "a startedBy prefix alone allows any family", """{ "startedByPrefix": "airflow/" }""", null },
    };

    [Theory]
    [MemberData(nameof(FamilyCases))]
    public void TaskDefinitions_ForEachKindOfMatch_AllowTheFamilyItImplies(string because, string match, string? family)
    {
        var c = Scope(OneCluster(Stacks.ProdArn, match)).Clusters.Single();

        if (family is null)
        {
            Assert.True(c.TaskDefinitions.AnyFamily, because);
            Assert.Equal(["r"], c.TaskDefinitions.RulesWithoutFamily);
            Assert.Equal([Stacks.ProdPrefix + "task-definition/*"], c.TaskDefinitionArns);
        }
        else
        {
            Assert.False(c.TaskDefinitions.AnyFamily, because);
            Assert.Equal([Stacks.ProdPrefix + $"task-definition/{family}:*"], c.TaskDefinitionArns);
        }
    }

    [Fact]
    public void TaskDefinitions_WhenRulesShareAFamily_ListItOnce()
    {
        var scope = Scope($$"""
            { "clusters": [ { "cluster": "prod", "reschedule": [
                { "name": "a", "match": { "taskDefinitionFamily": "worker" } },
                { "name": "b", "match": { "group": "family:worker", "startedByPrefix": "x" } },
                { "name": "c", "match": { "taskDefinitionFamily": "report" } } ] } ] }
            """);

        Assert.Equal(["worker", "report"], scope.Clusters.Single().TaskDefinitions.Families);
    }

    [Fact]
    public void RescheduleClusters_LeaveOutClustersWithoutRules()
    {
        var scope = Scope(Stacks.TestPolicy);

        Assert.Equal(["prod", "batch", "idle"], scope.Clusters.Select(c => c.Name));
        Assert.Equal(["prod", "batch"], scope.RescheduleClusters.Select(c => c.Name));
        Assert.Equal(["clusters[1].reschedule: rule \"airflow\""], scope.RulesWithoutFamily);
    }

    [Fact]
    public void ServiceScopes_WhenPolicyNamesServicesWithoutScalingOrPlacement_GiveTheScalerAndGuardNothing()
    {
        var scope = Scope("""{ "clusters": [ { "cluster": "prod", "services": [ { "service": "web" } ] } ] }""");

        var web = scope.Clusters.Single().Services.Single();
        Assert.Equal(Stacks.StackPrefix + "service/prod/web", web.Arn);
        Assert.Empty(scope.ScalingServices);
        Assert.Empty(scope.PlacementServices);
        Assert.Empty(scope.AlarmNames);
        Assert.Empty(scope.DrainClusters);
    }

    [Fact]
    public void ServiceScopes_ForServicesWithScalingOrPlacementAndClustersWithDrain_AreCounted()
    {
        // The loader does not accept these sections yet (their issues fill them in); the records exist.
        var policy = new ReflexPolicy
        {
            Clusters =
            [
                new ClusterPolicy
                {
                    Cluster = Stacks.ProdArn, Reschedule = [], Limits = new(), Drain = new DrainPolicy(),
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
                    Cluster = "batch", Reschedule = [], Limits = new(),
                    Services = [new ServicePolicy { Service = "arn:aws:ecs:us-east-1:111122223333:service/batch/queue", Placement = new ServicePlacementPolicy() }],
                },
            ],
        };

        var scope = PolicyScope.From(policy);

        Assert.Equal([Stacks.ProdPrefix + "service/prod/web"], scope.ScalingServices.Select(s => s.Arn));
        Assert.Equal([Stacks.ProdPrefix + "service/prod/api", "arn:aws:ecs:us-east-1:111122223333:service/batch/queue"],
            scope.PlacementServices.Select(s => s.Arn));
        Assert.Equal([Stacks.ProdPrefix + "service/prod/api", "arn:aws:ecs:us-east-1:111122223333:service/batch/queue"],
            scope.PlacementServices.Select(s => s.EventMatcher));
        Assert.Equal(["prod"], scope.DrainClusters.Select(c => c.Name));
        Assert.Equal(["web-cpu-high", "web-cpu-low"], scope.AlarmNames);
    }

    [Fact]
    public void ServiceOfANameOnlyCluster_IsMatchedInEventsBySuffix()
    {
        var policy = new ReflexPolicy
        {
            Clusters = [new ClusterPolicy { Cluster = "batch", Reschedule = [], Limits = new(), Services = [new ServicePolicy { Service = "queue", Placement = new ServicePlacementPolicy() }] }],
        };

        var service = PolicyScope.From(policy).PlacementServices.Single();

        var matcher = Assert.IsType<Dictionary<string, object>>(service.EventMatcher);
        Assert.Equal(":service/batch/queue", matcher["suffix"]);
        Assert.Equal(Stacks.StackPrefix + "service/batch/queue", service.Arn);
    }
}
