using EcsReflex.Core.Decisions;

namespace EcsReflex.Report;

/// <summary>
/// The time window a report shows: <c>[From, To)</c> by event time. Records outside it still went
/// through the replay (so the state is right) but are not shown. A record without a time (an input
/// that could not be read before any dated event) is always shown.
/// </summary>
public sealed record ReportWindow(DateTimeOffset? From, DateTimeOffset? To)
{
    public static readonly ReportWindow All = new(null, null);

    public bool Contains(DateTimeOffset? time) =>
        time is not { } t || ((From is null || t >= From) && (To is null || t < To));

    /// <summary>True when <paramref name="time"/> is past the end of the window: nothing later can be shown.</summary>
    public bool IsAfter(DateTimeOffset? time) => time is { } t && To is { } to && t >= to;
}

/// <summary>Everything the page shows, computed from the replay's records, the policy and the snapshot.</summary>
public sealed record ReportModel
{
    public required string PolicyFile { get; init; }
    public IReadOnlyList<string> Inputs { get; init; } = [];
    public required ReportWindow Window { get; init; }
    /// <summary>The period shown: the window where given, else the first and last record times. Null when nothing had a time.</summary>
    public DateTimeOffset? Start { get; init; }
    public DateTimeOffset? End { get; init; }
    public required ReportSummary Summary { get; init; }
    public IReadOnlyList<ScaledServiceSeries> ScaledServices { get; init; } = [];
    public IReadOnlyList<RelaunchSeries> Relaunches { get; init; } = [];
    public IReadOnlyList<LineageLane> Lanes { get; init; } = [];
    /// <summary><see cref="Lanes"/> as drawn: one group over the period, or one per episode when the period is long.</summary>
    public IReadOnlyList<LaneGroup> LaneGroups { get; init; } = [];
    /// <summary>How many lineages had something to show; <see cref="Lanes"/> holds the busiest of them.</summary>
    public int LineagesTotal { get; init; }
    /// <summary>Every decision shown, in replay order, in the compact form the page embeds.</summary>
    public required DecisionLog Decisions { get; init; }
    public IReadOnlyList<RejectedInput> RejectedInputs { get; init; } = [];
}

/// <summary>Counts over the records shown.</summary>
public sealed record ReportSummary
{
    /// <summary>Records of delivered inputs (events and unreadable inputs).</summary>
    public int Events { get; init; }
    /// <summary>Records of deferred work that came due.</summary>
    public int Timers { get; init; }
    /// <summary>Records of the reconciler's sweeps: a sweep that found something, and each thing it found.</summary>
    public int Sweeps { get; init; }
    public int Decisions => Events + Timers + Sweeps;
    public IReadOnlyDictionary<Outcome, int> Outcomes { get; init; } = new Dictionary<Outcome, int>();
    /// <summary>RunTask actions carried out (relaunches, and replacements of tasks on draining instances).</summary>
    public int Relaunches { get; init; }
    public int GiveUps { get; init; }
    /// <summary>UpdateService actions that set a desired count.</summary>
    public int ScaleChanges { get; init; }
    /// <summary>UpdateService actions that set placement constraints or strategies.</summary>
    public int PlacementChanges { get; init; }
    public int TasksStopped { get; init; }
    public int RejectedInputs { get; init; }

    public int Count(Outcome o) => Outcomes.GetValueOrDefault(o);
}

