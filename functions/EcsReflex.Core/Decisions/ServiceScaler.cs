using System.Globalization;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>What the engine observed before the scaler decides.</summary>
public sealed record ScalingObservation
{
    /// <summary>The service (its desired count), or null when the cluster has no such service.</summary>
    public ObservedService? Service { get; init; }
    /// <summary>The Application Auto Scaling scalable target of the service's desired count, if one is registered.</summary>
    public ObservedScalableTarget? ScalableTarget { get; init; }
    /// <summary>The scaler's record of the service, or null before its first write.</summary>
    public ServiceScalingRecord? Record { get; init; }
    /// <summary>Alarm states described live (when the record's memory of them was missing or stale).</summary>
    public IReadOnlyList<ObservedAlarmState> LiveAlarms { get; init; } = [];
    /// <summary>Why alarm states could not be described live, when the engine asked and could not.</summary>
    public string? AlarmStatesUnavailable { get; init; }
}

/// <summary>The service an alarm drives, with the alarm's policy.</summary>
public sealed record ScalingTarget(ClusterPolicy Cluster, ServicePolicy Service, ScalingPolicy Scaling, ScalingAlarm Alarm);

/// <summary>
/// The service scaler's decisions, pure: Application Auto Scaling step scaling (steps relative to the
/// alarm's threshold, three adjustment types with AAS rounding, bounds, cooldowns) plus HPA-style scale-in
/// stabilisation and one arbiter across the alarms of a service. See docs/scaler.md.
/// </summary>
public static class ServiceScaler
{
    /// <summary>At most this many recommendations are kept per service (the newest).</summary>
    public const int MaxRecommendations = 64;

    public const string Alarm = "ALARM";

    /// <summary>The service an alarm drives according to the policy (an alarm drives at most one), or null.</summary>
    public static ScalingTarget? FindTarget(ReflexPolicy policy, string alarmName)
    {
        foreach (var cluster in policy.Clusters)
            foreach (var service in cluster.Services)
                if (service.Scaling is { } scaling && scaling.FindAlarm(alarmName) is { } alarm)
                    return new ScalingTarget(cluster, service, scaling, alarm);
        return null;
    }

    /// <summary>
    /// The other scale-out alarms of the service whose state the decision needs but the record does not
    /// know, or knows only from longer ago than the cooldowns: the engine describes them live when it can.
    /// </summary>
    public static IReadOnlyList<string> AlarmsToDescribe(AlarmStateChange a, ScalingTarget t, ServiceScalingRecord? record, DateTimeOffset now)
    {
        if (a.State.Value != Alarm) return [];
        var stale = MemoryHorizon(t.Scaling);
        return t.Scaling.Alarms
            .Where(x => x.Direction == ScalingDirection.Out && x.AlarmName != a.AlarmName)
            .Where(x => record?.Alarm(x.AlarmName) is not { } m || now - m.SeenAt > stale)
            .Select(x => x.AlarmName)
            .ToList();
    }

    /// <summary>Remembered alarm states older than this are re-checked when possible: the longer cooldown.</summary>
    public static TimeSpan MemoryHorizon(ScalingPolicy s) => s.ScaleOutCooldown > s.ScaleInCooldown ? s.ScaleOutCooldown : s.ScaleInCooldown;

