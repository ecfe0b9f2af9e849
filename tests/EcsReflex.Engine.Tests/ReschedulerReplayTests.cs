using System.Text.Json.Nodes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Engine.Tests;

public class ReschedulerReplayTests
{
    private static List<RunTaskRequest> RunTasks(IEnumerable<Replay.ReplayRecord> records) =>
        records.SelectMany(r => r.Actions).Where(a => a.Action.Operation == "RunTask").Select(a => (RunTaskRequest)a.Action.Request).ToList();

    [Fact]
    public async Task CrashLoop_RelaunchesUpToMaxAttempts_ThenGivesUp()
    {
        var (records, engine) = await ReplayHarness.RunScenarioAsync("crash-loop.jsonl");
        var runs = RunTasks(records);
        const string lineage = "1c468749f5b8473c6ce4eb03ddb636be";
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }.Select(n => $"reflex/{lineage}/{n}"), runs.Select(r => r.StartedBy));
        var giveUp = Assert.Single(records.SelectMany(r => r.Actions), a => a.Action.Operation == "GiveUp");
        Assert.Equal(lineage, ((GiveUpRequest)giveUp.Action.Request).Lineage);
        Assert.True(engine.Store.Lineages.Single(l => l.Lineage == lineage).GivenUp);
        // Each relaunch waited its back-off: 10, 20, 40, 80, 160 s after its stop.
        var timers = records.Where(r => r.Trigger == "timer" && r.Outcome == Outcome.Acted).ToList();
        var deferrals = records.Where(r => r.Trigger == "event" && r.Outcome == Outcome.Deferred).ToList();
        Assert.Equal(5, timers.Count);
        Assert.Equal(deferrals.Select(d => d.DueAt), timers.Select(t => t.Time));
        var stops = File.ReadLines(Repository.Path("events", "scenarios", "crash-loop.jsonl"))
            .Select(l => DateTimeOffset.Parse(JsonNode.Parse(l)!["detail"]!["stoppedAt"]!.GetValue<string>())).ToList();
        Assert.Equal(new[] { 10.0, 20, 40, 80, 160 }, deferrals.Zip(stops, (d, s) => (d.DueAt!.Value - s).TotalSeconds));
        Assert.Equal(5, engine.Cluster.TasksStarted);
    }

    /// <summary>
    /// A replay that owns its store keeps no audit trail (its records are the trail); given a store, a replay audits
    /// every outcome into it, with the exact request of every action, as the Lambda host does.
    /// </summary>
    [Fact]
    public async Task Audit_IsKeptInAGivenStore_AndSkippedInTheReplaysOwn()
    {
        var file = Repository.Path("events", "scenarios", "crash-loop.jsonl");
        async Task<(List<Replay.ReplayRecord>, Replay.ReplayEngine)> Run(Engine.State.InMemoryStateStore? store)
        {
            var engine = new Replay.ReplayEngine(ReplayHarness.Policy(), ReplayHarness.Cluster(), store);
            return (await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs([file])), engine);
        }

        var (own, ownEngine) = await Run(null);
        Assert.Empty(ownEngine.Store.Audit);

        var given = new Engine.State.InMemoryStateStore();
        var (audited, _) = await Run(given);
        Assert.Equal(own.Select(r => (r.Outcome, r.Reason)), audited.Select(r => (r.Outcome, r.Reason)));
        var runTasks = audited.SelectMany(r => r.Actions).Where(a => a.Action.Operation == "RunTask").ToList();
        var auditedRuns = given.Audit.Where(a => a.Operation == "RunTask" && a.Outcome == "done").ToList();
        Assert.Equal(runTasks.Count, auditedRuns.Count);
        Assert.Equal(runTasks.Select(a => ActionJson.ToJson(a.Action.Request)), auditedRuns.Select(a => a.RequestJson));
        // Decisions without actions are audited too (the deferrals and the give-up's reason).
        Assert.True(given.Audit.Count > auditedRuns.Count);
    }

    /// <summary>
    /// With a lifetime, a task the embedded cluster started finishes its work: STOPPED, EssentialContainerExited, its
    /// container with exit code 0, which the rescheduler leaves alone. Without one (the default) it keeps running.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StartedTaskLifetime_EndsRelaunchedTasksWithExitZero_WhichAreNotRelaunched(bool withLifetime)
    {
        var snapshot = Cluster.SnapshotReader.Parse(File.ReadAllBytes(Repository.Path("events", "cluster.snapshot.json")));
        var cluster = new Cluster.EmbeddedCluster(snapshot) { StartedTaskLifetime = withLifetime ? TimeSpan.FromMinutes(30) : null };
        var (records, engine) = await ReplayHarness.RunAsync([Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")], cluster: cluster);

        var run = Assert.Single(RunTasks(records));
        var emitted = records.Where(r => r.Input == Replay.ReplayEngine.EmittedInput).ToList();
        var relaunched = engine.Cluster.Tasks.Single(t => t.StartedBy == run.StartedBy);
        if (withLifetime)
        {
            Assert.Equal(["RUNNING", "STOPPED"], emitted.Select(r => ((Core.Events.TaskStateChange)r.Event!.Detail).LastStatus));
            var stop = (Core.Events.TaskStateChange)emitted[1].Event!.Detail;
            Assert.Equal("EssentialContainerExited", stop.StopCode);
            Assert.Equal(0, Assert.Single(stop.Containers).ExitCode);
            Assert.Equal(Outcome.Ignored, emitted[1].Outcome);
            var started = ((Core.Events.TaskStateChange)emitted[0].Event!.Detail).StartedAt!.Value;
            Assert.Equal(TimeSpan.FromMinutes(30), stop.StoppedAt!.Value - started);
            Assert.Equal("STOPPED", relaunched.LastStatus);
        }
        else
        {
            Assert.Equal(["RUNNING"], emitted.Select(r => ((Core.Events.TaskStateChange)r.Event!.Detail).LastStatus));
            Assert.Equal("RUNNING", relaunched.LastStatus);
        }
    }

    [Fact]
    public async Task DuplicateDeliveries_LaunchOnce()
    {
        var (records, engine) = await ReplayHarness.RunScenarioAsync("duplicate.jsonl");
        Assert.Single(RunTasks(records));
        Assert.Equal([ReasonCodes.EngineDuplicate, ReasonCodes.EngineDuplicateChange],
            records.Where(r => r.Outcome == Outcome.Ignored && r.Code.StartsWith("engine.ignored.duplicate", StringComparison.Ordinal)).Select(r => r.Code));
        Assert.Equal(1, engine.Cluster.TasksStarted);
    }

    [Fact]
    public async Task SpotInterruption_RelaunchesAtOnceWithoutCounting()
    {
        var (records, _) = await ReplayHarness.RunScenarioAsync("spot-interruption.jsonl");
        var runs = RunTasks(records);
        Assert.Equal(["reflex/c9b0e059106e80ded8ff7134d5d10caf/2", "reflex/e5eaf4500e601e57a1615348a69cecb1/0"], runs.Select(r => r.StartedBy));
        Assert.All(records.Where(r => r.Actions.Count > 0 && r.Handler == HandlerNames.TaskRescheduler), r => Assert.Equal("event", r.Trigger));
        Assert.DoesNotContain(records, r => r.Outcome == Outcome.Deferred);
    }

    [Fact]
    public async Task BurstOf100Failures_IsHeldToThePerMinuteLimit_AndNothingIsDropped()
    {
        var (records, engine) = await ReplayHarness.RunScenarioAsync("burst-100.jsonl");
        var limit = ReplayHarness.Policy().Clusters[0].Limits.MaxRelaunchesPerMinute;
        var launches = records.Where(r => r.Actions.Any(a => a.Action.Operation == "RunTask")).ToList();
        Assert.Equal(100, launches.Count);
        Assert.Equal(100, RunTasks(records).Select(r => r.ClientToken).Distinct().Count());
        var perMinute = launches.GroupBy(r => r.Time!.Value.ToString("yyyy-MM-dd HH:mm")).Select(g => g.Count()).ToList();
        Assert.All(perMinute, n => Assert.True(n <= limit, $"{n} relaunches in one minute, limit {limit}"));
        Assert.Equal(limit, perMinute.Max());
        Assert.Contains(records, r => r.Outcome == Outcome.Deferred && r.Code == ReasonCodes.ActuatorRateLimit);
        Assert.Equal(100, engine.Cluster.TasksStarted);
    }

    /// <summary>
    /// No thundering herd: the 100 failures of burst-100 (all back-off timers due in 03:00, 20 a minute allowed) are
    /// counted 1 to 100 in that minute; the 21st to 40th are deferred to 03:01, the 41st to 60th to 03:02 and so on, each
    /// to a minute it is alone in, so each deferred relaunch is decided once more: 100 decisions at the back-off's due
    /// time, then 80, not 100 + 80 + 60 + 40 + 20 as when every deferral competed again in the next minute.
    /// </summary>
    [Fact]
    public async Task BurstOf100Failures_EachRateLimitedRelaunchIsDecidedOnceMore_InAMinuteOfItsOwn()
    {
        var (records, _) = await ReplayHarness.RunScenarioAsync("burst-100.jsonl");
        var timers = records.Where(r => r.Handler == HandlerNames.TaskRescheduler && r.Trigger == "timer").ToList();
        var limited = records.Where(r => r.Code == ReasonCodes.ActuatorRateLimit).ToList();

        Assert.Equal(100 + 80, timers.Count);
        Assert.Equal(80, limited.Count);
        Assert.Equal(80, limited.Select(r => r.EventId).Distinct().Count());
        var dueMinutes = limited.GroupBy(r => r.DueAt!.Value).OrderBy(g => g.Key).Select(g => (g.Key.ToString("HH:mm:ss"), g.Count())).ToList();
        Assert.Equal([("03:01:00", 20), ("03:02:00", 20), ("03:03:00", 20), ("03:04:00", 20)], dueMinutes);
        var runs = records.Where(r => r.Actions.Any(a => a.Action.Operation == "RunTask")).ToList();
        Assert.Equal(100, runs.Count);
        Assert.Equal([20, 20, 20, 20, 20], runs.GroupBy(r => r.Time!.Value.ToString("HH:mm")).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.DoesNotContain(records, r => r.Outcome is Outcome.Failed or Outcome.Rejected);
    }

    [Fact]
    public async Task RateLimitedRelaunches_AreDueAtTheStartOfALaterMinute()
    {
        var (records, _) = await ReplayHarness.RunScenarioAsync("burst-100.jsonl");
        var limited = records.Where(r => r.Code == ReasonCodes.ActuatorRateLimit).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r =>
        {
            Assert.Equal(0, r.DueAt!.Value.Second);
            Assert.True(r.DueAt > r.Time);
        });
    }

    /// <summary>The reason says how many relaunches the minute counted, the limit, and the minute the relaunch is deferred to.</summary>
    [Fact]
    public async Task RateLimitedRelaunch_SaysItsCountTheLimitAndTheMinuteItIsDeferredTo()
    {
        var (records, _) = await ReplayHarness.RunScenarioAsync("burst-100.jsonl");
        var limited = records.Where(r => r.Code == ReasonCodes.ActuatorRateLimit).ToList();

        Assert.EndsWith("; held by the rate limit (the 21st relaunch this minute in prod, over 20 a minute), deferred to 03:01:00", limited[0].Reason);
        Assert.EndsWith("; held by the rate limit (the 42nd relaunch this minute in prod, over 20 a minute), deferred to 03:02:00", limited[21].Reason);
        Assert.EndsWith("; held by the rate limit (the 100th relaunch this minute in prod, over 20 a minute), deferred to 03:04:00", limited[^1].Reason);
        Assert.All(limited, r => Assert.Equal(Outcome.Deferred, r.Outcome));
    }

    [Fact]
    public async Task ALowerPolicyLimit_IsHonoured()
    {
        var policy = ReplayHarness.Policy();
        policy = policy with { Clusters = [policy.Clusters[0] with { Limits = new ClusterLimits { MaxRelaunchesPerMinute = 7 } }] };
        var (records, _) = await ReplayHarness.RunScenarioAsync("burst-100.jsonl", policy);
        var perMinute = records.Where(r => r.Actions.Any(a => a.Action.Operation == "RunTask"))
            .GroupBy(r => r.Time!.Value.ToString("HH:mm")).Select(g => g.Count()).ToList();
        Assert.Equal(100, perMinute.Sum());
        Assert.Equal(7, perMinute.Max());
    }

    [Fact]
    public async Task SampleEvents_GiveTheExpectedOutcomePerFile()
    {
        var files = Directory.EnumerateFiles(Repository.Path("events"), "ecs-task-*.json").ToList();
        var (records, _) = await ReplayHarness.RunAsync(files);
        Outcome Final(string file) => records.Last(r => r.Input == file).Outcome;
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-essential-exit-1.json"));
        Assert.Equal(Outcome.Ignored, Final("ecs-task-stopped-essential-exit-0.json"));
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-out-of-memory.json"));
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-cannot-pull-container.json"));
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-spot-interruption.json"));
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-termination-notice.json"));
        Assert.Equal(Outcome.Ignored, Final("ecs-task-stopped-user-initiated.json"));
        Assert.Equal(Outcome.Ignored, Final("ecs-task-stopped-service-scheduler-initiated.json"));
        Assert.Equal(Outcome.Acted, Final("ecs-task-stopped-fargate-report-exit-2.json"));
        Assert.Equal(Outcome.Ignored, Final("ecs-task-running-worker.json"));
        var fargate = records.Last(r => r.Input == "ecs-task-stopped-fargate-report-exit-2.json").Actions.Single();
        var run = (RunTaskRequest)fargate.Action.Request;
        Assert.NotNull(run.NetworkConfiguration);
        Assert.Null(run.PlacementConstraints);
        var pull = (RunTaskRequest)records.Last(r => r.Input == "ecs-task-stopped-cannot-pull-container.json").Actions.Single().Action.Request;
        Assert.Null(pull.PlacementConstraints); // a start failure is not the instance's fault
    }

    [Fact]
    public async Task TimersFire_BeforeAnyLaterEvent()
    {
        var exit1 = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json"));
        var first = JsonNode.Parse(exit1)!;
        var later = JsonNode.Parse(exit1)!;
        later["id"] = "later-event";
        later["detail"]!["taskArn"] = "arn:aws:ecs:us-east-1:123456789012:task/prod/ffffffffffffffffffffffffffffffff";
        later["time"] = DateTimeOffset.Parse(first["time"]!.GetValue<string>()).AddSeconds(30).ToString("yyyy-MM-ddTHH:mm:ssZ");
        later["detail"]!["stoppedAt"] = later["time"]!.GetValue<string>();
        var file = ReplayHarness.TempJsonl([first.ToJsonString(), later.ToJsonString()]);
        try
        {
            var (all, _) = await ReplayHarness.RunAsync([file]);
            var records = all.Where(r => r.Input != Replay.ReplayEngine.EmittedInput).ToList(); // not the cluster's RUNNING events
            Assert.Equal(["event", "timer", "event", "timer"], records.Select(r => r.Trigger));
            Assert.Equal("later-event", records[2].EventId);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task MalformedLines_AreRejectedRecords_AndTheRestIsProcessed()
    {
        var good = JsonNode.Parse(File.ReadAllText(Repository.Path("events", "ecs-task-stopped-essential-exit-0.json")))!.ToJsonString();
        var bad = JsonNode.Parse(good)!;
        bad["detail"]!["containers"]![0]!["exitCode"] = "abc";
        var file = ReplayHarness.TempJsonl(["{ not json", good, bad.ToJsonString(), "[]"]);
        try
        {
            var (records, _) = await ReplayHarness.RunAsync([file]);
            var name = Path.GetFileName(file);
            Assert.Equal([Outcome.Rejected, Outcome.Ignored, Outcome.Rejected, Outcome.Rejected], records.Select(r => r.Outcome));
            // A syntax error adds its column to the line: name:LINE:COLUMN, 1-based.
            Assert.Equal([$"{name}:1:3", $"{name}:2", $"{name}:3", $"{name}:4"], records.Select(r => r.Input));
            Assert.Equal("detail.containers[0].exitCode: expected a number, got \"abc\"", records[2].Reason);
            Assert.Equal(["invalid-json", null, "wrong-type", "not-an-event"], records.Select(r => r.RejectionCode));
        }
        finally { File.Delete(file); }
    }
}
