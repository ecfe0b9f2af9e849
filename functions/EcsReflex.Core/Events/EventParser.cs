using System.Text.Json;
using static EcsReflex.Core.Events.JsonFields;

namespace EcsReflex.Core.Events;

/// <summary>An event whose source or detail-type EcsReflex does not handle. Not an error.</summary>
public sealed record UnsupportedDetail(string Source, string DetailType) : EventDetail
{
    public override DateTimeOffset? Timestamp => null;
}

/// <summary>
/// The one parser for the EventBridge events EcsReflex reads. Whatever the bytes, it either returns
/// an <see cref="EventEnvelope"/> (whose detail is <see cref="UnsupportedDetail"/> for sources and
/// detail types it does not handle) or throws <see cref="EventRejectedException"/>; nothing else.
/// </summary>
public static class EventParser
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static EventEnvelope Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException ex)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, "", $"not valid JSON: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, "", $"not valid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            return Parse(doc.RootElement);
        }
    }

    public static EventEnvelope Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    public static EventEnvelope Parse(JsonElement root)
    {
        try
        {
            return ParseEnvelope(root);
        }
        catch (EventRejectedException)
        {
            throw;
        }
        catch (InvalidOperationException ex)
        {
            // Strings with invalid UTF-8 are only detected when read.
            throw new EventRejectedException(RejectionKind.InvalidJson, "", $"not valid UTF-8 JSON text: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, "", $"unreadable event: {ex.Message}", ex);
        }
    }

    private static EventEnvelope ParseEnvelope(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new EventRejectedException(RejectionKind.NotAnEvent, "", $"expected an EventBridge event (a JSON object), got {Describe(root)}");
        if (!root.TryGetProperty("detail-type", out _) && !root.TryGetProperty("source", out _))
            throw new EventRejectedException(RejectionKind.NotAnEvent, "", "not an EventBridge event: it has neither \"source\" nor \"detail-type\"");

        var source = RequireString(root, "source", "");
        var detailType = RequireString(root, "detail-type", "");
        var id = RequireString(root, "id", "");
        var version = OptionalString(root, "version", "") ?? "0";
        var resources = Array(root, "resources", "", AsString);
        var time = OptionalTime(root, "time", "");
        var detailElement = RequireObject(root, "detail", "");

        EventDetail detail = (source, detailType) switch
        {
            (DetailTypes.EcsSource, DetailTypes.TaskStateChange) => ParseTask(detailElement),
            (DetailTypes.EcsSource, DetailTypes.ContainerInstanceStateChange) => ParseInstance(detailElement),
            (DetailTypes.EcsSource, DetailTypes.ServiceAction) => ParseServiceAction(detailElement, resources),
            (DetailTypes.EcsSource, DetailTypes.DeploymentStateChange) => ParseDeployment(detailElement, resources),
            (DetailTypes.CloudWatchSource, DetailTypes.AlarmStateChange) => ParseAlarm(detailElement, resources),
            _ => new UnsupportedDetail(source, detailType),
        };

        return new EventEnvelope
        {
            Version = version,
            Id = id,
            DetailType = detailType,
            Source = source,
            Account = OptionalString(root, "account", ""),
            Time = time,
            Region = OptionalString(root, "region", ""),
            Resources = resources,
            Detail = detail,
        };
    }

    private const string D = "detail";

    private static KeyValue ReadKeyValue(JsonElement e, string path)
    {
        AsObject(e, path);
        return new KeyValue(RequireString(e, "name", path), OptionalStringOrNumber(e, "value", path));
    }

    private static TaskStateChange ParseTask(JsonElement d)
    {
        JsonElement? overrides = null;
        if (Get(d, "overrides") is { } o)
        {
            if (o.ValueKind != JsonValueKind.Object) throw Wrong("detail.overrides", "an object", o);
            overrides = o.Clone();
        }
        return new TaskStateChange
        {
            ClusterArn = RequireString(d, "clusterArn", D),
            TaskArn = RequireString(d, "taskArn", D),
            LastStatus = RequireString(d, "lastStatus", D),
            TaskDefinitionArn = OptionalString(d, "taskDefinitionArn", D),
            Group = OptionalString(d, "group", D),
            StartedBy = OptionalString(d, "startedBy", D),
            DesiredStatus = OptionalString(d, "desiredStatus", D),
            StopCode = OptionalString(d, "stopCode", D),
            StoppedReason = OptionalString(d, "stoppedReason", D),
            LaunchType = OptionalString(d, "launchType", D),
            CapacityProviderName = OptionalString(d, "capacityProviderName", D),
            PlatformVersion = OptionalString(d, "platformVersion", D),
            AvailabilityZone = OptionalString(d, "availabilityZone", D),
            ContainerInstanceArn = OptionalString(d, "containerInstanceArn", D),
            Cpu = OptionalStringOrNumber(d, "cpu", D),
            Memory = OptionalStringOrNumber(d, "memory", D),
            EnableExecuteCommand = OptionalBool(d, "enableExecuteCommand", D),
            Version = OptionalLong(d, "version", D),
            Containers = Array(d, "containers", D, ReadContainer),
            Overrides = overrides,
            Attachments = Array(d, "attachments", D, ReadAttachment),
            Attributes = Array(d, "attributes", D, ReadKeyValue),
            CreatedAt = OptionalTime(d, "createdAt", D),
            StartedAt = OptionalTime(d, "startedAt", D),
            StoppingAt = OptionalTime(d, "stoppingAt", D),
            StoppedAt = OptionalTime(d, "stoppedAt", D),
            UpdatedAt = OptionalTime(d, "updatedAt", D),
        };
    }

    private static ContainerDetail ReadContainer(JsonElement c, string path)
    {
        AsObject(c, path);
        return new ContainerDetail
        {
            Name = OptionalString(c, "name", path),
            ContainerArn = OptionalString(c, "containerArn", path),
            LastStatus = OptionalString(c, "lastStatus", path),
            ExitCode = OptionalInt(c, "exitCode", path),
            Reason = OptionalString(c, "reason", path),
            Image = OptionalString(c, "image", path),
        };
    }

    private static Attachment ReadAttachment(JsonElement a, string path)
    {
        AsObject(a, path);
        return new Attachment
        {
            Id = OptionalString(a, "id", path),
            Type = OptionalString(a, "type", path),
            Status = OptionalString(a, "status", path),
            Details = Array(a, "details", path, ReadKeyValue),
        };
    }

    private static ContainerInstanceStateChange ParseInstance(JsonElement d) => new()
    {
        ClusterArn = RequireString(d, "clusterArn", D),
        ContainerInstanceArn = RequireString(d, "containerInstanceArn", D),
        Status = RequireString(d, "status", D),
        Ec2InstanceId = OptionalString(d, "ec2InstanceId", D),
        StatusReason = OptionalString(d, "statusReason", D),
        AgentConnected = OptionalBool(d, "agentConnected", D),
        Version = OptionalLong(d, "version", D),
        Attributes = Array(d, "attributes", D, ReadKeyValue),
        RegisteredResources = Array(d, "registeredResources", D, ReadResource),
        RemainingResources = Array(d, "remainingResources", D, ReadResource),
        RunningTasksCount = OptionalInt(d, "runningTasksCount", D),
        PendingTasksCount = OptionalInt(d, "pendingTasksCount", D),
        RegisteredAt = OptionalTime(d, "registeredAt", D),
        UpdatedAt = OptionalTime(d, "updatedAt", D),
    };

    public static InstanceResource ReadResource(JsonElement r, string path)
    {
        AsObject(r, path);
        return new InstanceResource
        {
            Name = RequireString(r, "name", path),
            Type = OptionalString(r, "type", path),
            IntegerValue = OptionalLong(r, "integerValue", path),
            LongValue = OptionalLong(r, "longValue", path),
            DoubleValue = OptionalDouble(r, "doubleValue", path),
            StringSetValue = Array(r, "stringSetValue", path, (e, p) => e.ValueKind == JsonValueKind.Number ? e.GetRawText() : AsString(e, p)),
        };
    }

    private static string? ServiceArnOf(IReadOnlyList<string> resources) =>
        resources.FirstOrDefault(r => r.Contains(":service/", StringComparison.Ordinal));

    private static ServiceAction ParseServiceAction(JsonElement d, IReadOnlyList<string> resources)
    {
        var serviceArn = ServiceArnOf(resources);
        return new ServiceAction
        {
            EventName = RequireString(d, "eventName", D),
            EventType = OptionalString(d, "eventType", D),
            ServiceArn = serviceArn,
            ClusterArn = OptionalString(d, "clusterArn", D) ?? (serviceArn is null ? null : Arns.ClusterArnOfService(serviceArn)),
            Reason = OptionalString(d, "reason", D),
            CapacityProviderArns = Array(d, "capacityProviderArns", D, AsString),
            ContainerInstanceArns = Array(d, "containerInstanceArns", D, AsString),
            DesiredCount = OptionalInt(d, "desiredCount", D),
            CreatedAt = OptionalTime(d, "createdAt", D),
        };
    }

    private static DeploymentStateChange ParseDeployment(JsonElement d, IReadOnlyList<string> resources)
    {
        var serviceArn = ServiceArnOf(resources);
        return new DeploymentStateChange
        {
            EventName = RequireString(d, "eventName", D),
            EventType = OptionalString(d, "eventType", D),
            DeploymentId = OptionalString(d, "deploymentId", D),
            ServiceArn = serviceArn,
            ClusterArn = OptionalString(d, "clusterArn", D) ?? (serviceArn is null ? null : Arns.ClusterArnOfService(serviceArn)),
            Reason = OptionalString(d, "reason", D),
            UpdatedAt = OptionalTime(d, "updatedAt", D),
        };
    }

    private static AlarmStateChange ParseAlarm(JsonElement d, IReadOnlyList<string> resources)
    {
        var state = ReadAlarmState(RequireObject(d, "state", D), "detail.state");
        var prev = OptionalObject(d, "previousState", D) is { } p ? ReadAlarmState(p, "detail.previousState") : null;
        var config = OptionalObject(d, "configuration", D) is { } c ? ReadAlarmConfiguration(c, "detail.configuration") : null;
        return new AlarmStateChange
        {
            AlarmName = RequireString(d, "alarmName", D),
            AlarmArn = resources.FirstOrDefault(r => r.Contains(":alarm:", StringComparison.Ordinal)),
            State = state,
            PreviousState = prev,
            Configuration = config,
        };
    }

    private static AlarmState ReadAlarmState(JsonElement s, string path)
    {
        var raw = OptionalString(s, "reasonData", path);
        return new AlarmState
        {
            Value = RequireString(s, "value", path),
            Reason = OptionalString(s, "reason", path),
            ReasonDataJson = raw,
            ReasonData = raw is null ? null : ParseReasonData(raw, Child(path, "reasonData")),
            Timestamp = OptionalTime(s, "timestamp", path),
            ActionsSuppressedBy = OptionalString(s, "actionsSuppressedBy", path),
        };
    }

    /// <summary>
    /// <c>reasonData</c> is a JSON document inside a string. When it is not JSON, the alarm is
    /// treated as having no datapoint (CloudWatch documents the field as informational); when it is
    /// JSON with members of the wrong type, that is a rejection like any other field.
    /// </summary>
    private static AlarmReasonData? ParseReasonData(string raw, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(raw, Options);
        }
        catch (JsonException)
        {
            return null;
        }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) return null;
            return new AlarmReasonData
            {
                RecentDatapoints = Array(r, "recentDatapoints", path, AsDouble),
                Threshold = OptionalDouble(r, "threshold", path),
                Statistic = OptionalString(r, "statistic", path),
                Period = OptionalInt(r, "period", path),
                TriggeringAlarmArns = Array(r, "triggeringAlarms", path, (t, p) =>
                    t.ValueKind == JsonValueKind.Object ? OptionalString(t, "arn", p) ?? "" : AsString(t, p)),
            };
        }
    }

    private static AlarmConfiguration ReadAlarmConfiguration(JsonElement c, string path) => new()
    {
        Description = OptionalString(c, "description", path),
        AlarmRule = OptionalString(c, "alarmRule", path),
        Metrics = Array(c, "metrics", path, ReadAlarmMetric),
    };

    private static AlarmMetric ReadAlarmMetric(JsonElement m, string path)
    {
        AsObject(m, path);
        var stat = OptionalObject(m, "metricStat", path);
        var sp = Child(path, "metricStat");
        var metric = stat is { } s ? OptionalObject(s, "metric", sp) : null;
        var mp = Child(sp, "metric");
        var dims = new Dictionary<string, string>();
        if (metric is { } mm && OptionalObject(mm, "dimensions", mp) is { } dd)
            foreach (var prop in dd.EnumerateObject())
                dims[prop.Name] = prop.Value.ValueKind == JsonValueKind.String ? prop.Value.GetString()! : prop.Value.GetRawText();
        return new AlarmMetric
        {
            Id = RequireString(m, "id", path),
            Expression = OptionalString(m, "expression", path),
            Label = OptionalString(m, "label", path),
            ReturnData = OptionalBool(m, "returnData", path),
            Namespace = metric is { } a ? OptionalString(a, "namespace", mp) : null,
            MetricName = metric is { } b ? OptionalString(b, "name", mp) : null,
            Dimensions = dims,
            Period = stat is { } s2 ? OptionalInt(s2, "period", sp) : null,
            Stat = stat is { } s3 ? OptionalString(s3, "stat", sp) : null,
        };
    }
}