    public static Decision Decide(AlarmStateChange a, ReflexPolicy policy, ScalingObservation obs, DateTimeOffset now)
    {
        if (FindTarget(policy, a.AlarmName) is not { } t)
            return Decision.Ignored(ReasonCodes.ScalerNoService, $"alarm {a.AlarmName} drives no service in the policy: nothing to scale");
        var scaling = t.Scaling;
        var svc = t.Service.Name;
        var record = obs.Record ?? new ServiceScalingRecord { Cluster = t.Cluster.Name, Service = svc };
        var state = a.State.Value;
        var stamp = a.State.Timestamp ?? now;

        // The same transition (or an older one, delivered late) changes nothing.
        var previous = record.Alarm(a.AlarmName);
        if (previous is { StateTimestamp: { } seen } && stamp <= seen)
            return Decision.Ignored(stamp == seen ? ReasonCodes.ScalerAlreadyHandled : ReasonCodes.ScalerOutOfOrder, stamp == seen
                ? $"{a.AlarmName} {state} at {Time(stamp, now)} was already handled"
                : $"{a.AlarmName} {state} at {Time(stamp, now)} is older than the {previous.State} at {Time(seen, now)} already seen: delivered out of order, nothing to do");

        var memory = Merge(record.Alarms, obs.LiveAlarms, scaling, now);
        var recommendations = record.Recommendations.Where(r => r.At <= now && now - r.At < scaling.ScaleInStabilization).ToList();

        ServiceScalingRecord Remember(int? ask) => record with
        {
            Alarms = Upsert(memory, new RememberedAlarm { AlarmName = a.AlarmName, State = state, StateTimestamp = stamp, SeenAt = now, Recommendation = ask }),
            Recommendations = recommendations.TakeLast(MaxRecommendations).ToList(),
        };
        Decision Ignore(string code, string reason, int? ask = null) => Claiming(Decision.Ignored(code, reason), obs.Record, Remember(ask));

        if (state != Alarm)
            return Ignore(ReasonCodes.ScalerNotInAlarm, $"{a.AlarmName} is {state}{(previous is null ? "" : $" (was {previous.State})")}: nothing to scale; remembered for the arbiter");
        if (a.State.ActionsSuppressedBy is { } by)
            return Ignore(ReasonCodes.ScalerActionsSuppressed, $"{a.AlarmName} is ALARM but its actions are suppressed ({by}): nothing to scale; remembered for the arbiter");
        if (scaling.Paused)
            return Ignore(ReasonCodes.ScalerPaused, $"scaling of {svc} is paused ({scaling.Path}.paused): nothing sent; {a.AlarmName} ALARM remembered");
        if (obs.Service is not { } service)
            return Ignore(ReasonCodes.ScalerServiceNotFound, $"service {svc} is not in cluster {t.Cluster.Name}: nothing to scale");
        if (service.Status is { } status && status != "ACTIVE")
            return Ignore(ReasonCodes.ScalerServiceNotActive, $"service {svc} is {status}: nothing to scale");

        // Bounds: the policy's, narrowed by Application Auto Scaling's under "clamp".
        var (lo, hi) = (scaling.MinCount, scaling.MaxCount);
        var (loWhose, hiWhose) = ("", "");
        if (obs.ScalableTarget is { } target)
        {
            if (scaling.CoexistWithApplicationAutoScaling == AasCoexistence.Leave)
                return Ignore(ReasonCodes.ScalerAasOwned, $"Application Auto Scaling also scales {svc} (scalable target {target.ResourceId}, min {target.MinCapacity}, max {target.MaxCapacity}): leaving it alone; set {scaling.Path}.coexistWithApplicationAutoScaling to \"clamp\" to scale within both bounds");
            if (target.MinCapacity > lo) (lo, loWhose) = (target.MinCapacity, ", Application Auto Scaling's");
            if (target.MaxCapacity < hi) (hi, hiWhose) = (target.MaxCapacity, ", Application Auto Scaling's");
            if (lo > hi)
                return Ignore(ReasonCodes.ScalerBoundsDisjoint, $"the policy's bounds [{scaling.MinCount}, {scaling.MaxCount}] and Application Auto Scaling's [{target.MinCapacity}, {target.MaxCapacity}] for {svc} do not overlap: leaving it alone");
        }

        var current = service.DesiredCount;

        // A desired count that is not what EcsReflex set, shortly after it set it: its own change has not
        // landed yet (another invocation is acting), or someone else is scaling the service.
        if (record is { LastTarget: { } last, LastScaledAt: { } lastAt, LastDirection: { } lastDir } && current != last)
        {
            var (cooldown, name) = lastDir == ScalingDirection.Out ? (scaling.ScaleOutCooldown, "scaleOutCooldownSeconds") : (scaling.ScaleInCooldown, "scaleInCooldownSeconds");
            if (now - lastAt < cooldown)
                return Ignore(current == record.LastFrom ? ReasonCodes.ScalerOwnChangePending : ReasonCodes.ScalerSomeoneElseScaling, current == record.LastFrom
                    ? $"EcsReflex's own change of {svc} ({record.LastFrom} → {last} at {Time(lastAt, now)}, for {record.LastAlarm}) has not landed yet (desired still {current}): not scaling twice; {a.AlarmName} ALARM remembered"
                    : $"someone else is scaling {svc}: desired is {current}, EcsReflex set {last} at {Time(lastAt, now)}; leaving it alone until {Time(lastAt + cooldown, now)} ({name} {cooldown.TotalSeconds:0}); {a.AlarmName} ALARM remembered");
        }

        var (step, trigger) = SelectStep(a, t.Alarm);
        if (step is null)
            return Ignore(ReasonCodes.ScalerNoStep, $"{trigger}: no step of {t.Alarm.Path} covers it (steps {string.Join(", ", t.Alarm.Steps.Select(s => s.Interval))}): nothing to scale");

        var dir = t.Alarm.Direction;
        var outCooling = record is { LastDirection: ScalingDirection.Out, LastScaledAt: { } o } && now - o < scaling.ScaleOutCooldown;
        var inCooling = record is { LastDirection: ScalingDirection.In, LastScaledAt: { } i } && now - i < scaling.ScaleInCooldown;

        // Within a scale-out cooldown, a scale-out is computed from the count the cooldown started from.
        var from = dir == ScalingDirection.Out && outCooling && record.CooldownBase is { } b ? b : current;
        var (raw, stepText) = Apply(t.Alarm, step, from);
        var notes = new List<string>();
        if (dir == ScalingDirection.Out && from == 0 && raw < 1)
        {
            raw = 1;
            notes.Add("from 0 a scale-out gives at least 1");
        }
        // An alarm scales one way: an ExactCapacity count on the wrong side of the current one changes nothing.
        if (dir == ScalingDirection.Out ? raw < from : raw > from) raw = from;
        var ask = (int)Math.Clamp(raw, lo, hi);
        var bound = dir == ScalingDirection.Out ? $"max {hi}{hiWhose}" : $"min {lo}{loWhose}";
        if (ask > raw) bound = $"raised to min {lo}{loWhose}";
        else if (ask < raw) bound = $"capped at max {hi}{hiWhose}";
        var fromText = from != current ? $" from {from} (where the scale-out cooldown started)" : "";
        var head = $"{trigger} → {stepText}{fromText}";

        var proposal = ask;
        int? asked = null; // what a scale-out alarm asked for, before it was floored at the current count (shown when held)
        string? held = null;
        var heldCode = ReasonCodes.ScalerCooldown;
        string? assumption = null;
        if (dir == ScalingDirection.Out)
        {
            // The arbiter: of the service's scale-out alarms in ALARM, the largest capacity wins.
            var rival = memory
                .Where(m => m.AlarmName != a.AlarmName && m.State == Alarm && m.Recommendation is not null
                            && scaling.FindAlarm(m.AlarmName)?.Direction == ScalingDirection.Out)
                .Select(m => (m.AlarmName, Count: Math.Clamp(m.Recommendation!.Value, lo, hi)))
                .OrderByDescending(m => m.Count).ThenBy(m => m.AlarmName, StringComparer.Ordinal)
                .FirstOrDefault();
            if (rival.AlarmName is not null && rival.Count > proposal)
            {
                proposal = rival.Count;
                notes.Add($"the arbiter keeps the largest ask: {rival.AlarmName} (in ALARM) asks {rival.Count}");
            }
            // A scale-out alarm never lowers the count; only a count above the max is brought down to it.
            if (current <= hi)
            {
                if (outCooling && record.LastTarget is { } lastTarget && proposal <= lastTarget)
                    held = $"the cooldown: within {scaling.ScaleOutCooldownSeconds} s of the scale-out to {lastTarget} at {Time(record.LastScaledAt!.Value, now)}, only a larger target is applied (until {Time(record.LastScaledAt!.Value + scaling.ScaleOutCooldown, now)})";
                asked = proposal;
                proposal = Math.Max(proposal, current);
            }
        }
        else if (proposal < current)
        {
            if (outCooling)
                held = $"the cooldown: {svc} scaled out {record.LastFrom} → {record.LastTarget} at {Time(record.LastScaledAt!.Value, now)}, so scale-in waits until {Time(record.LastScaledAt!.Value + scaling.ScaleOutCooldown, now)} (scaleOutCooldownSeconds {scaling.ScaleOutCooldownSeconds})";
            else if (inCooling)
                held = $"the cooldown: {svc} scaled in {record.LastFrom} → {record.LastTarget} at {Time(record.LastScaledAt!.Value, now)}, so the next scale-in waits until {Time(record.LastScaledAt!.Value + scaling.ScaleInCooldown, now)} (scaleInCooldownSeconds {scaling.ScaleInCooldownSeconds})";
            else if (ScaleOutAlarmInAlarm(t, memory, now, obs, out assumption) is { } blocker)
                (held, heldCode) = (blocker, ReasonCodes.ScalerArbiter);
            else if (recommendations.Where(r => r.Count > proposal).MaxBy(r => (r.Count, r.At)) is { } high)
            {
                var window = $"within the last {scaling.ScaleInStabilizationSeconds} s";
                if (high.Count >= current)
                    (held, heldCode) = ($"stabilisation: {svc} was recommended {high.Count} at {Time(high.At, now)} (by {high.Alarm}), {window}", ReasonCodes.ScalerStabilisation);
                else
                {
                    notes.Add($"stabilised at {high.Count}, recommended at {Time(high.At, now)} (by {high.Alarm}) {window}");
                    proposal = high.Count;
                }
            }
        }

        recommendations.Add(new ScalingRecommendation(now, proposal, a.AlarmName));
        var remembered = Remember(ask);
        if (assumption is not null) notes.Add(assumption);
        var tail = notes.Count > 0 ? "; " + string.Join("; ", notes) : "";

        if (held is not null)
            return Claiming(Decision.Ignored(heldCode, $"{head}: {(asked is { } x ? $"asks {x}" : $"{current} → {proposal}")}, held by {held}{tail}"), obs.Record, remembered);
        if (proposal == current)
            return Claiming(Decision.Ignored(raw == current ? ReasonCodes.ScalerAtCount : ReasonCodes.ScalerBound, raw == current
                ? $"{head}: {svc} already runs {current} ({bound}){tail}"
                : $"{head}: {current} → {raw}, held by the bound ({(raw > hi ? $"max {hi}{hiWhose}" : $"min {lo}{loWhose}")}){tail}"), obs.Record, remembered);

        var next = remembered with
        {
            LastTarget = proposal,
            LastFrom = current,
            LastScaledAt = now,
            LastDirection = proposal > current ? ScalingDirection.Out : ScalingDirection.In,
            LastAlarm = a.AlarmName,
            CooldownBase = proposal > current ? from : null,
        };
        var action = ReflexAction.UpdateService(new UpdateServiceRequest { Cluster = t.Cluster.Cluster, Service = t.Service.Service, DesiredCount = proposal })
            with { Summary = $"{svc} desired {current} → {proposal}", DesiredFrom = current };
        return Claiming(new Decision
        {
            Outcome = Outcome.Acted,
            Code = proposal > current ? ReasonCodes.ScalerScaleOut : ReasonCodes.ScalerScaleIn,
            Reason = $"{head}: {current} → {proposal} ({bound}){tail}",
            Actions = [action],
        }, obs.Record, next);
    }

