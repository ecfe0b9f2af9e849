using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Replay;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Lambda.Emulator;

/// <summary>A replay input with the bytes it came from: the Lambda replay sends the bytes, not a re-serialisation.</summary>
public sealed record RawInput(InputItem Item, ReadOnlyMemory<byte> Bytes);

/// <summary>Reads inputs as <see cref="ReplayInputs"/> does, keeping each event's bytes.</summary>
public static class RawInputs
{
    public static IEnumerable<RawInput> Read(string file, string label)
    {
        if (ReplayInputs.IsLines(file))
        {
            DateTimeOffset? last = null;
            foreach (var (line, bytes) in ReplayInputs.Lines(file))
            {
                var copy = bytes.ToArray();
                var item = ReplayInputs.ParseOne($"{label}:{line}", copy, last, oneLine: true);
                last = item.SortTime ?? last;
                yield return new RawInput(item, copy);
            }
        }
        else
        {
            var bytes = ReplayInputs.ReadWhole(file);
            yield return new RawInput(ReplayInputs.ParseOne(label, bytes, null), bytes);
        }
    }

    /// <summary>Merges by event time exactly as <see cref="ReplayInputs.Merge"/> does.</summary>
    public static IEnumerable<RawInput> Merge(IReadOnlyList<IEnumerable<RawInput>> sources)
    {
        var enumerators = sources.Select(s => s.GetEnumerator()).ToList();
        try
        {
            var queue = new PriorityQueue<int, (DateTimeOffset, int)>();
            for (var i = 0; i < enumerators.Count; i++)
                if (enumerators[i].MoveNext()) queue.Enqueue(i, (enumerators[i].Current.Item.SortTime ?? DateTimeOffset.MinValue, i));
            while (queue.TryDequeue(out var i, out _))
            {
                var e = enumerators[i];
                yield return e.Current;
                if (e.MoveNext()) queue.Enqueue(i, (e.Current.Item.SortTime ?? DateTimeOffset.MinValue, i));
            }
        }
        finally
        {
            foreach (var e in enumerators) e.Dispose();
        }
    }

    /// <summary>
    /// The handler an input goes to when it could not be parsed: by its <c>detail-type</c> when that can be
    /// read, else the task rescheduler (every function dead-letters what it cannot parse the same way).
    /// </summary>
    public static string HandlerForUnparsed(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("detail-type", out var dt) && dt.ValueKind == JsonValueKind.String)
                return dt.GetString() switch
                {
                    DetailTypes.ContainerInstanceStateChange or DetailTypes.ServiceAction or DetailTypes.DeploymentStateChange => HandlerNames.PlacementGuard,
                    DetailTypes.AlarmStateChange => HandlerNames.ServiceScaler,
                    _ => HandlerNames.TaskRescheduler,
                };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // InvalidOperationException: a detail-type that is not valid UTF-8
        {
        }
        return HandlerNames.TaskRescheduler;
    }
}

/// <summary>Reads back what the bootstrap wrote: action requests (for the replay's records) and reaction log lines.</summary>
public static class ReactionLines
{
    /// <summary>An action request from its exact JSON, as the replay's JSON lines and the bootstrap's logs write it.</summary>
    public static ActionRequest ReadRequest(string service, string operation, JsonElement request)
    {
        var ctx = EcsRequestJsonContext.Default;
        ActionRequest? r = (service, operation) switch
        {
            ("ecs", "RunTask") => request.Deserialize(ctx.RunTaskRequest),
            ("ecs", "StopTask") => request.Deserialize(ctx.StopTaskRequest),
            ("ecs", "UpdateService") => request.Deserialize(ctx.UpdateServiceRequest),
            ("reflex", "GiveUp") => request.Deserialize(ctx.GiveUpRequest),
            _ => throw new NotSupportedException($"the Lambda replay cannot read {service}:{operation} actions back: add the operation to ReactionLines.ReadRequest"),
        };
        return r ?? throw new JsonException($"{service}:{operation} request is null");
    }

    public static IReadOnlyList<ActionResult> ReadActions(JsonElement line)
    {
        if (!line.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array) return [];
        var list = new List<ActionResult>();
        foreach (var a in actions.EnumerateArray())
        {
            var service = a.GetProperty("service").GetString()!;
            var operation = a.GetProperty("operation").GetString()!;
            list.Add(new ActionResult(new ReflexAction(service, operation, ReadRequest(service, operation, a.GetProperty("request"))) { Summary = Str(a, "summary") },
                ActionStatuses.Parse(a.GetProperty("status").GetString()!), Str(a, "detail")));
        }
        return list;
    }

    public static Outcome ReadOutcome(string? name) => name switch
    {
        "acted" => Outcome.Acted,
        "ignored" => Outcome.Ignored,
        "deferred" => Outcome.Deferred,
        "rejected" => Outcome.Rejected,
        _ => Outcome.Failed,
    };

    public static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>Is this stdout line a JSON object whose <paramref name="field"/> is <paramref name="value"/> and whose requestId is <paramref name="requestId"/>?</summary>
    public static bool Is(string line, string requestId, string field, string value, out JsonElement json)
    {
        json = default;
        if (!line.StartsWith('{') || !line.Contains(requestId, StringComparison.Ordinal)) return false;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (Str(r, "requestId") != requestId || Str(r, field) != value) return false;
            json = r.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static bool IsEmf(string line, string requestId) =>
        line.StartsWith("{\"_aws\"", StringComparison.Ordinal) && line.Contains($"\"requestId\":\"{requestId}\"", StringComparison.Ordinal);
}

/// <summary>The SQS event Lambda's event source mapping delivers: here, one message of the delay queue.</summary>
public static class SqsEvents
{
    public static byte[] Batch(IReadOnlyList<(string MessageId, string Body)> messages, DateTimeOffset sentAt)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var ms = sentAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            w.WriteStartObject();
            w.WriteStartArray("Records");
            foreach (var (id, body) in messages)
            {
                w.WriteStartObject();
                w.WriteString("messageId", id);
                w.WriteString("receiptHandle", $"local-{id}");
                w.WriteString("body", body);
                w.WriteStartObject("attributes");
                w.WriteString("ApproximateReceiveCount", "1");
                w.WriteString("SentTimestamp", ms);
                w.WriteString("SenderId", "000000000000");
                w.WriteString("ApproximateFirstReceiveTimestamp", ms);
                w.WriteEndObject();
                w.WriteStartObject("messageAttributes");
                w.WriteEndObject();
                w.WriteString("md5OfBody", Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(body))));
                w.WriteString("eventSource", "aws:sqs");
                w.WriteString("eventSourceARN", "arn:aws:sqs:local:000000000000:reflex-delay");
                w.WriteString("awsRegion", "local");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
