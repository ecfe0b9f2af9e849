using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>
/// Issue 16: a relaunch carries what the event does not: the task's Amazon EBS volume (from the rule's
/// volumeConfigurations), its own tags (read with DescribeTasks only for a relaunch), propagateTags and
/// enableECSManagedTags; and its reason says what it could not carry over.
/// </summary>
public class RelaunchCarryOverTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private static readonly DateTimeOffset Stop = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private const string Role = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";

    private static readonly ReflexPolicy Policy = PolicyLoader.Load($$$"""
    {"clusters":[{"cluster":"prod","reschedule":[
      {"name":"ebs","match":{"taskDefinitionFamily":"ebs"},"backoff":{"initialSeconds":0},
       "network":{"subnets":["subnet-1"]},
       "volumeConfigurations":[{"name":"data","managedEBSVolume":{"roleArn":"{{{Role}}}","volumeType":"gp3","sizeInGiB":100,"encrypted":true,
          "terminationPolicy":{"deleteOnTermination":false},"tagSpecifications":[{"resourceType":"volume","tags":[{"key":"team","value":"a"}]}]}}],
       "propagateTags":"TASK_DEFINITION","enableECSManagedTags":true},
      {"name":"no-volumes","match":{"taskDefinitionFamily":"plain"},"backoff":{"initialSeconds":0},"network":{"subnets":["subnet-1"]}},
      {"name":"no-copy","match":{"taskDefinitionFamily":"nocopy"},"backoff":{"initialSeconds":0},"copyTags":false},
      {"name":"later","match":{"taskDefinitionFamily":"later"},"backoff":{"initialSeconds":30}}
    ]}]}
    """);

    private static Attachment Ebs(string? volumeName = "data") => new()
    {
        Id = "a17ed863", Type = "AmazonElasticBlockStorage", Status = "ATTACHED",
        Details = volumeName is null
            ? [new KeyValue("roleArn", Role)]
            : [new KeyValue("roleArn", Role), new KeyValue("volumeName", volumeName), new KeyValue("deleteOnTermination", "true")],
    };

    private static TaskStateChange Task(string family, params Attachment[] attachments) => new()
    {
        ClusterArn = Cluster,
        TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/7f1fbd3629434cc4b82d72d2f09b67c9",
        TaskDefinitionArn = $"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:4",
        Group = $"family:{family}",
        StartedBy = "scheduler",
        LastStatus = "STOPPED",
        StopCode = "EssentialContainerExited",
        LaunchType = "FARGATE",
        PlatformVersion = "1.4.0",
        StartedAt = Stop.AddSeconds(-30),
        StoppedAt = Stop,
        Version = 3,
        Containers = [new ContainerDetail { Name = "app", ExitCode = 1 }],
        Attachments = [new Attachment { Type = "ElasticNetworkInterface", Details = [new KeyValue("subnetId", "subnet-x")] }, .. attachments],
        Overrides = JsonDocument.Parse("""{"containerOverrides":[{"name":"app"}]}""").RootElement,
    };

    private static Decision Decide(TaskStateChange t, TaskTagsObservation? tags) =>
        TaskRescheduler.Decide(t, Policy, new TaskObservation { Tags = tags }, Stop);

    private static RunTaskRequest RunTask(Decision d) => Assert.IsType<RunTaskRequest>(Assert.Single(d.Actions).Request);

    private static List<Tag> UserTags(int n) => Enumerable.Range(1, n).Select(i => new Tag($"k{i:00}", $"v{i}")).ToList();

    // ---- EBS ----

    [Fact]
    public void Decide_WhenTaskHasEbsVolumeAndRuleConfiguresIt_SendsTheVolumeConfigurationsAsWritten()
    {
        var d = Decide(Task("ebs", Ebs()), TaskTagsObservation.Read([]));

        Assert.Equal(Outcome.Acted, d.Outcome);
        var volume = Assert.Single(RunTask(d).VolumeConfigurations!);
        Assert.Equal("data", volume.Name);
        Assert.Equal(Role, volume.ManagedEbsVolume!.RoleArn);
        Assert.Equal(100, volume.ManagedEbsVolume.SizeInGiB);
        var json = ActionJson.ToJson(RunTask(d));
        Assert.Contains("""
            "volumeConfigurations":[{"name":"data","managedEBSVolume":{"encrypted":true,"volumeType":"gp3","sizeInGiB":100,"tagSpecifications":[{"resourceType":"volume","tags":[{"key":"team","value":"a"}]}],"roleArn":"arn:aws:iam::123456789012:role/ecsInfrastructureRole","terminationPolicy":{"deleteOnTermination":false}}}]
            """.Trim(), json);
    }

    [Fact]
    public void Decide_WhenTaskHasEbsVolumeAndRuleHasNoVolumeConfigurations_RejectsWithThePathToSet()
    {
        var d = Decide(Task("plain", Ebs()), TaskTagsObservation.Read([]));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Empty(d.Actions);
        Assert.Contains("it has an Amazon EBS volume (\"data\")", d.Reason);
        Assert.Contains("set clusters[0].reschedule[1].volumeConfigurations", d.Reason);
        Assert.Contains("\"name\": \"data\"", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheEbsAttachmentNamesAVolumeTheRuleDoesNotConfigure_RejectsNamingIt()
    {
        var d = Decide(Task("ebs", Ebs("logs")), TaskTagsObservation.Read([]));

        Assert.Equal(Outcome.Rejected, d.Outcome);
        Assert.Contains("Amazon EBS volume \"logs\" is not configured by rule ebs", d.Reason);
        Assert.Contains("clusters[0].reschedule[0].volumeConfigurations names \"data\"", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheEbsAttachmentHasNoVolumeName_StillNeedsVolumeConfigurations()
    {
        Assert.Equal(Outcome.Rejected, Decide(Task("plain", Ebs(volumeName: null)), null).Outcome);
        Assert.Equal(Outcome.Acted, Decide(Task("ebs", Ebs(volumeName: null)), null).Outcome);
    }

    [Fact]
    public void Decide_WithoutEbsOrTagSettings_SendsNoneOfTheNewMembers()
    {
        var json = ActionJson.ToJson(RunTask(Decide(Task("plain"), TaskTagsObservation.Read([]))));

        Assert.DoesNotContain("volumeConfigurations", json);
        Assert.DoesNotContain("propagateTags", json);
        Assert.DoesNotContain("enableECSManagedTags", json);
    }

    [Fact]
    public void Decide_WhenTheRuleSetsPropagateTagsAndManagedTags_SendsThem()
    {
        var r = RunTask(Decide(Task("ebs", Ebs()), TaskTagsObservation.Read([])));
        Assert.Equal("TASK_DEFINITION", r.PropagateTags);
        Assert.True(r.EnableEcsManagedTags);
    }

    // ---- tags ----

    [Fact]
    public void Decide_WithTheTasksTags_AddsThemAfterEcsReflexTags_WithoutAwsOrReflexOnes_AndTheReasonStaysAsBefore()
    {
        var before = Decide(Task("plain"), null);
        var d = Decide(Task("plain"), TaskTagsObservation.Read(
        [
            new Tag("team", "data"), new Tag("aws:ecs:clusterName", "prod"), new Tag("reflex:lineage", "old"),
            new Tag("reflex:attempt", "9"), new Tag("cost-center", "42"),
        ]));

        var tags = RunTask(d).Tags!;
        Assert.Equal(
            ["reflex:lineage", "reflex:attempt", "reflex:rule", "reflex:startedBy", "team", "cost-center"],
            tags.Select(t => t.Key));
        Assert.Equal("7f1fbd3629434cc4b82d72d2f09b67c9", tags[0].Value);
        Assert.Equal("1", tags[1].Value);
        Assert.Contains("its aws: tag (aws:ecs:clusterName), which only AWS may set", d.Reason);
        Assert.Contains("set clusters[0].reschedule[1].enableECSManagedTags to true", d.Reason);
        Assert.DoesNotContain("not carried over", before.Reason);
        Assert.StartsWith(before.Reason, d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_WhenEveryTagIsCarried_TheReasonIsExactlyTheOneWithoutTags()
    {
        var without = Decide(Task("plain"), null);
        var with = Decide(Task("plain"), TaskTagsObservation.Read([new Tag("team", "data")]));
        Assert.Equal(without.Reason, with.Reason);
    }

    [Fact]
    public void Decide_WhenTheRuleAsksForEcsManagedTags_TheirAwsEcsTagsAreNotReportedLost()
    {
        var d = Decide(Task("ebs", Ebs()), TaskTagsObservation.Read([new Tag("aws:ecs:clusterName", "prod"), new Tag("aws:cloudformation:stack-name", "s")]));
        Assert.Contains("its aws: tag (aws:cloudformation:stack-name)", d.Reason);
        Assert.DoesNotContain("aws:ecs:clusterName", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheTagsWouldPassFifty_KeepsFiftyAndNamesTheOnesLeftOut()
    {
        var d = Decide(Task("plain"), TaskTagsObservation.Read(UserTags(48)));

        var tags = RunTask(d).Tags!;
        Assert.Equal(TaskRescheduler.MaxTags, tags.Count);
        Assert.Equal("k46", tags[^1].Key);
        Assert.Contains("not carried over: 2 of its tags (k47, k48), over RunTask's limit of 50 tags with EcsReflex's 4", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheTagsCouldNotBeRead_StillRelaunchesAndSaysSo()
    {
        var d = Decide(Task("plain"), TaskTagsObservation.None("DescribeTasks failed: AccessDeniedException"));

        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(4, RunTask(d).Tags!.Count);
        Assert.EndsWith("; not carried over: its tags, which could not be read (DescribeTasks failed: AccessDeniedException)", d.Reason);
    }

    [Fact]
    public void Decide_WhenTheRuleTurnsCopyTagsOff_CopiesNoneAndSaysNothing()
    {
        var d = Decide(Task("nocopy") with { LaunchType = "EC2", Attachments = [] }, TaskTagsObservation.Read([new Tag("team", "data")]));

        Assert.DoesNotContain(RunTask(d).Tags!, t => t.Key == "team");
        Assert.DoesNotContain("not carried over", d.Reason);
        var unread = Decide(Task("nocopy") with { LaunchType = "EC2", Attachments = [] }, TaskTagsObservation.None("x"));
        Assert.DoesNotContain("not carried over", unread.Reason);
    }

    public static TheoryData<string, string, bool> WantsTagsCases => new()
    {
        { "relaunch now, copyTags default", "plain", true },
        { "copyTags false", "nocopy", false },
        { "deferred by back-off", "later", false },
        { "no rule: ignored", "other", false },
    };

    [Theory]
    [MemberData(nameof(WantsTagsCases))]
    public void WantsTags_OnlyForARelaunchNowWhoseRuleCopiesTags(string why, string family, bool expected)
    {
        var t = Task(family) with { LaunchType = "EC2", Attachments = [] };
        var d = TaskRescheduler.Decide(t, Policy, TaskObservation.None, Stop);
        Assert.True(expected == TaskRescheduler.WantsTags(Policy, t, TaskObservation.None, d), why);
        // Once read, never again.
        Assert.False(TaskRescheduler.WantsTags(Policy, t, new TaskObservation { Tags = TaskTagsObservation.Read([]) }, d), why);
    }

    // ---- the placement guard's moves carry the same ----

    [Fact]
    public void DecideInstance_Draining_MovesAnEbsTaskWithItsVolumeAndTags_AndAnEbsTaskWithoutConfigurationIsNotMoved()
    {
        const string instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ci1";
        ObservedTask Observed(string id, string family, params Tag[] tags) => new()
        {
            TaskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}", ClusterArn = Cluster,
            TaskDefinitionArn = $"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:1", ContainerInstanceArn = instance,
            Group = $"family:{family}", StartedBy = "scheduler", LastStatus = "RUNNING", DesiredStatus = "RUNNING", LaunchType = "EC2",
            Attachments = [Ebs()], Tags = tags,
        };
        var e = new ContainerInstanceStateChange
        {
            ClusterArn = Cluster, ContainerInstanceArn = instance, Ec2InstanceId = "i-0aaa", Status = "DRAINING", AgentConnected = true, Version = 5,
        };
        var observed = new InstanceObservation
        {
            Tasks = [Observed("aaaa1111", "ebs", new Tag("team", "data"), new Tag("aws:ecs:clusterName", "prod")), Observed("bbbb2222", "plain")],
        };

        var g = PlacementGuard.DecideInstance(e, Policy, observed, Stop);

        var run = Assert.IsType<RunTaskRequest>(Assert.Single(g.Actions).Request);
        Assert.Equal("data", Assert.Single(run.VolumeConfigurations!).Name);
        Assert.Equal(["reflex:lineage", "reflex:attempt", "reflex:rule", "reflex:startedBy", PlacementGuard.MovedFromTag, "team"], run.Tags!.Select(t => t.Key));
        Assert.Equal("TASK_DEFINITION", run.PropagateTags);
        Assert.Contains("cannot move bbbb2222 (plain): it has an Amazon EBS volume", g.Reason);
        Assert.Contains("set clusters[0].reschedule[1].volumeConfigurations", g.Reason);
    }

    [Fact]
    public void DecideInstance_Draining_AMoveThatCannotCarryEveryTag_SaysSoForThatTask()
    {
        const string instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ci1";
        var task = new ObservedTask
        {
            TaskArn = "arn:aws:ecs:us-east-1:123456789012:task/prod/cccc3333", ClusterArn = Cluster,
            TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/nocopy:1", ContainerInstanceArn = instance,
            Group = "family:nocopy", LastStatus = "RUNNING", DesiredStatus = "RUNNING", LaunchType = "EC2", Tags = UserTags(3),
        };
        var copying = task with { TaskDefinitionArn = "arn:aws:ecs:us-east-1:123456789012:task-definition/later:1", Group = "family:later", Tags = UserTags(49) };
        var e = new ContainerInstanceStateChange { ClusterArn = Cluster, ContainerInstanceArn = instance, Status = "DRAINING", AgentConnected = true, Version = 5 };

        var off = PlacementGuard.DecideInstance(e, Policy, new InstanceObservation { Tasks = [task] }, Stop);
        var over = PlacementGuard.DecideInstance(e, Policy, new InstanceObservation { Tasks = [copying] }, Stop);

        Assert.Equal(["reflex:lineage", "reflex:attempt", "reflex:rule", PlacementGuard.MovedFromTag],
            Assert.IsType<RunTaskRequest>(Assert.Single(off.Actions).Request).Tags!.Select(t => t.Key));
        var tags = Assert.IsType<RunTaskRequest>(Assert.Single(over.Actions).Request).Tags!;
        Assert.Equal(TaskRescheduler.MaxTags, tags.Count);
        Assert.Contains("cccc3333 (later, rule later, not carried over: 3 of its tags (k47, k48, k49), over RunTask's limit of 50 tags with EcsReflex's 4)", over.Reason);
    }
}
