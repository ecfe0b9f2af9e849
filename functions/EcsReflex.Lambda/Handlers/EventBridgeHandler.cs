using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Metrics;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// <c>task-rescheduler</c>, <c>placement-guard</c>, <c>service-scaler</c>: one EventBridge event per
/// invocation, decided by the reactor. Poison events (rejected by the parser, misrouted, or rejected by
/// the decision) are dead-lettered and acknowledged; a failed action (<c>Reflex.ActionFailed</c>) and an event whose
/// claim another invocation holds (<c>Reflex.ClaimInProgress</c>) fail the invocation, so Lambda retries it (and
/// only after its last retry routes it to the on-failure destination).
/// </summary>
public sealed class EventBridgeHandler(string name, HostServices services, JsonLog log, TimeProvider time)
    : ReflexHandler(name, services, log, time)
{
    protected override async Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, InvocationMetrics metrics, CancellationToken ct)
    {
        var started = Timestamp();
        var payload = Utf8(invocation.Payload);
        EventEnvelope e;
        try
        {
            e = EventParser.Parse(invocation.Payload);
        }
        catch (EventRejectedException ex)
        {
            var poison = await DeadLetterAsync(invocation, "event", null, null, ex.Code, ex.Message, payload, started, ct);
            Report(poison, metrics);
            return poison.ToResponseJson();
        }

        if (Misrouted(e, Name) is { } why)
        {
            var poison = await DeadLetterAsync(invocation, "event", null, e, "misrouted", why, payload, started, ct);
            Report(poison, metrics);
            return poison.ToResponseJson();
        }

        var now = Services.Clock.Now(invocation);
        var decisionStarted = Timestamp();
        double decisionMs = 0;
        (string?, string?) handedOff = default;
        var reaction = await Reactor.HandleEventAsync(e, now, ct, async (r, c) =>
        {
            decisionMs = ElapsedMs(decisionStarted);
            handedOff = await HandOffAsync(invocation, null, payload, r, c);
        }, ClaimLease(invocation));
        if (decisionMs == 0) decisionMs = ElapsedMs(decisionStarted);

        var report = ToReport(invocation, "event", null, e, reaction, now, handedOff, started, decisionMs);
        Report(report, metrics);
        if (reaction.Outcome == Outcome.Failed)
            throw new InvocationFailedException(FailedErrorType(reaction), reaction.Reason);
        return report.ToResponseJson();
    }
}
