using System.Globalization;
using System.Text;
using static EcsReflex.Report.Html;

namespace EcsReflex.Report;

/// <summary>
/// The charts, as inline SVG written on the server side: they show without script, scale with the page
/// (viewBox) and carry <c>data-testid</c> attributes and <c>&lt;title&gt;</c> tooltips.
/// </summary>
public static class SvgCharts
{
    private const double Width = 960;
    private const double Left = 56, Right = 20, Top = 18, Bottom = 30;

    /// <summary>Desired count over time of one service: a step line, a point per change, min/max and alarm transitions.</summary>
    public static string DesiredCount(ScaledServiceSeries s, DateTimeOffset start, DateTimeOffset end)
    {
        const double height = 230;
        var axis = new TimeAxis(start, end, Left, Width - Right);
        var values = s.Points.SelectMany(p => new[] { p.Low, p.High }).ToList();
        if (s.Min is { } mn) values.Add(mn);
        if (s.Max is { } mx) values.Add(mx);
        var yMin = Math.Min(0, values.Count > 0 ? values.Min() : 0);
        var yMax = Math.Max(yMin + 1, values.Count > 0 ? values.Max() : 1);
        yMax += Math.Max(1, (int)Math.Ceiling((yMax - yMin) * 0.1));
        double Y(double v) => height - Bottom - (v - yMin) / (yMax - yMin) * (height - Top - Bottom);

        var sb = new StringBuilder();
        Open(sb, height, $"Desired count of {s.Service} in {s.Cluster} over time", "chart-desired-svg");
        Grid(sb, axis, height, YTicks(yMin, yMax), Y, "desired count");

        if (s.Min is { } min) HLine(sb, axis, Y(min), "bound", "line-min", $"min {min}");
        if (s.Max is { } max) HLine(sb, axis, Y(max), "bound", "line-max", $"max {max}");

        foreach (var m in s.AlarmMarks)
        {
            var x = N(axis.X(m.Time));
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"alarm alarm-{Id(m.State)}\" data-testid=\"alarm-mark\" data-state=\"{Escape(m.State)}\" data-alarm=\"{Escape(m.Alarm)}\">")
              .Append(CultureInfo.InvariantCulture, $"<title>{Escape($"{Time(m.Time)} {m.Alarm}: {m.PreviousState ?? "?"} → {m.State}{(m.Reason is null ? "" : $" ({m.Reason})")}")}</title>")
              .Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" x2=\"{x}\" y1=\"{N(Top)}\" y2=\"{N(height - Bottom)}\"/>")
              .Append(CultureInfo.InvariantCulture, $"<path d=\"M{x} {N(Top)} l-5 -8 h10 z\"/></g>");
        }

        if (s.Points.Count > 0)
        {
            var path = new StringBuilder();
            path.Append(CultureInfo.InvariantCulture, $"M{N(axis.X(s.Points[0].Time))} {N(Y(s.Points[0].Value))}");
            for (var i = 1; i < s.Points.Count; i++)
                path.Append(CultureInfo.InvariantCulture, $" H{N(axis.X(s.Points[i].Time))} V{N(Y(s.Points[i].Value))}");
            path.Append(CultureInfo.InvariantCulture, $" H{N(axis.X(end))}");
            sb.Append(CultureInfo.InvariantCulture, $"<path class=\"step\" data-testid=\"desired-line\" d=\"{path}\"/>");
            foreach (var p in s.Points)
            {
                var x = N(axis.X(p.Time));
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"point\" data-testid=\"desired-point\" data-value=\"{p.Value}\" data-time=\"{Time(p.Time, "yyyy-MM-ddTHH:mm:ssZ")}\"><title>{Escape(p.Label)}</title>");
                if (p.Low != p.High)
                    sb.Append(CultureInfo.InvariantCulture, $"<line class=\"range\" x1=\"{x}\" x2=\"{x}\" y1=\"{N(Y(p.Low))}\" y2=\"{N(Y(p.High))}\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{x}\" cy=\"{N(Y(p.Value))}\" r=\"4\"/></g>");
            }
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Relaunches per minute in one cluster, with the policy's limit.</summary>
    public static string Relaunches(RelaunchSeries r, DateTimeOffset start, DateTimeOffset end)
    {
        const double height = 160;
        var axis = new TimeAxis(start, end, Left, Width - Right);
        var peak = r.Buckets.Count > 0 ? r.Buckets.Max(b => b.PeakPerMinute) : 0;
        double yMax = Math.Max(peak, r.LimitPerMinute);
        yMax += Math.Max(1, Math.Ceiling(yMax * 0.1));
        double Y(double v) => height - Bottom - v / yMax * (height - Top - Bottom);

        var sb = new StringBuilder();
        Open(sb, height, $"Relaunches per minute in {r.Cluster}, limit {r.LimitPerMinute} a minute", "chart-relaunches-svg");
        Grid(sb, axis, height, YTicks(0, yMax), Y, "per minute");
        var slot = Math.Max(2, (Width - Right - Left) * r.Bucket.Ticks / axis.Span.Ticks);
        var barWidth = Math.Max(1.5, slot * 0.8);
        foreach (var b in r.Buckets)
        {
            var x = axis.X(b.Start);
            var y = Y(b.PeakPerMinute);
            var title = r.Bucket <= TimeSpan.FromMinutes(1)
                ? $"{Time(b.Start, "yyyy-MM-dd HH:mm")}: {b.Total} relaunch{(b.Total == 1 ? "" : "es")}"
                : $"{Time(b.Start, "yyyy-MM-dd HH:mm")} – {Time(b.Start + r.Bucket, "HH:mm")}: {b.Total} relaunches, at most {b.PeakPerMinute} in one minute";
            sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar{(b.PeakPerMinute >= r.LimitPerMinute ? " at-limit" : "")}\" data-testid=\"relaunch-bar\" data-total=\"{b.Total}\" data-peak=\"{b.PeakPerMinute}\" x=\"{N(Math.Min(x, Width - Right - barWidth))}\" y=\"{N(y)}\" width=\"{N(barWidth)}\" height=\"{N(height - Bottom - y)}\"><title>{Escape(title)}</title></rect>");
        }
        HLine(sb, axis, Y(r.LimitPerMinute), "limit", "rate-limit-line", $"limit {r.LimitPerMinute}/min");
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>One lane per lineage: failures, relaunches, waits and give-ups on a shared time axis.</summary>
    public static string Lanes(IReadOnlyList<LineageLane> lanes, DateTimeOffset start, DateTimeOffset end)
    {
        const double lane = 26, labelWidth = 170;
        var height = Top + lanes.Count * lane + Bottom;
        var axis = new TimeAxis(start, end, labelWidth, Width - Right);
        var sb = new StringBuilder();
        Open(sb, height, $"{lanes.Count} task lineages over time", "chart-lanes-svg");
        foreach (var (x, label) in axis.Ticks())
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{N(x)}\" x2=\"{N(x)}\" y1=\"{N(Top)}\" y2=\"{N(height - Bottom)}\"/><text class=\"tick\" x=\"{N(x)}\" y=\"{N(height - Bottom + 16)}\" text-anchor=\"middle\">{Escape(label)}</text>");
        for (var i = 0; i < lanes.Count; i++)
        {
            var l = lanes[i];
            var yTop = Top + i * lane;
            var yMid = yTop + lane / 2;
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"lane\" data-testid=\"lane\" data-lineage=\"{Escape(l.Lineage)}\" data-cluster=\"{Escape(l.Cluster)}\">")
              .Append(CultureInfo.InvariantCulture, $"<rect class=\"lane-bg{(i % 2 == 0 ? "" : " odd")}\" x=\"0\" y=\"{N(yTop)}\" width=\"{N(Width)}\" height=\"{N(lane)}\"/>")
              .Append(CultureInfo.InvariantCulture, $"<text class=\"lane-label\" x=\"6\" y=\"{N(yMid + 4)}\"><title>{Escape($"lineage {l.Lineage} in {l.Cluster}")}</title>{Escape(Describe(l))}</text>")
              .Append(CultureInfo.InvariantCulture, $"<line class=\"lane-axis\" x1=\"{N(labelWidth)}\" x2=\"{N(Width - Right)}\" y1=\"{N(yMid)}\" y2=\"{N(yMid)}\"/>");
            foreach (var m in l.Marks.Where(m => m.Kind == LaneMarkKind.Wait))
            {
                var x0 = axis.X(m.Time);
                var x1 = Math.Max(x0 + 2, axis.X(m.Until ?? m.Time));
                sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"m-wait\" data-testid=\"lane-wait\" x=\"{N(x0)}\" y=\"{N(yMid - 5)}\" width=\"{N(x1 - x0)}\" height=\"10\" rx=\"2\"><title>{Escape(m.Label)}</title></rect>");
            }
            foreach (var m in l.Marks.Where(m => m.Kind != LaneMarkKind.Wait))
            {
                var x = N(axis.X(m.Time));
                var y = N(yMid);
                var shape = m.Kind switch
                {
                    LaneMarkKind.Failure => $"<circle class=\"m-failure\" cx=\"{x}\" cy=\"{y}\" r=\"5\"/>",
                    LaneMarkKind.Relaunch => $"<path class=\"m-relaunch\" d=\"M{x} {N(yMid - 7)} l6 11 h-12 z\"/>",
                    _ => $"<rect class=\"m-giveup\" x=\"{N(axis.X(m.Time) - 6)}\" y=\"{N(yMid - 6)}\" width=\"12\" height=\"12\"/>",
                };
                var kind = m.Kind switch { LaneMarkKind.Failure => "failure", LaneMarkKind.Relaunch => "relaunch", _ => "giveup" };
                sb.Append(CultureInfo.InvariantCulture, $"<g data-testid=\"lane-{kind}\"><title>{Escape(m.Label)}</title>{shape}</g>");
            }
            sb.Append("</g>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static string Describe(LineageLane l) => $"{(l.Lineage.Length > 12 ? l.Lineage[..12] + "…" : l.Lineage)} · {l.Cluster}";

    private static void Open(StringBuilder sb, double height, string label, string testId) =>
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-testid=\"{testId}\" viewBox=\"0 0 {N(Width)} {N(height)}\" role=\"img\" aria-label=\"{Escape(label)}\" preserveAspectRatio=\"xMidYMid meet\">");

    private static void Grid(StringBuilder sb, TimeAxis axis, double height, IReadOnlyList<double> yTicks, Func<double, double> y, string yLabel)
    {
        foreach (var v in yTicks)
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{N(axis.X0)}\" x2=\"{N(axis.X1)}\" y1=\"{N(y(v))}\" y2=\"{N(y(v))}\"/><text class=\"tick\" x=\"{N(axis.X0 - 6)}\" y=\"{N(y(v) + 4)}\" text-anchor=\"end\">{N(v)}</text>");
        foreach (var (x, label) in axis.Ticks())
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{N(x)}\" x2=\"{N(x)}\" y1=\"{N(Top)}\" y2=\"{N(height - Bottom)}\"/><text class=\"tick\" x=\"{N(x)}\" y=\"{N(height - Bottom + 16)}\" text-anchor=\"middle\">{Escape(label)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{N(axis.X0)}\" x2=\"{N(axis.X1)}\" y1=\"{N(height - Bottom)}\" y2=\"{N(height - Bottom)}\"/>")
          .Append(CultureInfo.InvariantCulture, $"<text class=\"axis-label\" x=\"12\" y=\"{N(Top + (height - Top - Bottom) / 2)}\" transform=\"rotate(-90 12 {N(Top + (height - Top - Bottom) / 2)})\" text-anchor=\"middle\">{Escape(yLabel)}</text>");
    }

    private static void HLine(StringBuilder sb, TimeAxis axis, double y, string cls, string testId, string label) =>
        sb.Append(CultureInfo.InvariantCulture, $"<g class=\"{cls}\" data-testid=\"{testId}\"><line x1=\"{N(axis.X0)}\" x2=\"{N(axis.X1)}\" y1=\"{N(y)}\" y2=\"{N(y)}\"/><text x=\"{N(axis.X1 - 4)}\" y=\"{N(y - 5)}\" text-anchor=\"end\">{Escape(label)}</text></g>");

    /// <summary>Round y ticks between <paramref name="min"/> and <paramref name="max"/>: about five of them, whole numbers.</summary>
    public static IReadOnlyList<double> YTicks(double min, double max)
    {
        var span = Math.Max(1, max - min);
        var raw = span / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        step = Math.Max(1, step);
        var ticks = new List<double>();
        for (var v = Math.Ceiling(min / step) * step; v <= max; v += step) ticks.Add(v);
        return ticks;
    }
}
