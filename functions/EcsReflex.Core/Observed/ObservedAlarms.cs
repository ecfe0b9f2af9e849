namespace EcsReflex.Core.Observed;

/// <summary>The state of a CloudWatch alarm, as <c>aws cloudwatch describe-alarms</c> prints it.</summary>
public sealed record ObservedAlarmState
{
    public required string AlarmName { get; init; }
    /// <summary><c>OK</c>, <c>ALARM</c> or <c>INSUFFICIENT_DATA</c>.</summary>
    public required string StateValue { get; init; }
    public DateTimeOffset? StateUpdatedTimestamp { get; init; }
    /// <summary>The newest datapoint of the alarm's metric, when it was asked for (<see cref="State.IClusterObserver.DescribeAlarmNowAsync"/>) and found.</summary>
    public double? NewestDatapoint { get; init; }
    /// <summary>The alarm's threshold, when it was asked for.</summary>
    public double? Threshold { get; init; }
    /// <summary>Where the state and the datapoint come from, for the reason (<c>CloudWatch DescribeAlarms and GetMetricData</c>).</summary>
    public string? Source { get; init; }
    /// <summary>Why there is no datapoint although it was asked for (a composite alarm, no data in the period…).</summary>
    public string? NoDatapoint { get; init; }
}

/// <summary>
/// What an observer could learn of some alarms' states: the states it found, or why it could not ask
/// (<see cref="Unavailable"/>, for the reason of a decision that had to do without them).
/// </summary>
public sealed record AlarmStatesObservation(IReadOnlyList<ObservedAlarmState> States, string? Unavailable)
{
    public static AlarmStatesObservation None(string why) => new([], why);
}

/// <summary>
/// A service as the scaler sees it: the service (its desired count), or null when the cluster has no
/// such service, and the Application Auto Scaling scalable target registered for its desired count, if any.
/// </summary>
public sealed record ServiceScalingView(ObservedService? Service, ObservedScalableTarget? ScalableTarget);
