using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

/// <summary>One test per sample event in events/: it parses, to the right type, with the fields that matter.</summary>
public class EventParserSampleTests
{
    private static EventEnvelope Parse(string file) => EventParser.Parse(Repository.Event(file));

    [Fact]
    public void EverySampleEvent_Parses_AndNoneIsUnsupported()
    {
        var files = Repository.SampleEventFiles().ToList();
        Assert.True(files.Count >= 22, $"expected at least 22 sample events, found {files.Count}");
        foreach (var f in files)
        {
            var e = EventParser.Parse(File.ReadAllBytes(f));
            Assert.IsNotType<UnsupportedDetail>(e.Detail);
            Assert.NotNull(e.EffectiveTime);
        }
    }

    [Fact]
    public void EveryScenarioLine_ParsesAsASupportedEvent()
    {
        foreach (var f in Directory.EnumerateFiles(Repository.Path("events", "scenarios"), "*.jsonl"))
        foreach (var line in File.ReadLines(f).Where(l => l.Length > 0))
            Assert.IsNotType<UnsupportedDetail>(EventParser.Parse(line).Detail);
    }

    [Theory]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "EssentialContainerExited", "worker", 1)]
    [InlineData("ecs-task-stopped-essential-exit-0.json", "EssentialContainerExited", "worker", 0)]
    [InlineData("ecs-task-stopped-out-of-memory.json", "EssentialContainerExited", "worker", 137)]
    [InlineData("ecs-task-stopped-spot-interruption.json", "SpotInterruption", "worker", 143)]
    [InlineData("ecs-task-stopped-user-initiated.json", "UserInitiated", "worker", 143)]
    public void StoppedTask_CarriesStopCodeAndExitCode(string file, string stopCode, string container, int exitCode)
    {
        var t = Assert.IsType<TaskStateChange>(Parse(file).Detail);
        Assert.Equal("STOPPED", t.LastStatus);
        Assert.Equal(stopCode, t.StopCode);
        var c = Assert.Single(t.Containers, c => c.Name == container);
        Assert.Equal(exitCode, c.ExitCode);
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:cluster/prod", t.ClusterArn);
        Assert.NotNull(t.StoppedAt);
        Assert.NotNull(t.Version);
    }

    [Fact]
    public void OutOfMemory_CarriesTheContainerReason()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-stopped-out-of-memory.json").Detail);
        Assert.Contains("OutOfMemoryError", t.Containers[0].Reason);
    }

    [Fact]
    public void FailedToStart_HasNoExitCode_AndAReason()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-stopped-cannot-pull-container.json").Detail);
        Assert.Equal("TaskFailedToStart", t.StopCode);
        Assert.Null(t.Containers[0].ExitCode);
        Assert.Contains("CannotPullContainerError", t.StoppedReason);
    }

    [Fact]
    public void TerminationNotice_IsStoppedWithoutExitCode()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-stopped-termination-notice.json").Detail);
        Assert.Equal("TerminationNotice", t.StopCode);
        Assert.All(t.Containers, c => Assert.Null(c.ExitCode));
    }

    [Fact]
    public void ServiceTask_HasServiceGroupAndStartedBy()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-stopped-service-scheduler-initiated.json").Detail);
        Assert.StartsWith("service:", t.Group);
        Assert.StartsWith("ecs-svc/", t.StartedBy);
    }

    [Fact]
    public void FargateTask_HasEniAttachmentOverridesAndNoInstance()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-stopped-fargate-report-exit-2.json").Detail);
        Assert.Equal("FARGATE", t.LaunchType);
        Assert.Null(t.ContainerInstanceArn);
        var eni = Assert.Single(t.Attachments, a => a.Type == "eni");
        Assert.Contains(eni.Details, d => d.Name == "subnetId");
        Assert.NotNull(t.Overrides);
        Assert.True(t.Overrides!.Value.TryGetProperty("containerOverrides", out _));
        Assert.NotNull(t.PlatformVersion);
        Assert.Equal(2, t.Containers.Single(c => c.Name == "report").ExitCode);
    }

    [Fact]
    public void RunningTask_IsRunning()
    {
        var t = Assert.IsType<TaskStateChange>(Parse("ecs-task-running-worker.json").Detail);
        Assert.Equal("RUNNING", t.LastStatus);
        Assert.NotNull(t.ContainerInstanceArn);
    }

    [Theory]
    [InlineData("ecs-container-instance-active.json", "ACTIVE", true)]
    [InlineData("ecs-container-instance-agent-disconnected.json", "ACTIVE", false)]
    [InlineData("ecs-container-instance-draining.json", "DRAINING", true)]
    public void ContainerInstance_CarriesStatusAgentAndResources(string file, string status, bool agent)
    {
        var i = Assert.IsType<ContainerInstanceStateChange>(Parse(file).Detail);
        Assert.Equal(status, i.Status);
        Assert.Equal(agent, i.AgentConnected);
        Assert.NotNull(i.Version);
        Assert.StartsWith("i-", i.Ec2InstanceId);
        Assert.Contains(i.RemainingResources, r => r.Name == "CPU" && r.IntegerValue is not null);
        Assert.Contains(i.RemainingResources, r => r.Name == "MEMORY" && r.IntegerValue is not null);
        Assert.Contains(i.Attributes, a => a.Name == "ecs.availability-zone");
    }

    [Fact]
    public void InstanceVersions_GrowInTheOrderOfTheSamples()
    {
        long V(string f) => Assert.IsType<ContainerInstanceStateChange>(Parse(f).Detail).Version!.Value;
        Assert.True(V("ecs-container-instance-active.json") < V("ecs-container-instance-agent-disconnected.json"));
        Assert.True(V("ecs-container-instance-agent-disconnected.json") < V("ecs-container-instance-draining.json"));
    }

    [Theory]
    [InlineData("ecs-service-action-task-placement-failure-memory.json", "SERVICE_TASK_PLACEMENT_FAILURE", "RESOURCE:MEMORY")]
    [InlineData("ecs-service-action-steady-state.json", "SERVICE_STEADY_STATE", null)]
    public void ServiceAction_CarriesEventNameReasonAndService(string file, string name, string? reason)
    {
        var s = Assert.IsType<ServiceAction>(Parse(file).Detail);
        Assert.Equal(name, s.EventName);
        Assert.Equal(reason, s.Reason);
        Assert.EndsWith("service/prod/web", s.ServiceArn);
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:cluster/prod", s.ClusterArn);
    }

    [Theory]
    [InlineData("ecs-deployment-in-progress.json", "SERVICE_DEPLOYMENT_IN_PROGRESS")]
    [InlineData("ecs-deployment-failed.json", "SERVICE_DEPLOYMENT_FAILED")]
    public void Deployment_DerivesTheClusterFromTheServiceArn(string file, string name)
    {
        var d = Assert.IsType<DeploymentStateChange>(Parse(file).Detail);
        Assert.Equal(name, d.EventName);
        Assert.StartsWith("ecs-svc/", d.DeploymentId);
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:cluster/prod", d.ClusterArn);
        Assert.NotNull(d.UpdatedAt);
    }

    [Fact]
    public void SingleMetricAlarm_ParsesReasonDataDatapointsAndThreshold()
    {
        var a = Assert.IsType<AlarmStateChange>(Parse("cloudwatch-alarm-alarm-web-cpu-high.json").Detail);
        Assert.Equal("web-cpu-high", a.AlarmName);
        Assert.Equal("ALARM", a.State.Value);
        Assert.Equal("OK", a.PreviousState!.Value);
        Assert.Equal(87.5, a.State.ReasonData!.NewestDatapoint);
        Assert.Equal(70, a.State.ReasonData.Threshold);
        Assert.Equal(AlarmKind.SingleMetric, a.Configuration!.Kind);
        Assert.Equal("CPUUtilization", a.Configuration.Metrics[0].MetricName);
        Assert.Equal("web", a.Configuration.Metrics[0].Dimensions["ServiceName"]);
        Assert.EndsWith(":alarm:web-cpu-high", a.AlarmArn);
        Assert.Equal(TimeSpan.Zero, a.State.Timestamp!.Value.Offset);
    }

    [Fact]
    public void MetricMathAlarm_IsRecognised()
    {
        var a = Assert.IsType<AlarmStateChange>(Parse("cloudwatch-alarm-alarm-web-latency-math.json").Detail);
        Assert.Equal(AlarmKind.MetricMath, a.Configuration!.Kind);
        Assert.Contains(a.Configuration.Metrics, m => m.Expression is not null);
    }

    [Fact]
    public void CompositeAlarm_HasRuleAndTriggeringAlarms()
    {
        var a = Assert.IsType<AlarmStateChange>(Parse("cloudwatch-alarm-alarm-web-composite.json").Detail);
        Assert.Equal(AlarmKind.Composite, a.Configuration!.Kind);
        Assert.NotEmpty(a.State.ReasonData!.TriggeringAlarmArns);
        Assert.Null(a.State.ReasonData.NewestDatapoint);
    }

    [Theory]
    [InlineData("cloudwatch-alarm-ok-web-cpu-low.json", "OK")]
    [InlineData("cloudwatch-alarm-insufficient-data-web-cpu-high.json", "INSUFFICIENT_DATA")]
    public void AlarmStates_AreRead(string file, string value) =>
        Assert.Equal(value, Assert.IsType<AlarmStateChange>(Parse(file).Detail).State.Value);
}
