using System.Globalization;

namespace EcsReflex.Report;

/// <summary>Round time steps, for chart buckets and axis ticks.</summary>
public static class TimeBuckets
{
    private static readonly TimeSpan[] Steps =
    [
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30),
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1),
        TimeSpan.FromDays(2), TimeSpan.FromDays(7), TimeSpan.FromDays(14), TimeSpan.FromDays(28),
    ];

    /// <summary>The smallest round step of at least <paramref name="minimum"/> that cuts <paramref name="span"/> into at most <paramref name="maxBuckets"/> pieces.</summary>
    public static TimeSpan Choose(TimeSpan span, int maxBuckets, TimeSpan minimum)
    {
        if (maxBuckets < 1) throw new ArgumentOutOfRangeException(nameof(maxBuckets));
        foreach (var s in Steps)
            if (s >= minimum && span.Ticks / s.Ticks < maxBuckets) return s;
        // Longer than any round step allows: whole multiples of the largest.
        var largest = Steps[^1];
        var n = span.Ticks / largest.Ticks / maxBuckets + 1;
        return TimeSpan.FromTicks(largest.Ticks * n);
    }

    /// <summary>The start of the bucket of <paramref name="bucket"/> length that holds <paramref name="t"/> (buckets aligned on UTC midnight of 0001-01-01).</summary>
    public static DateTimeOffset Floor(DateTimeOffset t, TimeSpan bucket)
    {
        var ticks = t.UtcTicks;
        return new DateTimeOffset(ticks - ticks % bucket.Ticks, TimeSpan.Zero);
    }
}

/// <summary>Maps times of a period onto an x range, and gives readable ticks.</summary>
public sealed class TimeAxis
{
    public TimeAxis(DateTimeOffset start, DateTimeOffset end, double x0, double x1)
    {
        if (end <= start) end = start.AddMinutes(1);
        Start = start;
        End = end;
        X0 = x0;
        X1 = x1;
    }

    public DateTimeOffset Start { get; }
    public DateTimeOffset End { get; }
    public double X0 { get; }
    public double X1 { get; }
    public TimeSpan Span => End - Start;

    public double X(DateTimeOffset t)
    {
        var f = (double)(t - Start).Ticks / Span.Ticks;
        return X0 + Math.Clamp(f, 0, 1) * (X1 - X0);
    }

    public IReadOnlyList<(double X, string Label)> Ticks(int approximately = 6)
    {
        var step = TimeBuckets.Choose(Span, approximately, TimeSpan.FromSeconds(1));
        var multiDay = Start.UtcDateTime.Date != End.UtcDateTime.Date;
        var format = step < TimeSpan.FromMinutes(1) ? "HH:mm:ss" : multiDay ? "MM-dd HH:mm" : "HH:mm";
        var ticks = new List<(double, string)>();
        var t = TimeBuckets.Floor(Start, step);
        if (t < Start) t += step;
        for (; t <= End && ticks.Count < approximately * 2; t += step)
            ticks.Add((X(t), t.UtcDateTime.ToString(format, CultureInfo.InvariantCulture)));
        return ticks;
    }
}
