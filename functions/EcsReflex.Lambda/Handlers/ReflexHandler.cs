using System.Diagnostics;
using System.Text;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Metrics;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// What the handlers share: the reactor (the replay's decision path), the reaction log line, the
/// invocation's metrics, and poison handling (dead-letter first, then acknowledge).
/// </summary>
public abstract class ReflexHandler : IInvocationHandler
{
    protected ReflexHandler(string name, HostServices services, JsonLog log, TimeProvider time)
    {
        Name = name;
        Services = services;
        Log = log;
        Time = time;
        Reactor = new Reactor(services.Policy, services.Store, services.Observer,
            new Actuator(services.Ecs, services.Store, services.Policy, services.DryRun));
    }

    public string Name { get; }
    protected HostServices Services { get; }
    protected JsonLog Log { get; }
    protected TimeProvider Time { get; }
    protected Reactor Reactor { get; }

    public async Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, CancellationToken ct)
    {
        var metrics = new InvocationMetrics(Name);
        try
        {
            return await HandleAsync(invocation, metrics, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Services.AwsErrorCode(ex) is { } code)
        {
            metrics.AddAwsError(code);
            throw;
        }
        finally
        {
            // One EMF line per invocation, before the response or error is posted.
            EmfWriter.Write(Log.Output, metrics, invocation.RequestId, Time.GetUtcNow());
        }
    }

    protected abstract Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, InvocationMetrics metrics, CancellationToken ct);

    /// <summary>Logs the reaction and counts it.</summary>
    protected void Report(ReactionReport report, InvocationMetrics metrics)
    {
        metrics.Add(report.Outcome, report.Actions, report.Code, report.DecisionMs, report.DecidedBy);
        Log.Write(report.Level, ReactionReport.Message, report.WriteFields);
    }

    /// <summary>
    /// A poison input: retrying cannot help, so it goes to the dead-letter queue with its reason and is
    /// then acknowledged. When the dead-letter queue refuses it, the exception fails the invocation (or
    /// the message), so nothing is lost.
    /// </summary>
    protected async Task<ReactionReport> DeadLetterAsync(InvocationRequest invocation, string trigger, string? messageId,
        EventEnvelope? e, string code, string reason, string payload, long started, CancellationToken ct)
    {
        await Services.DeadLetters.SendAsync(new DeadLetter
        {
            Handler = Name, Code = code, Reason = reason, Payload = payload, EventId = e?.Id,
            RequestId = invocation.RequestId, MessageId = messageId, RejectedAt = Time.GetUtcNow(),
        }, ct);
        return new ReactionReport
        {
            RequestId = invocation.RequestId, Trigger = trigger, MessageId = messageId,
            EventId = e?.Id, DetailType = e?.DetailType, DecidedBy = null,
            Outcome = Outcome.Rejected, Code = ReasonCodes.Reject(code), Reason = reason, Rejection = code,
            DeadLetter = Services.DeadLetterMode, DurationMs = ElapsedMs(started),
        };
    }

    /// <summary>
    /// Hands on what a reaction leaves to do: deferred work and a follow-up (a drain's deadline to stop the
    /// original, a sustained alarm's next re-decision) to the delay queue, a rejected event to the dead-letter queue. In the order the replay
    /// schedules them: the deferral, then the follow-up.
    /// </summary>
    protected async Task<(string? DelayQueue, string? DeadLetter)> HandOffAsync(InvocationRequest invocation, string? messageId,
        string eventJson, Reaction reaction, CancellationToken ct)
    {
        string? delay = null, deadLetter = null;
        if (reaction.Outcome == Outcome.Deferred && reaction.DueAt is { } due)
        {
            await Services.DelayQueue.SendAsync(new DeferredWork(eventJson, due), ct);
            delay = Services.DelayQueueMode;
        }
        if (reaction.FollowUpAt is { } followUp)
        {
            await Services.DelayQueue.SendAsync(new DeferredWork(eventJson, followUp, reaction.Periodic), ct);
            delay = Services.DelayQueueMode;
        }
        if (reaction.Outcome == Outcome.Rejected)
        {
            await Services.DeadLetters.SendAsync(new DeadLetter
            {
                Handler = Name, Code = "rejected", Reason = reaction.Reason, Payload = eventJson, EventId = reaction.Event?.Id,
                RequestId = invocation.RequestId, MessageId = messageId, RejectedAt = Time.GetUtcNow(),
            }, ct);
            deadLetter = Services.DeadLetterMode;
        }
        return (delay, deadLetter);
    }

    protected ReactionReport ToReport(InvocationRequest invocation, string trigger, string? messageId, EventEnvelope e, Reaction r,
        DateTimeOffset now, (string? DelayQueue, string? DeadLetter) handedOff, long started, double decisionMs) => new()
    {
        RequestId = invocation.RequestId, Trigger = trigger, MessageId = messageId,
        EventId = e.Id, DetailType = e.DetailType, DecidedBy = r.Handler,
        Outcome = r.Outcome, Code = r.Code, Reason = r.Reason, DueAt = r.DueAt, FollowUpAt = r.FollowUpAt, DecidedAt = now, Actions = r.Actions,
        DelayQueue = handedOff.DelayQueue, DeadLetter = handedOff.DeadLetter,
        DurationMs = ElapsedMs(started), DecisionMs = decisionMs,
    };

    /// <summary>The error type a failed reaction fails its invocation with: both are retried, neither is dead-lettered.</summary>
    public const string ActionFailed = "Reflex.ActionFailed", ClaimInProgress = "Reflex.ClaimInProgress";

    protected static string FailedErrorType(Reaction reaction) =>
        reaction.Code == ReasonCodes.EngineClaimInProgress ? ClaimInProgress : ActionFailed;

    /// <summary>
    /// How long a reaction's claim lasts: the time the invocation has left (Lambda stops it at its deadline, so it
    /// cannot act after) plus <see cref="ClaimRules.LeaseMargin"/>.
    /// </summary>
    protected TimeSpan ClaimLease(InvocationRequest invocation) => ClaimRules.LeaseFor(invocation.Deadline - Time.GetUtcNow());

    /// <summary>Why an event does not belong to this handler, or null when it does.</summary>
    protected string? Misrouted(EventEnvelope e, string expectedOwner)
    {
        var owner = Engine.Handlers.For(e.Detail);
        if (owner == expectedOwner) return null;
        return owner is null
            ? $"no EcsReflex handler takes {e.DetailType} events from {e.Source}, yet {Name} received one: narrow the EventBridge rule that targets this function to the policy's event types"
            : $"{e.DetailType} events belong to the {owner} handler, not {Name}: point the EventBridge rule for them at the {owner} function";
    }

    protected long Timestamp() => Time.GetTimestamp();
    protected double ElapsedMs(long started) => Time.GetElapsedTime(started).TotalMilliseconds;

    protected static string Utf8(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