/// <summary>One row of the decisions table: a processed event or a fired timer, with the exact requests.</summary>
public sealed record DecisionRow
{
    public required int Index { get; init; }
    public DateTimeOffset? Time { get; init; }
    public required string Trigger { get; init; }
    public string? Event { get; init; }
    public string? EventId { get; init; }
    public string? DetailType { get; init; }
    public string? Handler { get; init; }
    public required Outcome Outcome { get; init; }
    public required string Reason { get; init; }
    /// <summary>The reason's stable code (<c>rescheduler.relaunch</c>…).</summary>
    public string? Code { get; init; }
    /// <summary>False for a row read back from a <see cref="DecisionLog"/> that kept only its columns (over the details budget).</summary>
    public bool HasDetails { get; init; } = true;
    public string? Cluster { get; init; }
    public string? Service { get; init; }
    public required string Input { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    public string? RejectionCode { get; init; }
    public IReadOnlyList<ActionRow> Actions { get; init; } = [];
}

/// <summary>One action of a decision: what was asked, with the exact request body, and what came of it.</summary>
public sealed record ActionRow(string Service, string Operation, string Status, string? Detail, string Summary, string RequestJson);

/// <summary>An input the replay could not read as an event.</summary>
public sealed record RejectedInput(string File, int? Line, string? Code, string Reason);

/// <summary>
/// The chart input for one scaled service: its desired count over time, its bounds where the policy
/// gives them, and the transitions of the alarms that drive it, as one chart per episode of activity.
/// </summary>
public sealed record ScaledServiceSeries
{
    public required string Cluster { get; init; }
    public required string Service { get; init; }
    public int? Min { get; init; }
    public int? Max { get; init; }
    /// <summary>One chart each: the whole period, or each episode of activity when the period is long.</summary>
    public IReadOnlyList<SeriesEpisode> Episodes { get; init; } = [];
    /// <summary>The points of every episode, in order (each episode starts with the value carried into it).</summary>
    public IReadOnlyList<SeriesPoint> Points => [.. Episodes.SelectMany(e => e.Points)];
    public IReadOnlyList<AlarmMark> AlarmMarks => [.. Episodes.SelectMany(e => e.Alarms)];
    /// <summary>Changes (UpdateService with a desired count) in the period.</summary>
    public int Changes { get; init; }
    /// <summary>Alarm transitions in the period (each delivered transition once), before any merging.</summary>
    public int AlarmTransitions { get; init; }
    /// <summary>The smallest and largest desired count in the period: the y axis is fitted to them, not to min/max.</summary>
    public int? Low => Points.Count == 0 ? null : Points.Min(p => p.Low);
    public int? High => Points.Count == 0 ? null : Points.Max(p => p.High);
    /// <summary>The largest merge bucket of the episodes (zero when no point was merged).</summary>
    public TimeSpan Bucket => Episodes.Count == 0 ? TimeSpan.Zero : Episodes.Max(e => e.Bucket);
}

/// <summary>One chart of a scaled service: a time axis, the points on it (merged per <see cref="Bucket"/> when non-zero) and the alarm marks.</summary>
public sealed record SeriesEpisode(DateTimeOffset Start, DateTimeOffset End, TimeSpan Bucket, IReadOnlyList<SeriesPoint> Points, IReadOnlyList<AlarmMark> Alarms);

/// <summary>
/// A value at a time. When points were merged per time bucket, <see cref="Value"/> is the last value in
/// the bucket, <see cref="Low"/>/<see cref="High"/> its range and <see cref="Merged"/> how many points it stands for.
/// </summary>
public sealed record SeriesPoint(DateTimeOffset Time, int Value, int Low, int High, int Merged, string Label);

/// <summary>
/// An alarm transition (to <see cref="State"/>), or, when <see cref="Merged"/> &gt; 1, the transitions of one time
/// bucket drawn as one mark: <see cref="Alarm"/> is then the alarm's name when they are all of one alarm (else
/// "N alarms"), <see cref="State"/> the last state, and <see cref="ToAlarm"/>, <see cref="ToOk"/>, <see cref="ToInsufficient"/> count them.
/// </summary>
public sealed record AlarmMark(DateTimeOffset Time, string Alarm, string State, string? PreviousState, string? Reason)
{
    public int Merged { get; init; } = 1;
    public int ToAlarm { get; init; }
    public int ToOk { get; init; }
    public int ToInsufficient { get; init; }

