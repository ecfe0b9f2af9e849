using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// Issue 16 on the embedded cluster: a relaunch reproduces the task's EBS volume and tags (the snapshot's tasks carry
/// <c>tags</c> as describe-tasks prints them), the tags are read only for a relaunch, and a failed read still relaunches.
/// </summary>
public class RelaunchCarryOverReplayTests
{
    private const string Cluster = "arn:aws:ecs:us-west-2:123456789012:cluster/default";
    private const string Role = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";
    private const string EbsTask = "arn:aws:ecs:us-west-2:123456789012:task/default/7f1fbd3629434cc4b82d72d2f09b67c9";

    private static readonly ReflexPolicy Policy = PolicyLoader.Load($$$"""
    {"clusters":[{"cluster":"default","reschedule":[
      {"name":"ebs-jobs","match":{"taskDefinitionFamily":"mytaskdef"},"backoff":{"initialSeconds":0},
       "network":{"subnets":["subnet-070982705451dad82"],"securityGroups":["sg-12344321"]},
       "volumeConfigurations":[{"name":"myEBSVolume","managedEBSVolume":{"roleArn":"{{{Role}}}","volumeType":"gp3","sizeInGiB":100,"encrypted":true}}],
       "enableECSManagedTags":true},
      {"name":"later","match":{"taskDefinitionFamily":"later"},"backoff":{"initialSeconds":60},"network":{"subnets":["subnet-070982705451dad82"]},
       "volumeConfigurations":[{"name":"myEBSVolume","managedEBSVolume":{"roleArn":"{{{Role}}}","sizeInGiB":10}}]}
    ]}]}
    """);

    // As `aws ecs describe-tasks --include TAGS` prints it (the run-task EBS example's task, with tags).
    private const string Snapshot = $$"""
    {"tasks":[{
      "attachments":[
        {"id":"ce868693","type":"ElasticNetworkInterface","status":"ATTACHED","details":[{"name":"subnetId","value":"subnet-070982705451dad82"}]},
        {"id":"a17ed863","type":"AmazonElasticBlockStorage","status":"ATTACHED","details":[
          {"name":"roleArn","value":"{{Role}}"},{"name":"volumeName","value":"myEBSVolume"},{"name":"deleteOnTermination","value":"true"}]}],
      "clusterArn":"{{Cluster}}","group":"family:mytaskdef","lastStatus":"RUNNING","desiredStatus":"RUNNING","launchType":"FARGATE",
      "platformVersion":"1.4.0","startedBy":"nightly","cpu":"1024","memory":"3072",
      "overrides":{"containerOverrides":[{"name":"container-using-ebs"}],"inferenceAcceleratorOverrides":[]},
      "tags":[{"key":"team","value":"data"},{"key":"aws:ecs:clusterName","value":"default"}],
      "taskArn":"{{EbsTask}}","taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/mytaskdef:4","version":2
    }]}
    """;

