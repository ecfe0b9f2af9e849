using System.Globalization;
using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>How a step's adjustment is read, as in Application Auto Scaling step scaling.</summary>
public enum AdjustmentType { ChangeInCapacity, ExactCapacity, PercentChangeInCapacity }

/// <summary>Which way an alarm scales: every step of one alarm goes the same way.</summary>
public enum ScalingDirection { Out, In }

/// <summary>What the scaler does with a service that Application Auto Scaling also scales.</summary>
public enum AasCoexistence { Leave, Clamp }

/// <summary>
/// One step adjustment: applies when <c>metric − threshold</c> lies in [<see cref="LowerBound"/>,
/// <see cref="UpperBound"/>); an absent bound is unbounded on that side.
/// </summary>
public sealed record ScalingStep(double? LowerBound, double? UpperBound, int Adjustment)
{
    /// <summary>Where the step stands in the policy file (<c>...alarms[0].steps[1]</c>).</summary>
    public string Path { get; init; } = "";
    /// <summary>A bound was unreadable or empty (already reported): the interval checks skip the alarm.</summary>
    internal bool BadBounds { get; init; }

    public double Lower => LowerBound ?? double.NegativeInfinity;
    public double Upper => UpperBound ?? double.PositiveInfinity;

    /// <summary>Lower bound inclusive, upper bound exclusive.</summary>
    public bool Contains(double x) => x >= Lower && x < Upper;

    /// <summary>How far <paramref name="x"/> lies from the closed interval [lower, upper]; 0 inside it or on a bound.</summary>
    public double DistanceTo(double x) => x < Lower ? Lower - x : x > Upper ? x - Upper : 0;

