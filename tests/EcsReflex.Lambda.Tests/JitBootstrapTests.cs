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
        var scenario = Repository.Path("events", "scenarios", "crash-loop.jsonl");
        var expected = await Replays.InProcessAsync(scenario);
        var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, scenario);
        await using (replay)
        {
            Replays.AssertSame(expected, actual);
            Assert.Contains(actual, l => l.Contains("\"operation\":\"GiveUp\"", StringComparison.Ordinal));
            Assert.True(replay.Functions["relaunch-due"].InvokeDurations.Count > 0);
        }
    }

    [Theory]
    [InlineData(5, true)]   // the deadline passes before the replacement runs: the follow-up stops the original
    [InlineData(20, false)] // the replacement runs first and stops the original: the follow-up finds nothing to do
    public async Task DrainFollowUps_OnTheJit_AreQueuedAndDecidedAsTheInProcessReplayDecidesThem(int stopAfterSeconds, bool followUpStops)
    {
        var policy = Replays.PolicyWithDrainDeadline(stopAfterSeconds);
        try
        {
            var c = new ReplayCase(Repository.Path("events", "scenarios", "drain-make-before-break.jsonl")) { Policy = policy };
            var expected = await Replays.InProcessAsync(c);
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, c);
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                var followUps = actual.Where(l => l.Contains("\"trigger\":\"timer\"", StringComparison.Ordinal)
                                                  && l.Contains("\"detailType\":\"ECS Container Instance State Change\"", StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(followUps);
                Assert.Equal(followUpStops, followUps.Any(l => l.Contains("\"operation\":\"StopTask\"", StringComparison.Ordinal)));
                Assert.Contains(actual, l => l.StartsWith("{\"input\":\"embedded-cluster\"", StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(policy)!, recursive: true);
        }
    }

    [Fact]
    public async Task ReplayThatCannotFinish_OnTheJit_StopsByTheSameRuleAndIgnoresUnhandledEventsTheSameWay()
    {
        var scenario = Replays.StallScenario();
        try
        {
            var expected = await Replays.InProcessAsync(scenario);
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, scenario);
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                Assert.StartsWith("{\"input\":\"replay\"", actual[^1], StringComparison.Ordinal);
                Assert.Contains("the replay stops here", actual[^1], StringComparison.Ordinal);
                Assert.Contains("no handler for ECS Cluster State Change", actual[0], StringComparison.Ordinal);
                Assert.Contains(actual, l => l.Contains("ECS could not place it (RESOURCE:CPU", StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(scenario)!, recursive: true);
        }
    }

    [Fact]
    public async Task EverySampleEvent_OnTheJitInDryRun_DecidesAsTheInProcessReplayInDryRun()
    {
        var c = new ReplayCase(Repository.Events) { DryRun = true };
        var expected = await Replays.InProcessAsync(c);
        var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, c);
        await using (replay)
        {
            Replays.AssertSame(expected, actual);
            // Nothing was sent, so the embedded cluster started and stopped nothing and emitted nothing.
            Assert.DoesNotContain(actual, l => l.StartsWith("{\"input\":\"embedded-cluster\"", StringComparison.Ordinal));
            Assert.DoesNotContain(actual, l => l.Contains("\"status\":\"done\"", StringComparison.Ordinal));
            Assert.Contains(actual, l => l.Contains("\"status\":\"dry-run\"", StringComparison.Ordinal));
            Assert.Equal(0, replay.Local.Cluster.TasksStarted);
        }
    }

    [Fact]
    public async Task ReplayWithAForcedHandler_SendsTheInputsThere_ButTheClustersOwnEventsToTheirHandler()
    {
        var scenario = Repository.Path("events", "scenarios", "drain-make-before-break.jsonl");
        await using var replay = new LambdaReplay(new LambdaReplayOptions
        {
            Bootstrap = Jit, PolicyPath = Repository.Policy, Snapshot = Replays.Snapshot, Handler = "placement-guard",
        });

        var records = new List<Engine.Replay.ReplayRecord>();
        await foreach (var r in replay.RunAsync(RawInputs.Read(scenario, "drain.jsonl"))) records.Add(r);

        // The worker's RUNNING event (not started by EcsReflex) belongs to the task rescheduler: forced to the guard, it is misrouted.
        Assert.Contains(records, r => r.Input == "drain.jsonl:3" && r.RejectionCode == "misrouted");
        var stopped = Assert.Single(records, r => r.Input == Engine.Replay.ReplayEngine.EmittedInput && r.Summary!.Contains("STOPPED", StringComparison.Ordinal));
        Assert.Equal("task-rescheduler", stopped.Handler);
        Assert.Contains("task-rescheduler", replay.Functions.Keys);
    }

    [Fact]
    public async Task Cli_ReplayLambda_PrintsTheInProcessReplaysRecords()
    {
        var scenario = Repository.Path("events", "scenarios", "spot-interruption.jsonl");
        var (exit, _, stderr, raw) = await CliRun.RunAsync(["replay", "--lambda", "--bootstrap", Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"),
            "--policy", Repository.Policy, "--snapshot", Repository.Snapshot, "--format", "jsonl", scenario]);

        Assert.True(exit == 0, stderr);
        var lines = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = await Replays.InProcessAsync(scenario);
        var label = Path.GetRelativePath(Directory.GetCurrentDirectory(), scenario);
        Replays.AssertSame(expected.Select(l => l.Replace(Path.GetRelativePath(Repository.Root, scenario), label, StringComparison.Ordinal)).ToList(), lines);
        Assert.Contains("lambda task-rescheduler:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_HandlerWithoutLambda_IsAUsageError()
    {
        var (exit, _, stderr, _) = await CliRun.RunAsync("replay", "--handler", "task-rescheduler");

        Assert.Equal(2, exit);
        Assert.Contains("--handler and --bootstrap go with --lambda", stderr, StringComparison.Ordinal);
    }
}
