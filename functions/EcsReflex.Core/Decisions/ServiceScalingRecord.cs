using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>
/// What the service scaler remembers of one service between invocations: its last change (for cooldowns
/// and to notice someone else scaling), the last state it saw of every alarm that drives the service (for
/// the arbiter), and the recent recommendations (for scale-in stabilisation). The state store keeps it
/// under (cluster, service) and writes it only when <see cref="Version"/> is still the one that was read,
/// so two invocations deciding at once cannot both scale.
/// </summary>
public sealed record ServiceScalingRecord
{
    /// <summary>The policy cluster's name.</summary>
    public required string Cluster { get; init; }
    /// <summary>The service's name.</summary>
    public required string Service { get; init; }
    /// <summary>The stored version: 0 before the record was first written; each write adds one.</summary>
    public long Version { get; init; }

    /// <summary>The desired count EcsReflex last set, and the count it changed it from.</summary>
    public int? LastTarget { get; init; }
    public int? LastFrom { get; init; }
    public DateTimeOffset? LastScaledAt { get; init; }
    public ScalingDirection? LastDirection { get; init; }
    public string? LastAlarm { get; init; }
    /// <summary>
    /// The desired count the running scale-out cooldown started from: a scale-out within the cooldown is
    /// computed from it, so the adjustments of one burst do not compound (as in Application Auto Scaling).
    /// </summary>
    public int? CooldownBase { get; init; }

    public IReadOnlyList<RememberedAlarm> Alarms { get; init; } = [];
    public IReadOnlyList<ScalingRecommendation> Recommendations { get; init; } = [];

    public RememberedAlarm? Alarm(string alarmName) =>
        Alarms.FirstOrDefault(a => string.Equals(a.AlarmName, alarmName, StringComparison.Ordinal));
}

/// <summary>The last state the scaler saw of an alarm, and the count it asked for when it last went to ALARM.</summary>
public sealed record RememberedAlarm
{
    public required string AlarmName { get; init; }
    /// <summary><c>OK</c>, <c>ALARM</c> or <c>INSUFFICIENT_DATA</c>.</summary>
    public required string State { get; init; }
    /// <summary>The alarm's <c>state.timestamp</c>: orders transitions delivered out of order.</summary>
    public DateTimeOffset? StateTimestamp { get; init; }
    /// <summary>When the scaler learned it (from an event or from CloudWatch).</summary>
    public required DateTimeOffset SeenAt { get; init; }
    /// <summary>The desired count this alarm asked for at its last ALARM, within the bounds; null when unknown.</summary>
    public int? Recommendation { get; init; }
    /// <summary>
    /// While the alarm stays in ALARM: when its one scheduled re-decision is due (docs/scaler.md, sustained alarms). A
    /// re-decision due at another time is stale (a newer transition or re-decision replaced it) and does nothing.
    /// </summary>
    public DateTimeOffset? RedecideAt { get; init; }
    /// <summary>
    /// With <see cref="RedecideAt"/>: the alarm's evaluation period in seconds, as its transition said, so that the sweep
    /// can re-arm a re-decision whose delay queue message was lost (docs/reconciler.md) without that transition.
    /// </summary>
    public int? PeriodSeconds { get; init; }
}

/// <summary>A desired count recommended for the service at a time: the input of scale-in stabilisation.</summary>
public sealed record ScalingRecommendation(DateTimeOffset At, int Count, string Alarm);