    /// <summary>The label drawn beside the mark.</summary>
    public string Label => Merged == 1 ? $"{Alarm} → {State}"
        : $"{Merged} × {Alarm}: {string.Join(", ", new[] { (ToAlarm, "ALARM"), (ToOk, "OK"), (ToInsufficient, "INSUFFICIENT_DATA") }.Where(x => x.Item1 > 0).Select(x => $"{x.Item1} to {x.Item2}"))}";
}

/// <summary>Relaunches (RunTask carried out) per minute in one cluster, with the policy's limit, over Start..End.</summary>
public sealed record RelaunchSeries
{
    public required string Cluster { get; init; }
    /// <summary>The time axis: the whole period, or one episode of it when the period is long.</summary>
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public required int LimitPerMinute { get; init; }
    /// <summary>Length of a bucket: one minute, or more for long periods.</summary>
    public required TimeSpan Bucket { get; init; }
    /// <summary>Buckets with at least one relaunch, oldest first.</summary>
    public IReadOnlyList<RelaunchBucket> Buckets { get; init; } = [];
    public int Total { get; init; }
}

/// <summary>A bucket of the relaunch chart: the total, and the busiest minute inside it (what the limit bounds).</summary>
public sealed record RelaunchBucket(DateTimeOffset Start, int Total, int PeakPerMinute);

public enum LaneMarkKind { Failure, Relaunch, Wait, GiveUp }

/// <summary>What happened to one task lineage: its failures, relaunches, waits (back-off or rate limit) and give-up.</summary>
public sealed record LineageLane
{
    public required string Cluster { get; init; }
    public required string Lineage { get; init; }
    public IReadOnlyList<LaneMark> Marks { get; init; } = [];
}

/// <summary>A mark on a lane. A wait runs from <see cref="Time"/> to <see cref="Until"/>. <see cref="Merged"/> counts marks drawn as one.</summary>
public sealed record LaneMark(DateTimeOffset Time, DateTimeOffset? Until, LaneMarkKind Kind, int Merged, string Label);

/// <summary>Lanes whose activity overlaps in time, drawn on one time axis of their own.</summary>
public sealed record LaneGroup(DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<LineageLane> Lanes)
{
    /// <summary>
    /// Groups lanes into episodes: a lane joins the current group when it starts within <paramref name="gap"/>
    /// of the group's end. A report spanning days then draws each burst of activity at a readable scale.
    /// </summary>
    public static IReadOnlyList<LaneGroup> Of(IReadOnlyList<LineageLane> lanes, TimeSpan gap) =>
        [.. Episodes.Split(lanes.Where(l => l.Marks.Count > 0), First, Last, gap).Select(e => new LaneGroup(e.Start, e.End, e.Items))];

    public static DateTimeOffset First(LineageLane l) => l.Marks.Min(m => m.Time);
    public static DateTimeOffset Last(LineageLane l) => l.Marks.Max(m => m.Until is { } u && u > m.Time ? u : m.Time);
}

/// <summary>
/// Long periods are drawn as episodes: activity separated by a quiet gap gets a time axis of its own,
/// so a week of replay with three incidents shows three readable charts instead of three slivers.
/// </summary>
public static class Episodes
{
    /// <summary>A quiet time longer than this starts a new episode.</summary>
    public static readonly TimeSpan Gap = TimeSpan.FromMinutes(30);

    /// <summary>Periods up to this long are drawn on one axis, the whole period; longer ones are split.</summary>
    public static readonly TimeSpan SplitAbove = TimeSpan.FromHours(6);

    public static bool ShouldSplit(DateTimeOffset? start, DateTimeOffset? end) =>
        start is { } s && end is { } e && e - s > SplitAbove;

    /// <summary>Room left on each side of an episode so that marks at its ends stay visible.</summary>
    public static TimeSpan Pad(DateTimeOffset start, DateTimeOffset end, TimeSpan minimum) =>
        TimeSpan.FromTicks(Math.Max(minimum.Ticks, (end - start).Ticks / 30));

    /// <summary>Splits items (each spanning first..last) into runs where each starts within <paramref name="gap"/> of the run's end.</summary>
    public static List<(DateTimeOffset Start, DateTimeOffset End, List<T> Items)> Split<T>(
        IEnumerable<T> items, Func<T, DateTimeOffset> first, Func<T, DateTimeOffset> last, TimeSpan gap)
    {
        var episodes = new List<(DateTimeOffset, DateTimeOffset, List<T>)>();
        var current = new List<T>();
        DateTimeOffset start = default, end = default;
        foreach (var (item, s, e) in items.Select(i => (i, first(i), last(i))).OrderBy(x => x.Item2))
        {
            if (current.Count > 0 && s > end + gap)
            {
                episodes.Add((start, end, current));
                current = [];
            }
            if (current.Count == 0) { start = s; end = e; }
            current.Add(item);
            if (e > end) end = e;
        }
        if (current.Count > 0) episodes.Add((start, end, current));
        return episodes;
    }
}
