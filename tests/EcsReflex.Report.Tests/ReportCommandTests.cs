using System.Text;
using System.Text.Json;
using EcsReflex.Cli;
using EcsReflex.Core.Decisions;

namespace EcsReflex.Report.Tests;

public class ReportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reflex-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err, string Raw)> Run(params string[] args) => CliRun.RunAsync(args);

    private string[] Args(string output, params string[] more) =>
        ["report", "--policy", Repository.Policy, "--snapshot", Repository.Snapshot, "-o", output, .. more];

    [Fact]
    public async Task Report_ShowsTheSameDecisionsAsReplay()
    {
        var output = Path.Combine(_dir, "r.html");
        var (code, stdout, stderr, _) = await Run(Args(output, Repository.Events));
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"{output}: ", stdout);

        var (replayCode, _, replayErr, raw) = await Run("replay", "--format", "jsonl", "--policy", Repository.Policy, "--snapshot", Repository.Snapshot, Repository.Events);
        Assert.True(replayCode == 0, replayErr);
        var lines = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        var rows = Synthetic.DecisionsOf(await File.ReadAllTextAsync(output));
        Assert.Equal(lines.Count, rows.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            Assert.Equal(lines[i].GetProperty("time").GetString(), rows[i].Time?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(lines[i].GetProperty("outcome").GetString(), rows[i].Outcome.Name());
            Assert.Equal(lines[i].GetProperty("reason").GetString(), rows[i].Reason);
            Assert.Equal(lines[i].GetProperty("code").GetString(), rows[i].Code);
            Assert.Equal(lines[i].GetProperty("handler").GetString(), rows[i].Handler);
            Assert.Equal(lines[i].GetProperty("actions").GetArrayLength(), rows[i].Actions.Count);
            // Request for request, the same JSON.
            for (var k = 0; k < rows[i].Actions.Count; k++)
                Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
                    System.Text.Json.Nodes.JsonNode.Parse(lines[i].GetProperty("actions")[k].GetProperty("request").GetRawText()),
                    System.Text.Json.Nodes.JsonNode.Parse(rows[i].Actions[k].RequestJson)));
        }
    }

    [Fact]
    public async Task Report_DetailsBudget_Zero_ListsEveryDecisionWithoutItsDetails_AndTheDefaultKeepsThemAll()
    {
        var none = Path.Combine(_dir, "none.html");
        var (code, _, stderr, _) = await Run(Args(none, "--details-budget", "0", Repository.Events));
        Assert.True(code == 0, stderr);
        var all = Path.Combine(_dir, "all.html");
        (code, _, stderr, _) = await Run(Args(all, Repository.Events));
        Assert.True(code == 0, stderr);

        var without = Synthetic.DecisionsOf(await File.ReadAllTextAsync(none));
        var with = Synthetic.DecisionsOf(await File.ReadAllTextAsync(all));
        Assert.Equal(with.Count, without.Count);
        Assert.All(without, r => Assert.False(r.HasDetails));
        Assert.All(with, r => Assert.True(r.HasDetails)); // the sample events are far under the default budget
        // Without details a row keeps what the table filters on.
        Assert.Equal(with.Select(r => (r.Outcome, r.Handler, r.Code, r.Service)), without.Select(r => (r.Outcome, r.Handler, r.Code, r.Service)));
        using var data = Synthetic.DataOf(await File.ReadAllTextAsync(none));
        Assert.Equal(with.Count, data.RootElement.GetProperty("decisions").GetProperty("withoutDetails").GetInt32());
        Assert.True(new FileInfo(none).Length < new FileInfo(all).Length);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("2000")]
    public async Task Report_WithABadDetailsBudget_ExitsTwoNamingTheFlag(string value)
    {
        var (code, _, stderr, _) = await Run(Args(Path.Combine(_dir, "x.html"), "--details-budget", value, Repository.Events));
        Assert.Equal(2, code);
        Assert.Contains("--details-budget", stderr);
    }

    [Fact]
    public async Task Report_FromTo_ShowsOnlyThatPeriod_ButReplaysWhatCameBefore()
    {
        var output = Path.Combine(_dir, "window.html");
        // The crash loop runs 02:14–02:51 on 2026-03-03; the window starts after its third relaunch.
        var (code, _, stderr, _) = await Run(Args(output, "--from", "2026-03-03T02:30:00Z", "--to", "2026-03-03T03:00:00Z", Repository.Scenario("crash-loop")));
        Assert.True(code == 0, stderr);
        var html = await File.ReadAllTextAsync(output);
        using var data = Synthetic.DataOf(html);
        var rows = Synthetic.DecisionsOf(html);
        Assert.All(rows, r => Assert.InRange(r.Time!.Value, DateTimeOffset.Parse("2026-03-03T02:30:00Z"), DateTimeOffset.Parse("2026-03-03T03:00:00Z")));
        // Attempts 4 and 5 and the give-up are inside; their attempt numbers prove the earlier failures were replayed.
        Assert.Contains(rows, r => r.Reason.Contains("attempt 4 of 5", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Reason.Contains("giving up", StringComparison.Ordinal));
        Assert.Equal(1, data.RootElement.GetProperty("summary").GetProperty("giveUps").GetInt32());
        Assert.Equal(2, data.RootElement.GetProperty("summary").GetProperty("relaunches").GetInt32());
        Assert.Equal("2026-03-03T02:30:00.000Z", data.RootElement.GetProperty("start").GetString());
    }

    [Theory]
    [InlineData("--from", "yesterday", "--from: expected an ISO 8601 time")]
    [InlineData("--to", "25:00", "--to: expected an ISO 8601 time")]
    public async Task Report_WithABadTime_ExitsTwoNamingTheFlag(string flag, string value, string message)
    {
        var (code, _, stderr, _) = await Run(Args(Path.Combine(_dir, "x.html"), flag, value, Repository.Events));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.html")));
    }

    [Fact]
    public async Task Report_WithToBeforeFrom_ExitsTwo()
    {
        var (code, _, stderr, _) = await Run(Args(Path.Combine(_dir, "x.html"), "--from", "2026-03-03T03:00:00Z", "--to", "2026-03-03T02:00:00Z"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--to (2026-03-03T02:00:00Z) must be after --from (2026-03-03T03:00:00Z)", stderr);
    }

    [Fact]
    public async Task Report_WithAMissingInput_ExitsTwo()
    {
        var (code, _, stderr, _) = await Run(Args(Path.Combine(_dir, "x.html"), Path.Combine(_dir, "nope.jsonl")));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("nope.jsonl: no such file or folder", stderr);
    }

    [Fact]
    public async Task Report_IntoAFolderThatDoesNotExist_ExitsTwo()
    {
        var (code, _, stderr, _) = await Run(Args(Path.Combine(_dir, "missing", "r.html"), Repository.Scenario("duplicate")));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("cannot write the report", stderr);
    }

    [Fact]
    public async Task Report_ListsRejectedInputsWithFileAndLine()
    {
        var input = Path.Combine(_dir, "mixed.jsonl");
        var good = (await File.ReadAllLinesAsync(Repository.Scenario("spot-interruption")))[0];
        await File.WriteAllLinesAsync(input, [good, "{ not json", "{\"version\":\"0\"}"]);
        var output = Path.Combine(_dir, "mixed.html");
        var (code, _, stderr, _) = await Run(Args(output, input));
        Assert.True(code == 0, stderr);
        var html = await File.ReadAllTextAsync(output);
        using var data = Synthetic.DataOf(html);
        Assert.Equal(2, data.RootElement.GetProperty("summary").GetProperty("rejectedInputs").GetInt32());
        Assert.Equal(2, html.Split("data-testid=\"rejected-row\"").Length - 1);
        Assert.Contains("mixed.jsonl</td><td class=\"num\">2</td>", html);
        Assert.Contains("mixed.jsonl</td><td class=\"num\">3</td>", html);
    }

    [Theory]
    [InlineData("2026-03-03T02:00:00Z", "2026-03-03T02:00:00+00:00")]
    [InlineData("2026-03-03T02:00:00.250Z", "2026-03-03T02:00:00.2500000+00:00")]
    [InlineData("2026-03-03T04:00:00+02:00", "2026-03-03T02:00:00+00:00")]
    [InlineData("2026-03-03T02:00", "2026-03-03T02:00:00+00:00")] // no offset: UTC
    [InlineData("2026-03-03", "2026-03-03T00:00:00+00:00")]
    public void TryParseTime_ReadsIso8601AsUtc(string text, string expected)
    {
        Assert.True(ReportCommand.TryParseTime(text, out var t));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), t);
        Assert.Equal(TimeSpan.Zero, t.Offset);
    }
}