    /// <summary>
    /// <paramref name="d"/> with the service's record claimed before acting: written only while the stored version is the
    /// one read (two invocations never both scale one service; the loser decides again). A scale that is not carried out
    /// (dry run, refused, thrown) is taken back from the record, so cooldowns never count a change that did not happen.
    /// </summary>
    private static Decision Claiming(Decision d, ServiceScalingRecord? read, ServiceScalingRecord write) => d with
    {
        Writes = d.Outcome == Outcome.Acted
            ? [new ScalingRecordWrite(write, read?.Version ?? 0) { When = CommitPoint.Claim }, new ScalingUndoWrite(write, read) { When = CommitPoint.Undo }]
            : [new ScalingRecordWrite(write, read?.Version ?? 0) { When = CommitPoint.Claim }],
    };

    /// <summary>The arbiter's rule for scale-in: the reason it is held while a scale-out alarm of the service is in ALARM, or null.</summary>
    private static string? ScaleOutAlarmInAlarm(ScalingTarget t, IReadOnlyList<RememberedAlarm> memory, DateTimeOffset now, ScalingObservation obs, out string? assumption)
    {
        assumption = null;
        var assumed = new List<string>();
        foreach (var other in t.Scaling.Alarms.Where(x => x.Direction == ScalingDirection.Out && x.AlarmName != t.Alarm.AlarmName))
        {
            var m = memory.FirstOrDefault(x => x.AlarmName == other.AlarmName);
            if (m is { State: Alarm })
                return $"the arbiter: scale-out alarm {other.AlarmName} is in ALARM (since {Time(m.StateTimestamp ?? m.SeenAt, now)})";
            if (m is null) assumed.Add(other.AlarmName);
        }
        // Only an alarm the scaler never saw matters here: a remembered state, even an old one, is the last
        // transition it was told of. Live, the engine asked CloudWatch for both kinds before deciding.
        if (assumed.Count > 0)
            assumption = $"{string.Join(", ", assumed)} assumed not in ALARM (never seen{(obs.AlarmStatesUnavailable is { } why ? $"; {why}" : "")})";
        return null;
    }

