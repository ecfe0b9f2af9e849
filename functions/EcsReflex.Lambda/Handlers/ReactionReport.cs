using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Engine.Acting;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// What became of one event (or one message of a batch): written as the reaction's log line and, for the
/// EventBridge handlers, as the response. Field names follow the replay's JSON lines where they overlap.
/// </summary>
public sealed record ReactionReport
{
    public const string Message = "reaction";

    public required string RequestId { get; init; }
    /// <summary><c>event</c> for a delivered event, <c>timer</c> for deferred work that came due.</summary>
    public required string Trigger { get; init; }
    public string? MessageId { get; init; }
    public string? EventId { get; init; }
    public string? DetailType { get; init; }
    /// <summary>The handler whose decision this is (the relaunch-due handler decides as the task rescheduler).</summary>
    public string? DecidedBy { get; init; }
    public required Outcome Outcome { get; init; }
    /// <summary>The code of <see cref="Reason"/> (<see cref="ReasonCodes"/>), as the replay's JSON lines write it.</summary>
    public required string Code { get; init; }
    public required string Reason { get; init; }
    /// <summary>For an input rejected before any decision (by the parser, or misrouted): the code (<c>invalid-json</c>, <c>missing-field</c>…, <c>misrouted</c>). A decision that rejects has outcome <c>rejected</c> and no code, as in the replay.</summary>
    public string? Rejection { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>When the same event is decided again although this reaction acted (a drain's <c>stopOriginalAfterSeconds</c>): put on the delay queue.</summary>
    public DateTimeOffset? FollowUpAt { get; init; }
    /// <summary>The "now" the decision was taken at.</summary>
    public DateTimeOffset? DecidedAt { get; init; }
    public IReadOnlyList<ActionResult> Actions { get; init; } = [];
    /// <summary>Where deferred work went: <c>queued</c> (delay queue) or <c>logged</c> (no queue configured).</summary>
    public string? DelayQueue { get; init; }
    /// <summary>Where a poison input went: <c>queued</c> (dead-letter queue) or <c>logged</c>.</summary>
    public string? DeadLetter { get; init; }
    public double DurationMs { get; init; }
    public double? DecisionMs { get; init; }

    public string Level => Outcome switch
    {
        Outcome.Failed => JsonLog.Error,
        Outcome.Rejected => JsonLog.Warn,
        _ => JsonLog.Info,
    };

    public void WriteFields(Utf8JsonWriter w)
    {
        w.WriteString("requestId", RequestId);
        w.WriteString("trigger", Trigger);
        if (MessageId is not null) w.WriteString("messageId", MessageId);
        JsonLog.WriteOptional(w, "eventId", EventId);
        JsonLog.WriteOptional(w, "detailType", DetailType);
        JsonLog.WriteOptional(w, "decidedBy", DecidedBy);
        w.WriteString("outcome", Outcome.Name());
        w.WriteString("reason", Reason);
        w.WriteString("code", Code);
        if (Rejection is not null) w.WriteString("rejection", Rejection);
        if (DueAt is { } due) w.WriteString("dueAt", JsonLog.FormatTime(due));
        if (FollowUpAt is { } followUp) w.WriteString("followUpAt", JsonLog.FormatTime(followUp));
        if (DecidedAt is { } at) w.WriteString("decidedAt", JsonLog.FormatTime(at));
        if (DelayQueue is not null) w.WriteString("delayQueue", DelayQueue);
        if (DeadLetter is not null) w.WriteString("deadLetter", DeadLetter);
        w.WriteStartArray("actions");
        foreach (var a in Actions)
        {
            w.WriteStartObject();
            w.WriteString("service", a.Action.Service);
            w.WriteString("operation", a.Action.Operation);
            w.WritePropertyName("request");
            ActionJson.Write(w, a.Action.Request);
            w.WriteString("status", a.Status);
            if (a.Detail is not null) w.WriteString("detail", a.Detail);
            // The few words the replay's table shows for it (web desired 4 → 5): the request alone cannot say "from 4".
            if (a.Action.Summary is not null) w.WriteString("summary", a.Action.Summary);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("durationMs", Math.Round(DurationMs, 3));
        if (DecisionMs is { } d) w.WriteNumber("decisionMs", Math.Round(d, 3));
    }

    /// <summary>The EventBridge handlers' response: the report as one JSON object.</summary>
    public byte[] ToResponseJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, EcsReflex.Core.MinimalJsonEncoder.WriterOptions))
        {
            w.WriteStartObject();
            WriteFields(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
