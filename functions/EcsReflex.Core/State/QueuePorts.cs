using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EcsReflex.Core.Events;
using static EcsReflex.Core.Events.JsonFields;

namespace EcsReflex.Core.State;

// The two queue ports of the Lambda host. The AWS adapters implement them with SQS (delay queue with
// DelaySeconds, dead-letter queue); the host has local fallbacks that log instead of queueing.

/// <summary>
/// Work a decision deferred (back-off, rate limit, capacity): the original event, unchanged, and the
/// time it is due. The <c>relaunch-due</c> handler decides it again at that time, through the same path.
/// </summary>
/// <param name="EventJson">The original EventBridge event, as JSON text.</param>
/// <param name="DueAt">When to decide again.</param>
/// <param name="Periodic">
/// True for periodic work (a sustained alarm's next re-decision): the replay through the real bootstrap runs it only up
/// to its <c>--until</c> time, as the in-process replay does. Written as <c>"periodic": true</c>, absent otherwise.
/// </param>
public sealed record DeferredWork(string EventJson, DateTimeOffset DueAt, bool Periodic = false);

/// <summary>Carries deferred work to the <c>relaunch-due</c> handler at its due time.</summary>
public interface IDelayQueue
{
    /// <summary>Queues <paramref name="work"/>; returns once the queue has accepted it.</summary>
    Task SendAsync(DeferredWork work, CancellationToken ct);
}

/// <summary>
/// An input that can never be processed (retrying cannot help): the payload as received, and why.
/// </summary>
public sealed record DeadLetter
{
    /// <summary>The handler that rejected it (<c>task-rescheduler</c>, <c>relaunch-due</c>…).</summary>
    public required string Handler { get; init; }
    /// <summary>Stable kebab-case code: <c>invalid-json</c>, <c>missing-field</c>…, <c>misrouted</c>, <c>rejected</c>.</summary>
    public required string Code { get; init; }
    /// <summary>The rejection reason, naming the field and the fix.</summary>
    public required string Reason { get; init; }
    /// <summary>The payload exactly as received (an event, or an SQS message body).</summary>
    public required string Payload { get; init; }
    public string? EventId { get; init; }
    public string? RequestId { get; init; }
    /// <summary>For a message of a batch: its SQS message id.</summary>
    public string? MessageId { get; init; }
    public required DateTimeOffset RejectedAt { get; init; }
}

/// <summary>Sends poison inputs, with their rejection reason, to the dead-letter queue.</summary>
public interface IDeadLetterSender
{
    /// <summary>Sends <paramref name="letter"/>; returns once the queue has accepted it.</summary>
    Task SendAsync(DeadLetter letter, CancellationToken ct);
}

/// <summary>
/// The delay queue's message body: <c>{"event": {…the original event…}, "dueAt": "2026-03-03T02:14:47.261Z"}</c>, with
/// <c>"periodic": true</c> for periodic work. Written and read without reflection.
/// </summary>
public static class DeferredWorkJson
{
    public static string Write(DeferredWork work)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("event");
            w.WriteRawValue(work.EventJson);
            w.WriteString("dueAt", FormatTime(work.DueAt));
            if (work.Periodic) w.WriteBoolean("periodic", true);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a message body; a body that is not one is an <see cref="EventRejectedException"/> naming the path.</summary>
    public static DeferredWork Parse(string body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, "body", $"the delay-queue message is not valid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Wrong("body", "a delay-queue message object {\"event\", \"dueAt\"}", root);
            var e = RequireObject(root, "event", "body");
            var due = OptionalTime(root, "dueAt", "body") ?? throw Missing("body.dueAt");
            var periodic = false;
            if (root.TryGetProperty("periodic", out var p))
                periodic = p.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False or JsonValueKind.Null => false,
                    _ => throw Wrong("body.periodic", "true or false", p),
                };
            return new DeferredWork(e.GetRawText(), due, periodic);
        }
    }

    public static string FormatTime(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
