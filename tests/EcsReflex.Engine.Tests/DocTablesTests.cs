using System.Text.RegularExpressions;
using EcsReflex.Cli;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// The replay output the docs show is what the replay prints. A block of the docs preceded by
/// <c>&lt;!-- replay-check: PATH... --&gt;</c> is compared with the table of <c>reflex replay PATH...</c> (no PATH: the
/// README's first command, all of <c>events/</c>), with the repository's policy and snapshot:
/// <list type="bullet">
/// <item>a code block: each of its lines is a line of the table, in the same order;</item>
/// <item>a Markdown table with the columns <c>time</c>, <c>event</c>, <c>outcome</c>, <c>action</c>: each row is a row of
/// the table (the first one after the previous row's with that time and event) with that outcome and action; in a column
/// <c>reason says</c>, each <c>`quoted`</c> part is in the row's reason (the rest of the cell is commentary).</item>
/// </list>
/// </summary>
public partial class DocTablesTests
{
    private sealed record Row(string Line, string Time, string Event, string Outcome, string Action, string Reason);

    private static async Task<List<Row>> Replay(string[] paths)
    {
        var (code, stdout, _, _) = await CliRun.RunAsync(
            ["replay", "--policy", Repository.Path("reflex.policy.json"), "--snapshot", Repository.Path("events", "cluster.snapshot.json"),
             .. (paths.Length == 0 ? [Repository.Path("events")] : paths.Select(p => Repository.Path(p.Split('/')))) ]);
        Assert.Equal(0, code);
        // The table's columns: TIME 20, EVENT 34, HANDLER 16, OUTCOME 8, ACTION 40, then the reason (TableWriter).
        return stdout.Split('\n').Select(l => l.TrimEnd('\r')).TakeWhile(l => l.Length > 0)
            .Select(l => l.Length < 123 ? new Row(l, "", "", "", "", "") : new Row(l.TrimEnd(), l[..20].Trim(), l[21..55].TrimEnd(), l[73..81].Trim(), l[82..122].TrimEnd(), l[123..]))
            .ToList();
    }

    private static IEnumerable<string> Docs() =>
        Directory.GetFiles(Repository.Path("docs"), "*.md").Append(Repository.Path("README.md")).Order(StringComparer.Ordinal);

    [Fact]
    public async Task EveryCheckedBlockOfTheDocs_IsWhatTheReplayPrints()
    {
        var replays = new Dictionary<string, List<Row>>(StringComparer.Ordinal);
        var checkedBlocks = new List<string>();
        var problems = new List<string>();
        foreach (var doc in Docs())
        {
            var lines = File.ReadAllLines(doc);
            var name = Path.GetRelativePath(Repository.Root, doc);
            for (var i = 0; i < lines.Length; i++)
            {
                if (Marker().Match(lines[i]) is not { Success: true } m) continue;
                var args = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var key = string.Join(' ', args);
                if (!replays.TryGetValue(key, out var printed)) replays[key] = printed = await Replay(args);
                var start = i + 1;
                while (start < lines.Length && lines[start].Trim().Length == 0) start++;
                checkedBlocks.Add($"{name}:{i + 1}");
                var where = $"{name}:{i + 1} (reflex replay {(key.Length == 0 ? "events/" : key)})";
                if (start < lines.Length && lines[start].StartsWith("```", StringComparison.Ordinal))
                    CheckCodeBlock(lines, start + 1, printed, where, problems);
                else if (start < lines.Length && lines[start].StartsWith('|'))
                    CheckTable(lines, start, printed, where, problems);
                else
                    problems.Add($"{where}: the marker is followed by neither a code block nor a table");
            }
        }
        Assert.Contains(checkedBlocks, b => b.StartsWith("docs/scaler.md", StringComparison.Ordinal));
        Assert.Contains(checkedBlocks, b => b.StartsWith("docs/placement.md", StringComparison.Ordinal));
        Assert.True(problems.Count == 0, "the docs differ from what the replay prints:\n" + string.Join("\n", problems));
    }

    private static void CheckCodeBlock(string[] lines, int from, List<Row> printed, string where, List<string> problems)
    {
        var next = 0;
        for (var i = from; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
        {
            var want = lines[i].TrimEnd();
            if (want.Length == 0) continue;
            var found = printed.FindIndex(next, r => r.Line == want);
            if (found < 0)
            {
                problems.Add($"{where}, line {i + 1}: not printed (in this order):\n  doc:     {want}\n  printed: {Nearest(printed, want, next)}");
                return;
            }
            next = found + 1;
        }
    }

    private static void CheckTable(string[] lines, int from, List<Row> printed, string where, List<string> problems)
    {
        var header = Cells(lines[from]);
        int Col(string name) => header.FindIndex(h => string.Equals(h, name, StringComparison.Ordinal));
        var (time, ev, outcome, action, says) = (Col("time"), Col("event"), Col("outcome"), Col("action"), Col("reason says"));
        if (time < 0 || ev < 0 || outcome < 0 || action < 0)
        {
            problems.Add($"{where}: a checked table has the columns time, event, outcome and action (has {string.Join(", ", header)})");
            return;
        }
        var next = 0;
        for (var i = from + 2; i < lines.Length && lines[i].StartsWith('|'); i++)
        {
            var cells = Cells(lines[i]);
            var found = printed.FindIndex(next, r => r.Time == cells[time] && r.Event == cells[ev]);
            if (found < 0)
            {
                problems.Add($"{where}, line {i + 1}: no row at {cells[time]} for {cells[ev]} after the previous one");
                continue;
            }
            var r = printed[found];
            next = found + 1;
            if (r.Outcome != cells[outcome] || r.Action != cells[action])
                problems.Add($"{where}, line {i + 1}: the doc says {cells[outcome]} / {cells[action]}, the replay printed {r.Outcome} / {r.Action}:\n  {r.Line}");
            if (says >= 0)
                foreach (Match q in Quoted().Matches(cells[says]))
                    if (!r.Reason.Contains(q.Groups[1].Value, StringComparison.Ordinal))
                        problems.Add($"{where}, line {i + 1}: the reason does not say `{q.Groups[1].Value}`:\n  {r.Reason}");
        }
    }

    private static List<string> Cells(string row) => [.. row.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    private static string Nearest(List<Row> printed, string want, int from) =>
        printed.Skip(from).FirstOrDefault(r => r.Line.Length >= 40 && want.Length >= 40 && r.Line[..40] == want[..40])?.Line ?? "(no line with the same time and event)";

    [GeneratedRegex(@"^<!-- replay-check:([^>]*?)-->\s*$")]
    private static partial Regex Marker();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Quoted();
}
