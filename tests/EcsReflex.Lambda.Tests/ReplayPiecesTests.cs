using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Engine.Cluster;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

public sealed class ReplayPiecesTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-03-02T09:00:00.1234567Z");
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

    /// <summary>The embedded cluster's RUNNING event for a task it placed, and its STOPPED event after StopTask.</summary>
    private static async Task<(EventEnvelope Running, EventEnvelope Stopped)> EmittedAsync()
    {
        var cluster = new EmbeddedCluster(Replays.Snapshot) { Now = T0 };
        var run = await cluster.RunTaskAsync(new RunTaskRequest
        {
            Cluster = ClusterArn, TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", Group = "family:worker",
            StartedBy = "reflex/abc/1", LaunchType = "EC2", ClientToken = "reflex-token",
            Overrides = JsonDocument.Parse("""{"containerOverrides":[{"name":"worker","command":["process-queue","--max-items","5000"]}]}""").RootElement,
            NetworkConfiguration = new NetworkConfiguration { AwsvpcConfiguration = new AwsVpcConfiguration { Subnets = ["subnet-1"] } },
        }, CancellationToken.None);
        var arn = Assert.Single(run.TaskArns);
        cluster.Now = cluster.NextEventAt!.Value;
        var running = cluster.TakeNextEvent()!;
        await cluster.StopTaskAsync(new StopTaskRequest { Cluster = ClusterArn, Task = arn, Reason = "moved off draining i-0aaa" }, CancellationToken.None);
        cluster.Now = cluster.NextEventAt!.Value;
        var stopped = cluster.TakeNextEvent()!;
        return (running, stopped);
    }

    [Fact]
    public async Task EventJson_ParsesBackToTheEventTheEmbeddedClusterEmitted()
    {
        var (running, stopped) = await EmittedAsync();

        foreach (var e in new[] { running, stopped })
        {
            var json = EventJson.Write(e);
            var back = EventParser.Parse(json);

            Assert.Equal(e with { Detail = back.Detail, Resources = back.Resources }, back);
            Assert.Equal(e.Resources, back.Resources);
            var t = (TaskStateChange)e.Detail;
            var b = (TaskStateChange)back.Detail;
            // Equal but for the lists (compared by content) and the overrides (compared as JSON).
            Assert.Equal(t with { Containers = b.Containers, Attachments = b.Attachments, Attributes = b.Attributes, Overrides = b.Overrides }, b);
            Assert.Equal(t.Attachments.Select(a => (a.Id, a.Type, a.Status, a.Details.Count)), b.Attachments.Select(a => (a.Id, a.Type, a.Status, a.Details.Count)));
            Assert.Equal(t.Overrides!.Value.GetRawText(), b.Overrides!.Value.GetRawText());
            Assert.Equal(json, EventJson.Write(back)); // nothing lost on the way
        }
        Assert.Equal("RUNNING", ((TaskStateChange)running.Detail).LastStatus);
        Assert.Equal(T0.AddSeconds(15), ((TaskStateChange)running.Detail).StartedAt); // sub-millisecond precision kept
        var s = (TaskStateChange)stopped.Detail;
        Assert.Equal(("STOPPED", "UserInitiated", "moved off draining i-0aaa"), (s.LastStatus, s.StopCode, s.StoppedReason));
        Assert.NotEmpty(s.Attachments);
    }

    [Fact]
    public void EventJson_RefusesWhatTheEmbeddedClusterNeverEmits()
    {
        var alarm = EventParser.Parse(Repository.Event("cloudwatch-alarm-alarm-web-cpu-high.json"));

        // A transition as CloudWatch sends it carries its configuration: not written (a re-armed re-decision's has none).
        var ex = Assert.Throws<NotSupportedException>(() => EventJson.Write(alarm));
        Assert.Contains("only task, container instance and deployment state changes, an alarm state change without configuration", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventJson_OfAReArmedReDecision_ReadsBackAsTheSameAlarmInAlarm_WithItsPeriod()
    {
        var since = new DateTimeOffset(2026, 3, 7, 10, 0, 0, 123, TimeSpan.Zero);
        var remembered = new RememberedAlarm { AlarmName = "web-cpu-high", State = "ALARM", StateTimestamp = since, SeenAt = since, RedecideAt = since.AddMinutes(1), PeriodSeconds = 300 };
        var schedule = new EventEnvelope
        {
            Version = "0", Id = "s", DetailType = DetailTypes.ScheduledEvent, Source = DetailTypes.EventsSource, Account = "123456789012", Region = "us-east-1",
            Time = since.AddMinutes(5), Detail = new ScheduledEvent([]),
        };
        var e = Reconciler.AsRedecision(remembered, since.AddMinutes(1), schedule, since.AddMinutes(5));

        var back = EventParser.Parse(EventJson.Write(e));

        var a = (AlarmStateChange)back.Detail;
        Assert.Equal(("sweep-web-cpu-high-20260307T100100.123Z", DetailTypes.AlarmStateChange, DetailTypes.CloudWatchSource), (back.Id, back.DetailType, back.Source));
        Assert.Equal(("web-cpu-high", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high"), (a.AlarmName, a.AlarmArn));
        Assert.Equal(("ALARM", (DateTimeOffset?)since, Reconciler.RedecisionReason), (a.State.Value, a.State.Timestamp, a.State.Reason));
        Assert.Equal(300, a.State.ReasonData!.Period);
        Assert.Equal(TimeSpan.FromMinutes(5), ServiceScaler.EvaluationPeriod(a));
        Assert.Null(a.Configuration);
        Assert.Equal(EventJson.Write(e), EventJson.Write(back)); // nothing lost on the way
    }

    [Fact]
    public void EventJson_OfAContainerInstanceStateChange_ReadsBackAsTheSameEvent()
    {
        // The sample DRAINING event: attributes, both resource lists (integers and string sets), versions and times.
        var e = EventParser.Parse(Repository.Event("ecs-container-instance-draining.json"));

        var json = EventJson.Write(e);
        var back = EventParser.Parse(json);

        var i = (ContainerInstanceStateChange)e.Detail;
        var b = (ContainerInstanceStateChange)back.Detail;
        Assert.Equal(i with { Attributes = b.Attributes, RegisteredResources = b.RegisteredResources, RemainingResources = b.RemainingResources }, b);
        Assert.Equal(i.Attributes, b.Attributes);
        Assert.Equal(i.RemainingResources.Select(r => (r.Name, r.Type, r.IntegerValue, r.LongValue, r.DoubleValue, string.Join(",", r.StringSetValue))),
            b.RemainingResources.Select(r => (r.Name, r.Type, r.IntegerValue, r.LongValue, r.DoubleValue, string.Join(",", r.StringSetValue))));
        Assert.Equal(i.RegisteredResources.Count, b.RegisteredResources.Count);
        Assert.Equal(("DRAINING", e.Id), (b.Status, back.Id));
        Assert.Equal(json, EventJson.Write(back)); // nothing lost on the way
    }

    /// <summary>Every request type an action can carry, with a value for each of its members.</summary>
    public static TheoryData<string, string, ActionRequest> Requests => new()
    {
        { "ecs", "RunTask", new RunTaskRequest { Cluster = ClusterArn, TaskDefinition = "td:1", Count = 2, Group = "g", StartedBy = "reflex/x/1", LaunchType = "EC2",
            CapacityProviderStrategy = [new CapacityProviderStrategyItem { CapacityProvider = "cp", Weight = 1, Base = 0 }], PlatformVersion = "1.4.0", EnableExecuteCommand = true,
            NetworkConfiguration = new NetworkConfiguration { AwsvpcConfiguration = new AwsVpcConfiguration { Subnets = ["s"], SecurityGroups = ["sg"], AssignPublicIp = "DISABLED" } },
            Overrides = JsonDocument.Parse("{\"a\":1}").RootElement, PlacementConstraints = [new PlacementConstraint { Type = "memberOf", Expression = "x" }],
            PlacementStrategy = [new PlacementStrategy { Type = "spread", Field = "f" }], Tags = [new Tag("k", "v")], ClientToken = "t" } },
        { "ecs", "StopTask", new StopTaskRequest { Cluster = ClusterArn, Task = "t", Reason = "moved off draining i-1" } },
        { "ecs", "UpdateService", new UpdateServiceRequest { Cluster = ClusterArn, Service = "web", DesiredCount = 5 } },
        { "ecs", "UpdateService", new UpdateServiceRequest { Cluster = ClusterArn, Service = "web", PlacementConstraints = [new PlacementConstraint { Type = "distinctInstance" }], PlacementStrategy = [new PlacementStrategy { Type = "binpack", Field = "memory" }] } },
        { "reflex", "GiveUp", new GiveUpRequest { Cluster = ClusterArn, TaskArn = "t", Lineage = "l", Attempt = 5, MaxAttempts = 5, Rule = "r", Reason = "why" } },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void ReactionLines_ReadBackEveryActionTheBootstrapLogs(string service, string operation, ActionRequest request)
    {
        var logged = JsonDocument.Parse(ActionJson.ToJson(request)).RootElement;

        var back = ReactionLines.ReadRequest(service, operation, logged);

        Assert.Equal(request.GetType(), back.GetType());
        Assert.Equal(ActionJson.ToJson(request), ActionJson.ToJson(back));
    }

    [Fact]
    public void ReactionLines_KnowEveryRequestTypeTheCoreDefines()
    {
        var defined = typeof(ActionRequest).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ActionRequest)) && !t.IsAbstract).ToHashSet();
        var covered = Requests.Select(row => row[2].GetType()).ToHashSet();

        Assert.Equal(defined.OrderBy(t => t.Name), covered.OrderBy(t => t.Name));
    }

    [Fact]
    public void ReactionLines_NameTheFixForAnOperationTheyDoNotKnow()
    {
        var ex = Assert.Throws<NotSupportedException>(() => ReactionLines.ReadRequest("ecs", "DeleteService", JsonDocument.Parse("{}").RootElement));

        Assert.Contains("add the operation to ReactionLines.ReadRequest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReactionLines_ReadEveryOutcomeName()
    {
        Assert.Equal([Outcome.Acted, Outcome.Ignored, Outcome.Deferred, Outcome.Rejected, Outcome.Failed],
            new[] { "acted", "ignored", "deferred", "rejected", "failed" }.Select(ReactionLines.ReadOutcome));
    }
}
