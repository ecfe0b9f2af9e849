using System.Text;
using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// One golden file per handler (tests/EcsReflex.Engine.Tests/Golden/HANDLER.txt) pins every reaction's outcome,
/// code and exact reason sentence, in replay order, for the replay of events/ and of each scenario alone (the
/// repository's policy and snapshot, a fresh embedded cluster each, as <c>reflex replay</c> runs them). The other
/// tests assert codes and values; these files are where the sentences are held. To accept a change of sentence:
/// <c>REFLEX_UPDATE_GOLDEN=1 dotnet test tests/EcsReflex.Engine.Tests --filter Golden</c>, then read the diff.
/// </summary>
public sealed class GoldenReasonTests
{
    public const string UpdateVariable = "REFLEX_UPDATE_GOLDEN";
    private const string Regenerate = $"{UpdateVariable}=1 dotnet test tests/EcsReflex.Engine.Tests --filter Golden";

    /// <summary>How the records no handler took (rejected inputs, events no handler covers, a stalled replay) are grouped; the replays have none today.</summary>
    public const string NoHandler = "no-handler";

    /// <summary>
    /// The handlers with a golden file; engine-level reactions (duplicates) carry the handler of their event, and the
    /// replay's own records (where its periodic work stopped) go to <see cref="NoHandler"/>.
    /// </summary>
    private static readonly string[] Handlers = ["task-rescheduler", "placement-guard", "service-scaler", "reconciler", NoHandler];

    public static TheoryData<string> Files => new(Handlers);

    private static readonly Lazy<Task<IReadOnlyList<(string Handler, string Line)>>> Replayed = new(ReplayAllAsync);

    private static string GoldenPath(string name) => Repository.Path("tests", "EcsReflex.Engine.Tests", "Golden", name + ".txt");

    /// <summary>What each replay is named by in the golden lines: <c>events/</c>, then each scenario file.</summary>
    private static IEnumerable<(string Name, string Path)> Replays() =>
        new[] { ("events/", Repository.Events) }.Concat(
            Directory.EnumerateFiles(Repository.Path("events", "scenarios"), "*.jsonl").Order(StringComparer.Ordinal)
                .Select(f => ("scenarios/" + Path.GetFileName(f), f)));

    private static async Task<IReadOnlyList<(string Handler, string Line)>> ReplayAllAsync()
    {
        var lines = new List<(string, string)>();
        foreach (var (name, path) in Replays())
        {
            var (records, _) = await ReplayHarness.RunAsync([path], label: ReplayHarness.FromRoot);
            lines.AddRange(records.Select(r => (r.Handler ?? NoHandler, Line(name, r))));
        }
        return lines;
    }

    /// <summary>One reaction: the replay, where it came from, when, then what is pinned (outcome, code, sentence).</summary>
    public static string Line(string replay, ReplayRecord r) =>
        string.Join(" | ", replay, r.Input, r.Trigger, r.EventId ?? "-", r.Time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "-",
            r.Outcome.Name(), r.Code, r.Reason.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Golden_ReasonSentencesOfTheReplays_AreTheCommittedOnes(string handler)
    {
        var replayed = await Replayed.Value;
        var actual = replayed.Where(l => l.Handler == handler).Select(l => l.Line).ToList();
        var path = GoldenPath(handler);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, string.Concat(actual.Select(l => l + "\n")));
            return;
        }
        Assert.True(File.Exists(path), $"no golden file {path}; write it with: {Regenerate}");
        var expected = File.ReadAllLines(path).ToList();
        var diff = Diff(expected, actual);
        Assert.True(diff.Count == 0,
            $"the reactions of the {handler} replays differ from {Path.GetRelativePath(Repository.Root, path)} " +
            $"(- golden, + now; {expected.Count} lines golden, {actual.Count} now):\n{string.Join("\n", diff.Take(60))}" +
            (diff.Count > 60 ? $"\n… and {diff.Count - 60} more" : "") +
            $"\nIf the change of sentence is intended, regenerate with: {Regenerate}");
    }

    [Fact]
    public async Task Golden_EveryHandlerOfTheReplays_HasItsFile()
    {
        var handlers = (await Replayed.Value).Select(l => l.Handler).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(Handlers.Order(StringComparer.Ordinal).SequenceEqual(handlers),
            $"the replays' records go to {string.Join(", ", handlers)}; the golden files are {string.Join(", ", Handlers)}: " +
            $"add the new one to {nameof(Handlers)} and write its file with: {Regenerate}");
    }

    [Fact]
    public void Golden_TheDiff_NamesTheLinesThatDiffer()
    {
        var diff = Diff(["a", "b", "c", "d"], ["a", "c", "x", "d"]);
        Assert.Equal(["-2: b", "+3: x"], diff);
        Assert.Empty(Diff(["a"], ["a"]));
    }

    /// <summary>A line diff (longest common subsequence): <c>-N: line</c> only in the golden file (its line N), <c>+N: line</c> only now.</summary>
    public static List<string> Diff(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        int n = expected.Count, m = actual.Count;
        var lcs = new int[n + 1, m + 1];
        for (var i = n - 1; i >= 0; i--)
            for (var j = m - 1; j >= 0; j--)
                lcs[i, j] = expected[i] == actual[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var diff = new List<string>();
        int a = 0, b = 0;
        while (a < n || b < m)
        {
            if (a < n && b < m && expected[a] == actual[b]) { a++; b++; }
            else if (b < m && (a == n || lcs[a, b + 1] >= lcs[a + 1, b])) diff.Add($"+{b + 1}: {actual[b++]}");
            else diff.Add($"-{a + 1}: {expected[a++]}");
        }
        return diff;
    }
}
