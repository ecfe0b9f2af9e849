using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Metrics;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// <c>task-rescheduler</c>, <c>placement-guard</c>, <c>service-scaler</c>, <c>reconciler</c> (its schedule's
/// <c>Scheduled Event</c>): one EventBridge event per invocation, decided by the reactor. Poison events (rejected by the parser, misrouted, or rejected by
/// the decision) are dead-lettered and acknowledged; a failed action (<c>Reflex.ActionFailed</c>) and an event whose
/// claim another invocation holds (<c>Reflex.ClaimInProgress</c>) fail the invocation, so Lambda retries it (and
/// only after its last retry routes it to the on-failure destination).
/// </summary>
public sealed class EventBridgeHandler(string name, HostServices services, JsonLog log, TimeProvider time)
    : ReflexHandler(name, services, log, time)
{
    /// <summary>The trigger of a reaction line for what the reconciler's sweep found and decided in the same invocation.</summary>
    public const string FoundTrigger = "found";

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
        Dictionary<string, (string?, string?)>? foundHandedOff = null;
        var reaction = await Reactor.HandleEventAsync(e, now, ct, async (r, c) =>
        {
            if (r.Event is { } found && !ReferenceEquals(found, e))
            {
                // What the sweep found is its own event: deferred work carries that event, not the schedule's.
                (foundHandedOff ??= new(StringComparer.Ordinal))[found.Id] =
                    await HandOffAsync(invocation, null, Utf8(EventJson.Write(found)), r, c);
                return;
            }
            decisionMs = ElapsedMs(decisionStarted);
            handedOff = await HandOffAsync(invocation, null, payload, r, c);
        }, ClaimLease(invocation));
        if (decisionMs == 0) decisionMs = ElapsedMs(decisionStarted);

        var report = ToReport(invocation, "event", null, e, reaction, now, handedOff, started, decisionMs);
        Report(report, metrics);
        // The sweep's line, then one per stop it found and decided (trigger "found"), as the replay prints them.
        foreach (var f in reaction.Found)
            Report(ToReport(invocation, FoundTrigger, null, f.Event!, f, now,
                foundHandedOff?.GetValueOrDefault(f.Event!.Id) ?? default, started, decisionMs), metrics);
        if (reaction.Outcome == Outcome.Failed)
            throw new InvocationFailedException(FailedErrorType(reaction), reaction.Reason);
        return report.ToResponseJson();
    }
}
