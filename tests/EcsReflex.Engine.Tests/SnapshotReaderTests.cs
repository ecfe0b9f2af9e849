using System.Text;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Engine.Cluster;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// The snapshot is the AWS CLI's output as printed. The outputs here are written by the tests, in the shapes
/// the CLI prints (<c>describe-scalable-targets</c> in PascalCase, the ECS ones in camelCase).
/// </summary>
public class SnapshotReaderTests
{
    private const string Prod = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

    private static SnapshotLoad Read(string json) => SnapshotReader.Read(Encoding.UTF8.GetBytes(json));

    private static IReadOnlyList<string> Problems(string json) =>
        Assert.Throws<SnapshotInvalidException>(() => Read(json)).Problems;

    private const string ScalableTargetsAsPrinted = """
        {
            "ScalableTargets": [
                {
                    "ServiceNamespace": "ecs",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ResourceId": "service/prod/api",
                    "MinCapacity": 2,
                    "MaxCapacity": 10,
                    "RoleARN": "arn:aws:iam::123456789012:role/aas",
                    "CreationTime": 1462558906.199,
                    "SuspendedState": { "DynamicScalingOutSuspended": false, "ScheduledScalingSuspended": false, "DynamicScalingInSuspended": false },
                    "ScalableTargetARN": "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0ec5"
                }
            ],
            "NextToken": "page-2"
        }
        """;

    private static string Task(string id, string? instance = null, string cluster = Prod) =>
        $$"""{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/{{id}}","clusterArn":"{{cluster}}","lastStatus":"RUNNING"{{(instance is null ? "" : $",\"containerInstanceArn\":\"{instance}\"")}}}""";

    [Fact]
    public void Read_DescribeScalableTargetsAsPrinted_LoadsItsTargets()
    {
        var target = Assert.Single(Read(ScalableTargetsAsPrinted).Snapshot.ScalableTargets);
        Assert.Equal(("ecs", "service/prod/api", "ecs:service:DesiredCount", 2, 10),
            (target.ServiceNamespace, target.ResourceId, target.ScalableDimension, target.MinCapacity, target.MaxCapacity));
    }

    [Fact]
    public void Read_TheEarlierCamelCaseScalableTargets_IsStillRead()
    {
        var load = Read(ScalableTargetsAsPrinted.Replace("\"ScalableTargets\"", "\"scalableTargets\"", StringComparison.Ordinal));
        Assert.Equal("service/prod/api", Assert.Single(load.Snapshot.ScalableTargets).ResourceId);
    }

    [Fact]
    public void Read_FailuresAndNextTokensTheCliPrints_AreAccepted_AndEachFailureIsAWarning()
    {
        var load = Read($$"""{"tasks":[{{Task("a")}}],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:task/prod/b","reason":"MISSING"}],"nextToken":"x"}""");
        Assert.Single(load.Snapshot.Tasks);
        Assert.Equal(["failures[0]: AWS could not describe arn:aws:ecs:us-east-1:123456789012:task/prod/b: MISSING; the snapshot does not have it"], load.Warnings);
    }

    [Fact]
    public void Read_NoFailures_NoWarning()
    {
        var load = Read($$"""{"tasks":[{{Task("a")}}],"failures":[]}""");
        Assert.Empty(load.Warnings);
    }

