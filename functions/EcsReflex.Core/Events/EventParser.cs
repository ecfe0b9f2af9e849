using System.Runtime.ExceptionServices;
using System.Text.Json;
using static EcsReflex.Core.Events.JsonReading;

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
/// One forward pass with <see cref="Utf8JsonReader"/> (the detail is read once its type is known):
/// the replay's throughput depends on it.
/// </summary>
public static class EventParser
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static EventEnvelope Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    public static EventEnvelope Parse(ReadOnlyMemory<byte> utf8) => Parse(utf8, null);

    /// <summary>Parses with a <see cref="StringPool"/> for the values that repeat across a stream.</summary>
    public static EventEnvelope Parse(ReadOnlyMemory<byte> utf8, StringPool? pool) => Parse(utf8, pool, singlePass: true);

    /// <summary><paramref name="singlePass"/> false always reads the detail a second time (tests compare the two ways).</summary>
    internal static EventEnvelope Parse(ReadOnlyMemory<byte> utf8, StringPool? pool, bool singlePass)
    {
        // A UTF-8 byte order mark is not JSON, but editors write one; it says nothing about the event.
        utf8 = JsonText.WithoutBom(utf8);
        try
        {
            return ParseEnvelope(utf8.Span, pool, singlePass);
        }
        catch (EventRejectedException)
        {
            throw;
        }
        catch (JsonException ex)
        {
            var syntax = JsonText.Describe(ex, utf8.Span);
            throw new EventRejectedException(RejectionKind.InvalidJson, "",
                syntax is null ? $"not valid JSON: {ex.Message}" : $"{syntax.Message} (line {syntax.Line}, column {syntax.Column})", ex) { Syntax = syntax };
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

    /// <summary>Parses an event already held as a <see cref="JsonElement"/>.</summary>
    public static EventEnvelope Parse(JsonElement root) => Parse(JsonSerializer.SerializeToUtf8Bytes(root, JsonElementContext.Default.JsonElement));

    private static EventEnvelope ParseEnvelope(ReadOnlySpan<byte> bytes, StringPool? pool, bool singlePass)
    {
        var r = new Utf8JsonReader(bytes, Options);
        if (!r.Read()) throw new EventRejectedException(RejectionKind.InvalidJson, "", "not valid JSON: the input is empty");
        if (r.TokenType != JsonTokenType.StartObject)
        {
            var what = Describe(ref r);
            if (r.TokenType is JsonTokenType.StartArray) r.Skip();
            while (r.Read()) { } // trailing garbage is a JSON error, reported as such
            throw new EventRejectedException(RejectionKind.NotAnEvent, "", $"expected an EventBridge event (a JSON object), got {what}");
        }

        string? version = null, id = null, detailType = null, source = null, account = null, region = null;
        DateTimeOffset? time = null;
        IReadOnlyList<string> resources = [];
        int detailStart = -1, detailEnd = -1;
        var sawSourceOrType = false;
        EventRejectedException? detailProblem = null;
        // The detail is read in the same pass when source, detail-type (and resources, which some details
        // need) come before it, as EventBridge writes them; otherwise it is read again once they are known.
        // A problem found in the detail is kept and raised where the second reading would have raised it,
        // so both ways reject the same input with the same error.
        EventDetail? inline = null;
        ExceptionDispatchInfo? inlineProblem = null;
        var sawResources = false;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "version": version = Pooled(ref r, pool, "version"); break;
                case "id": id = String(ref r, "id"); break;
                case "detail-type": detailType = Pooled(ref r, pool, "detail-type"); sawSourceOrType = true; inline = null; inlineProblem = null; break;
                case "source": source = Pooled(ref r, pool, "source"); sawSourceOrType = true; inline = null; inlineProblem = null; break;
                case "account": account = Pooled(ref r, pool, "account"); break;
                case "region": region = Pooled(ref r, pool, "region"); break;
                case "time": time = Time(ref r, "time"); break;
                case "resources": resources = Array(ref r, "resources", StringItem); sawResources = true; inline = null; inlineProblem = null; break;
                case "detail":
                    inline = null;
                    inlineProblem = null;
                    if (r.TokenType == JsonTokenType.StartObject)
                    {
                        detailStart = (int)r.TokenStartIndex;
                        if (singlePass && source is not null && detailType is not null && (sawResources || !NeedsResources(source, detailType)))
                        {
                            var saved = r;
                            try
                            {
                                inline = ParseDetail(ref r, bytes, source, detailType, resources, pool);
                            }
                            catch (Exception ex) when (ex is not OutOfMemoryException)
                            {
                                // Read past the detail as the first pass would (a syntax error there wins, as before).
                                r = saved;
                                r.Skip();
                                inlineProblem = ExceptionDispatchInfo.Capture(ex);
                                inline = null;
                            }
                        }
                        else r.Skip();
                        detailEnd = (int)r.BytesConsumed;
                    }
                    else if (r.TokenType == JsonTokenType.Null) { detailStart = detailEnd = -1; }
                    else
                    {
                        detailProblem = Wrong(ref r, "detail", "an object");
                        r.Skip();
                    }
                    break;
                default: r.Skip(); break;
            }
        }
        while (r.Read()) { } // validates whatever follows the object

        if (!sawSourceOrType)
            throw new EventRejectedException(RejectionKind.NotAnEvent, "", "not an EventBridge event: it has neither \"source\" nor \"detail-type\"");
        if (source is null) throw Missing("source");
        if (detailType is null) throw Missing("detail-type");
        if (id is null) throw Missing("id");
        if (detailProblem is not null) throw detailProblem;
        if (detailStart < 0) throw Missing("detail");

        inlineProblem?.Throw();
        EventDetail detail;
        if (inline is not null) detail = inline;
        else
        {
            var detailBytes = bytes[detailStart..detailEnd];
            var d = Open(detailBytes);
            detail = ParseDetail(ref d, detailBytes, source, detailType, resources, pool);
        }

        return new EventEnvelope
        {
            Version = version ?? "0",
            Id = id,
            DetailType = detailType,
            Source = source,
            Account = account,
            Time = time,
            Region = region,
            Resources = resources,
            Detail = detail,
        };
    }

    /// <summary>An object value as a <see cref="JsonElement"/>, shared across the stream through the pool when the bytes repeat.</summary>
    private static JsonElement Element(ReadOnlySpan<byte> raw, StringPool? pool)
    {
        if (pool?.GetElement(raw) is { } known) return known;
        var r = new Utf8JsonReader(raw, Options);
        var element = JsonElement.ParseValue(ref r);
        pool?.PutElement(raw, element);
        return element;
    }

    private static EventRejectedException Missing(string path) => new(RejectionKind.MissingField, path, "required field is missing");

    private static Utf8JsonReader Open(ReadOnlySpan<byte> detail)
    {
        var r = new Utf8JsonReader(detail, Options);
        r.Read(); // StartObject, checked by the envelope pass
        return r;
    }

    private static bool NeedsResources(string source, string detailType) =>
        source is DetailTypes.CloudWatchSource or DetailTypes.EventsSource || detailType is DetailTypes.ServiceAction or DetailTypes.DeploymentStateChange;

    /// <summary>Reads the detail; <paramref name="r"/> is on its start and ends on its end; <paramref name="doc"/> is what it reads.</summary>
    private static EventDetail ParseDetail(ref Utf8JsonReader r, ReadOnlySpan<byte> doc, string source, string detailType,
        IReadOnlyList<string> resources, StringPool? pool) => (source, detailType) switch
    {
        (DetailTypes.EcsSource, DetailTypes.TaskStateChange) => ParseTask(ref r, doc, pool),
        (DetailTypes.EcsSource, DetailTypes.ContainerInstanceStateChange) => ParseInstance(ref r, pool),
        (DetailTypes.EcsSource, DetailTypes.ServiceAction) => ParseServiceAction(ref r, resources, pool),
        (DetailTypes.EcsSource, DetailTypes.DeploymentStateChange) => ParseDeployment(ref r, resources, pool),
        (DetailTypes.CloudWatchSource, DetailTypes.AlarmStateChange) => ParseAlarm(ref r, resources, pool),
        (DetailTypes.EventsSource, DetailTypes.ScheduledEvent) => Scheduled(ref r, resources),
        _ => Unsupported(ref r, source, detailType),
    };

    /// <summary>A schedule's event: its detail is <c>{}</c> (whatever it holds is not read).</summary>
    private static ScheduledEvent Scheduled(ref Utf8JsonReader r, IReadOnlyList<string> resources)
    {
        r.Skip();
        return new ScheduledEvent(resources);
    }

    private static UnsupportedDetail Unsupported(ref Utf8JsonReader r, string source, string detailType)
    {
        r.Skip();
        return new UnsupportedDetail(source, detailType);
    }

    private static TaskStateChange ParseTask(ref Utf8JsonReader r, ReadOnlySpan<byte> doc, StringPool? pool)
    {
        string? clusterArn = null, taskArn = null, lastStatus = null, taskDefinitionArn = null, group = null, startedBy = null,
            desiredStatus = null, stopCode = null, stoppedReason = null, launchType = null, capacityProviderName = null,
            platformVersion = null, availabilityZone = null, containerInstanceArn = null, cpu = null, memory = null;
        bool? enableExecuteCommand = null;
        long? version = null;
        IReadOnlyList<ContainerDetail> containers = [];
        IReadOnlyList<Attachment> attachments = [];
        IReadOnlyList<KeyValue> attributes = [];
        JsonElement? overrides = null;
        DateTimeOffset? createdAt = null, startedAt = null, stoppingAt = null, stoppedAt = null, updatedAt = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "clusterArn": clusterArn = Pooled(ref r, pool, "detail.clusterArn"); break;
                case "taskArn": taskArn = String(ref r, "detail.taskArn"); break;
                case "lastStatus": lastStatus = Pooled(ref r, pool, "detail.lastStatus"); break;
                case "taskDefinitionArn": taskDefinitionArn = Pooled(ref r, pool, "detail.taskDefinitionArn"); break;
                case "group": group = Pooled(ref r, pool, "detail.group"); break;
                case "startedBy": startedBy = String(ref r, "detail.startedBy"); break;
                case "desiredStatus": desiredStatus = Pooled(ref r, pool, "detail.desiredStatus"); break;
                case "stopCode": stopCode = Pooled(ref r, pool, "detail.stopCode"); break;
                case "stoppedReason": stoppedReason = Pooled(ref r, pool, "detail.stoppedReason"); break;
                case "launchType": launchType = Pooled(ref r, pool, "detail.launchType"); break;
                case "capacityProviderName": capacityProviderName = Pooled(ref r, pool, "detail.capacityProviderName"); break;
                case "platformVersion": platformVersion = Pooled(ref r, pool, "detail.platformVersion"); break;
                case "availabilityZone": availabilityZone = Pooled(ref r, pool, "detail.availabilityZone"); break;
                case "containerInstanceArn": containerInstanceArn = Pooled(ref r, pool, "detail.containerInstanceArn"); break;
                case "cpu": cpu = String(ref r, "detail.cpu"); break;
                case "memory": memory = String(ref r, "detail.memory"); break;
                case "enableExecuteCommand": enableExecuteCommand = Bool(ref r, "detail.enableExecuteCommand"); break;
                case "version": version = Long(ref r, "detail.version"); break;
                case "containers": containers = Array(ref r, "detail.containers", ReadContainer, pool); break;
                case "attachments": attachments = Array(ref r, "detail.attachments", ReadAttachment, pool); break;
                case "attributes": attributes = Array(ref r, "detail.attributes", KeyValueItem, pool); break;
                case "overrides":
                    if (r.TokenType == JsonTokenType.StartObject)
                    {
                        var start = (int)r.TokenStartIndex;
                        r.Skip();
                        overrides = Element(doc[start..(int)r.BytesConsumed], pool);
                    }
                    else if (r.TokenType != JsonTokenType.Null) throw Wrong(ref r, "detail.overrides", "an object");
                    break;
                case "createdAt": createdAt = Time(ref r, "detail.createdAt"); break;
                case "startedAt": startedAt = Time(ref r, "detail.startedAt"); break;
                case "stoppingAt": stoppingAt = Time(ref r, "detail.stoppingAt"); break;
                case "stoppedAt": stoppedAt = Time(ref r, "detail.stoppedAt"); break;
                case "updatedAt": updatedAt = Time(ref r, "detail.updatedAt"); break;
                default: r.Skip(); break;
            }
        }
        return new TaskStateChange
        {
            ClusterArn = clusterArn ?? throw Missing("detail.clusterArn"),
            TaskArn = taskArn ?? throw Missing("detail.taskArn"),
            LastStatus = lastStatus ?? throw Missing("detail.lastStatus"),
            TaskDefinitionArn = taskDefinitionArn,
            Group = group,
            StartedBy = startedBy,
            DesiredStatus = desiredStatus,
            StopCode = stopCode,
            StoppedReason = stoppedReason,
            LaunchType = launchType,
            CapacityProviderName = capacityProviderName,
            PlatformVersion = platformVersion,
            AvailabilityZone = availabilityZone,
            ContainerInstanceArn = containerInstanceArn,
            Cpu = cpu,
            Memory = memory,
            EnableExecuteCommand = enableExecuteCommand,
            Version = version,
            Containers = containers,
            Overrides = overrides,
            Attachments = attachments,
            Attributes = attributes,
            CreatedAt = createdAt,
            StartedAt = startedAt,
            StoppingAt = stoppingAt,
            StoppedAt = stoppedAt,
            UpdatedAt = updatedAt,
        };
    }

    private static ContainerDetail ReadContainer(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, ItemPath(arrayPath, i), "an object");
        string? name = null, arn = null, lastStatus = null, reason = null, image = null;
        int? exitCode = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var n = Name(in r, buf);
            r.Read();
            switch (n)
            {
                case "name": name = Pooled(ref r, pool, arrayPath); break;
                case "containerArn": arn = StringAt(ref r, arrayPath, i, ".containerArn"); break;
                case "lastStatus": lastStatus = Pooled(ref r, pool, arrayPath); break;
                case "exitCode": exitCode = IntAt(ref r, arrayPath, i, ".exitCode"); break;
                case "reason": reason = Pooled(ref r, pool, arrayPath); break;
                case "image": image = Pooled(ref r, pool, arrayPath); break;
                default: r.Skip(); break;
            }
        }
        return new ContainerDetail { Name = name, ContainerArn = arn, LastStatus = lastStatus, ExitCode = exitCode, Reason = reason, Image = image };
    }

    private static Attachment ReadAttachment(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, ItemPath(arrayPath, i), "an object");
        string? id = null, type = null, status = null;
        IReadOnlyList<KeyValue> details = [];
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var n = Name(in r, buf);
            r.Read();
            switch (n)
            {
                case "id": id = StringAt(ref r, arrayPath, i, ".id"); break;
                case "type": type = Pooled(ref r, pool, arrayPath); break;
                case "status": status = Pooled(ref r, pool, arrayPath); break;
                case "details": details = Array(ref r, ItemPath(arrayPath, i) + ".details", KeyValueItem, pool); break;
                default: r.Skip(); break;
            }
        }
        return new Attachment { Id = id, Type = type, Status = status, Details = details };
    }

    private static ContainerInstanceStateChange ParseInstance(ref Utf8JsonReader r, StringPool? pool)
    {
        string? clusterArn = null, arn = null, status = null, ec2 = null, statusReason = null;
        bool? agent = null;
        long? version = null;
        int? running = null, pending = null;
        IReadOnlyList<KeyValue> attributes = [];
        IReadOnlyList<InstanceResource> registered = [], remaining = [];
        DateTimeOffset? registeredAt = null, updatedAt = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "clusterArn": clusterArn = Pooled(ref r, pool, "detail.clusterArn"); break;
                case "containerInstanceArn": arn = Pooled(ref r, pool, "detail.containerInstanceArn"); break;
                case "status": status = Pooled(ref r, pool, "detail.status"); break;
                case "ec2InstanceId": ec2 = Pooled(ref r, pool, "detail.ec2InstanceId"); break;
                case "statusReason": statusReason = Pooled(ref r, pool, "detail.statusReason"); break;
                case "agentConnected": agent = Bool(ref r, "detail.agentConnected"); break;
                case "version": version = Long(ref r, "detail.version"); break;
                case "attributes": attributes = Array(ref r, "detail.attributes", KeyValueItem, pool); break;
                case "registeredResources": registered = Array(ref r, "detail.registeredResources", ReadResourceItem, pool); break;
                case "remainingResources": remaining = Array(ref r, "detail.remainingResources", ReadResourceItem, pool); break;
                case "runningTasksCount": running = Int(ref r, "detail.runningTasksCount"); break;
                case "pendingTasksCount": pending = Int(ref r, "detail.pendingTasksCount"); break;
                case "registeredAt": registeredAt = Time(ref r, "detail.registeredAt"); break;
                case "updatedAt": updatedAt = Time(ref r, "detail.updatedAt"); break;
                default: r.Skip(); break;
            }
        }
        return new ContainerInstanceStateChange
        {
            ClusterArn = clusterArn ?? throw Missing("detail.clusterArn"),
            ContainerInstanceArn = arn ?? throw Missing("detail.containerInstanceArn"),
            Status = status ?? throw Missing("detail.status"),
            Ec2InstanceId = ec2,
            StatusReason = statusReason,
            AgentConnected = agent,
            Version = version,
            Attributes = attributes,
            RegisteredResources = registered,
            RemainingResources = remaining,
            RunningTasksCount = running,
            PendingTasksCount = pending,
            RegisteredAt = registeredAt,
            UpdatedAt = updatedAt,
        };
    }

    private static InstanceResource ReadResourceItem(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, ItemPath(arrayPath, i), "an object");
        string? name = null, type = null;
        long? integer = null, longValue = null;
        double? doubleValue = null;
        IReadOnlyList<string> set = [];
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var n = Name(in r, buf);
            r.Read();
            switch (n)
            {
                case "name": name = Pooled(ref r, pool, arrayPath); break;
                case "type": type = Pooled(ref r, pool, arrayPath); break;
                case "integerValue": integer = LongAt(ref r, arrayPath, i, ".integerValue"); break;
                case "longValue": longValue = LongAt(ref r, arrayPath, i, ".longValue"); break;
                case "doubleValue": doubleValue = DoubleAt(ref r, arrayPath, i, ".doubleValue"); break;
                case "stringSetValue":
                    set = Array(ref r, ItemPath(arrayPath, i) + ".stringSetValue", StringItem, pool);
                    break;
                default: r.Skip(); break;
            }
        }
        return new InstanceResource
        {
            Name = name ?? throw Missing(ItemPath(arrayPath, i) + ".name"),
            Type = type, IntegerValue = integer, LongValue = longValue, DoubleValue = doubleValue, StringSetValue = set,
        };
    }

    /// <summary>A resource as `describe-container-instances` prints it; used by the snapshot reader.</summary>
    public static InstanceResource ReadResource(JsonElement e, string path)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(e, JsonElementContext.Default.JsonElement);
        var r = new Utf8JsonReader(bytes, Options);
        r.Read();
        try
        {
            return ReadResourceAt(ref r, path);
        }
        catch (InvalidOperationException ex)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, path, ex.Message, ex);
        }
    }

    private static InstanceResource ReadResourceAt(ref Utf8JsonReader r, string path)
    {
        // Reuse the item reader with a path that prints as the caller's.
        var open = path.LastIndexOf('[');
        if (open > 0 && path.EndsWith(']') && int.TryParse(path[(open + 1)..^1], out var index))
            return ReadResourceItem(ref r, path[..open], index, null);
        return ReadResourceItem(ref r, path, 0, null);
    }

    private static string? ServiceArnOf(IReadOnlyList<string> resources)
    {
        foreach (var r in resources)
            if (r.Contains(":service/", StringComparison.Ordinal)) return r;
        return null;
    }

    private static ServiceAction ParseServiceAction(ref Utf8JsonReader r, IReadOnlyList<string> resources, StringPool? pool)
    {
        string? eventName = null, eventType = null, clusterArn = null, reason = null;
        IReadOnlyList<string> capacityProviders = [], instances = [];
        int? desired = null;
        DateTimeOffset? createdAt = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "eventName": eventName = Pooled(ref r, pool, "detail.eventName"); break;
                case "eventType": eventType = Pooled(ref r, pool, "detail.eventType"); break;
                case "clusterArn": clusterArn = Pooled(ref r, pool, "detail.clusterArn"); break;
                case "reason": reason = String(ref r, "detail.reason"); break;
                case "capacityProviderArns": capacityProviders = Array(ref r, "detail.capacityProviderArns", StringItem, pool); break;
                case "containerInstanceArns": instances = Array(ref r, "detail.containerInstanceArns", StringItem, pool); break;
                case "desiredCount": desired = Int(ref r, "detail.desiredCount"); break;
                case "createdAt": createdAt = Time(ref r, "detail.createdAt"); break;
                default: r.Skip(); break;
            }
        }
        var serviceArn = ServiceArnOf(resources);
        return new ServiceAction
        {
            EventName = eventName ?? throw Missing("detail.eventName"),
            EventType = eventType,
            ServiceArn = serviceArn,
            ClusterArn = clusterArn ?? (serviceArn is null ? null : Arns.ClusterArnOfService(serviceArn)),
            Reason = reason,
            CapacityProviderArns = capacityProviders,
            ContainerInstanceArns = instances,
            DesiredCount = desired,
            CreatedAt = createdAt,
        };
    }

    private static DeploymentStateChange ParseDeployment(ref Utf8JsonReader r, IReadOnlyList<string> resources, StringPool? pool)
    {
        string? eventName = null, eventType = null, deploymentId = null, clusterArn = null, reason = null;
        DateTimeOffset? updatedAt = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "eventName": eventName = Pooled(ref r, pool, "detail.eventName"); break;
                case "eventType": eventType = Pooled(ref r, pool, "detail.eventType"); break;
                case "deploymentId": deploymentId = String(ref r, "detail.deploymentId"); break;
                case "clusterArn": clusterArn = Pooled(ref r, pool, "detail.clusterArn"); break;
                case "reason": reason = String(ref r, "detail.reason"); break;
                case "updatedAt": updatedAt = Time(ref r, "detail.updatedAt"); break;
                default: r.Skip(); break;
            }
        }
        var serviceArn = ServiceArnOf(resources);
        return new DeploymentStateChange
        {
            EventName = eventName ?? throw Missing("detail.eventName"),
            EventType = eventType,
            DeploymentId = deploymentId,
            ServiceArn = serviceArn,
            ClusterArn = clusterArn ?? (serviceArn is null ? null : Arns.ClusterArnOfService(serviceArn)),
            Reason = reason,
            UpdatedAt = updatedAt,
        };
    }

    private static AlarmStateChange ParseAlarm(ref Utf8JsonReader r, IReadOnlyList<string> resources, StringPool? pool)
    {
        string? alarmName = null;
        AlarmState? state = null, previous = null;
        AlarmConfiguration? configuration = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "alarmName": alarmName = Pooled(ref r, pool, "detail.alarmName"); break;
                case "state": state = ReadAlarmState(ref r, "detail.state"); break;
                case "previousState": previous = ReadAlarmState(ref r, "detail.previousState"); break;
                case "configuration": configuration = ReadAlarmConfiguration(ref r, "detail.configuration", pool); break;
                default: r.Skip(); break;
            }
        }
        string? alarmArn = null;
        foreach (var res in resources)
            if (res.Contains(":alarm:", StringComparison.Ordinal)) { alarmArn = res; break; }
        return new AlarmStateChange
        {
            AlarmName = alarmName ?? throw Missing("detail.alarmName"),
            AlarmArn = alarmArn,
            State = state ?? throw Missing("detail.state"),
            PreviousState = previous,
            Configuration = configuration,
        };
    }

    private static AlarmState? ReadAlarmState(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        ExpectObject(ref r, path);
        string? value = null, reason = null, raw = null, suppressedBy = null;
        DateTimeOffset? timestamp = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "value": value = String(ref r, path + ".value"); break;
                case "reason": reason = String(ref r, path + ".reason"); break;
                case "reasonData": raw = String(ref r, path + ".reasonData"); break;
                case "timestamp": timestamp = Time(ref r, path + ".timestamp"); break;
                case "actionsSuppressedBy": suppressedBy = String(ref r, path + ".actionsSuppressedBy"); break;
                default: r.Skip(); break;
            }
        }
        return new AlarmState
        {
            Value = value ?? throw Missing(path + ".value"),
            Reason = reason,
            ReasonDataJson = raw,
            ReasonData = raw is null ? null : ParseReasonData(raw, path + ".reasonData"),
            Timestamp = timestamp,
            ActionsSuppressedBy = suppressedBy,
        };
    }

    /// <summary>
    /// <c>reasonData</c> is a JSON document inside a string. When it is not JSON, the alarm is
    /// treated as having no datapoint (CloudWatch documents the field as informational); when it is
    /// JSON with members of the wrong type, that is a rejection like any other field.
    /// </summary>
    private static AlarmReasonData? ParseReasonData(string raw, string path)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var bytes = rented.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(raw, rented));
            // One pass in the usual case; a member of the wrong type is a rejection only when the whole text is JSON.
            try
            {
                return ReadReasonData(bytes, path);
            }
            catch (JsonException)
            {
                return null;
            }
            catch (EventRejectedException) when (!IsJson(bytes))
            {
                return null;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var check = new Utf8JsonReader(bytes, Options);
            while (check.Read()) { }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static AlarmReasonData? ReadReasonData(ReadOnlySpan<byte> bytes, string path)
    {
        var r = new Utf8JsonReader(bytes, Options);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
        {
            while (r.Read()) { } // text that is not an object: JSON or not, no datapoint
            return null;
        }
        IReadOnlyList<double> datapoints = [];
        IReadOnlyList<string> triggering = [];
        double? threshold = null;
        string? statistic = null;
        int? period = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "recentDatapoints":
                    datapoints = Array(ref r, path + ".recentDatapoints", static (ref Utf8JsonReader x, string p, int i, StringPool? _) =>
                        Double(ref x, ItemPath(p, i)) ?? throw Wrong(ref x, ItemPath(p, i), "a number"));
                    break;
                case "threshold": threshold = Double(ref r, path + ".threshold"); break;
                case "statistic": statistic = String(ref r, path + ".statistic"); break;
                case "period": period = Int(ref r, path + ".period"); break;
                case "triggeringAlarms":
                    triggering = Array(ref r, path + ".triggeringAlarms", static (ref Utf8JsonReader x, string p, int i, StringPool? _) =>
                    {
                        if (x.TokenType != JsonTokenType.StartObject) throw Wrong(ref x, ItemPath(p, i), "an object");
                        string arn = "";
                        Span<char> b = stackalloc char[32];
                        while (x.Read() && x.TokenType == JsonTokenType.PropertyName)
                        {
                            var n = Name(in x, b);
                            x.Read();
                            if (n.SequenceEqual("arn")) arn = String(ref x, ItemPath(p, i) + ".arn") ?? "";
                            else x.Skip();
                        }
                        return arn;
                    });
                    break;
                default: r.Skip(); break;
            }
        }
        while (r.Read()) { } // whatever follows must be JSON too, or there is no datapoint
        return new AlarmReasonData { RecentDatapoints = datapoints, Threshold = threshold, Statistic = statistic, Period = period, TriggeringAlarmArns = triggering };
    }

    private static AlarmConfiguration? ReadAlarmConfiguration(ref Utf8JsonReader r, string path, StringPool? pool)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        ExpectObject(ref r, path);
        string? description = null, rule = null;
        IReadOnlyList<AlarmMetric> metrics = [];
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "description": description = String(ref r, path + ".description"); break;
                case "alarmRule": rule = String(ref r, path + ".alarmRule"); break;
                case "metrics": metrics = Array(ref r, path + ".metrics", ReadAlarmMetric, pool); break;
                default: r.Skip(); break;
            }
        }
        return new AlarmConfiguration { Description = description, AlarmRule = rule, Metrics = metrics };
    }

    private static AlarmMetric ReadAlarmMetric(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, ItemPath(arrayPath, i), "an object");
        string? id = null, expression = null, label = null, ns = null, metricName = null, stat = null;
        bool? returnData = null;
        int? period = null;
        var dims = new Dictionary<string, string>();
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(in r, buf);
            r.Read();
            switch (name)
            {
                case "id": id = PooledAt(ref r, pool, arrayPath, i, ".id"); break;
                case "expression": expression = PooledAt(ref r, pool, arrayPath, i, ".expression"); break;
                case "label": label = PooledAt(ref r, pool, arrayPath, i, ".label"); break;
                case "returnData": returnData = BoolAt(ref r, arrayPath, i, ".returnData"); break;
                case "metricStat":
                    if (r.TokenType == JsonTokenType.Null) break;
                    ExpectObjectAt(ref r, arrayPath, i, ".metricStat");
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        var sn = Name(in r, buf);
                        r.Read();
                        switch (sn)
                        {
                            case "period": period = IntAt(ref r, arrayPath, i, ".metricStat.period"); break;
                            case "stat": stat = PooledAt(ref r, pool, arrayPath, i, ".metricStat.stat"); break;
                            case "metric":
                                if (r.TokenType == JsonTokenType.Null) break;
                                ExpectObjectAt(ref r, arrayPath, i, ".metricStat.metric");
                                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                                {
                                    var mn = Name(in r, buf);
                                    r.Read();
                                    switch (mn)
                                    {
                                        case "namespace": ns = PooledAt(ref r, pool, arrayPath, i, ".metricStat.metric.namespace"); break;
                                        case "name": metricName = PooledAt(ref r, pool, arrayPath, i, ".metricStat.metric.name"); break;
                                        case "dimensions":
                                            if (r.TokenType == JsonTokenType.Null) break;
                                            ExpectObjectAt(ref r, arrayPath, i, ".metricStat.metric.dimensions");
                                            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                                            {
                                                var key = (pool is not null && !r.ValueIsEscaped && !r.HasValueSequence ? pool.Get(r.ValueSpan) : null) ?? r.GetString()!;
                                                r.Read();
                                                dims[key] = r.TokenType == JsonTokenType.String ? Pooled(ref r, pool, arrayPath)!
                                                    : String(ref r, ItemPath(arrayPath, i) + ".metricStat.metric.dimensions." + key) ?? "";
                                            }
                                            break;
                                        default: r.Skip(); break;
                                    }
                                }
                                break;
                            default: r.Skip(); break;
                        }
                    }
                    break;
                default: r.Skip(); break;
            }
        }
        return new AlarmMetric
        {
            Id = id ?? throw Missing(ItemPath(arrayPath, i) + ".id"),
            Expression = expression, Label = label, ReturnData = returnData,
            Namespace = ns, MetricName = metricName, Dimensions = dims, Period = period, Stat = stat,
        };
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class JsonElementContext : System.Text.Json.Serialization.JsonSerializerContext;