    /// <summary><c>[0, 20)</c>, <c>[20, +∞)</c>, <c>(-∞, 0)</c>.</summary>
    public string Interval =>
        $"{(LowerBound is { } l ? "[" + Num(l) : "(-∞")}, {(UpperBound is { } u ? Num(u) : "+∞")})";

    internal static string Num(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>A CloudWatch alarm that drives a service, and the steps applied when it goes to ALARM.</summary>
public sealed record ScalingAlarm
{
    public required string AlarmName { get; init; }
    public required AdjustmentType AdjustmentType { get; init; }
    public required ScalingDirection Direction { get; init; }
    public int? MinAdjustmentMagnitude { get; init; }
    public required IReadOnlyList<ScalingStep> Steps { get; init; }
    /// <summary>Where the alarm stands in the policy file (<c>clusters[0].services[0].scaling.alarms[1]</c>).</summary>
    public string Path { get; init; } = "";
}

/// <summary>
/// How the service scaler may scale one service: bounds, cooldowns, scale-in stabilisation, the alarms
/// that drive it and what to do when Application Auto Scaling also scales it. See docs/scaler.md.
/// </summary>
public sealed record ScalingPolicy
{
    public const int DefaultScaleOutCooldownSeconds = 60;
    public const int DefaultScaleInCooldownSeconds = 300;
    public const int DefaultScaleInStabilizationSeconds = 300;
    public const int CountLimit = 100_000;
    public const int MaxSeconds = 86_400;

    public int MinCount { get; init; }
    public int MaxCount { get; init; }
    public int ScaleOutCooldownSeconds { get; init; } = DefaultScaleOutCooldownSeconds;
    public int ScaleInCooldownSeconds { get; init; } = DefaultScaleInCooldownSeconds;
    public int ScaleInStabilizationSeconds { get; init; } = DefaultScaleInStabilizationSeconds;
    public bool Paused { get; init; }
    public AasCoexistence CoexistWithApplicationAutoScaling { get; init; } = AasCoexistence.Leave;
    public IReadOnlyList<ScalingAlarm> Alarms { get; init; } = [];
    /// <summary>Where the scaling block stands in the policy file (<c>clusters[0].services[0].scaling</c>).</summary>
    public string Path { get; init; } = "";

    public TimeSpan ScaleOutCooldown => TimeSpan.FromSeconds(ScaleOutCooldownSeconds);
    public TimeSpan ScaleInCooldown => TimeSpan.FromSeconds(ScaleInCooldownSeconds);
    public TimeSpan ScaleInStabilization => TimeSpan.FromSeconds(ScaleInStabilizationSeconds);

    public ScalingAlarm? FindAlarm(string alarmName) =>
        Alarms.FirstOrDefault(a => string.Equals(a.AlarmName, alarmName, StringComparison.Ordinal));

    internal static ScalingPolicy Read(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "minCount", "maxCount", "scaleOutCooldownSeconds", "scaleInCooldownSeconds",
            "scaleInStabilizationSeconds", "paused", "coexistWithApplicationAutoScaling", "alarms");
        var min = RequiredInt(r, e, path, "minCount", 0, CountLimit);
        var max = RequiredInt(r, e, path, "maxCount", 0, CountLimit);
        if (min is { } lo && max is { } hi && lo > hi)
            r.Error(Reader.Join(path, "minCount"), $"{lo} is greater than maxCount ({hi}); lower minCount or raise maxCount");

        var coexist = AasCoexistence.Leave;
        switch (r.OptionalString(e, path, "coexistWithApplicationAutoScaling"))
        {
            case null or "leave": break;
            case "clamp": coexist = AasCoexistence.Clamp; break;
            case var other:
                r.Error(Reader.Join(path, "coexistWithApplicationAutoScaling"), $"\"{other}\" is not a choice; use \"leave\" (leave a service that Application Auto Scaling scales alone) or \"clamp\" (scale it within both sets of bounds)");
                break;
        }

        var alarms = r.List(e, path, "alarms", required: true, ReadAlarm);
        if (alarms.Count == 0 && e.TryGetProperty("alarms", out var a) && a.ValueKind == JsonValueKind.Array)
            r.Error(Reader.Join(path, "alarms"), "must name at least one alarm: the scaler acts only on the alarms listed here");
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < alarms.Count; i++)
        {
            if (alarms[i].AlarmName.Length == 0) continue;
            if (names.TryGetValue(alarms[i].AlarmName, out var first))
                r.Error($"{path}.alarms[{i}].alarmName", $"alarm \"{alarms[i].AlarmName}\" is already listed at {path}.alarms[{first}]; list each alarm once");
            else names[alarms[i].AlarmName] = i;
        }

        return new ScalingPolicy
        {
            MinCount = min ?? 0,
            MaxCount = max ?? 0,
            ScaleOutCooldownSeconds = r.Int(e, path, "scaleOutCooldownSeconds", DefaultScaleOutCooldownSeconds, 0, MaxSeconds),
            ScaleInCooldownSeconds = r.Int(e, path, "scaleInCooldownSeconds", DefaultScaleInCooldownSeconds, 0, MaxSeconds),
            ScaleInStabilizationSeconds = r.Int(e, path, "scaleInStabilizationSeconds", DefaultScaleInStabilizationSeconds, 0, MaxSeconds),
            Paused = r.Bool(e, path, "paused", false),
            CoexistWithApplicationAutoScaling = coexist,
            Alarms = alarms,
            Path = path,
        };
    }

    private static int? RequiredInt(Reader r, JsonElement e, string path, string name, int min, int max)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            r.Error(Reader.Join(path, name), $"required field is missing; give a whole number from {min} to {max}");
            return null;
        }
        var errors = r.Errors.Count;
        var n = r.Int(e, path, name, -1, min, max);
        return r.Errors.Count == errors ? n : null;
    }

    private static ScalingAlarm ReadAlarm(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "alarmName", "adjustmentType", "direction", "minAdjustmentMagnitude", "steps");
        var name = r.RequiredString(e, path, "alarmName") ?? "";
        if (name.Length > 255) r.Error(Reader.Join(path, "alarmName"), $"is {name.Length} characters long; CloudWatch alarm names have at most 255");

        AdjustmentType? type = null;
        var typeText = r.RequiredString(e, path, "adjustmentType");
        switch (typeText)
        {
            case null or "": break;
            case "ChangeInCapacity": type = AdjustmentType.ChangeInCapacity; break;
            case "ExactCapacity": type = AdjustmentType.ExactCapacity; break;
            case "PercentChangeInCapacity": type = AdjustmentType.PercentChangeInCapacity; break;
            default:
                r.Error(Reader.Join(path, "adjustmentType"), $"\"{typeText}\" is not an adjustment type; use \"ChangeInCapacity\", \"ExactCapacity\" or \"PercentChangeInCapacity\"");
                break;
        }

