using System.CommandLine;
using System.Globalization;
using EcsReflex.Engine.Replay;
using EcsReflex.Report;

namespace EcsReflex.Cli;

/// <summary>
/// <c>reflex report [--policy FILE] [--snapshot FILE] [--from TIME] [--to TIME] [-o FILE] [--details-budget MIB] [PATH...]</c>:
/// runs the same replay as <c>reflex replay</c> and writes what it decided as one self-contained HTML page.
/// </summary>
public static class ReportCommand
{
    public const string DefaultOutput = "reflex-report.html";

    public sealed record Options(string Policy, string? Snapshot, string? From, string? To, string Output, string[] Paths, double? DetailsBudgetMiB = null);

    public static Command Create(Option<string> policyOption, Option<string?> snapshotOption, Argument<string[]> pathsArgument,
        TextWriter stdout, TextWriter stderr, ITerminal terminal)
    {
        var from = new Option<string?>("--from") { Description = "Show decisions from this event time on (ISO 8601, e.g. 2026-03-03T02:00:00Z; no offset means UTC). Earlier events are still replayed, so the state is right, but not shown." };
        var to = new Option<string?>("--to") { Description = "Show decisions before this event time (excluded). Later events are not read." };
        var output = new Option<string>("--output", "-o") { Description = "The HTML file to write.", DefaultValueFactory = _ => DefaultOutput };
        var detailsBudget = new Option<double?>("--details-budget")
        {
            Description = "MiB of compressed decision details (reasons, ids, exact requests) the page may hold; default 4.5, which keeps a page of two million decisions under 10 MB. Past it, decisions are listed without their details (ignored ones first). 0 keeps none.",
        };

        var report = new Command("report", "Replay events on the embedded cluster and write what EcsReflex decided as one self-contained HTML page.");
        report.Options.Add(policyOption);
        report.Options.Add(snapshotOption);
        report.Options.Add(from);
        report.Options.Add(to);
        report.Options.Add(output);
        report.Options.Add(detailsBudget);
        report.Arguments.Add(pathsArgument);
        report.SetAction((parse, ct) => RunAsync(new Options(
            parse.GetValue(policyOption)!, parse.GetValue(snapshotOption), parse.GetValue(from), parse.GetValue(to),
            parse.GetValue(output)!, parse.GetValue(pathsArgument) ?? [], parse.GetValue(detailsBudget)), stdout, stderr, terminal, ct));
        return report;
    }

    /// <summary>Parses a <c>--from</c>/<c>--to</c> value: ISO 8601, a time without offset is UTC.</summary>
    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    public static async Task<int> RunAsync(Options o, TextWriter stdout, TextWriter stderr, ITerminal terminal, CancellationToken ct)
    {
        DateTimeOffset? from = null, to = null;
        var bad = false;
        foreach (var (flag, value) in new[] { ("--from", o.From), ("--to", o.To) })
        {
            if (value is null) continue;
            if (!TryParseTime(value, out var t))
            {
                stderr.WriteLine($"{flag}: expected an ISO 8601 time such as 2026-03-03T02:00:00Z, got \"{value}\"");
                bad = true;
            }
            else if (flag == "--from") from = t;
            else to = t;
        }
        if (from is { } f && to is { } u && u <= f)
        {
            stderr.WriteLine($"--to ({u:yyyy-MM-ddTHH:mm:ssZ}) must be after --from ({f:yyyy-MM-ddTHH:mm:ssZ})");
            bad = true;
        }
        // Checked before replaying: a long replay must not end in "cannot write the report".
        if (CliApp.OutputProblem("-o", o.Output, "the report") is { } outputProblem)
        {
            stderr.WriteLine(outputProblem);
            bad = true;
        }
        if (o.DetailsBudgetMiB is { } budget && (budget < 0 || double.IsNaN(budget) || budget > 1024))
        {
            stderr.WriteLine($"--details-budget: expected MiB between 0 and 1024, got {budget.ToString(CultureInfo.InvariantCulture)}");
            bad = true;
        }
        // The page's charts need uPlot, embedded at build time from node_modules: say so before replaying.
        if (!HtmlReportWriter.HasCharts)
        {
            stderr.WriteLine(HtmlReportWriter.MissingChartsMessage);
            bad = true;
        }
        if (bad) return CliApp.UsageError;

        var plan = ReplaySetup.TryPrepare(o.Policy, o.Snapshot, o.Paths, stderr);
        if (plan is null) return CliApp.UsageError;

        var window = new ReportWindow(from, to);
        var builder = new ReportBuilder(plan.Policy, plan.Snapshot, window, o.Policy, plan.Labels,
            detailBudget: o.DetailsBudgetMiB is { } mib ? (long)(mib * 1024 * 1024) : null);
        var summary = new ReplaySummary();
        var progress = ReplayProgress.Create(terminal, stderr, plan.TotalBytes);
        var items = plan.Items(progress.OnBytesRead);
        // The replay is causal: nothing after --to can change a decision before it, so reading stops there.
        if (to is not null) items = items.TakeWhile(i => !window.IsAfter(i.SortTime));
        try
        {
            await foreach (var r in plan.NewEngine().RunAsync(items, ct))
            {
                builder.Add(r);
                if (window.Contains(r.Time)) summary.Add(r);
                progress.OnRecord(r.Trigger == "timer");
            }
        }
        catch (IOException ex)
        {
            progress.Finish();
            stderr.WriteLine($"cannot read an input: {ex.Message}");
            return CliApp.UsageError;
        }
        // The last frame: every record read at 100%, the counts the summary line then prints (for the whole replay;
        // a window prints its own), while the page is written.
        progress.Finish("writing the page");

        var model = builder.Build();
        try
        {
            using var file = new FileStream(o.Output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            HtmlReportWriter.Write(model, file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            progress.Finish();
            stderr.WriteLine($"{o.Output}: cannot write the report: {ex.Message}");
            return CliApp.UsageError;
        }
        progress.Finish();
        stdout.WriteLine($"{o.Output}: {summary}");
        return CliApp.Ok;
    }
}
