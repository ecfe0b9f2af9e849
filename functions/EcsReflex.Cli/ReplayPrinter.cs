using EcsReflex.Engine.Replay;

namespace EcsReflex.Cli;

/// <summary>
/// Prints replay records in the chosen format, for every way of replaying (embedded, --aws, --lambda):
/// <c>table</c> rows then a summary line on standard output, or <c>jsonl</c> on the raw standard output
/// with the summary on standard error. Progress, when given, is drawn below the rows.
/// </summary>
internal static class ReplayPrinter
{
    public static async Task<ReplaySummary> PrintAsync(IAsyncEnumerable<ReplayRecord> records, string format,
        TextWriter stdout, TextWriter stderr, Stream rawStdout, CancellationToken ct,
        ReplayProgress? progress = null, bool sharesTerminal = false, Action<ReplayRecord>? afterRow = null)
    {
        var summary = new ReplaySummary();
        void Show(Action write, Action flush)
        {
            if (progress is not null && sharesTerminal) progress.Around(() => { write(); flush(); });
            else write();
        }
        try
        {
            if (format == "jsonl")
            {
                using var w = new JsonLinesWriter(rawStdout);
                await foreach (var r in records.WithCancellation(ct))
                {
                    summary.Add(r);
                    Show(() => w.Write(r), rawStdout.Flush);
                    progress?.OnRecord(r.Trigger == "timer");
                }
                rawStdout.Flush();
                progress?.Finish();
                stderr.WriteLine(summary.ToString());
            }
            else
            {
                var table = new TableWriter(stdout);
                await foreach (var r in records.WithCancellation(ct))
                {
                    summary.Add(r);
                    Show(() => { table.Write(r); afterRow?.Invoke(r); }, stdout.Flush);
                    progress?.OnRecord(r.Trigger == "timer");
                }
                progress?.Finish();
                stdout.WriteLine();
                stdout.WriteLine(summary.ToString());
            }
        }
        finally
        {
            progress?.Finish();
        }
        return summary;
    }
}