        int? magnitude = null;
        if (e.TryGetProperty("minAdjustmentMagnitude", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (type is { } t && t != AdjustmentType.PercentChangeInCapacity)
                r.Error(Reader.Join(path, "minAdjustmentMagnitude"), $"applies only to adjustmentType \"PercentChangeInCapacity\", not \"{t}\"; remove it");
            else magnitude = r.Int(e, path, "minAdjustmentMagnitude", 1, 1, CountLimit);
        }

        var steps = r.List(e, path, "steps", required: true, ReadStep);
        if (steps.Count == 0 && e.TryGetProperty("steps", out var s) && s.ValueKind == JsonValueKind.Array)
            r.Error(Reader.Join(path, "steps"), "must hold at least one step, for example { \"lowerBound\": 0, \"adjustment\": 1 }");

        var (direction, source) = ReadDirection(r, e, path, type, steps);
        if (type is { } at)
            CheckAdjustments(r, at, direction, source, steps);
        if (steps.All(st => !st.BadBounds))
            CheckIntervals(r, steps);

        return new ScalingAlarm
        {
            AlarmName = name,
            AdjustmentType = type ?? AdjustmentType.ChangeInCapacity,
            Direction = direction ?? ScalingDirection.Out,
            MinAdjustmentMagnitude = magnitude,
            Steps = steps,
            Path = path,
        };
    }

    private static ScalingStep ReadStep(Reader r, JsonElement e, string path)
    {
        if (!r.Object(e, path, "lowerBound", "upperBound", "adjustment")) return new ScalingStep(null, null, 0) { Path = path, BadBounds = true };
        var errors = r.Errors.Count;
        double? lower = e.TryGetProperty("lowerBound", out var l) && l.ValueKind != JsonValueKind.Null ? r.Number(e, path, "lowerBound", double.NaN, -1e12, 1e12) : null;
        double? upper = e.TryGetProperty("upperBound", out var u) && u.ValueKind != JsonValueKind.Null ? r.Number(e, path, "upperBound", double.NaN, -1e12, 1e12) : null;
        var badBounds = r.Errors.Count > errors;
        int adjustment = 0;
        if (!e.TryGetProperty("adjustment", out var a) || a.ValueKind == JsonValueKind.Null)
            r.Error(Reader.Join(path, "adjustment"), "required field is missing; give the whole number of tasks (or percent, or the exact count) this step applies");
        else adjustment = r.Int(e, path, "adjustment", 0, -CountLimit, CountLimit);
        if (!badBounds && lower is { } lo && upper is { } hi && lo >= hi)
        {
            r.Error(Reader.Join(path, "upperBound"), $"{ScalingStep.Num(hi)} must be greater than lowerBound ({ScalingStep.Num(lo)}): the interval [lowerBound, upperBound) would be empty");
            badBounds = true;
        }
        return new ScalingStep(lower, upper, adjustment) { Path = path, BadBounds = badBounds };
    }

    private static (ScalingDirection? Direction, string Source) ReadDirection(Reader r, JsonElement e, string path, AdjustmentType? type, IReadOnlyList<ScalingStep> steps)
    {
        var source = $"as {Reader.Join(path, "direction")} says";
        switch (r.OptionalString(e, path, "direction"))
        {
            case "out": return (ScalingDirection.Out, source);
            case "in": return (ScalingDirection.In, source);
            case null: break;
            case var other:
                r.Error(Reader.Join(path, "direction"), $"\"{other}\" is not a direction; use \"out\" (the alarm adds tasks) or \"in\" (it removes tasks)");
                return (null, "");
        }
        if (type == AdjustmentType.ExactCapacity)
        {
            r.Error(Reader.Join(path, "direction"), "required for adjustmentType \"ExactCapacity\" (an exact count has no sign): say whether the alarm scales \"out\" or \"in\"");
            return (null, "");
        }
        // The first step with an adjustment other than 0 says which way the alarm goes.
        var first = steps.FirstOrDefault(s => s.Adjustment != 0);
        return first is null ? (null, "")
            : (first.Adjustment > 0 ? ScalingDirection.Out : ScalingDirection.In, $"as {first.Path} ({Signed(first.Adjustment)}) says");
    }

