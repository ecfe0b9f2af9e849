using System.Text.Json.Nodes;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

/// <summary>
/// Every field is read in the JSON type AWS writes it in, and nothing else: a value of another type is
/// <c>wrong-type</c> with its path, never converted (12345 is not a time, "5" is not a number, "true" is not true).
/// </summary>
public class EventParserTypeTests
{
    private static JsonObject Sample(string file) => JsonNode.Parse(Repository.Event(file))!.AsObject();

    private static EventRejectedException Reject(JsonObject e) =>
        Assert.Throws<EventRejectedException>(() => EventParser.Parse(e.ToJsonString()));

    private static void AssertWrongType(JsonObject e, string path, string expectedPart)
    {
        var ex = Reject(e);
        Assert.Equal(RejectionKind.WrongType, ex.Kind);
        Assert.Equal(path, ex.Path);
        Assert.Contains(expectedPart, ex.Reason);
    }

    private const string Task = "ecs-task-stopped-essential-exit-1.json";
    private const string Instance = "ecs-container-instance-active.json";
    private const string Alarm = "cloudwatch-alarm-alarm-web-cpu-high.json";
    private const string Composite = "cloudwatch-alarm-alarm-web-composite.json";
    private const string ServiceAction = "ecs-service-action-steady-state.json";
    private const string Math = "cloudwatch-alarm-alarm-web-latency-math.json";

    // ---- timestamps: EventBridge writes ISO 8601 strings only ----

    [Fact]
    public void EnvelopeTimeAsANumber_IsWrongType_NotReadAs1970()
    {
        var e = Sample(Task);
        e["time"] = 12345;
        AssertWrongType(e, "time", "an ISO 8601 timestamp string");
        Assert.Contains("got 12345", Reject(e).Reason);
    }

    [Theory]
    [InlineData(Task, "stoppedAt", "detail.stoppedAt")]
    [InlineData(Task, "createdAt", "detail.createdAt")]
    [InlineData(Instance, "updatedAt", "detail.updatedAt")]
    [InlineData(ServiceAction, "createdAt", "detail.createdAt")]
    public void DetailTimestampAsEpochSeconds_IsWrongType(string file, string field, string path)
    {
        var e = Sample(file);
        e["detail"]![field] = 1772443211.5;
        AssertWrongType(e, path, "an ISO 8601 timestamp string");
    }

    [Fact]
    public void AlarmStateTimestampAsANumber_IsWrongType()
    {
        var e = Sample(Alarm);
        e["detail"]!["state"]!["timestamp"] = 1772443211;
        AssertWrongType(e, "detail.state.timestamp", "an ISO 8601 timestamp string");
    }

