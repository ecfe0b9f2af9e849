using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Engine;

/// <summary>
/// The service scaler's turn of the pipeline: observe (the scaling record, the service, its scalable
/// target, alarm states the record lacks), decide (pure, <see cref="ServiceScaler"/>), claim (write the
/// record on the condition that its version is unchanged), act through the actuator. When the claim fails,
/// another invocation decided for the service first: re-read and decide again, so two invocations never
/// both scale one service.
/// </summary>
public sealed class ScalerStep(ReflexPolicy policy, IStateStore store, IClusterObserver observer, Actuator actuator)
{
    /// <summary>How many times a decision is retried after losing the race for the service record.</summary>
    public const int MaxClaims = 8;

    public async ValueTask<Reaction> RunAsync(EventEnvelope e, AlarmStateChange alarm, string handler, DateTimeOffset now, CancellationToken ct)
    {
        for (var claim = 1; claim <= MaxClaims; claim++)
        {
            var (decision, previous) = await DecideAsync(alarm, now, ct);
            if (decision.Record is { } next)
            {
                var expected = previous?.Version ?? 0;
                if (!await store.TryPutScalingRecordAsync(next, expected, ct)) continue; // lost the race: decide again
                Actuation done;
                try
                {
                    done = await actuator.ExecuteAsync(decision.Decision, e.Id, handler, now, ct);
                }
                catch when (decision.Decision.Outcome == Outcome.Acted)
                {
                    await ForgetChangeAsync(next, previous, CancellationToken.None);
                    throw;
                }
                if (decision.Decision.Outcome == Outcome.Acted && !(done.Outcome == Outcome.Acted && done.Results.All(r => r.State == ActionStatus.Done)))
                    await ForgetChangeAsync(next, previous, ct);
                return Reaction(e, handler, done);
            }
            return Reaction(e, handler, await actuator.ExecuteAsync(decision.Decision, e.Id, handler, now, ct));
        }
        var reason = $"{alarm.AlarmName}: lost the race for the service's scaling record {MaxClaims} times in a row; another invocation keeps deciding for it";
        return Reaction(e, handler, await actuator.ExecuteAsync(new Decision { Outcome = Outcome.Failed, Code = ReasonCodes.ScalerLostRace, Reason = reason }, e.Id, handler, now, ct));
    }

    private async ValueTask<(ScalingDecision Decision, ServiceScalingRecord? Previous)> DecideAsync(AlarmStateChange alarm, DateTimeOffset now, CancellationToken ct)
    {
        var observation = await ObserveAsync(alarm, now, ct);
        return (ServiceScaler.Decide(alarm, policy, observation, now), observation.Record);
    }

    /// <summary>What the scaler's decision reads: the service, its scalable target, the stored record, live alarm states when needed.</summary>
    public async ValueTask<ScalingObservation> ObserveAsync(AlarmStateChange alarm, DateTimeOffset now, CancellationToken ct)
    {
        if (ServiceScaler.FindTarget(policy, alarm.AlarmName) is not { } target) return new ScalingObservation();
        var record = await store.GetScalingRecordAsync(target.Cluster.Name, target.Service.Name, ct);
        var view = await observer.DescribeServiceScalingAsync(target.Cluster.Cluster, target.Service.Service, ct);
        var observation = new ScalingObservation { Service = view.Service, ScalableTarget = view.ScalableTarget, Record = record };
        if (ServiceScaler.AlarmsToDescribe(alarm, target, record, now) is { Count: > 0 } names)
        {
            var live = await observer.DescribeAlarmStatesAsync(names, ct);
            observation = observation with { LiveAlarms = live.States, AlarmStatesUnavailable = live.Unavailable };
        }
        return observation;
    }

    /// <summary>
    /// The change was claimed but not made (dry run, or ECS refused it): keep the alarm memory, drop the
    /// change (back to the one before), so cooldowns and the someone-else-is-scaling rule do not count a
    /// change that never happened.
    /// </summary>
    private async ValueTask ForgetChangeAsync(ServiceScalingRecord claimed, ServiceScalingRecord? before, CancellationToken ct)
    {
        for (var i = 0; i < MaxClaims; i++)
        {
            var stored = await store.GetScalingRecordAsync(claimed.Cluster, claimed.Service, ct);
            if (stored is null || stored.LastScaledAt != claimed.LastScaledAt || stored.LastAlarm != claimed.LastAlarm) return; // superseded
            var restored = stored with
            {
                LastTarget = before?.LastTarget, LastFrom = before?.LastFrom, LastScaledAt = before?.LastScaledAt,
                LastDirection = before?.LastDirection, LastAlarm = before?.LastAlarm, CooldownBase = before?.CooldownBase,
            };
            if (await store.TryPutScalingRecordAsync(restored, stored.Version, ct)) return;
        }
    }

    private static Reaction Reaction(EventEnvelope e, string handler, Actuation done) => new()
    {
        Handler = handler, Outcome = done.Outcome, Code = done.Code, Reason = done.Reason, Actions = done.Results, DueAt = done.DueAt, Event = e,
    };
}