    private static void CheckAdjustments(Reader r, AdjustmentType type, ScalingDirection? direction, string source, IReadOnlyList<ScalingStep> steps)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var p = Reader.Join(step.Path, "adjustment");
            switch (type)
            {
                case AdjustmentType.ExactCapacity:
                    if (step.Adjustment < 0) r.Error(p, $"{step.Adjustment} is not a task count; ExactCapacity sets the desired count, so use 0 or more");
                    break;
                default:
                    if (step.Adjustment == 0)
                        r.Error(p, "0 changes nothing; remove the step (or let the alarm's threshold start where scaling should)");
                    else if (type == AdjustmentType.PercentChangeInCapacity && step.Adjustment < -100)
                        r.Error(p, $"{step.Adjustment}% would remove more tasks than run; use -100 or more");
                    else if (direction is { } d && (step.Adjustment > 0) != (d == ScalingDirection.Out))
                        r.Error(p, $"{Signed(step.Adjustment)} goes the other way from the alarm, which scales {(d == ScalingDirection.Out ? "out" : "in")} ({source}); an alarm scales one way only: use a separate alarm for the other direction");
                    break;
            }
        }
    }

    internal static string Signed(int n) => n > 0 ? $"+{n}" : n.ToString(CultureInfo.InvariantCulture);

    private static void CheckIntervals(Reader r, IReadOnlyList<ScalingStep> steps)
    {
        var unboundedBelow = -1;
        var unboundedAbove = -1;
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].LowerBound is null)
            {
                if (unboundedBelow >= 0)
                    r.Error(Reader.Join(steps[i].Path, "lowerBound"), $"missing, but {steps[unboundedBelow].Path} is already unbounded below; only one step may be, give this one a lowerBound");
                else unboundedBelow = i;
            }
            if (steps[i].UpperBound is null)
            {
                if (unboundedAbove >= 0)
                    r.Error(Reader.Join(steps[i].Path, "upperBound"), $"missing, but {steps[unboundedAbove].Path} is already unbounded above; only one step may be, give this one an upperBound");
                else unboundedAbove = i;
            }
        }
        var ordered = steps.OrderBy(s => s.Lower).ThenBy(s => s.Upper).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            var (prev, next) = (ordered[i - 1], ordered[i]);
            if (prev.Upper > next.Lower)
                r.Error(next.Path, $"{next.Interval} overlaps {prev.Path} {prev.Interval}; steps must not overlap, so a metric value selects exactly one step");
            else if (prev.Upper < next.Lower)
                r.Error(Reader.Join(next.Path, "lowerBound"), $"{ScalingStep.Num(next.Lower)} leaves a gap after {prev.Path} {prev.Interval}: metric − threshold in [{ScalingStep.Num(prev.Upper)}, {ScalingStep.Num(next.Lower)}) would select no step; make it {ScalingStep.Num(prev.Upper)}");
        }
    }

    /// <summary>
    /// An alarm may drive only one service: across the whole policy, each alarm name appears under one
    /// service. Called by the loader once every cluster is read.
    /// </summary>
    internal static void CheckAlarmsDriveOneService(Reader r, IReadOnlyList<ClusterPolicy> clusters)
    {
        var seen = new Dictionary<string, (string AlarmPath, string ServicePath)>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
            foreach (var service in cluster.Services)
            {
                if (service.Scaling is not { } scaling) continue;
                foreach (var alarm in scaling.Alarms.DistinctBy(a => a.AlarmName))
                {
                    if (alarm.AlarmName.Length == 0) continue;
                    if (seen.TryGetValue(alarm.AlarmName, out var first))
                        r.Error(Reader.Join(alarm.Path, "alarmName"), $"alarm \"{alarm.AlarmName}\" already drives {first.ServicePath} (at {first.AlarmPath}); an alarm may drive only one service, so create one alarm per service");
                    else seen[alarm.AlarmName] = (alarm.Path, service.Path);
                }
            }
    }
}
