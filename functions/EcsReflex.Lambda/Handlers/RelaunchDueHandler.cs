using System.Buffers;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.State;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Metrics;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// <c>relaunch-due</c>: the delay queue's consumer. Takes an SQS batch of deferred work
/// (<see cref="DeferredWorkJson"/>), decides each again at its due time through the same path as the
/// replay's timers, and answers with partial batch failures
/// (<c>{"batchItemFailures":[{"itemIdentifier":"…"}]}</c>): a message is acknowledged only when its
/// work is done, re-deferred, or dead-lettered as poison; anything else (a transient error, a failed
/// action, the deadline) lists it as failed so SQS delivers it again.
/// </summary>
public sealed class RelaunchDueHandler(HostServices services, JsonLog log, TimeProvider time)
    : ReflexHandler(HandlerNames.RelaunchDue, services, log, time)
{
    /// <summary>A message delivered this much before its due time is decided now; earlier, it is re-queued.</summary>
    public static readonly TimeSpan EarlyTolerance = TimeSpan.FromSeconds(1);

    protected override async Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, InvocationMetrics metrics, CancellationToken ct)
    {
        var started = Timestamp();
        List<(string? Id, string? Body, string? Problem)> messages;
        try
        {
            messages = ReadBatch(invocation.Payload);
        }
        catch (EventRejectedException ex)
        {
            var poison = await DeadLetterAsync(invocation, "timer", null, null, ex.Code, ex.Message, Utf8(invocation.Payload), started, ct);
            Report(poison, metrics);
            return BatchResponse([]);
        }

        // The relaunches of different lineages are independent: their messages are decided concurrently, one round trip
        // after another for all of them at once (issue 17). A lineage's own messages, and every other kind of work (a
        // drain's check, a sustained alarm's re-decision, which share records), are decided in order. The reports are
        // logged in the batch's order whatever finished first.
        var outcomes = new (ReactionReport Report, string? AwsError)[messages.Count];
        var lanes = Lanes(messages);
        await Task.WhenAll(lanes.Select(lane => DecideLaneAsync(invocation, messages, lane, outcomes, ct)));
        var failures = new List<string>();
        for (var k = 0; k < messages.Count; k++)
        {
            var (report, awsError) = outcomes[k];
            if (awsError is not null) metrics.AddAwsError(awsError);
            if (report.Outcome == Outcome.Failed && messages[k].Id is { } failed) failures.Add(failed);
            Report(report, metrics);
        }
        return BatchResponse(failures);
    }

    /// <summary>
    /// The batch's messages in lanes decided concurrently: one lane per lineage of task work (<see cref="LineageOf"/>), one
    /// for everything else, each in the batch's order.
    /// </summary>
    public static List<List<int>> Lanes(IReadOnlyList<(string? Id, string? Body, string? Problem)> messages)
    {
        var lanes = new List<List<int>>();
        var byLineage = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        List<int>? rest = null;
        for (var k = 0; k < messages.Count; k++)
        {
            if (messages[k].Problem is null && LineageOf(messages[k].Body!) is { } lineage)
            {
                if (!byLineage.TryGetValue(lineage, out var lane)) lanes.Add(byLineage[lineage] = lane = []);
                lane.Add(k);
            }
            else
            {
                if (rest is null) lanes.Add(rest = []);
                rest.Add(k);
            }
        }
        return lanes;
    }

    /// <summary>The task lineage a message's work is about (a stopped task's), or null for any other work and for a body that cannot be read.</summary>
    private static string? LineageOf(string body)
    {
        try
        {
            return EventParser.Parse(DeferredWorkJson.Parse(body).EventJson).Detail is TaskStateChange t ? TaskRescheduler.LineageIdOf(t) : null;
        }
        catch (EventRejectedException)
        {
            return null; // decided (dead-lettered) in the lane of the rest
        }
    }

    private async Task DecideLaneAsync(InvocationRequest invocation, IReadOnlyList<(string? Id, string? Body, string? Problem)> messages, List<int> lane,
        (ReactionReport, string?)[] outcomes, CancellationToken ct)
    {
        foreach (var k in lane)
        {
            var (id, body, problem) = messages[k];
            var itemStarted = Timestamp();
            if (problem is not null)
            {
                // Without an id it cannot be reported as failed, and retrying it cannot help: dead-letter it.
                outcomes[k] = (await DeadLetterAsync(invocation, "timer", id, null, "missing-field", problem, body ?? "", itemStarted, ct), null);
                continue;
            }
            if (ct.IsCancellationRequested)
            {
                outcomes[k] = (NotDone(invocation, id!, "not started before the invocation's deadline; left for SQS to deliver again", itemStarted), null);
                continue;
            }
            try
            {
                outcomes[k] = (await HandleMessageAsync(invocation, id!, body!, itemStarted, ct), null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                outcomes[k] = (NotDone(invocation, id!, "cut short by the invocation's deadline; left for SQS to deliver again", itemStarted), null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                outcomes[k] = (NotDone(invocation, id!, $"{ex.GetType().Name}: {ex.Message}; left for SQS to deliver again", itemStarted), Services.AwsErrorCode(ex));
            }
        }
    }

    private ReactionReport NotDone(InvocationRequest invocation, string id, string reason, long started) => new()
    {
        RequestId = invocation.RequestId, Trigger = "timer", MessageId = id,
        Outcome = Outcome.Failed, Code = ReasonCodes.LambdaNotDone, Reason = reason, DurationMs = ElapsedMs(started),
    };

    private async Task<ReactionReport> HandleMessageAsync(InvocationRequest invocation, string id, string body, long started, CancellationToken ct)
    {
        DeferredWork work;
        EventEnvelope e;
        try
        {
            work = DeferredWorkJson.Parse(body);
            e = EventParser.Parse(work.EventJson);
        }
        catch (EventRejectedException ex)
        {
            return await DeadLetterAsync(invocation, "timer", id, null, ex.Code, ex.Message, body, started, ct);
        }
        if (Engine.Handlers.For(e.Detail) is null)
            return await DeadLetterAsync(invocation, "timer", id, e, "misrouted",
                $"deferred work for {e.DetailType} events from {e.Source}, which no EcsReflex handler decides: nothing sends such work, so the message did not come from EcsReflex", body, started, ct);

        var now = Services.Clock.Now(invocation);
        if (work.DueAt > now + EarlyTolerance)
        {
            // SQS delays at most 15 minutes: longer waits come back early and go round again.
            await Services.DelayQueue.SendAsync(work, ct);
            return new ReactionReport
            {
                RequestId = invocation.RequestId, Trigger = "timer", MessageId = id, EventId = e.Id, DetailType = e.DetailType,
                DecidedBy = Engine.Handlers.For(e.Detail), Outcome = Outcome.Deferred, DueAt = work.DueAt, DecidedAt = now,
                Code = ReasonCodes.LambdaRequeued, Reason = $"not due until {JsonLog.FormatTime(work.DueAt)}: re-queued", DelayQueue = Services.DelayQueueMode,
                DurationMs = ElapsedMs(started),
            };
        }

        // SQS delivers at least once: the reactor claims the piece of work (its event and due time) before deciding, as
        // it claims events, so a second delivery neither acts nor takes another rate-limit slot; one that comes while
        // the first is at work fails and is delivered again after the visibility timeout.
        var decisionStarted = Timestamp();
        double decisionMs = 0;
        (string?, string?) handedOff = default;
        var reaction = await Reactor.HandleDueAsync(e, now, ct, work.DueAt, async (r, c) =>
        {
            decisionMs = ElapsedMs(decisionStarted);
            handedOff = await HandOffAsync(invocation, id, work.EventJson, r, c);
        }, ClaimLease(invocation));
        if (decisionMs == 0) decisionMs = ElapsedMs(decisionStarted);
        return ToReport(invocation, "timer", id, e, reaction, now, handedOff, started, decisionMs);
    }

    /// <summary>The deduplication key of one piece of deferred work: its event and its due time.</summary>
    public static string DueKey(EventEnvelope e, DateTimeOffset dueAt) => ClaimRules.DueKey(e.Id, dueAt);

    /// <summary>The SQS event's records: id and body, or the problem that makes one unusable.</summary>
    public static List<(string? Id, string? Body, string? Problem)> ReadBatch(ReadOnlyMemory<byte> payload)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload);
        }
        catch (JsonException ex)
        {
            throw new EventRejectedException(RejectionKind.InvalidJson, "", $"not valid JSON, so not an SQS batch: {ex.Message}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Records", out var records) || records.ValueKind != JsonValueKind.Array)
                throw new EventRejectedException(RejectionKind.NotAnEvent, "Records",
                    "not an SQS batch (no \"Records\" array): relaunch-due takes its events from the delay queue only; point only the delay queue's event source mapping at it");
            var result = new List<(string?, string?, string?)>();
            var i = 0;
            foreach (var r in records.EnumerateArray())
            {
                var path = $"Records[{i++}]";
                string? id = null, body = null;
                if (r.ValueKind == JsonValueKind.Object)
                {
                    if (r.TryGetProperty("messageId", out var m) && m.ValueKind == JsonValueKind.String) id = m.GetString();
                    if (r.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.String) body = b.GetString();
                }
                var problem = id is null ? $"{path}.messageId: required field is missing" : body is null ? $"{path}.body: required field is missing" : null;
                result.Add((id, body ?? (r.ValueKind == JsonValueKind.Object ? r.GetRawText() : null), problem));
            }
            return result;
        }
    }

    public static byte[] BatchResponse(IReadOnlyList<string> failedMessageIds)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("batchItemFailures");
            foreach (var id in failedMessageIds)
            {
                w.WriteStartObject();
                w.WriteString("itemIdentifier", id);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