    private static string Stopped(string taskArn, string family, int exit, string id, string time = "2026-04-01T10:00:00Z", string group = "") =>
        """
        {"version":"0","id":"@ID","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012","time":"@TIME","region":"us-west-2","resources":["@TASKARN"],"detail":{"clusterArn":"@CLUSTER","taskArn":"@TASKARN","taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/@FAMILY:4","group":"@GROUP","startedBy":"nightly","lastStatus":"STOPPED","desiredStatus":"STOPPED","stopCode":"EssentialContainerExited","launchType":"FARGATE","platformVersion":"1.4.0","startedAt":"2026-04-01T09:59:00Z","stoppedAt":"@TIME","version":5,"attachments":[{"id":"ce868693","type":"ElasticNetworkInterface","status":"DELETED","details":[]},{"id":"a17ed863","type":"AmazonElasticBlockStorage","status":"DELETED","details":[{"name":"volumeName","value":"myEBSVolume"}]}],"containers":[{"name":"app","lastStatus":"STOPPED","exitCode":@EXIT}],"overrides":{"containerOverrides":[{"name":"container-using-ebs"}],"inferenceAcceleratorOverrides":[]}}}
        """.Replace("@GROUP", group.Length > 0 ? group : "family:" + family).Replace("@ID", id).Replace("@TIME", time).Replace("@TASKARN", taskArn)
            .Replace("@CLUSTER", Cluster).Replace("@FAMILY", family).Replace("@EXIT", exit.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static EmbeddedCluster NewCluster() => new(SnapshotReader.Parse(System.Text.Encoding.UTF8.GetBytes(Snapshot)));

    private static RunTaskRequest RunTask(ReplayRecord r) => Assert.IsType<RunTaskRequest>(Assert.Single(r.Actions).Action.Request);

    [Fact]
    public async Task StoppedEbsTaskInTheSnapshot_IsRelaunchedWithItsVolumeTagsNetworkAndOverrides()
    {
        var cluster = NewCluster();
        var (records, _) = await ReplayHarness.RunAsync([ReplayHarness.TempJsonl([Stopped(EbsTask, "mytaskdef", 1, "e-1")])], Policy, cluster);

        var acted = Assert.Single(records, r => r.EventId == "e-1");
        Assert.Equal(Outcome.Acted, acted.Outcome);
        var run = RunTask(acted);
        Assert.Equal("arn:aws:ecs:us-west-2:123456789012:task-definition/mytaskdef:4", run.TaskDefinition);
        Assert.Equal("family:mytaskdef", run.Group);
        Assert.Equal("myEBSVolume", Assert.Single(run.VolumeConfigurations!).Name);
        Assert.Equal(["reflex:lineage", "reflex:attempt", "reflex:rule", "reflex:startedBy", "team"], run.Tags!.Select(t => t.Key));
        Assert.Equal("data", run.Tags![^1].Value);
        Assert.True(run.EnableEcsManagedTags);
        Assert.Equal(["subnet-070982705451dad82"], run.NetworkConfiguration!.AwsvpcConfiguration.Subnets);
        Assert.Contains("container-using-ebs", run.Overrides!.Value.GetRawText());
        // The aws:ecs: tag comes back through enableECSManagedTags: nothing is reported lost.
        Assert.DoesNotContain("not carried over", acted.Reason);

        // The relaunched task has the volume and the tags, as describe-tasks would show them.
        var started = Assert.Single(cluster.Tasks, t => t.StartedBy == run.StartedBy);
        Assert.Contains(started.Attachments, a => a.Type == "AmazonElasticBlockStorage" && a.Details.Any(d => d.Name == "volumeName" && d.Value == "myEBSVolume"));
        Assert.Contains(started.Tags, t => t.Key == "team");
    }

    [Fact]
    public async Task TheTagsAreReadOnlyForARelaunch_NotForIgnoredOrDeferredStops()
    {
        var cluster = NewCluster();
        var counting = new CountingObserver(cluster);
        var engine = new ReplayEngine(Policy, cluster, counting);
        var lines = new[]
        {
            Stopped(EbsTask, "mytaskdef", 0, "e-ok", "2026-04-01T10:00:00Z"),                                      // exit 0: ignored
            Stopped("arn:aws:ecs:us-west-2:123456789012:task/default/svc1", "mytaskdef", 1, "e-svc", "2026-04-01T10:00:01Z", "service:web"), // a service's
            Stopped("arn:aws:ecs:us-west-2:123456789012:task/default/late1", "later", 1, "e-later", "2026-04-01T10:00:02Z"), // deferred 60 s
        };
        var items = ReplayInputs.Merge([ReplayInputs.Read(ReplayHarness.TempJsonl(lines), "x.jsonl")]);
        var records = new List<ReplayRecord>();
        await foreach (var r in engine.RunAsync(items))
        {
            records.Add(r);
            if (r.Trigger == "event") Assert.Empty(counting.TagReads);
        }

        // Only the deferred stop, once due, relaunched: its tags were read then, once.
        Assert.Equal(["arn:aws:ecs:us-west-2:123456789012:task/default/late1"], counting.TagReads);
        Assert.Single(records, r => r.Trigger == "timer" && r.Outcome == Outcome.Acted);
    }

    [Fact]
    public async Task WhenTheTagsCannotBeRead_TheTaskIsStillRelaunched_AndTheReasonSaysSo()
    {
        var cluster = NewCluster();
        var engine = new ReplayEngine(Policy, cluster, new CountingObserver(cluster) { Fail = true });
        var records = await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs([ReplayHarness.TempJsonl([Stopped(EbsTask, "mytaskdef", 1, "e-1")])]));

        var acted = Assert.Single(records);
        Assert.Equal(Outcome.Acted, acted.Outcome);
        Assert.Equal(["reflex:lineage", "reflex:attempt", "reflex:rule", "reflex:startedBy"], RunTask(acted).Tags!.Select(t => t.Key));
        Assert.EndsWith("; not carried over: its tags, which could not be read (DescribeTasks failed: AccessDeniedException: not allowed)", acted.Reason);
    }

    [Fact]
    public async Task AStoppedTaskTheClusterForgot_IsAnsweredMissing_AndOneOnlyEventsShowedHasNoTags()
    {
        var cluster = NewCluster();
        Assert.Equal(["team", "aws:ecs:clusterName"], (await cluster.DescribeTaskTagsAsync(Cluster, EbsTask, default)).Tags.Select(t => t.Key));
        var unknown = await cluster.DescribeTaskTagsAsync(Cluster, "arn:aws:ecs:us-west-2:123456789012:task/default/never", default);
        Assert.Null(unknown.Unavailable);
        Assert.Empty(unknown.Tags);

        cluster.Now = DateTimeOffset.Parse("2026-04-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        cluster.Observe(ReplayInputs.Read(ReplayHarness.TempJsonl([Stopped(EbsTask, "mytaskdef", 1, "e-1")]), "x").Select(i => i.Event!).First());
        cluster.Now = DateTimeOffset.Parse("2026-04-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var gone = await cluster.DescribeTaskTagsAsync(Cluster, EbsTask, default);
        Assert.Contains("MISSING", gone.Unavailable);
    }

    /// <summary>The embedded cluster, counting the tag reads (and failing them when asked).</summary>
    private sealed class CountingObserver(EmbeddedCluster inner) : IClusterObserver
    {
        public List<string> TagReads { get; } = [];
        public bool Fail { get; init; }

        public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct)
        {
            TagReads.Add(taskArn);
            if (Fail) throw new InvalidOperationException("AccessDeniedException: not allowed");
            return inner.DescribeTaskTagsAsync(clusterArn, taskArn, ct);
        }

        public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.GetEc2InstanceIdAsync(clusterArn, containerInstanceArn, ct);
        public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct) => inner.DescribeServiceScalingAsync(cluster, service, ct);
        public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) => inner.DescribeAlarmStatesAsync(alarmNames, ct);
        public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.ListTasksOnInstanceAsync(clusterArn, containerInstanceArn, ct);
        public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) => inner.GetServiceAsync(clusterArn, serviceArnOrName, ct);
        public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.GetContainerInstanceAsync(clusterArn, containerInstanceArn, ct);
    }
}
