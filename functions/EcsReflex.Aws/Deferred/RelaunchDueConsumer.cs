using System.Globalization;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.State;
using EcsReflex.Engine;

namespace EcsReflex.Aws.Deferred;

/// <summary>What became of one delay-queue message, for the host's log.</summary>
public sealed record DueRecordResult(string MessageId, string? EventId, string Status, string Reason, Reaction? Reaction = null)
{
    /// <summary>True when the message must be delivered again (reported in <c>batchItemFailures</c>).</summary>
    public bool Retry => Status is "retry" or "unreadable";
}

public sealed record DueBatchResult(IReadOnlyList<DueRecordResult> Records)
{
    public SqsBatchResponse Response => new()
    {
        BatchItemFailures = Records.Where(r => r.Retry).Select(r => new BatchItemFailure(r.MessageId)).ToList(),
    };
}

/// <summary>
/// The <c>relaunch-due</c> handler: consumes a batch of delay-queue messages and acts on each through the same
/// decision path as a live event (<see cref="Reactor.HandleDueAsync"/>), at the time it is handled — so a task
/// given up meanwhile is not relaunched. Partial batch failure semantics: a message whose handling failed
/// transiently (throttling past the retry budget, the deadline) is reported in <c>batchItemFailures</c> and SQS
/// delivers it again; every other message is acknowledged. A message that cannot be read is reported too, so that
/// the queue's redrive policy moves it to the dead-letter queue instead of dropping it.
/// </summary>
public sealed class RelaunchDueConsumer(Reactor reactor, IDelayQueue queue, IStateStore store, TimeProvider? time = null)
{
    public const string Handler = "relaunch-due";

    /// <summary>A message that surfaces this early is handled now (SQS delays are whole seconds).</summary>
    public static readonly TimeSpan EarlyTolerance = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<DueBatchResult> HandleAsync(SqsEvent batch, CancellationToken ct)
    {
        var results = new List<DueRecordResult>(batch.Records.Count);
        foreach (var message in batch.Records)
        {
            if (ct.IsCancellationRequested)
            {
                results.Add(new DueRecordResult(message.MessageId, null, "retry", "not handled: the invocation's deadline came first"));
                continue;
            }
            results.Add(await HandleOneAsync(message, ct).ConfigureAwait(false));
        }
        return new DueBatchResult(results);
    }

    /// <summary>Reads one message body; null with a reason when it is not a delay-queue message.</summary>
    public static DueMessage? TryRead(string? body, out string problem)
    {
        problem = "";
        if (string.IsNullOrWhiteSpace(body))
        {
            problem = "the message body is empty";
            return null;
        }
        try
        {
            var m = JsonSerializer.Deserialize(body, DeferredJsonContext.Default.DueMessage);
            if (m is null) problem = "the message body is the JSON value null";
            else if (m.Format != DueMessage.CurrentFormat) problem = $"format: expected \"{DueMessage.CurrentFormat}\", got \"{m.Format}\"";
            else if (m.Event.ValueKind != JsonValueKind.Object) problem = $"event: expected the original event as a JSON object, got {m.Event.ValueKind}";
            else return m;
            return null;
        }
        catch (JsonException ex)
        {
            problem = $"not a delay-queue message ({ex.Message})";
            return null;
        }
    }

    private async Task<DueRecordResult> HandleOneAsync(SqsMessage message, CancellationToken ct)
    {
        if (TryRead(message.Body, out var problem) is not { } due)
            return new DueRecordResult(message.MessageId, null, "unreadable", problem);

        EventEnvelope envelope;
        try
        {
            envelope = EventParser.Parse(System.Text.Encoding.UTF8.GetBytes(due.Event.GetRawText()));
        }
        catch (EventRejectedException ex)
        {
            return new DueRecordResult(message.MessageId, due.EventId, "unreadable", $"event: {ex.Message}");
        }

        try
        {
            var now = _time.GetUtcNow();
            if (due.DueAt - now > EarlyTolerance)
            {
                // Longer than SQS's 15 minutes, or delivered early: back in the queue for the rest of the wait.
                await queue.EnqueueAsync(due.ToWork() with { Hops = due.Hops + 1 }, now, ct).ConfigureAwait(false);
                return new DueRecordResult(message.MessageId, due.EventId, "requeued",
                    $"due at {due.DueAt.ToUniversalTime():O}, {Math.Ceiling((due.DueAt - now).TotalSeconds).ToString(CultureInfo.InvariantCulture)} s from now: put back in the queue");
            }

            // The same message can be delivered twice (SQS is at least once): act once per due time.
            var key = $"due#{due.EventId}#{due.DueAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}";
            if (await store.HasEventAsync(key, ct).ConfigureAwait(false))
                return new DueRecordResult(message.MessageId, due.EventId, "duplicate", $"already handled the work due at {due.DueAt.ToUniversalTime():O}");

            var reaction = await reactor.HandleDueAsync(envelope, now, ct).ConfigureAwait(false);
            if (reaction.Outcome == Outcome.Deferred && reaction.DueAt is { } next)
                await queue.EnqueueAsync(new DeferredWork(due.Event, due.EventId, due.Handler, next, reaction.Reason), now, ct).ConfigureAwait(false);
            await store.RecordEventAsync(key, now + Reactor.DuplicateMemory, ct).ConfigureAwait(false);
            return new DueRecordResult(message.MessageId, due.EventId, reaction.Outcome.Name(), reaction.Reason, reaction);
        }
        catch (Exception ex) when (ex is ApiCallException or OperationCanceledException or HttpRequestException or IOException
                                       || ex.GetType().FullName?.StartsWith("Amazon.", StringComparison.Ordinal) == true)
        {
            // Transient or unknown AWS trouble: SQS delivers the message again after its visibility timeout.
            return new DueRecordResult(message.MessageId, due.EventId, "retry", $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
