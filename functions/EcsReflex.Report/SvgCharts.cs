using System.Globalization;
using System.Text;
using static EcsReflex.Report.Html;

namespace EcsReflex.Report;

/// <summary>
/// The task lineages' lanes, as inline SVG written on the server side: they show without script, scale with the
/// page (viewBox) and carry <c>data-testid</c> attributes and <c>&lt;title&gt;</c> tooltips. (The time series, desired
/// counts and relaunches, are drawn in the page by uPlot: report.js.)
/// </summary>
public static class SvgCharts
{
    private const double Width = 960;
    private const double Right = 20, Top = 18, Bottom = 30;

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
}
