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
    /// <summary>For a sustained alarm's re-decision: the alarm's own state and newest datapoint now, when they could be read.</summary>
    public ObservedAlarmState? Current { get; init; }
    /// <summary>Why <see cref="Current"/> could not be read.</summary>
    public string? CurrentUnavailable { get; init; }
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

    /// <summary>
    /// The decision for one alarm transition: a pipeline of the named rules below. <see cref="AlreadyHandled"/>,
    /// <see cref="NotScalable"/>, <see cref="Bounds"/>, <see cref="Cooldown"/> (timed once, applied where it bites),
    /// <see cref="SomeoneElseScaling"/>, <see cref="SelectStep"/>, <see cref="StepAsk"/>; then a scale-out goes through
    /// the <see cref="Arbiter"/> and <see cref="ScaleOutFloor"/> (the cooldown's hold), a scale-in through the cooldown's
    /// hold, the <see cref="Arbiter"/> and <see cref="Stabilisation"/>; <see cref="Conclude"/> says what they came to,
    /// and every decision past a late delivery claims the service's record (<see cref="Claiming"/>).
    /// </summary>
    public static Decision Decide(AlarmStateChange a, ReflexPolicy policy, ScalingObservation obs, DateTimeOffset now, DateTimeOffset? redecision = null)
    {
        if (FindTarget(policy, a.AlarmName) is not { } t)
            return Decision.Ignored(ReasonCodes.ScalerNoService, $"alarm {a.AlarmName} drives no service in the policy: nothing to scale");
        var record = obs.Record ?? new ServiceScalingRecord { Cluster = t.Cluster.Name, Service = t.Service.Name };
        string? still = null;
        if (redecision is { } due)
        {
            if (Sustained(a, t, obs, record, due, now, out still) is { } over)
                return over;
            a = Now(a, obs.Current);
        }
        else if (AlreadyHandled(a, record, now) is { } late)
            return late;
        var (decision, next) = Rules(a, t, obs, record, now);
        return Sustain(decision, a, t, next, still, now);
    }

    /// <summary>The rules of <see cref="Decide"/> past a late delivery, and when a decision taken in ALARM is to be taken again.</summary>
    private static (Decision, Next) Rules(AlarmStateChange a, ScalingTarget t, ScalingObservation obs, ServiceScalingRecord record, DateTimeOffset now)
    {
        var memory = Merge(record.Alarms, obs.LiveAlarms, t.Scaling, now);
        var recommendations = StabilisationWindow(record, t.Scaling, now);
        Decision Claim(Decision d) => Claiming(d, obs.Record, Remember(a, record, memory, recommendations, now, null));

        if (NotScalable(a, t, obs, record.Alarm(a.AlarmName)) is { } idle)
            return (Claim(idle), Next.Stop);
        if (Bounds(t, obs.ScalableTarget, out var bounds) is { } aas)
            return (Claim(aas), Next.Stop);
        var current = obs.Service!.DesiredCount; // NotScalable made sure there is a service
        var cooldown = Cooldown(record, t, current, now);
        if (SomeoneElseScaling(a, t, record, current, cooldown, now) is { } busy)
            return (Claim(busy), Next.At(cooldown.Until));
        var (step, trigger) = SelectStep(a, t.Alarm);
        if (step is null) // the metric may move into a step while the alarm stays in ALARM
            return (Claim(Decision.Ignored(ReasonCodes.ScalerNoStep, $"{trigger}: no step of {t.Alarm.Path} covers it (steps {string.Join(", ", t.Alarm.Steps.Select(s => s.Interval))}): nothing to scale")), Next.Period);

        var notes = new List<string>();
        var ask = StepAsk(t, step, trigger, cooldown.From, current, bounds, notes);
        var p = new Proposal(ask.Count);
        if (t.Alarm.Direction == ScalingDirection.Out)
            p = ScaleOutFloor(Arbiter(p, t, memory, bounds, obs, now, notes), current, bounds, cooldown);
        else if (p.Count < current) // a scale-in: held by the cooldown, else by the arbiter, else stabilised
        {
            p = cooldown.Holds(p.Count) is { } held ? p with { Held = held, HeldUntil = cooldown.Until } : Arbiter(p, t, memory, bounds, obs, now, notes);
            if (p.Held is null)
                p = Stabilisation(p, t, current, recommendations, now, notes);
        }

        recommendations.Add(new ScalingRecommendation(now, p.Count, a.AlarmName));
        if (p.Assumption is not null) notes.Add(p.Assumption);
        var decision = Conclude(a, t, obs.Record, Remember(a, record, memory, recommendations, now, ask.Count), ask, p, notes, now);
        var atBound = t.Alarm.Direction == ScalingDirection.Out ? current >= bounds.Hi : current <= bounds.Lo;
        return (decision, decision.Code switch
        {
            ReasonCodes.ScalerBound => Next.Stop,
            ReasonCodes.ScalerAtCount when atBound => Next.Stop,
            _ when p.Held is not null => p.HeldUntil is { } until ? Next.At(until) : Next.Period,
            _ => Next.Period,
        });
    }

    /// <summary>When a decision taken while the alarm is in ALARM is taken again: never, one evaluation period later, or when the rule that held it ends.</summary>
    private readonly struct Next(DateTimeOffset? until, bool again)
    {
        public DateTimeOffset? Until { get; } = until;
        public bool Again { get; } = again;
        public static readonly Next Stop = new(null, false);
        public static readonly Next Period = new(null, true);
        public static Next At(DateTimeOffset until) => new(until, true);
    }

    /// <summary>
    /// A sustained alarm (Application Auto Scaling applies a step policy again at every evaluation period its alarm stays in
    /// ALARM; CloudWatch sends an event only on a transition): a decision taken in ALARM is taken again when the rule that
    /// held it ends, else one evaluation period later, until the alarm leaves ALARM or a bound holds. The alarm's record
    /// remembers the one re-decision scheduled (<see cref="RememberedAlarm.RedecideAt"/>): a duplicate or stale one does nothing.
    /// </summary>
    private static Decision Sustain(Decision d, AlarmStateChange a, ScalingTarget t, Next next, string? still, DateTimeOffset now)
    {
        if (still is not null) d = d with { Reason = $"{still}: {d.Reason}" };
        if (a.State.Value != Alarm || a.State.ActionsSuppressedBy is not null || d.Writes.Count == 0)
            return d;
        if (!next.Again)
            return d.Code is ReasonCodes.ScalerBound or ReasonCodes.ScalerAtCount
                ? d with { Reason = $"{d.Reason}; not decided again while {a.AlarmName} stays in ALARM: the bound holds until its next transition" }
                : d;
        var period = (int)EvaluationPeriod(a).TotalSeconds;
        var at = Whole(next.Until is { } u && u > now ? u : now + TimeSpan.FromSeconds(period));
        return d with
        {
            Reason = $"{d.Reason}; decided again at {Time(at, now)} while {a.AlarmName} stays in ALARM",
            RedecideAt = at,
            Writes = [.. d.Writes.Select(w => w switch
            {
                ScalingRecordWrite r => r with { Record = Rearmed(r.Record, a.AlarmName, at, period) },
                ScalingUndoWrite u => u with { Claimed = Rearmed(u.Claimed, a.AlarmName, at, period) },
                _ => w,
            })],
        };
    }

    private static ServiceScalingRecord Rearmed(ServiceScalingRecord r, string alarm, DateTimeOffset at, int period) =>
        r with { Alarms = [.. r.Alarms.Select(m => m.AlarmName == alarm ? m with { RedecideAt = at, PeriodSeconds = period } : m)] };

    /// <summary>Times to the millisecond: the delay queue's messages carry them so, and a re-decision is matched on its due time.</summary>
    private static DateTimeOffset Whole(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    /// <summary>True when <paramref name="record"/> schedules the re-decision of <paramref name="alarm"/> due at <paramref name="due"/> (to the millisecond).</summary>
    public static bool IsScheduled(ServiceScalingRecord? record, string alarm, DateTimeOffset due) =>
        record?.Alarm(alarm)?.RedecideAt is { } scheduled && scheduled.ToUnixTimeMilliseconds() == due.ToUnixTimeMilliseconds();

    /// <summary>The alarm's evaluation period: its metric's period from the event's <c>configuration</c> (the returned one), else its reason data's; 60 s when absent.</summary>
    public static TimeSpan EvaluationPeriod(AlarmStateChange a)
    {
        var metrics = a.Configuration?.Metrics ?? [];
        var seconds = metrics.FirstOrDefault(m => m.ReturnData != false && m.Period is > 0)?.Period
                      ?? metrics.FirstOrDefault(m => m.Period is > 0)?.Period
                      ?? (a.State.ReasonData?.Period is > 0 ? a.State.ReasonData.Period : null)
                      ?? DefaultPeriodSeconds;
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The evaluation period assumed when neither the event's configuration nor its reason data gives one.</summary>
    public const int DefaultPeriodSeconds = 60;

    /// <summary>
    /// A re-decision of a sustained alarm, before the rules: stale when the record no longer schedules it (a newer
    /// transition or re-decision replaced it), over when the alarm is no longer in ALARM. Otherwise <paramref name="still"/>
    /// says, for the reason, that and how the alarm was found still in ALARM.
    /// </summary>
    private static Decision? Sustained(AlarmStateChange a, ScalingTarget t, ScalingObservation obs, ServiceScalingRecord record, DateTimeOffset due, DateTimeOffset now, out string? still)
    {
        still = null;
        var name = a.AlarmName;
        var remembered = record.Alarm(name);
        if (!IsScheduled(record, name, due))
            return Decision.Ignored(ReasonCodes.ScalerSustainedStale, remembered?.RedecideAt is { } other
                ? $"{name}: the re-decision due at {Time(due, now)} was replaced by the one due at {Time(other, now)}: nothing to do"
                : $"{name}: the re-decision due at {Time(due, now)} is no longer scheduled ({name} was last seen {remembered?.State ?? "never"}{(remembered?.StateTimestamp is { } ts ? $" at {Time(ts, now)}" : "")}): nothing to do");
        var since = Time(a.State.Timestamp ?? remembered?.StateTimestamp ?? now, now);
        if (obs.Current is { } c && c.StateValue != Alarm)
        {
            var seen = new RememberedAlarm { AlarmName = name, State = c.StateValue, StateTimestamp = c.StateUpdatedTimestamp ?? now, SeenAt = now };
            var write = record with { Alarms = Upsert(record.Alarms, seen) };
            return Claiming(Decision.Ignored(ReasonCodes.ScalerSustainedEnded,
                $"{name} is {c.StateValue} now{(c.StateUpdatedTimestamp is { } at ? $" (since {Time(at, now)})" : "")}, as {c.Source ?? "CloudWatch says"}: its ALARM since {since} is over, no more re-decisions; remembered for the arbiter"),
                obs.Record, write);
        }
        still = obs.Current is { } live
            ? $"{name} still in ALARM since {since}, as {live.Source ?? "CloudWatch says"}{(live.NewestDatapoint is null && live.NoDatapoint is { } why ? $" ({why})" : "")}"
            : $"{name} still in ALARM since {since} as last seen ({obs.CurrentUnavailable ?? "its state now could not be read"}; the event's datapoint)";
        return null;
    }

    /// <summary>The alarm's transition with the datapoint and threshold read now, for a re-decision; its state and timestamp stay the transition's.</summary>
    private static AlarmStateChange Now(AlarmStateChange a, ObservedAlarmState? current)
    {
        if (current?.NewestDatapoint is not { } datapoint) return a;
        var data = a.State.ReasonData ?? new AlarmReasonData();
        return a with
        {
            State = a.State with { ReasonData = data with { RecentDatapoints = [datapoint], Threshold = current.Threshold ?? data.Threshold } },
        };
    }

    /// <summary>The bounds a count is clamped to, and whose they are when Application Auto Scaling's are the narrower (for the reason).</summary>
    private readonly record struct CountBounds(int Lo, int Hi, string LoWhose = "", string HiWhose = "")
    {
        public string Min => $"min {Lo}{LoWhose}";
        public string Max => $"max {Hi}{HiWhose}";
    }

    /// <summary>
    /// What the cooldown running since EcsReflex's last scale of the service means for this decision (see <see cref="Cooldown"/>):
    /// the count a step is applied from, and the hold of any proposed count at or below <see cref="HoldAtOrBelow"/>.
    /// </summary>
    private readonly record struct Cooling(int From)
    {
        /// <summary>The running cooldown's setting (<c>scaleOutCooldownSeconds</c>, <c>scaleInCooldownSeconds</c>); null when none runs.</summary>
        public string? Setting { get; init; }
        public TimeSpan Length { get; init; }
        public DateTimeOffset Until { get; init; }
        public string? Hold { get; init; }
        public int HoldAtOrBelow { get; init; }
        public bool Running => Setting is not null;
        public string? Holds(int count) => count <= HoldAtOrBelow ? Hold : null;
    }

    /// <summary>
    /// The count the step asks for (<see cref="StepAsk"/>): from what (and the current count), before and after the bounds,
    /// and the words for it: the head of the reason, the bound that applies and the bound <see cref="Raw"/> is beyond.
    /// </summary>
    private readonly record struct Ask(int From, int Current, long Raw, int Count, string Head, string Bound, string Beyond);

    /// <summary>
    /// The count the rules propose; what a scale-out alarm asked for before it was floored at the current count (shown when
    /// held); the rule that holds it, if one does; and what the arbiter assumed of alarms it never saw (said last).
    /// </summary>
    private readonly record struct Proposal(int Count)
    {
        public int? Asked { get; init; }
        public string? Held { get; init; }
        /// <summary>When the rule that holds it ends, when it says (a cooldown, stabilisation); null for the arbiter's hold.</summary>
        public DateTimeOffset? HeldUntil { get; init; }
        public string HeldCode { get; init; } = ReasonCodes.ScalerCooldown;
        public string? Assumption { get; init; }
    }

    /// <summary>Late deliveries: the same transition (or an older one, delivered late) changes nothing, and claims nothing.</summary>
    private static Decision? AlreadyHandled(AlarmStateChange a, ServiceScalingRecord record, DateTimeOffset now)
    {
        var (state, stamp) = (a.State.Value, a.State.Timestamp ?? now);
        if (record.Alarm(a.AlarmName) is not { StateTimestamp: { } seen } previous || stamp > seen)
            return null;
        return Decision.Ignored(stamp == seen ? ReasonCodes.ScalerAlreadyHandled : ReasonCodes.ScalerOutOfOrder, stamp == seen
            ? $"{a.AlarmName} {state} at {Time(stamp, now)} was already handled"
            : $"{a.AlarmName} {state} at {Time(stamp, now)} is older than the {previous.State} at {Time(seen, now)} already seen: delivered out of order, nothing to do");
    }

    /// <summary>The gates before any count is computed: the alarm not in ALARM or its actions suppressed, scaling paused, the service missing or not active.</summary>
    private static Decision? NotScalable(AlarmStateChange a, ScalingTarget t, ScalingObservation obs, RememberedAlarm? previous)
    {
        var (scaling, svc, state) = (t.Scaling, t.Service.Name, a.State.Value);
        if (state != Alarm)
            return Decision.Ignored(ReasonCodes.ScalerNotInAlarm, $"{a.AlarmName} is {state}{(previous is null ? "" : $" (was {previous.State})")}: nothing to scale; remembered for the arbiter");
        if (a.State.ActionsSuppressedBy is { } by)
            return Decision.Ignored(ReasonCodes.ScalerActionsSuppressed, $"{a.AlarmName} is ALARM but its actions are suppressed ({by}): nothing to scale; remembered for the arbiter");
        if (scaling.Paused)
            return Decision.Ignored(ReasonCodes.ScalerPaused, $"scaling of {svc} is paused ({scaling.Path}.paused): nothing sent; {a.AlarmName} ALARM remembered");
        if (obs.Service is not { } service)
            return Decision.Ignored(ReasonCodes.ScalerServiceNotFound, $"service {svc} is not in cluster {t.Cluster.Name}: nothing to scale");
        if (service.Status is { } status && status != "ACTIVE")
            return Decision.Ignored(ReasonCodes.ScalerServiceNotActive, $"service {svc} is {status}: nothing to scale");
        return null;
    }

    /// <summary>
    /// The bounds: the policy's, narrowed by Application Auto Scaling's scalable target under "clamp". Returns why the
    /// service is left alone when Application Auto Scaling scales it and the policy says to leave it, or when the two do not overlap.
    /// </summary>
    private static Decision? Bounds(ScalingTarget t, ObservedScalableTarget? target, out CountBounds bounds)
    {
        var (scaling, svc) = (t.Scaling, t.Service.Name);
        bounds = new CountBounds(scaling.MinCount, scaling.MaxCount);
        if (target is null)
            return null;
        if (scaling.CoexistWithApplicationAutoScaling == AasCoexistence.Leave)
            return Decision.Ignored(ReasonCodes.ScalerAasOwned, $"Application Auto Scaling also scales {svc} (scalable target {target.ResourceId}, min {target.MinCapacity}, max {target.MaxCapacity}): leaving it alone; set {scaling.Path}.coexistWithApplicationAutoScaling to \"clamp\" to scale within both bounds");
        const string aas = ", Application Auto Scaling's";
        var (narrowLo, narrowHi) = (target.MinCapacity > scaling.MinCount, target.MaxCapacity < scaling.MaxCount);
        bounds = new CountBounds(narrowLo ? target.MinCapacity : scaling.MinCount, narrowHi ? target.MaxCapacity : scaling.MaxCount, narrowLo ? aas : "", narrowHi ? aas : "");
        if (bounds.Lo > bounds.Hi)
            return Decision.Ignored(ReasonCodes.ScalerBoundsDisjoint, $"the policy's bounds [{scaling.MinCount}, {scaling.MaxCount}] and Application Auto Scaling's [{target.MinCapacity}, {target.MaxCapacity}] for {svc} do not overlap: leaving it alone");
        return null;
    }

    /// <summary>
    /// The cooldown, all of it. After EcsReflex scales a service, the cooldown of that direction runs (Application Auto
    /// Scaling's rules): within a scale-out cooldown a scale-out is computed from the count the cooldown started from and
    /// only a larger target than the last is applied; within either cooldown a scale-in waits. <see cref="SomeoneElseScaling"/>
    /// waits as long.
    /// </summary>
    private static Cooling Cooldown(ServiceScalingRecord r, ScalingTarget t, int current, DateTimeOffset now)
    {
        var (s, svc) = (t.Scaling, t.Service.Name);
        if (r is not { LastScaledAt: { } at, LastDirection: { } last })
            return new Cooling(current);
        var (length, setting) = last == ScalingDirection.Out ? (s.ScaleOutCooldown, "scaleOutCooldownSeconds") : (s.ScaleInCooldown, "scaleInCooldownSeconds");
        if (now - at >= length)
            return new Cooling(current);
        var cooling = new Cooling(current) { Setting = setting, Length = length, Until = at + length };
        var (since, until) = (Time(at, now), Time(at + length, now));
        if (t.Alarm.Direction == ScalingDirection.Out)
            return last != ScalingDirection.Out ? cooling : cooling with
            {
                From = r.CooldownBase ?? current,
                Hold = r.LastTarget is { } target ? $"the cooldown: within {s.ScaleOutCooldownSeconds} s of the scale-out to {target} at {since}, only a larger target is applied (until {until})" : null,
                HoldAtOrBelow = r.LastTarget ?? 0,
            };
        return cooling with
        {
            Hold = last == ScalingDirection.Out
                ? $"the cooldown: {svc} scaled out {r.LastFrom} → {r.LastTarget} at {since}, so scale-in waits until {until} (scaleOutCooldownSeconds {s.ScaleOutCooldownSeconds})"
                : $"the cooldown: {svc} scaled in {r.LastFrom} → {r.LastTarget} at {since}, so the next scale-in waits until {until} (scaleInCooldownSeconds {s.ScaleInCooldownSeconds})",
            HoldAtOrBelow = current - 1,
        };
    }

    /// <summary>
    /// Someone else is scaling, or EcsReflex's own change is pending: a desired count that is not what EcsReflex set, while
    /// the cooldown of that change runs, means its own change has not landed yet (another invocation is acting) or someone
    /// else is scaling the service.
    /// </summary>
    private static Decision? SomeoneElseScaling(AlarmStateChange a, ScalingTarget t, ServiceScalingRecord r, int current, Cooling cooldown, DateTimeOffset now)
    {
        if (!cooldown.Running || r is not { LastTarget: { } last, LastScaledAt: { } at } || current == last)
            return null;
        var svc = t.Service.Name;
        return current == r.LastFrom
            ? Decision.Ignored(ReasonCodes.ScalerOwnChangePending, $"EcsReflex's own change of {svc} ({r.LastFrom} → {last} at {Time(at, now)}, for {r.LastAlarm}) has not landed yet (desired still {current}): not scaling twice; {a.AlarmName} ALARM remembered")
            : Decision.Ignored(ReasonCodes.ScalerSomeoneElseScaling, $"someone else is scaling {svc}: desired is {current}, EcsReflex set {last} at {Time(at, now)}; leaving it alone until {Time(cooldown.Until, now)} ({cooldown.Setting} {cooldown.Length.TotalSeconds:0}); {a.AlarmName} ALARM remembered");
    }

    /// <summary>
    /// The count the step asks for, applied from <paramref name="from"/> (the cooldown's base): at least 1 from 0 on a
    /// scale-out, one way only, clamped to the bounds; and which bound applies, for the reason.
    /// </summary>
    private static Ask StepAsk(ScalingTarget t, ScalingStep step, string trigger, int from, int current, CountBounds b, List<string> notes)
    {
        var dir = t.Alarm.Direction;
        var (raw, stepText) = Apply(t.Alarm, step, from);
        if (dir == ScalingDirection.Out && from == 0 && raw < 1)
        {
            raw = 1;
            notes.Add("from 0 a scale-out gives at least 1");
        }
        // An alarm scales one way: an ExactCapacity count on the wrong side of the current one changes nothing.
        if (dir == ScalingDirection.Out ? raw < from : raw > from) raw = from;
        var count = (int)Math.Clamp(raw, b.Lo, b.Hi);
        var bound = count > raw ? $"raised to min {b.Lo}{b.LoWhose}" : count < raw ? $"capped at max {b.Hi}{b.HiWhose}" : dir == ScalingDirection.Out ? b.Max : b.Min;
        var fromText = from != current ? $" from {from} (where the scale-out cooldown started)" : "";
        return new Ask(from, current, raw, count, $"{trigger} → {stepText}{fromText}", bound, raw > b.Hi ? b.Max : b.Min);
    }

    /// <summary>
    /// The arbiter, one across the alarms of a service. A scale-out takes the largest count asked by the service's scale-out
    /// alarms in ALARM (each within the bounds); a scale-in is held while another scale-out alarm of the service is in ALARM.
    /// </summary>
    private static Proposal Arbiter(Proposal p, ScalingTarget t, IReadOnlyList<RememberedAlarm> memory, CountBounds b, ScalingObservation obs, DateTimeOffset now, List<string> notes)
    {
        if (t.Alarm.Direction == ScalingDirection.Out)
        {
            var rival = memory
                .Where(m => m.AlarmName != t.Alarm.AlarmName && m.State == Alarm && m.Recommendation is not null
                            && t.Scaling.FindAlarm(m.AlarmName)?.Direction == ScalingDirection.Out)
                .Select(m => (m.AlarmName, Count: Math.Clamp(m.Recommendation!.Value, b.Lo, b.Hi)))
                .OrderByDescending(m => m.Count).ThenBy(m => m.AlarmName, StringComparer.Ordinal)
                .FirstOrDefault();
            if (rival.AlarmName is null || rival.Count <= p.Count)
                return p;
            notes.Add($"the arbiter keeps the largest ask: {rival.AlarmName} (in ALARM) asks {rival.Count}");
            return p with { Count = rival.Count };
        }
        var assumed = new List<string>();
        foreach (var other in t.Scaling.Alarms.Where(x => x.Direction == ScalingDirection.Out && x.AlarmName != t.Alarm.AlarmName))
        {
            var m = memory.FirstOrDefault(x => x.AlarmName == other.AlarmName);
            if (m is { State: Alarm })
                return p with { Held = $"the arbiter: scale-out alarm {other.AlarmName} is in ALARM (since {Time(m.StateTimestamp ?? m.SeenAt, now)})", HeldCode = ReasonCodes.ScalerArbiter };
            if (m is null) assumed.Add(other.AlarmName);
        }
        // Only an alarm the scaler never saw matters here: a remembered state, even an old one, is the last
        // transition it was told of. Live, the engine asked CloudWatch for both kinds before deciding.
        return assumed.Count == 0 ? p
            : p with { Assumption = $"{string.Join(", ", assumed)} assumed not in ALARM (never seen{(obs.AlarmStatesUnavailable is { } why ? $"; {why}" : "")})" };
    }

    /// <summary>
    /// A scale-out alarm never lowers the count; only a count above the max is brought down to it. Below the max, the
    /// count is floored at the current one, and held by the cooldown unless it is larger than the last target.
    /// </summary>
    private static Proposal ScaleOutFloor(Proposal p, int current, CountBounds b, Cooling cooldown) =>
        current > b.Hi ? p : p with { Count = Math.Max(p.Count, current), Asked = p.Count, Held = cooldown.Holds(p.Count), HeldUntil = cooldown.Until };

    /// <summary>The recommendations scale-in stabilisation looks back on: those of the last scaleInStabilizationSeconds (the rest are forgotten).</summary>
    private static List<ScalingRecommendation> StabilisationWindow(ServiceScalingRecord record, ScalingPolicy scaling, DateTimeOffset now) =>
        record.Recommendations.Where(r => r.At <= now && now - r.At < scaling.ScaleInStabilization).ToList();

    /// <summary>
    /// Scale-in stabilisation (Kubernetes HPA's): a scale-in goes no lower than the highest count recommended within the
    /// window, and is held when that count is not below the current one.
    /// </summary>
    private static Proposal Stabilisation(Proposal p, ScalingTarget t, int current, List<ScalingRecommendation> recommendations, DateTimeOffset now, List<string> notes)
    {
        if (recommendations.Where(r => r.Count > p.Count).MaxBy(r => (r.Count, r.At)) is not { } high)
            return p;
        var window = $"within the last {t.Scaling.ScaleInStabilizationSeconds} s";
        if (high.Count >= current)
            return p with
            {
                Held = $"stabilisation: {t.Service.Name} was recommended {high.Count} at {Time(high.At, now)} (by {high.Alarm}), {window}",
                HeldCode = ReasonCodes.ScalerStabilisation, HeldUntil = high.At + t.Scaling.ScaleInStabilization,
            };
        notes.Add($"stabilised at {high.Count}, recommended at {Time(high.At, now)} (by {high.Alarm}) {window}");
        return p with { Count = high.Count };
    }

    /// <summary>
    /// What the rules come to: held (by the rule that held it), already at the count or held by a bound, or a scale, with
    /// the record of it for the cooldown. Every one claims the service's record (<see cref="Claiming"/>).
    /// </summary>
    private static Decision Conclude(AlarmStateChange a, ScalingTarget t, ServiceScalingRecord? read, ServiceScalingRecord remembered, Ask ask, Proposal p, List<string> notes, DateTimeOffset now)
    {
        var (svc, current, proposal, raw) = (t.Service.Name, ask.Current, p.Count, ask.Raw);
        var tail = notes.Count > 0 ? "; " + string.Join("; ", notes) : "";
        if (p.Held is { } held)
            return Claiming(Decision.Ignored(p.HeldCode, $"{ask.Head}: {(p.Asked is { } x ? $"asks {x}" : $"{current} → {proposal}")}, held by {held}{tail}"), read, remembered);
        if (proposal == current)
            return Claiming(Decision.Ignored(raw == current ? ReasonCodes.ScalerAtCount : ReasonCodes.ScalerBound, raw == current
                ? $"{ask.Head}: {svc} already runs {current} ({ask.Bound}){tail}"
                : $"{ask.Head}: {current} → {raw}, held by the bound ({ask.Beyond}){tail}"), read, remembered);

        var next = remembered with
        {
            LastTarget = proposal,
            LastFrom = current,
            LastScaledAt = now,
            LastDirection = proposal > current ? ScalingDirection.Out : ScalingDirection.In,
            LastAlarm = a.AlarmName,
            CooldownBase = proposal > current ? ask.From : null,
        };
        var action = ReflexAction.UpdateService(new UpdateServiceRequest { Cluster = t.Cluster.Cluster, Service = t.Service.Service, DesiredCount = proposal })
            with { Summary = $"{svc} desired {current} → {proposal}", DesiredFrom = current };
        return Claiming(new Decision
        {
            Outcome = Outcome.Acted,
            Code = proposal > current ? ReasonCodes.ScalerScaleOut : ReasonCodes.ScalerScaleIn,
            Reason = $"{ask.Head}: {current} → {proposal} ({ask.Bound}){tail}",
            Actions = [action],
        }, read, next);
    }

    /// <summary>The service's record with this transition remembered (and the count it asked for, for the arbiter) and the recommendations of the window kept.</summary>
    private static ServiceScalingRecord Remember(AlarmStateChange a, ServiceScalingRecord record, IReadOnlyList<RememberedAlarm> memory, List<ScalingRecommendation> recommendations, DateTimeOffset now, int? ask) => record with
    {
        Alarms = Upsert(memory, new RememberedAlarm { AlarmName = a.AlarmName, State = a.State.Value, StateTimestamp = a.State.Timestamp ?? now, SeenAt = now, Recommendation = ask }),
        Recommendations = recommendations.TakeLast(MaxRecommendations).ToList(),
    };

    /// <summary>
    /// The claim of the record, for every decision past a late delivery: <paramref name="d"/> with the service's record
    /// claimed before acting, written only while the stored version is the one read (two invocations never both scale one
    /// service; the loser decides again). A scale that is not carried out (dry run, refused, thrown) is taken back from the
    /// record, so cooldowns never count a change that did not happen.
    /// </summary>
    private static Decision Claiming(Decision d, ServiceScalingRecord? read, ServiceScalingRecord write) => d with
    {
        Writes = d.Outcome == Outcome.Acted
            ? [new ScalingRecordWrite(write, read?.Version ?? 0) { When = CommitPoint.Claim }, new ScalingUndoWrite(write, read) { When = CommitPoint.Undo }]
            : [new ScalingRecordWrite(write, read?.Version ?? 0) { When = CommitPoint.Claim }],
    };

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