    [Fact]
    public void TimestampsAsAwsWritesThem_StillRead_ZAndPlus0000AndNoFraction()
    {
        var e = Sample(Alarm);
        e["time"] = "2026-03-02T11:26:05Z";
        e["detail"]!["state"]!["timestamp"] = "2026-03-02T11:26:04.517+0000";
        var parsed = EventParser.Parse(e.ToJsonString());
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 11, 26, 5, TimeSpan.Zero), parsed.Time);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 11, 26, 4, 517, TimeSpan.Zero), ((AlarmStateChange)parsed.Detail).State.Timestamp);
    }

    // ---- whole numbers: numbers, never numbers in quotes ----

    [Theory]
    [InlineData(Task, "detail.version")]
    [InlineData(Task, "detail.containers[0].exitCode")]
    [InlineData(Instance, "detail.runningTasksCount")]
    [InlineData(Instance, "detail.version")]
    [InlineData(Instance, "detail.registeredResources[0].integerValue")]
    public void WholeNumberInQuotes_IsWrongType(string file, string path)
    {
        var e = Sample(file);
        Set(e, path, "5");
        AssertWrongType(e, path, "a number in quotes is a string");
    }

    [Fact]
    public void DesiredCountInQuotes_IsWrongType()
    {
        var e = Sample(ServiceAction);
        e["detail"]!["desiredCount"] = "3";
        AssertWrongType(e, "detail.desiredCount", "a number");
    }

    [Fact]
    public void ReasonDataThresholdInQuotes_IsWrongType()
    {
        var e = Sample(Alarm);
        e["detail"]!["state"]!["reasonData"] = """{"recentDatapoints":[74.9],"threshold":"70.0","period":60}""";
        AssertWrongType(e, "detail.state.reasonData.threshold", "a number");
    }

    [Fact]
    public void ReasonDataDatapointInQuotes_IsWrongType()
    {
        var e = Sample(Alarm);
        e["detail"]!["state"]!["reasonData"] = """{"recentDatapoints":[74.9,"81.3"],"threshold":70.0}""";
        AssertWrongType(e, "detail.state.reasonData.recentDatapoints[1]", "a number");
    }

    [Fact]
    public void MetricPeriodInQuotes_IsWrongType()
    {
        var e = Sample(Math);
        var metric = e["detail"]!["configuration"]!["metrics"]!.AsArray().First(m => m!["metricStat"] is not null)!;
        var index = e["detail"]!["configuration"]!["metrics"]!.AsArray().IndexOf(metric);
        metric["metricStat"]!["period"] = "60";
        AssertWrongType(e, $"detail.configuration.metrics[{index}].metricStat.period", "a number");
    }

    // ---- booleans: true and false, never "true" ----

    [Fact]
    public void EnableExecuteCommandInQuotes_IsWrongType()
    {
        var e = Sample(Task);
        e["detail"]!["enableExecuteCommand"] = "true";
        AssertWrongType(e, "detail.enableExecuteCommand", "true or false (without quotes)");
    }

    [Fact]
    public void AgentConnectedInQuotes_IsWrongType()
    {
        var e = Sample(Instance);
        e["detail"]!["agentConnected"] = "false";
        AssertWrongType(e, "detail.agentConnected", "true or false");
    }

    [Fact]
    public void ReturnDataInQuotes_IsWrongType()
    {
        var e = Sample(Math);
        e["detail"]!["configuration"]!["metrics"]![0]!["returnData"] = "true";
        AssertWrongType(e, "detail.configuration.metrics[0].returnData", "true or false");
    }

    // ---- strings: AWS writes cpu, memory, attribute and dimension values as strings ----

    [Theory]
    [InlineData("cpu")]
    [InlineData("memory")]
    public void TaskCpuOrMemoryAsANumber_IsWrongType(string field)
    {
        var e = Sample(Task);
        e["detail"]![field] = 512;
        AssertWrongType(e, $"detail.{field}", "a string");
    }

    [Fact]
    public void TaskCpuAsAwsWritesIt_AString_IsRead()
    {
        var e = Sample(Task);
        e["detail"]!["cpu"] = "256";
        Assert.Equal("256", ((TaskStateChange)EventParser.Parse(e.ToJsonString()).Detail).Cpu);
    }

    [Fact]
    public void AttributeValueAsANumber_IsWrongType()
    {
        var e = Sample(Instance);
        e["detail"]!["attributes"]![0]!["value"] = 1;
        AssertWrongType(e, "detail.attributes[0].value", "a string");
    }

    [Fact]
    public void StringSetItemAsANumber_IsWrongType()
    {
        var e = Sample(Instance);
        var resources = e["detail"]!["registeredResources"]!.AsArray();
        var ports = resources.First(r => r!["stringSetValue"] is not null)!;
        ports["stringSetValue"] = new JsonArray(22, "2376");
        AssertWrongType(e, $"detail.registeredResources[{resources.IndexOf(ports)}].stringSetValue[0]", "a string");
    }

    [Fact]
    public void MetricDimensionValueAsANumber_IsWrongType()
    {
        var e = Sample(Math);
        var metrics = e["detail"]!["configuration"]!["metrics"]!.AsArray();
        var metric = metrics.First(m => m!["metricStat"]?["metric"]?["dimensions"] is JsonObject { Count: > 0 })!;
        var dimensions = metric["metricStat"]!["metric"]!["dimensions"]!.AsObject();
        var key = dimensions.First().Key;
        dimensions[key] = 7;
        AssertWrongType(e, $"detail.configuration.metrics[{metrics.IndexOf(metric)}].metricStat.metric.dimensions.{key}", "a string");
    }

    [Fact]
    public void TaskArnAsANumber_IsWrongType()
    {
        var e = Sample(Task);
        e["detail"]!["taskArn"] = 42;
        AssertWrongType(e, "detail.taskArn", "a string");
    }

    // ---- objects and arrays ----

    [Fact]
    public void TriggeringAlarmAsAString_IsWrongType_CloudWatchWritesObjectsWithAnArn()
    {
        var e = Sample(Composite);
        e["detail"]!["state"]!["reasonData"] = """{"triggeringAlarms":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high"]}""";
        AssertWrongType(e, "detail.state.reasonData.triggeringAlarms[0]", "an object");
    }

    [Fact]
    public void ResourcesAsAString_IsWrongType()
    {
        var e = Sample(Task);
        e["resources"] = "arn:aws:ecs:us-east-1:123456789012:task/prod/x";
        AssertWrongType(e, "resources", "an array");
    }

    [Fact]
    public void ContainersItemAsAString_IsWrongType()
    {
        var e = Sample(Task);
        e["detail"]!["containers"] = new JsonArray("worker");
        AssertWrongType(e, "detail.containers[0]", "an object");
    }

    /// <summary>Sets a value at a path like <c>detail.containers[0].exitCode</c>.</summary>
    private static void Set(JsonObject root, string path, JsonNode value)
    {
        JsonNode node = root;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var bracket = part.IndexOf('[');
            var name = bracket < 0 ? part : part[..bracket];
            var last = i == parts.Length - 1;
            if (bracket < 0)
            {
                if (last) { node[name] = value; return; }
                node = node[name]!;
            }
            else
            {
                var index = int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
                if (last) { node[name]![index] = value; return; }
                node = node[name]![index]!;
            }
        }
    }
}
