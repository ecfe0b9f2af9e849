using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>The same loop and handlers on the JIT (<c>dotnet bootstrap.dll</c>, built beside these tests): no publish needed.</summary>
public sealed class JitBootstrapTests
{
    private static BootstrapCommand Jit => BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"));

    [Fact]
    public async Task CrashLoopScenario_OnTheJit_DecidesAsTheInProcessReplay()
    {
        var scenario = Repo.Path("events", "scenarios", "crash-loop.jsonl");
        var expected = await Replays.InProcessAsync(scenario);
        var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, scenario);
        await using (replay)
        {
            Replays.AssertSame(expected, actual);
            Assert.Contains(actual, l => l.Contains("\"operation\":\"GiveUp\"", StringComparison.Ordinal));
            Assert.True(replay.Functions["relaunch-due"].InvokeDurations.Count > 0);
        }
    }

    [Fact]
    public async Task Cli_ReplayLambda_PrintsTheInProcessReplaysRecords()
    {
        var scenario = Repo.Path("events", "scenarios", "spot-interruption.jsonl");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var raw = new MemoryStream();

        var exit = await Cli.CliApp.RunAsync(["replay", "--lambda", "--bootstrap", Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"),
            "--policy", Repo.Policy, "--snapshot", Repo.Snapshot, "--format", "jsonl", scenario], stdout, stderr, raw);

        Assert.True(exit == 0, stderr.ToString());
        var lines = System.Text.Encoding.UTF8.GetString(raw.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = await Replays.InProcessAsync(scenario);
        var label = Path.GetRelativePath(Directory.GetCurrentDirectory(), scenario);
        Replays.AssertSame(expected.Select(l => l.Replace(Path.GetRelativePath(Repo.Root, scenario), label, StringComparison.Ordinal)).ToList(), lines);
        Assert.Contains("lambda task-rescheduler:", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_HandlerWithoutLambda_IsAUsageError()
    {
        var stderr = new StringWriter();

        var exit = await Cli.CliApp.RunAsync(["replay", "--handler", "task-rescheduler"], new StringWriter(), stderr, new MemoryStream());

        Assert.Equal(2, exit);
        Assert.Contains("--handler and --bootstrap go with --lambda", stderr.ToString(), StringComparison.Ordinal);
    }
}