    [Fact]
    public void Read_AnUnknownTopLevelKey_IsAProblemNamingItAndTheKnownKeys()
    {
        var problems = Problems("""{"scalabletargets":[],"clusters":[]}""");
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("scalabletargets: unknown key: did you mean ScalableTargets?", problems[0], StringComparison.Ordinal);
        Assert.Contains("known keys: services, tasks, containerInstances, ScalableTargets, scalableTargets, failures, nextToken, NextToken, cluster", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("clusters: unknown key:", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AnArrayOfOutputs_ConcatenatesThePagesOfOneCommand()
    {
        var load = Read($$"""[{"tasks":[{{Task("a")}},{{Task("b")}}]}, {"tasks":[{{Task("c")}}],"failures":[]}, {{ScalableTargetsAsPrinted}}]""");
        Assert.Equal(["a", "b", "c"], load.Snapshot.Tasks.Select(t => Core.Arns.LastSegment(t.TaskArn)));
        Assert.Single(load.Snapshot.ScalableTargets);
    }

    [Fact]
    public void Read_AnArray_NamesTheOutputOfEachProblem()
    {
        var problems = Problems("""[{"tasks":[]}, {"Tasks":[]}, 3]""");
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("[1].Tasks: unknown key: did you mean tasks?", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("[2]: expected an AWS CLI output", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ATaskListedTwice_IsAProblemNamingBothPlaces()
    {
        var problems = Problems($$"""[{"tasks":[{{Task("a")}},{{Task("b")}}]}, {"tasks":[{{Task("b")}}]}]""");
        Assert.Equal("[1].tasks[0]: task arn:aws:ecs:us-east-1:123456789012:task/prod/b is listed twice, also at [0].tasks[1]: keep one (two outputs of the same command overlap)",
            Assert.Single(problems));
    }

    [Fact]
    public void Read_DuplicateServicesInstancesAndScalableTargets_AreProblems()
    {
        const string svc = """{"serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/prod/web"}""";
        const string ci = """{"containerInstanceArn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1"}""";
        var problems = Problems($$"""[{"services":[{{svc}},{{svc}}],"containerInstances":[{{ci}},{{ci}}]}, {{ScalableTargetsAsPrinted}}, {{ScalableTargetsAsPrinted}}]""");
        Assert.Equal(3, problems.Count);
        Assert.StartsWith("[0].services[1]: service arn:aws:ecs:us-east-1:123456789012:service/prod/web is listed twice, also at [0].services[0]", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("[0].containerInstances[1]: container instance arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1 is listed twice, also at [0].containerInstances[0]", problems[1], StringComparison.Ordinal);
        Assert.StartsWith("[2].ScalableTargets[0]: scalable target (namespace, dimension, resource) ecs ecs:service:DesiredCount service/prod/api is listed twice, also at [1].ScalableTargets[0]", problems[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AFolder_ReadsEveryJsonFileInNameOrder_AndNamesTheFileOfAProblem()
    {
        var dir = Directory.CreateTempSubdirectory("reflex-snapshot-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "tasks-2.json"), $$"""{"tasks":[{{Task("c")}}]}""");
            File.WriteAllText(Path.Combine(dir, "tasks-1.json"), $$"""{"tasks":[{{Task("a")}},{{Task("b")}}],"failures":[]}""");
            File.WriteAllText(Path.Combine(dir, "targets.json"), ScalableTargetsAsPrinted);
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a snapshot file");
            var load = SnapshotReader.Load(dir);
            Assert.Equal(["a", "b", "c"], load.Snapshot.Tasks.Select(t => Core.Arns.LastSegment(t.TaskArn)));
            Assert.Single(load.Snapshot.ScalableTargets);

            File.WriteAllText(Path.Combine(dir, "tasks-3.json"), $$"""{"tasks":[{{Task("a")}}]}""");
            var problem = Assert.Single(Assert.Throws<SnapshotInvalidException>(() => SnapshotReader.Load(dir)).Problems);
            Assert.StartsWith("tasks-3.json tasks[0]: task arn:aws:ecs:us-east-1:123456789012:task/prod/a is listed twice, also at tasks-1.json tasks[0]", problem, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_AnEmptyFolder_IsAProblemThatSaysWhatToPutInIt()
    {
        var dir = Directory.CreateTempSubdirectory("reflex-snapshot-").FullName;
        try
        {
            Assert.Contains("no *.json file", Assert.Single(Assert.Throws<SnapshotInvalidException>(() => SnapshotReader.Load(dir)).Problems), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    // ------------------------------------------------------------------ which cluster an instance is in

    private const string OldFormat = "arn:aws:ecs:us-east-1:123456789012:container-instance/0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    [Fact]
    public void Read_ANewFormatInstanceArn_NamesItsCluster()
    {
        var load = Read("""{"containerInstances":[{"containerInstanceArn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1"}]}""");
        Assert.Equal(Prod, Assert.Single(load.Snapshot.ContainerInstances).ClusterArn);
        Assert.Empty(load.Warnings);
    }

    [Fact]
    public void Read_AnOldFormatInstance_TakesTheClusterOfTheTasksThatRunOnIt()
    {
        var load = Read($$"""[{"containerInstances":[{"containerInstanceArn":"{{OldFormat}}"}]}, {"tasks":[{{Task("a", OldFormat)}}]}]""");
        Assert.Equal(Prod, Assert.Single(load.Snapshot.ContainerInstances).ClusterArn);
        Assert.Empty(load.Warnings);
    }

    [Fact]
    public void Read_AnOldFormatInstanceNothingPlaces_HasNoClusterAndAWarningSaysHowToGiveIt()
    {
        var load = Read($$"""{"containerInstances":[{"containerInstanceArn":"{{OldFormat}}"}]}""");
        Assert.Null(Assert.Single(load.Snapshot.ContainerInstances).ClusterArn);
        var warning = Assert.Single(load.Warnings);
        Assert.StartsWith($"containerInstances[0]: container instance {OldFormat} has an old-format ARN", warning, StringComparison.Ordinal);
        Assert.Contains("add \"cluster\":", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TheOutputsClusterKey_PlacesItsOldFormatInstancesInThatClusterOfTheirAccountAndRegion()
    {
        var load = Read($$"""{"cluster":"prod","containerInstances":[{"containerInstanceArn":"{{OldFormat}}"}],"failures":[]}""");
        Assert.Equal(Prod, Assert.Single(load.Snapshot.ContainerInstances).ClusterArn);
        Assert.Empty(load.Warnings);
    }

    [Fact]
    public void Read_AClusterKeyOrATaskThatContradictsTheInstancesCluster_IsAProblem()
    {
        var keyProblem = Assert.Single(Problems("""{"cluster":"batch","containerInstances":[{"containerInstanceArn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1"}]}"""));
        Assert.StartsWith("containerInstances[0]: container instance arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1 is in cluster prod (its ARN says so), not in batch", keyProblem, StringComparison.Ordinal);

        var taskProblem = Assert.Single(Problems($$"""{"cluster":"prod","containerInstances":[{"containerInstanceArn":"{{OldFormat}}"}],"tasks":[{{Task("a", OldFormat, "arn:aws:ecs:us-east-1:123456789012:cluster/batch")}}]}"""));
        Assert.StartsWith("tasks[0]: the task runs on container instance", taskProblem, StringComparison.Ordinal);
        Assert.Contains("an instance is in one cluster", taskProblem, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ the embedded cluster places only in the instance's cluster

    private static RunTaskRequest Worker(string cluster) => new()
    {
        Cluster = cluster, TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", LaunchType = "EC2",
        ClientToken = Guid.NewGuid().ToString("N"),
    };

    private static string Instance(string arn, string id) =>
        $$"""{"containerInstanceArn":"{{arn}}","ec2InstanceId":"{{id}}","status":"ACTIVE","agentConnected":true,"remainingResources":[{"name":"CPU","type":"INTEGER","integerValue":4096},{"name":"MEMORY","type":"INTEGER","integerValue":16384}]}""";

    private static async Task<string?> PlacedOn(EmbeddedCluster cluster, string requestCluster)
    {
        var r = await cluster.RunTaskAsync(Worker(requestCluster), default);
        return r.TaskArns.Count == 0 ? null : cluster.ContainerInstances.FirstOrDefault(i => i.ContainerInstanceArn == cluster.FindTask(r.TaskArns[0])!.ContainerInstanceArn)?.Ec2InstanceId;
    }

    [Theory]
    [InlineData("arn:aws:ecs:us-west-2:123456789012:container-instance/prod/c1", "another region")]
    [InlineData("arn:aws:ecs:us-east-1:210987654321:container-instance/prod/c1", "another account")]
    [InlineData("arn:aws:ecs:us-east-1:123456789012:container-instance/batch/c1", "another cluster")]
    [InlineData(OldFormat, "an old-format ARN of no known cluster")]
    public async Task RunTask_NeverPlacesOnAnInstanceOfAnotherClusterAccountOrRegion(string instanceArn, string because)
    {
        var cluster = new EmbeddedCluster(Read($$"""{"containerInstances":[{{Instance(instanceArn, "i-other")}}]}""").Snapshot) { EmitEvents = false };
        var r = await cluster.RunTaskAsync(Worker(Prod), default);
        Assert.True(r.TaskArns.Count == 0, $"placed on {instanceArn} ({because})");
        Assert.Equal("No Container Instances were found in your cluster.", Assert.Single(r.Failures).Reason);
    }

    [Fact]
    public async Task RunTask_PlacesOnTheInstanceOfItsOwnCluster_AmongLookalikesOfOtherAccountsAndRegions()
    {
        var snapshot = Read($$"""
            [{"containerInstances":[
                {{Instance("arn:aws:ecs:us-west-2:123456789012:container-instance/prod/c1", "i-west")}},
                {{Instance("arn:aws:ecs:us-east-1:210987654321:container-instance/prod/c2", "i-other-account")}},
                {{Instance(OldFormat, "i-old-batch")}},
                {{Instance("arn:aws:ecs:us-east-1:123456789012:container-instance/0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a", "i-old-prod")}}]},
             {"tasks":[{{Task("a", OldFormat, "arn:aws:ecs:us-east-1:123456789012:cluster/batch")}},
                       {{Task("b", "arn:aws:ecs:us-east-1:123456789012:container-instance/0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a")}}]}]
            """).Snapshot;
        var cluster = new EmbeddedCluster(snapshot) { EmitEvents = false };
        for (var k = 0; k < 5; k++)
            Assert.Equal("i-old-prod", await PlacedOn(cluster, Prod));
        Assert.Equal("i-old-batch", await PlacedOn(cluster, "arn:aws:ecs:us-east-1:123456789012:cluster/batch"));
        Assert.Equal("i-west", await PlacedOn(cluster, "arn:aws:ecs:us-west-2:123456789012:cluster/prod"));
    }

    [Fact]
    public async Task RunTask_OnAnOldFormatInstance_WaitsUntilAnEventSaysItsCluster()
    {
        var cluster = new EmbeddedCluster(Read($$"""{"containerInstances":[{{Instance(OldFormat, "i-old")}}]}""").Snapshot) { EmitEvents = false };
        Assert.Null(await PlacedOn(cluster, Prod));
        cluster.Observe(Core.Events.EventParser.Parse($$$"""
            {"version":"0","id":"ci-1","detail-type":"ECS Container Instance State Change","source":"aws.ecs","account":"123456789012","time":"2026-03-02T10:00:00Z","region":"us-east-1",
             "resources":["{{{OldFormat}}}"],
             "detail":{"clusterArn":"{{{Prod}}}","containerInstanceArn":"{{{OldFormat}}}","ec2InstanceId":"i-old","status":"ACTIVE","agentConnected":true,"version":2}}
            """));
        Assert.Equal("i-old", await PlacedOn(cluster, Prod));
    }
}
