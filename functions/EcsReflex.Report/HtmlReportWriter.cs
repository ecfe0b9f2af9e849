using System.Buffers;
using System.Globalization;
using System.Text;
using EcsReflex.Core.Decisions;
using static EcsReflex.Report.Html;

namespace EcsReflex.Report;

/// <summary>
/// Writes the report as one self-contained HTML page: inline CSS, uPlot and the page's script inline, the lanes
/// as inline SVG, the decisions' columns and details (gzipped, base64) and the data (JSON) in script blocks the
/// browser does not run, and a Content-Security-Policy that forbids every request, so the page opens from disk
/// and never reaches out.
/// </summary>
public static class HtmlReportWriter
{
    /// <summary>Rejected inputs listed in the page; the rest are in the decisions table (outcome "rejected").</summary>
    public const int MaxRejectedRows = 500;


    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

    public static void Write(ReportModel m, Stream output)
    {
        var text = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" };
        WriteHead(m, text);
        WriteBody(m, text);
        // The decisions' columns and details first (ReportJson writes their layout), gzipped, in base64: no character
        // of base64 can end a script block.
        var columns = m.Decisions.CompressedColumns();
        var details = m.Decisions.CompressedDetails();
        text.Write("<script type=\"application/octet-stream\" id=\"reflex-columns\">");
        text.Flush();
        WriteBase64(columns, output);
        text.Write("</script>\n<script type=\"application/octet-stream\" id=\"reflex-details\">");
        text.Flush();
        WriteBase64(details, output);
        text.Write("</script>\n<script type=\"application/json\" id=\"reflex-data\">");
        text.Flush();
        var json = new ArrayBufferWriter<byte>(1024 * 1024);
        ReportJson.Write(m, json);
        var safe = new ArrayBufferWriter<byte>(json.WrittenCount + 1024);
        WriteScriptSafeJson(json.WrittenSpan, safe);
        output.Write(safe.WrittenSpan);
        text.Write("</script>\n<script>\n");
        // uPlot's MIT licence travels with every copy of it (the minified file's banner names only the project).
        if (typeof(HtmlReportWriter).Assembly.GetManifestResourceInfo("EcsReflex.Report.uPlot.LICENSE") is not null)
            text.Write($"/*! uPlot, embedded by reflex report.\n{Asset("uPlot.LICENSE").Replace("*/", "* /", StringComparison.Ordinal)}*/\n");
        text.Write(Asset(UplotScript));
        text.Write("\n</script>\n<script>\n");
        text.Write(Asset("report.js"));
        text.Write("</script>\n</body>\n</html>\n");
        text.Flush();
    }

    /// <summary>uPlot (MIT), embedded at build time from node_modules/uplot/dist (see EcsReflex.Report.csproj).</summary>
    public const string UplotScript = "uPlot.iife.min.js", UplotStyle = "uPlot.min.css";

    /// <summary>True when this build carries uPlot; <c>reflex report</c> refuses to write a page without it.</summary>
    public static bool HasCharts =>
        typeof(HtmlReportWriter).Assembly.GetManifestResourceInfo($"EcsReflex.Report.{UplotScript}") is not null
        && typeof(HtmlReportWriter).Assembly.GetManifestResourceInfo($"EcsReflex.Report.{UplotStyle}") is not null;

    /// <summary>What to do when <see cref="HasCharts"/> is false.</summary>
    public const string MissingChartsMessage =
        "this build of reflex has no chart library: node_modules/uplot was missing when EcsReflex.Report was built. " +
        "Run `npm ci` in the repository (it installs uPlot from package.json), then build again.";

    private static void WriteBase64(ReadOnlyMemory<byte> data, Stream output)
    {
        const int chunk = 3 * 16 * 1024;
        var buffer = new byte[4 * chunk / 3];
        for (var i = 0; i < data.Length; i += chunk)
        {
            var span = data.Span.Slice(i, Math.Min(chunk, data.Length - i));
            System.Buffers.Text.Base64.EncodeToUtf8(span, buffer, out _, out var written);
            output.Write(buffer, 0, written);
        }
    }

