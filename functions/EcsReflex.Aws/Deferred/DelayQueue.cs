using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace EcsReflex.Aws.Deferred;

/// <summary>
/// Work to do again later: the original event (exactly as delivered), when it is due and why it waits
/// (back-off, the relaunch rate limit, ECS capacity, a drain grace check).
/// </summary>
public sealed record DeferredWork(JsonElement Event, string EventId, string Handler, DateTimeOffset DueAt, string Reason, int Hops = 0);

/// <summary>Where deferred work waits until it is due. In Lambda an SQS queue; the host may log instead when none is configured.</summary>
public interface IDelayQueue
{
    Task EnqueueAsync(DeferredWork work, DateTimeOffset now, CancellationToken ct);
}

/// <summary>
/// The body of one delay-queue message (<c>format</c> <c>ecsreflex.due/1</c>): the original event and its due time,
/// readable in the SQS console and in a dead-letter queue.
/// </summary>
public sealed record DueMessage
{
    public const string CurrentFormat = "ecsreflex.due/1";

    [JsonPropertyName("format")] public required string Format { get; init; }
    [JsonPropertyName("eventId")] public required string EventId { get; init; }
    [JsonPropertyName("handler")] public required string Handler { get; init; }
    [JsonPropertyName("dueAt")] public required DateTimeOffset DueAt { get; init; }
    [JsonPropertyName("enqueuedAt")] public DateTimeOffset? EnqueuedAt { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    /// <summary>How many times the message was put back because its wait was longer than SQS's 15 minutes.</summary>
    [JsonPropertyName("hops")] public int Hops { get; init; }
    [JsonPropertyName("event")] public required JsonElement Event { get; init; }

    public static DueMessage From(DeferredWork w, DateTimeOffset now) => new()
    {
        Format = CurrentFormat, EventId = w.EventId, Handler = w.Handler, DueAt = w.DueAt, EnqueuedAt = now,
        Reason = w.Reason, Hops = w.Hops, Event = w.Event,
    };

    public DeferredWork ToWork() => new(Event, EventId, Handler, DueAt, Reason ?? "", Hops);
}

/// <summary>The delay queue on SQS: <c>DelaySeconds</c> up to 900; longer waits are put back when they surface.</summary>
public sealed class SqsDelayQueue(IAmazonSQS sqs, string queueUrl) : IDelayQueue
{
    /// <summary>The longest delay SQS allows on one message.</summary>
    public const int MaxDelaySeconds = 900;

    public string QueueUrl => queueUrl;

    public static int DelaySecondsFor(DateTimeOffset dueAt, DateTimeOffset now)
    {
        var seconds = Math.Ceiling((dueAt - now).TotalSeconds);
        return seconds <= 0 ? 0 : seconds >= MaxDelaySeconds ? MaxDelaySeconds : (int)seconds;
    }

    public async Task EnqueueAsync(DeferredWork work, DateTimeOffset now, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(DueMessage.From(work, now), DeferredJsonContext.Default.DueMessage);
        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = queueUrl,
            MessageBody = body,
            DelaySeconds = DelaySecondsFor(work.DueAt, now),
        }, ct).ConfigureAwait(false);
    }
}

// ---------------- the Lambda SQS event and its partial batch response ----------------

public sealed record SqsEvent
{
    [JsonPropertyName("Records")] public IReadOnlyList<SqsMessage> Records { get; set; } = [];
}

public sealed record SqsMessage
{
    [JsonPropertyName("messageId")] public required string MessageId { get; init; }
    [JsonPropertyName("receiptHandle")] public string? ReceiptHandle { get; init; }
    [JsonPropertyName("body")] public string? Body { get; init; }
    [JsonPropertyName("attributes")] public IReadOnlyDictionary<string, string>? Attributes { get; init; }
    [JsonPropertyName("md5OfBody")] public string? Md5OfBody { get; init; }
    [JsonPropertyName("eventSource")] public string? EventSource { get; init; }
    [JsonPropertyName("eventSourceARN")] public string? EventSourceArn { get; init; }
    [JsonPropertyName("awsRegion")] public string? AwsRegion { get; init; }
}

/// <summary>What Lambda reads back with <c>ReportBatchItemFailures</c>: the messages to deliver again; all others are deleted.</summary>
public sealed record SqsBatchResponse
{
    [JsonPropertyName("batchItemFailures")] public IReadOnlyList<BatchItemFailure> BatchItemFailures { get; set; } = [];
}

public sealed record BatchItemFailure([property: JsonPropertyName("itemIdentifier")] string ItemIdentifier);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DueMessage))]
[JsonSerializable(typeof(SqsEvent))]
[JsonSerializable(typeof(SqsBatchResponse))]
public sealed partial class DeferredJsonContext : JsonSerializerContext;