    /// <summary>
    /// The step for this transition: the one whose interval holds <c>metric − threshold</c> for the newest
    /// datapoint; without a datapoint (metric math without datapoints, composite alarms), the step nearest
    /// the threshold. Returns null when no step covers the value, with the words that say what was seen.
    /// </summary>
    public static (ScalingStep? Step, string Trigger) SelectStep(AlarmStateChange a, ScalingAlarm alarm)
    {
        var data = a.State.ReasonData;
        if (data?.NewestDatapoint is { } metric && data.Threshold is { } threshold)
        {
            var delta = metric - threshold;
            var trigger = $"{a.AlarmName} at {Num(metric)} (threshold {Num(threshold)}, {(delta >= 0 ? "+" : "")}{Num(delta)})";
            return (StepFor(alarm.Steps, delta), trigger);
        }
        var why = a.Configuration?.Kind == AlarmKind.Composite || data?.TriggeringAlarmArns.Count > 0
            ? "composite alarm, no datapoint"
            : data?.NewestDatapoint is not null ? "no threshold in the event" : "no datapoint in the event";
        return (NearestStep(alarm.Steps), $"{a.AlarmName} ({why}: the step nearest the threshold)");
    }

    /// <summary>The step whose [lower, upper) holds <paramref name="delta"/>; failing that, one whose upper bound it equals (a ≤ alarm exactly at its threshold).</summary>
    public static ScalingStep? StepFor(IReadOnlyList<ScalingStep> steps, double delta) =>
        steps.FirstOrDefault(s => s.Contains(delta)) ?? steps.FirstOrDefault(s => s.UpperBound == delta);