    public static string ToHtml(ReportModel m)
    {
        using var ms = new MemoryStream();
        Write(m, ms);
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    private static string Asset(string name)
    {
        using var s = typeof(HtmlReportWriter).Assembly.GetManifestResourceStream($"EcsReflex.Report.{name}")
            ?? throw new InvalidOperationException(name.StartsWith("uPlot", StringComparison.Ordinal) ? MissingChartsMessage : $"the report asset {name} is missing from the assembly");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    private static string Period(ReportModel m) =>
        m.Start is null ? "no events" : $"{Time(m.Start)} – {Time(m.End)} UTC";

    private static void WriteHead(ReportModel m, TextWriter w)
    {
        w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.Write($"<meta http-equiv=\"Content-Security-Policy\" content=\"{ContentSecurityPolicy}\">\n");
        w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        w.Write("<meta name=\"generator\" content=\"reflex report\">\n");
        w.Write($"<title>EcsReflex report · {Escape(Period(m))}</title>\n<style>\n");
        w.Write(Asset(UplotStyle));
        w.Write("\n");
        w.Write(Asset("report.css"));
        w.Write("</style>\n</head>\n");
    }

    private static void WriteBody(ReportModel m, TextWriter w)
    {
        var s = m.Summary;
        w.Write("<body>\n<header class=\"top\"><h1>EcsReflex report</h1>");
        w.Write($"<p class=\"lede\">What EcsReflex did, or would have done: {Count(s.Decisions)} decisions replayed on the embedded cluster. Nothing in this page was sent to AWS, and the page itself makes no request.</p></header>\n<main>\n");

        // Summary
        w.Write("<section id=\"summary\" data-testid=\"summary\"><h2>Summary</h2><dl class=\"meta\">");
        Meta(w, "Period", Period(m), "summary-period");
        if (m.Window.From is not null || m.Window.To is not null)
            Meta(w, "Window", $"{(m.Window.From is { } f ? $"from {Time(f)}" : "from the start")} {(m.Window.To is { } t ? $"to {Time(t)} (excluded)" : "to the end")}; earlier events were replayed but are not shown", "summary-window");
        Meta(w, "Policy", m.PolicyFile, "summary-policy");
        Meta(w, "Inputs", m.Inputs.Count switch
        {
            0 => "—",
            <= 3 => string.Join(", ", m.Inputs),
            _ => $"{string.Join(", ", m.Inputs.Take(3))} and {m.Inputs.Count - 3} more",
        }, "summary-inputs");
        w.Write("</dl>\n<div class=\"cards\">");
        Card(w, "summary-decisions", "decisions", s.Decisions, null);
        Card(w, "summary-events", "events", s.Events, null);
        Card(w, "summary-timers", "timers fired", s.Timers, null);
        Card(w, "summary-sweeps", "sweep records", s.Sweeps, null);
        foreach (var o in Enum.GetValues<Outcome>())
            Card(w, $"summary-outcome-{o.Name()}", o.Name(), s.Count(o), o.Name());
        w.Write("</div>\n<div class=\"cards\">");
        Card(w, "summary-relaunches", "relaunches", s.Relaunches, null);
        Card(w, "summary-give-ups", "give-ups", s.GiveUps, null);
        Card(w, "summary-scale-changes", "scale changes", s.ScaleChanges, null);
        Card(w, "summary-placement-changes", "placement changes", s.PlacementChanges, null);
        Card(w, "summary-tasks-stopped", "tasks stopped", s.TasksStopped, null);
        Card(w, "summary-rejected-inputs", "rejected inputs", s.RejectedInputs, null);
        w.Write("</div></section>\n");

        var hasPeriod = m.Start is not null && m.End is not null;
        var start = m.Start ?? default;
        var end = m.End ?? default;

        // Desired count per scaled service
        w.Write("<section id=\"scaling\" data-testid=\"section-scaling\"><h2>Desired count per scaled service</h2>");
        if (m.ScaledServices.Count == 0 || !hasPeriod)
            w.Write("<p class=\"empty\" data-testid=\"no-scaled-services\">No scaled service: the policy names no service with <code>scaling</code> and no decision changed a desired count in this period.</p>");
        else
        {
            w.Write("<p class=\"legend\"><span class=\"key step\"></span>desired count <span class=\"key band\"></span>range within a merged bucket <span class=\"key bound\"></span>policy min / max <span class=\"key alarm-ALARM\"></span>alarm to ALARM <span class=\"key alarm-OK\"></span>to OK <span class=\"key alarm-INSUFFICIENT_DATA\"></span>to INSUFFICIENT_DATA · a tick along the top: transitions merged (hover for the counts) · drag across a chart to zoom, double-click to zoom out</p>");
            for (var i = 0; i < m.ScaledServices.Count; i++)
            {
                var x = m.ScaledServices[i];
                var points = x.Points;
                var last = points.Count > 0 ? points[^1].Value.ToString(CultureInfo.InvariantCulture) : "?";
                var first = points.Count > 0 ? points[0].Value.ToString(CultureInfo.InvariantCulture) : "?";
                w.Write($"<figure class=\"chart-box\" id=\"chart-desired-{Id(x.Cluster)}-{Id(x.Service)}\" data-testid=\"chart-desired\" data-cluster=\"{Escape(x.Cluster)}\" data-service=\"{Escape(x.Service)}\" data-points=\"{points.Count}\" data-changes=\"{x.Changes}\" data-episodes=\"{x.Episodes.Count}\" data-low=\"{x.Low}\" data-high=\"{x.High}\">");
                w.Write($"<figcaption><b>{Escape(x.Service)}</b> in {Escape(x.Cluster)}: desired {first} → {last}, {Count(x.Changes)} change{(x.Changes == 1 ? "" : "s")} between {x.Low?.ToString(CultureInfo.InvariantCulture) ?? "?"} and {x.High?.ToString(CultureInfo.InvariantCulture) ?? "?"}, {Count(x.AlarmTransitions)} alarm transition{(x.AlarmTransitions == 1 ? "" : "s")}");
                w.Write(x.Min is { } mn ? $"; policy min {mn}" : "; min not set");
                w.Write(x.Max is { } mx ? $", max {mx}" : ", max not set");
                if (x.Episodes.Count > 1) w.Write($"; {x.Episodes.Count} episodes of activity");
                if (x.Bucket > TimeSpan.Zero) w.Write($"; changes merged per {Duration(x.Bucket)} where dense");
                w.Write("</figcaption>");
                for (var j = 0; j < x.Episodes.Count; j++)
                {
                    var e = x.Episodes[j];
                    w.Write($"<div class=\"episode\" data-testid=\"desired-episode\" data-start=\"{Time(e.Start, "yyyy-MM-ddTHH:mm:ssZ")}\" data-end=\"{Time(e.End, "yyyy-MM-ddTHH:mm:ssZ")}\">");
                    if (x.Episodes.Count > 1) w.Write($"<div class=\"episode-range\">{Range(e.Start, e.End)} UTC</div>");
                    w.Write($"<div class=\"uchart\" data-kind=\"desired\" data-series=\"{i}\" data-episode=\"{j}\" role=\"img\" aria-label=\"Desired count of {Escape(x.Service)} in {Escape(x.Cluster)}, {Range(e.Start, e.End)} UTC\"></div></div>");
                }
                w.Write("</figure>\n");
            }
        }
        w.Write("</section>\n");

        // Relaunches per minute
        w.Write("<section id=\"relaunches\" data-testid=\"section-relaunches\"><h2>Relaunches per minute</h2>");
        if (m.Relaunches.Count == 0)
            w.Write("<p class=\"empty\" data-testid=\"no-relaunches\">No relaunch in this period.</p>");
        else
        {
            var split = Episodes.ShouldSplit(m.Start, m.End);
            w.Write("<p class=\"legend\"><span class=\"key bar\"></span>relaunches (RunTask) <span class=\"key bar at-limit\"></span>at the limit <span class=\"key limit\"></span>policy limit (<code>limits.maxRelaunchesPerMinute</code>)</p>");
            for (var ri = 0; ri < m.Relaunches.Count; ri++)
            {
                // The chart is drawn by the script, with uPlot, from the data block.
                var r = m.Relaunches[ri];
                w.Write($"<figure class=\"chart-box\" id=\"chart-relaunches-{Id(r.Cluster)}-{Time(r.Start, "yyyyMMddTHHmm")}\" data-testid=\"chart-relaunches\" data-cluster=\"{Escape(r.Cluster)}\" data-total=\"{r.Total}\" data-limit=\"{r.LimitPerMinute}\">");
                w.Write($"<figcaption><b>{Escape(r.Cluster)}</b>{(split ? $" · {Range(r.Start, r.End)} UTC" : "")}: {Count(r.Total)} relaunch{(r.Total == 1 ? "" : "es")}, limit {r.LimitPerMinute} a minute{(r.Bucket > TimeSpan.FromMinutes(1) ? $"; each bar is {Duration(r.Bucket)} and shows its busiest minute" : "")}</figcaption>");
                w.Write($"<div class=\"uchart\" data-kind=\"relaunches\" data-series=\"{ri}\" role=\"img\" aria-label=\"Relaunches per minute in {Escape(r.Cluster)}, limit {r.LimitPerMinute} a minute\"></div>");
                w.Write("</figure>\n");
            }
        }
        w.Write("</section>\n");

        // Lanes
        w.Write("<section id=\"lineages\" data-testid=\"section-lineages\"><h2>Task lineages</h2>");
        if (m.LaneGroups.Count == 0)
            w.Write("<p class=\"empty\" data-testid=\"no-lanes\">No task lineage was relaunched, held back or given up in this period.</p>");
        else
        {
            w.Write("<p class=\"legend\"><span class=\"key m-failure\"></span>failure <span class=\"key m-wait\"></span>waiting (back-off or rate limit) <span class=\"key m-relaunch\"></span>relaunch <span class=\"key m-giveup\"></span>give-up");
            if (m.LineagesTotal > m.Lanes.Count)
                w.Write($" · <span data-testid=\"lanes-capped\">showing the {m.Lanes.Count} busiest of {Count(m.LineagesTotal)} lineages</span>");
            w.Write("</p>");
            foreach (var g in m.LaneGroups)
            {
                w.Write($"<figure class=\"chart-box\" data-testid=\"chart-lanes\" data-lanes=\"{g.Lanes.Count}\">");
                if (m.LaneGroups.Count > 1)
                    w.Write($"<figcaption>{Range(g.Start, g.End)} UTC · {g.Lanes.Count} lineage{(g.Lanes.Count == 1 ? "" : "s")}</figcaption>");
                w.Write(SvgCharts.Lanes(g.Lanes, g.Start, g.End));
                w.Write("</figure>\n");
            }
        }
        w.Write("</section>\n");

        // Decisions table (filled by the script)
        w.Write("""
<section id="decisions" data-testid="section-decisions"><h2>Decisions</h2>
<noscript><p class="empty">The decisions table needs JavaScript; the data is in the <code>reflex-data</code> block of this file.</p></noscript>
<form class="filters" id="filters" data-testid="filters" onsubmit="return false">
<label>Outcome <select id="filter-outcome" data-testid="filter-outcome"><option value="">all</option></select></label>
<label>Handler <select id="filter-handler" data-testid="filter-handler"><option value="">all</option></select></label>
<label>Cluster <select id="filter-cluster" data-testid="filter-cluster"><option value="">all</option></select></label>
<label>Service <select id="filter-service" data-testid="filter-service"><option value="">all</option></select></label>
<label class="grow">Text <input type="search" id="filter-text" data-testid="filter-text" placeholder="task id, reason, request…" autocomplete="off"></label>
<button type="button" id="filter-clear" data-testid="filter-clear">Clear</button>
<label>Go to time (UTC) <input type="text" id="goto-time" data-testid="goto-time" placeholder="2026-03-03 02:30" autocomplete="off" size="17"></label>
</form>
<p class="note" id="details-note" data-testid="details-note" hidden></p>
<p class="table-status"><span id="row-count" data-testid="row-count" aria-live="polite"></span> <span class="pager"><button type="button" id="page-prev" data-testid="page-prev">‹ Previous</button> <span id="page-info" data-testid="page-info"></span> <button type="button" id="page-next" data-testid="page-next">Next ›</button></span></p>
<div class="table-wrap"><table id="decisions-table" data-testid="decisions-table">
<thead><tr><th class="c-time"><button type="button" id="sort-time" data-testid="sort-time" aria-sort="ascending">Time ▲</button></th><th class="c-event">Event</th><th class="c-handler">Handler</th><th class="c-outcome">Outcome</th><th class="c-action">Action</th><th class="c-reason">Reason</th></tr></thead>
<tbody id="decisions-body" data-testid="decisions-body"></tbody>
</table></div>
</section>

""");

        // Rejected inputs
        w.Write("<section id=\"rejected\" data-testid=\"section-rejected\"><h2>Rejected inputs</h2>");
        if (m.RejectedInputs.Count == 0)
            w.Write("<p class=\"empty\" data-testid=\"no-rejected\">Every input was read as an event.</p>");
        else
        {
            w.Write("<div class=\"table-wrap\"><table data-testid=\"rejected-table\"><thead><tr><th>File</th><th>Line</th><th>Code</th><th>Reason</th></tr></thead><tbody>");
            foreach (var r in m.RejectedInputs.Take(MaxRejectedRows))
                w.Write($"<tr data-testid=\"rejected-row\"><td class=\"mono\">{Escape(r.File)}</td><td class=\"num\">{r.Line?.ToString(CultureInfo.InvariantCulture) ?? "—"}</td><td class=\"mono\">{Escape(r.Code ?? "—")}</td><td>{Escape(r.Reason)}</td></tr>");
            w.Write("</tbody></table></div>");
            if (m.RejectedInputs.Count > MaxRejectedRows)
                w.Write($"<p class=\"note\" data-testid=\"rejected-capped\">{Count(m.RejectedInputs.Count - MaxRejectedRows)} more: filter the decisions table by outcome <b>rejected</b>.</p>");
        }
        w.Write("</section>\n</main>\n<footer>Written by <code>reflex report</code>. One self-contained file: it makes no request and can be opened from disk or attached to an incident. Charts drawn with uPlot (MIT License, © Leon Sorokin), embedded in this page.</footer>\n");
    }

    private static void Meta(TextWriter w, string label, string value, string testId) =>
        w.Write($"<div><dt>{Escape(label)}</dt><dd data-testid=\"{testId}\">{Escape(value)}</dd></div>");

    private static void Card(TextWriter w, string testId, string label, int value, string? outcome)
    {
        var cls = outcome is null ? "card" : $"card o-{outcome}";
        var filter = outcome is null ? "" : $" data-filter-outcome=\"{outcome}\" role=\"button\" tabindex=\"0\" title=\"Show the {outcome} decisions\"";
        w.Write($"<div class=\"{cls}\" data-testid=\"{testId}\" data-value=\"{value}\"{filter}><b class=\"num\">{Count(value)}</b><span class=\"label\">{Escape(label)}</span></div>");
    }

    private static string Range(DateTimeOffset from, DateTimeOffset to) =>
        $"{Time(from, "yyyy-MM-dd HH:mm")} – {Time(to, from.UtcDateTime.Date == to.UtcDateTime.Date ? "HH:mm" : "yyyy-MM-dd HH:mm")}";

    private static string Duration(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{t.TotalDays:0.#} day{(t.TotalDays == 1 ? "" : "s")}"
        : t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h"
        : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min"
        : $"{t.TotalSeconds:0.#} s";
}
