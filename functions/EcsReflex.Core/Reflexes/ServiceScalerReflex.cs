using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Core.Reflexes;

/// <summary>
/// The service scaler (<see cref="ServiceScaler"/>): alarm state changes step-scale the service they drive. Its decisions
/// claim the service's scaling record before acting (<see cref="ScalingRecordWrite"/>): when another invocation wrote
/// it first, the engine observes and decides again, so two invocations never both scale one service.
/// </summary>
public sealed class ServiceScalerReflex : IReflex
{
    public string Name => HandlerNames.ServiceScaler;

    /// <summary>Its decision claims the service's scaling record on the version it read: a stale read loses that claim and decides again.</summary>
    public bool ObservesBesideTheClaim => true;

    public bool Takes(EventDetail detail) => detail is AlarmStateChange;

    public async ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct)
    {
        var alarm = (AlarmStateChange)input.Event.Detail;
        DateTimeOffset? redecision = input.Due ? input.DueAt ?? input.Now : null;
        var observation = await ObserveAsync(context, alarm, input.Now, ct, redecision);
        return ServiceScaler.Decide(alarm, context.Policy, observation, input.Now, redecision);
    }

    public Decision ClaimsLost(ReflexInput input, int attempts) => new()
    {
        Outcome = Outcome.Failed, Code = ReasonCodes.ScalerLostRace,
        Reason = $"{((AlarmStateChange)input.Event.Detail).AlarmName}: lost the race for the service's scaling record {attempts} times in a row; another invocation keeps deciding for it",
    };

    /// <summary>
    /// What the scaler's decision reads: the service, its scalable target, the stored record, live alarm states when needed;
    /// for a sustained alarm's re-decision (<paramref name="redecision"/>, its due time) the alarm's own state and newest
    /// datapoint now, once the record says the re-decision is still the one scheduled.
    /// </summary>
    public static async ValueTask<ScalingObservation> ObserveAsync(ReflexContext context, AlarmStateChange alarm, DateTimeOffset now, CancellationToken ct,
        DateTimeOffset? redecision = null)
    {
        if (ServiceScaler.FindTarget(context.Policy, alarm.AlarmName) is not { } target) return new ScalingObservation();
        var recordRead = context.State.GetScalingRecordAsync(target.Cluster.Name, target.Service.Name, ct);
        // A delivered alarm reads the service beside its record (one round trip); a re-decision reads the record first,
        // since a stale one is decided from it alone, with no AWS call.
        var viewRead = redecision is null ? context.Observer.DescribeServiceScalingAsync(target.Cluster.Cluster, target.Service.Service, ct) : default;
        var record = await recordRead;
        if (redecision is { } due && !ServiceScaler.IsScheduled(record, alarm.AlarmName, due))
            return new ScalingObservation { Record = record }; // stale: decided from the record alone, no AWS call
        var view = redecision is null ? await viewRead : await context.Observer.DescribeServiceScalingAsync(target.Cluster.Cluster, target.Service.Service, ct);
        var observation = new ScalingObservation { Service = view.Service, ScalableTarget = view.ScalableTarget, Record = record };
        if (redecision is not null)
        {
            var found = await context.Observer.DescribeAlarmNowAsync(alarm.AlarmName, ct);
            observation = found.States.FirstOrDefault(s => s.AlarmName == alarm.AlarmName) is { } current
                ? observation with { Current = current }
                : observation with { CurrentUnavailable = found.Unavailable ?? $"{alarm.AlarmName} was not found" };
        }
        if (ServiceScaler.AlarmsToDescribe(alarm, target, record, now) is { Count: > 0 } names)
        {
            var live = await context.Observer.DescribeAlarmStatesAsync(names, ct);
            observation = observation with { LiveAlarms = live.States, AlarmStatesUnavailable = live.Unavailable };
        }
        return observation;
    }
}
