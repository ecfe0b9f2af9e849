using System.Text.Json;
using System.Xml.Linq;
using EcsReflex.Aws.AutoScaling;
using EcsReflex.Aws.CloudWatch;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Tests.Support;

namespace EcsReflex.Aws.Tests;

/// <summary>Answers parsed by the project's types: the official models' examples, and recorded-shape fixtures full of members EcsReflex ignores.</summary>
public sealed class ResponseParsingTests
{
    private static JsonElement Examples(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.ServiceModel(file)));
        return doc.RootElement.GetProperty("examples").Clone();
    }

    private static int Count(JsonElement output, string member) =>
        output.TryGetProperty(member, out var list) ? list.GetArrayLength() : 0;

    /// <summary>Operation → (parse an example's output, the number of items the project read, the list member it came from).</summary>
    public static TheoryData<string> EcsOperations => ["RunTask", "UpdateService", "DescribeTasks", "ListTasks", "DescribeServices", "ListContainerInstances", "DescribeContainerInstances"];

    [Theory]
    [MemberData(nameof(EcsOperations))]
    public void EcsModelExamples_ParseWithEveryListItem(string operation)
    {
        var examples = Examples("ecs-2014-11-13.examples.json").GetProperty(operation).EnumerateArray().ToList();
        Assert.NotEmpty(examples);
        var ctx = EcsJsonContext.Default;
        foreach (var example in examples)
        {
            var output = example.GetProperty("output");
            var json = output.GetRawText();
            switch (operation)
            {
                case "RunTask":
                    var run = JsonSerializer.Deserialize(json, ctx.RunTaskResponse)!;
                    Assert.Equal(Count(output, "tasks"), run.Tasks.Count);
                    Assert.All(run.Tasks, t => Assert.StartsWith("arn:aws:ecs:", t.TaskArn));
                    break;
                case "UpdateService":
                    var update = JsonSerializer.Deserialize(json, ctx.UpdateServiceResponse)!;
                    if (output.TryGetProperty("service", out var service))
                        Assert.Equal(service.GetProperty("serviceName").GetString(), update.Service!.ServiceName);
                    else Assert.Null(update.Service); // the examples leave the answer out
                    break;
                case "DescribeTasks":
                    var tasks = JsonSerializer.Deserialize(json, ctx.DescribeTasksResponse)!;
                    Assert.Equal(Count(output, "tasks"), tasks.Tasks.Count);
                    Assert.Equal(output.GetProperty("tasks")[0].GetProperty("containers").GetArrayLength(), tasks.Tasks[0].Containers.Count);
                    break;
                case "ListTasks":
                    Assert.Equal(Count(output, "taskArns"), JsonSerializer.Deserialize(json, ctx.ListTasksResponse)!.TaskArns.Count);
                    break;
                case "DescribeServices":
                    var services = JsonSerializer.Deserialize(json, ctx.DescribeServicesResponse)!;
                    Assert.Equal(Count(output, "services"), services.Services.Count);
                    Assert.Equal(output.GetProperty("services")[0].GetProperty("desiredCount").GetInt32(), services.Services[0].DesiredCount);
                    break;
                case "ListContainerInstances":
                    Assert.Equal(Count(output, "containerInstanceArns"), JsonSerializer.Deserialize(json, ctx.ListContainerInstancesResponse)!.ContainerInstanceArns.Count);
                    break;
                case "DescribeContainerInstances":
                    var instances = JsonSerializer.Deserialize(json, ctx.DescribeContainerInstancesResponse)!;
                    Assert.Equal(Count(output, "containerInstances"), instances.ContainerInstances.Count);
                    Assert.Equal(output.GetProperty("containerInstances")[0].GetProperty("ec2InstanceId").GetString(), instances.ContainerInstances[0].Ec2InstanceId);
                    Assert.Equal(output.GetProperty("containerInstances")[0].GetProperty("remainingResources").GetArrayLength(), instances.ContainerInstances[0].RemainingResources.Count);
                    break;
            }
        }
    }

    [Fact]
    public void AutoScalingModelExamples_Parse()
    {
        var examples = Examples("application-autoscaling-2016-02-06.examples.json");
        var ctx = AutoScalingJsonContext.Default;
        foreach (var e in examples.GetProperty("DescribeScalableTargets").EnumerateArray())
        {
            var output = e.GetProperty("output");
            var r = JsonSerializer.Deserialize(output.GetRawText(), ctx.DescribeScalableTargetsResponse)!;
            Assert.Equal(Count(output, "ScalableTargets"), r.ScalableTargets.Count);
            Assert.Equal(output.GetProperty("ScalableTargets")[0].GetProperty("MaxCapacity").GetInt32(), r.ScalableTargets[0].MaxCapacity);
        }
        foreach (var e in examples.GetProperty("DescribeScalingPolicies").EnumerateArray())
        {
            var output = e.GetProperty("output");
            var r = JsonSerializer.Deserialize(output.GetRawText(), ctx.DescribeScalingPoliciesResponse)!;
            Assert.Equal(Count(output, "ScalingPolicies"), r.ScalingPolicies.Count);
            Assert.Equal(output.GetProperty("ScalingPolicies")[0].GetProperty("Alarms").GetArrayLength(), r.ScalingPolicies[0].Alarms.Count);
        }
    }

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [Fact]
    public void DescribeTasks_RecordedShapeWithMembersTheProjectIgnores_ParsesWhatItReads()
    {
        var r = JsonSerializer.Deserialize(Fixture("ecs-describe-tasks.json"), EcsJsonContext.Default.DescribeTasksResponse)!;

        var t = Assert.Single(r.Tasks);
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:task/prod/5f9900fd1a4b4cbd9e6b1c2d3e4f5a6b", t.TaskArn);
        Assert.Equal("FARGATE_SPOT", t.CapacityProviderName);
        Assert.Equal(5, t.Version);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1733911201004), t.StartedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1733911320), t.StoppedAt);
        Assert.Equal(137, t.Containers[0].ExitCode);
        Assert.Equal("ElasticNetworkInterface", t.Attachments[0].Type);
        Assert.Equal("subnet-0a1b2c3d4e5f60001", t.Attachments[0].Details[0].Value);
        Assert.Equal("run", t.Overrides!.Value.GetProperty("containerOverrides")[0].GetProperty("command")[0].GetString());
        Assert.Equal("reflex:lineage", t.Tags[0].Key);
        Assert.Equal("MISSING", Assert.Single(r.Failures).Reason);

        var observed = EcsObserved.ToObserved(t);
        Assert.Equal("family:worker", observed.Group);
        Assert.Equal(t.StartedAt, observed.StartedAt);
    }

    [Fact]
    public void DescribeContainerInstances_RecordedShape_ParsesResourcesAttributesAndTime()
    {
        var r = JsonSerializer.Deserialize(Fixture("ecs-describe-container-instances.json"), EcsJsonContext.Default.DescribeContainerInstancesResponse)!;

        var c = Assert.Single(r.ContainerInstances);
        Assert.Equal("i-0abc1234def567890", c.Ec2InstanceId);
        Assert.Equal("DRAINING", c.Status);
        Assert.Equal(1536, c.RemainingResources[0].IntegerValue);
        Assert.Equal(5, c.RemainingResources[2].StringSetValue.Count);
        Assert.Null(c.Attributes[2].Value);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1733900000123), c.RegisteredAt);

        var observed = EcsObserved.ToObserved(c);
        Assert.Equal("us-east-1a", observed.Attribute("ecs.availability-zone"));
        Assert.Equal(3, observed.RunningTasksCount);
    }

    [Fact]
    public void DescribeScalingPolicies_RecordedShape_ReadsTargetTrackingAndStepPolicies()
    {
        var r = JsonSerializer.Deserialize(Fixture("aas-describe-scaling-policies.json"), AutoScalingJsonContext.Default.DescribeScalingPoliciesResponse)!;

        Assert.Equal(2, r.ScalingPolicies.Count);
        Assert.Equal(60.0, r.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration!.TargetValue);
        Assert.Equal("ECSServiceAverageCPUUtilization", r.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration!.PredefinedMetricSpecification!.PredefinedMetricType);
        var steps = r.ScalingPolicies[1].StepScalingPolicyConfiguration!.StepAdjustments;
        Assert.Equal(2, steps.Count);
        Assert.Null(steps[1].MetricIntervalUpperBound);
        Assert.Equal(3, steps[1].ScalingAdjustment);
        Assert.Empty(r.ScalingPolicies[1].Alarms);
    }

    [Fact]
    public void DescribeAlarms_RecordedShape_ReadsMetricMathAndCompositeAlarms()
    {
        var r = CloudWatchClient.ParseDescribeAlarms(XElement.Parse(Fixture("cloudwatch-describe-alarms.xml")));

        Assert.Equal(2, r.MetricAlarms.Count);
        var cpu = r.MetricAlarms[0];
        Assert.Equal("web-cpu-high", cpu.AlarmName);
        Assert.Equal(80.0, cpu.Threshold);
        Assert.Equal(["ClusterName", "ServiceName"], cpu.Dimensions.Select(d => d.Name));
        Assert.Equal(["arn:aws:sns:us-east-1:123456789012:ops"], cpu.AlarmActions);
        Assert.Equal(new DateTimeOffset(2024, 12, 11, 10, 6, 12, 345, TimeSpan.Zero), cpu.StateUpdatedTimestamp);
        var math = r.MetricAlarms[1];
        Assert.Null(math.MetricName);
        Assert.Equal("m1 / 1000", math.Metrics[0].Expression);
        Assert.Equal("p99", math.Metrics[1].MetricStat!.Stat);
        Assert.Equal("app/web/123", math.Metrics[1].MetricStat!.Metric.Dimensions[0].Value);
        var composite = Assert.Single(r.CompositeAlarms);
        Assert.Equal("ALARM(\"web-cpu-high\") OR ALARM(\"web-latency-math\")", composite.AlarmRule);
        Assert.Equal("page-2", r.NextToken);
        Assert.Equal("f3b1c2d4-0000-4444-8888-123456789abc", r.RequestId);
    }

    public static TheoryData<string> EmptyAnswers => ["{}", """{"unknown":1}"""];

    [Theory]
    [MemberData(nameof(EmptyAnswers))]
    public void Answers_WithoutTheirLists_ReadAsEmptyLists(string json)
    {
        Assert.Empty(JsonSerializer.Deserialize(json, EcsJsonContext.Default.DescribeTasksResponse)!.Tasks);
        Assert.Empty(JsonSerializer.Deserialize(json, EcsJsonContext.Default.RunTaskResponse)!.Failures);
        Assert.Empty(JsonSerializer.Deserialize(json, AutoScalingJsonContext.Default.DescribeScalableTargetsResponse)!.ScalableTargets);
    }
}
