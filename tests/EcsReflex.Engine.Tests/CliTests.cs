using System.Text;
using System.Text.Json;
using EcsReflex.Cli;

namespace EcsReflex.Engine.Tests;

public class CliTests
{
    private static Task<(int Code, string Out, string Err, string Raw)> Run(params string[] args) => CliRun.RunAsync(args);

    private static string Policy => Repository.Path("reflex.policy.json");
    private static string Snapshot => Repository.Path("events", "cluster.snapshot.json");

    private static string TempFile(string content, string ext = ".json")
    {
        var p = Path.Combine(Path.GetTempPath(), $"reflex-cli-{Guid.NewGuid():N}{ext}");
        File.WriteAllText(p, content);
        return p;
    }

    [Fact]
    public async Task Validate_ValidPolicy_Exits0()
    {
        var (code, stdout, _, _) = await Run("validate", "--policy", Policy);
        Assert.Equal(0, code);
        Assert.Contains("valid", stdout);
    }

    [Fact]
    public async Task Validate_InvalidPolicy_Exits2_ListingEveryProblemWithItsPath()
    {
        var p = TempFile("""{"clusters":[{"cluster":"prod","limits":{"maxRelaunchesPerMinute":0},"reschedule":[{"name":"r","match":{}}]}]}""");
        var (code, _, stderr, _) = await Run("validate", "--policy", p);
        Assert.Equal(2, code);
        Assert.Contains("clusters[0].limits.maxRelaunchesPerMinute:", stderr);
        Assert.Contains("clusters[0].reschedule[0].match:", stderr);
        Assert.Contains("2 problems", stderr);
    }

    [Fact]
    public async Task Validate_MissingPolicyFile_Exits2()
    {
        var (code, _, stderr, _) = await Run("validate", "--policy", "/nonexistent/reflex.policy.json");
        Assert.Equal(2, code);
        Assert.Contains("cannot read the policy", stderr);
    }

    [Fact]
    public async Task Replay_Jsonl_WritesOneObjectPerEventOrTimer_WithThePinnedFields()
    {
        var file = Repository.Path("events", "ecs-task-stopped-essential-exit-1.json");
        var (code, _, stderr, raw) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", file);
        Assert.Equal(0, code);
        var lines = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The stop (deferred by the back-off), its timer (acted), then the RUNNING event the embedded
        // cluster emits for the relaunched task.
        Assert.Equal(3, lines.Length);
        using (var emitted = JsonDocument.Parse(lines[2]))
        {
            Assert.Equal(Replay.ReplayEngine.EmittedInput, emitted.RootElement.GetProperty("input").GetString());
            Assert.Equal("ECS Task State Change", emitted.RootElement.GetProperty("detailType").GetString());
            Assert.Equal("ignored", emitted.RootElement.GetProperty("outcome").GetString());
        }
        using var deferred = JsonDocument.Parse(lines[0]);
        using var acted = JsonDocument.Parse(lines[1]);
        foreach (var field in new[] { "input", "eventId", "time", "detailType", "handler", "outcome", "reason", "actions" })
        {
            Assert.True(deferred.RootElement.TryGetProperty(field, out _), $"missing {field}");
            Assert.True(acted.RootElement.TryGetProperty(field, out _), $"missing {field}");
        }
        Assert.Equal("deferred", deferred.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("task-rescheduler", deferred.RootElement.GetProperty("handler").GetString());
        Assert.Equal("ECS Task State Change", deferred.RootElement.GetProperty("detailType").GetString());
        Assert.Equal("acted", acted.RootElement.GetProperty("outcome").GetString());
        var action = acted.RootElement.GetProperty("actions")[0];
        Assert.Equal("ecs", action.GetProperty("service").GetString());
        Assert.Equal("RunTask", action.GetProperty("operation").GetString());
        var request = action.GetProperty("request");
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:cluster/prod", request.GetProperty("cluster").GetString());
        Assert.Equal(1, request.GetProperty("count").GetInt32());
        Assert.StartsWith("reflex/", request.GetProperty("startedBy").GetString());
        Assert.False(request.TryGetProperty("networkConfiguration", out _)); // nulls are not sent
        Assert.Contains("1 acted", stderr);
    }

    [Fact]
    public async Task Replay_Table_ShowsHeaderRowsAndSummary()
    {
        var file = Repository.Path("events", "ecs-task-stopped-user-initiated.json");
        var (code, stdout, _, _) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, file);
        Assert.Equal(0, code);
        var lines = stdout.Split('\n');
        Assert.StartsWith("TIME", lines[0]);
        Assert.Contains("ignored", lines[1]);
        Assert.Contains("stopped by a user", lines[1]);
        Assert.Contains("1 events, 0 timers: 0 acted, 1 ignored", stdout);
    }

    [Fact]
    public async Task Replay_MissingPath_Exits2()
    {
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "/nonexistent/events");
        Assert.Equal(2, code);
        Assert.Contains("no such file or folder", stderr);
    }

    [Fact]
    public async Task Replay_InvalidSnapshot_Exits2_ListingTheProblems()
    {
        var s = TempFile("""{"services":[{"desiredCount":"many"}],"tasks":{}}""");
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", s, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.Equal(2, code);
        Assert.Contains("services[0].serviceArn", stderr);
        Assert.Contains("tasks: expected an array", stderr);
    }

    [Fact]
    public async Task Replay_InvalidPolicy_Exits2()
    {
        var p = TempFile("""{"clusters":[{"cluster":"prod","surprise":true}]}""");
        var (code, _, stderr, _) = await Run("replay", "--policy", p, Repository.Path("events", "ecs-task-running-worker.json"));
        Assert.Equal(2, code);
        Assert.Contains("clusters[0].surprise", stderr);
    }

    [Fact]
    public async Task Replay_NotAnEventFile_IsARejectedRecord_Exit0()
    {
        var f = TempFile("this is not json");
        var (code, _, _, raw) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", f);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(raw.Trim());
        Assert.Equal("rejected", doc.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("invalid-json", doc.RootElement.GetProperty("rejection").GetString());
    }

    [Fact]
    public async Task Replay_UnknownFormat_IsAUsageError()
    {
        var (code, _, _, _) = await Run("replay", "--format", "xml");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task Replay_AllSampleEvents_ProcessesEveryInputAndReportsUncoveredEventsAsIgnored()
    {
        var (code, _, stderr, raw) = await Run("replay", "--policy", Policy, "--snapshot", Snapshot, "--format", "jsonl", Repository.Path("events"));
        Assert.Equal(0, code);
        var records = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var inputs = records.Where(r => r.GetProperty("trigger").GetString() == "event").Select(r => r.GetProperty("input").GetString()!)
            .Where(i => i != Replay.ReplayEngine.EmittedInput).ToList();
        var expected = Directory.EnumerateFiles(Repository.Path("events"), "*.json", SearchOption.AllDirectories).Count(f => !f.EndsWith(".snapshot.json"))
            + Directory.EnumerateFiles(Repository.Path("events"), "*.jsonl", SearchOption.AllDirectories).Sum(f => File.ReadLines(f).Count(l => l.Trim().Length > 0));
        Assert.Equal(expected, inputs.Count);
        Assert.DoesNotContain(records, r => r.GetProperty("outcome").GetString() is "failed" or "rejected");
        // time order across files
        var times = records.Select(r => DateTimeOffset.Parse(r.GetProperty("time").GetString()!)).ToList();
        Assert.Equal(times.Order(), times);
    }
}