    /// <summary>The step nearest <c>metric − threshold = 0</c>; the one that holds 0 when two touch it.</summary>
    public static ScalingStep? NearestStep(IReadOnlyList<ScalingStep> steps) =>
        steps.OrderBy(s => s.DistanceTo(0)).ThenBy(s => s.Contains(0) ? 0 : 1).FirstOrDefault();

    /// <summary>The desired count a step asks for from <paramref name="from"/>, before bounds, and how it was reached.</summary>
    public static (long Target, string Text) Apply(ScalingAlarm alarm, ScalingStep step, int from)
    {
        switch (alarm.AdjustmentType)
        {
            case AdjustmentType.ExactCapacity:
                return (step.Adjustment, $"step ={step.Adjustment}");
            case AdjustmentType.PercentChangeInCapacity:
            {
                var exact = from * (double)step.Adjustment / 100.0;
                var change = (long)AasRound(exact);
                var text = $"step {ScalingPolicy.Signed(step.Adjustment)}% ({Num(exact)}";
                if (change != exact) text += $" → {change}";
                if (alarm.MinAdjustmentMagnitude is { } min && Math.Abs(change) < min)
                {
                    change = Math.Sign(step.Adjustment) * min;
                    text += $", at least {min}: {change}";
                }
                return (from + change, text + ")");
            }
            default:
                return (from + (long)step.Adjustment, $"step {ScalingPolicy.Signed(step.Adjustment)}");
        }
    }

    /// <summary>
    /// Application Auto Scaling's rounding of a percentage change: between 0 and 1 becomes 1, between −1
    /// and 0 becomes −1, anything else rounds toward zero.
    /// </summary>
    public static double AasRound(double change) => change switch
    {
        > 0 and < 1 => 1,
        < 0 and > -1 => -1,
        _ => Math.Truncate(change),
    };

    private static IReadOnlyList<RememberedAlarm> Merge(IReadOnlyList<RememberedAlarm> remembered, IReadOnlyList<ObservedAlarmState> live, ScalingPolicy scaling, DateTimeOffset now)
    {
        // Only the alarms the policy still maps to this service are kept: the record stays small.
        var result = remembered.Where(m => scaling.FindAlarm(m.AlarmName) is not null).ToList();
        foreach (var l in live)
        {
            if (scaling.FindAlarm(l.AlarmName) is null) continue;
            var i = result.FindIndex(m => m.AlarmName == l.AlarmName);
            var m = i >= 0 ? result[i] : null;
            RememberedAlarm updated;
            if (m is null || (l.StateUpdatedTimestamp is { } lt && (m.StateTimestamp is not { } mt || lt > mt)))
                updated = new RememberedAlarm
                {
                    AlarmName = l.AlarmName, State = l.StateValue, StateTimestamp = l.StateUpdatedTimestamp, SeenAt = now,
                    Recommendation = m is not null && m.State == l.StateValue ? m.Recommendation : null,
                };
            else updated = m with { SeenAt = now };
            if (i >= 0) result[i] = updated; else result.Add(updated);
        }
        return result;
    }

    private static IReadOnlyList<RememberedAlarm> Upsert(IReadOnlyList<RememberedAlarm> alarms, RememberedAlarm a) =>
        [.. alarms.Where(x => x.AlarmName != a.AlarmName), a];

    private static string Num(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary><c>10:00:04</c>, or with the date when it is not today's.</summary>
    private static string Time(DateTimeOffset t, DateTimeOffset now) =>
        t.UtcDateTime.Date == now.UtcDateTime.Date
            ? t.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
