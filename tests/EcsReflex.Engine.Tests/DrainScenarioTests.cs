using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using static EcsReflex.Engine.Tests.PlacementTestSupport;

namespace EcsReflex.Engine.Tests;

public class DrainScenarioTests
{
    private static IEnumerable<(string Summary, string Outcome, string Operations)> Lines(IEnumerable<ReplayRecord> records) =>
        records.Select(r => (r.Summary ?? r.Input, r.Outcome.Name(), string.Join(",", r.Actions.Select(a => a.Action.Operation))));

    [Fact]
    public async Task Replay_OfTheSampleDrainingEvent_ShowsReplacementStartedRunningAndOriginalStopped()
    {
        var cluster = SnapshotCluster();
        var records = await ReplayAsync(RepoPolicy(), cluster, Events("ecs-container-instance-draining.json"));

        Assert.Equal(3, records.Count);
        var (drain, running, stopped) = (records[0], records[1], records[2]);

        // 1. DRAINING: one RunTask, for the worker on B; the worker fits only on C (A lacks CPU and memory).
        Assert.Equal(("placement-guard", Outcome.Acted), (drain.Handler, drain.Outcome));
        var run = Assert.IsType<RunTaskRequest>(Assert.Single(drain.Actions).Action.Request);
        Assert.Equal("reflex/34c9b3e6fb6db0102948768be15d1b5e/0", run.StartedBy);
        Assert.Equal("ec2InstanceId != i-0bbbb4609287edcaa", Assert.Single(run.PlacementConstraints!).Expression);
        Assert.Equal("done", drain.Actions[0].Status);
        var replacement = cluster.Tasks.Single(t => t.StartedBy == run.StartedBy);
        Assert.Equal(InstanceC, replacement.ContainerInstanceArn);

        // 2. The embedded cluster reports the replacement RUNNING 15 s later; the guard stops the original.
        Assert.Equal((ReplayEngine.EmittedInput, "event", Outcome.Acted), (running.Input, running.Trigger, running.Outcome));
        Assert.Equal(drain.Time!.Value + cluster.TaskStartDelay, running.Time);
        var stop = Assert.IsType<StopTaskRequest>(Assert.Single(running.Actions).Action.Request);
        Assert.Equal(
            "{\"cluster\":\"" + ClusterArn + "\",\"task\":\"" + WorkerOnB + "\",\"reason\":\"EcsReflex: moved off draining container instance i-0bbbb4609287edcaa; replacement " +
            replacement.TaskArn.Split('/')[^1][..8] + " is RUNNING\"}",
            Json(stop));

        // 3. ... and the original STOPPED (UserInitiated) 10 s after that, which the rescheduler ignores.
        Assert.Equal(("task-rescheduler", Outcome.Ignored), (stopped.Handler, stopped.Outcome));
        Assert.Equal(running.Time!.Value + cluster.TaskStopDelay, stopped.Time);
        Assert.Equal(ReasonCodes.ReschedulerNotAFailure, stopped.Code);
        Assert.StartsWith("EcsReflex: moved off draining container instance", ((TaskStateChange)stopped.Event!.Detail).StoppedReason, StringComparison.Ordinal);
        Assert.Equal("STOPPED", cluster.FindTask(WorkerOnB)!.LastStatus);
        Assert.Equal("RUNNING", cluster.FindTask(replacement.TaskArn)!.LastStatus);
    }

    [Fact]
    public async Task Replay_DrainScenario_MovesTheWorkerToTheFreshInstanceBeforeStoppingIt()
    {
        var cluster = SnapshotCluster();
        var records = await ReplayAsync(RepoPolicy(), cluster, Events("scenarios/drain-make-before-break.jsonl"));
        Assert.Equal(
        [
            ("instance 3a21571e ACTIVE", "ignored", ""),
            ("instance 8b540ce3 ACTIVE", "ignored", ""),
            ("task 506e7c3f RUNNING", "ignored", ""),
            // The first sweep restores the placement of web, drifted in the repository's snapshot.
            ("sweep (Scheduled Event)", "ignored", ""),
            ("web SERVICE_DEPLOYMENT_COMPLETED", "acted", "UpdateService"),
            ("instance 3a21571e DRAINING", "acted", "RunTask"),
            ($"task {Short(cluster, "reflex/506e7c3fca4fb7cfb7ccb819bde11ae6/0")} RUNNING", "acted", "StopTask"),
            ("task 506e7c3f STOPPED", "ignored", ""),
        ], Lines(records).ToList());
        // The replacement went to instance E: the only one in a zone without workers.
        var replacement = cluster.Tasks.Single(t => t.StartedBy == "reflex/506e7c3fca4fb7cfb7ccb819bde11ae6/0");
        Assert.Equal("i-0eee32e9a67ed9bc2", cluster.ContainerInstances.Single(i => i.ContainerInstanceArn == replacement.ContainerInstanceArn).Ec2InstanceId);
        Assert.True(records[6].Time > records[5].Time);
    }

    private static string Short(EmbeddedCluster cluster, string startedBy) =>
        cluster.Tasks.Single(t => t.StartedBy == startedBy).TaskArn.Split('/')[^1][..8];

    [Fact]
    public async Task Replay_WithStopOriginalAfterSeconds_StopsTheOriginalBeforeTheReplacementRuns()
    {
        var json = File.ReadAllText(Path.Combine(Repository.Root, "reflex.policy.json"))
            .Replace("\"drain\": { \"agentDisconnectedGraceSeconds\": 300 }", "\"drain\": { \"stopOriginalAfterSeconds\": 60 }", StringComparison.Ordinal);
        var policy = PolicyLoader.Load(json);
        Assert.Equal(60, policy.Clusters[0].Drain!.StopOriginalAfterSeconds);
        var snapshot = SnapshotReader.Parse(File.ReadAllBytes(Events("cluster.snapshot.json")));
        var cluster = new EmbeddedCluster(snapshot) { TaskStartDelay = TimeSpan.FromMinutes(5) }; // a slow image pull
        var records = await ReplayAsync(policy, cluster, Events("ecs-container-instance-draining.json"));

        var follow = records[1];
        Assert.Equal(("timer", Outcome.Acted), (follow.Trigger, follow.Outcome));
        Assert.Equal(records[0].Time!.Value.AddSeconds(60), follow.Time);
        var stop = Assert.IsType<StopTaskRequest>(Assert.Single(follow.Actions).Action.Request);
        Assert.Equal(WorkerOnB, stop.Task);
        Assert.Equal("EcsReflex: moved off draining container instance i-0bbbb4609287edcaa; drain.stopOriginalAfterSeconds (60 s) elapsed", stop.Reason);
        // The replacement's RUNNING, later, finds the original already stopped.
        var running = records.Single(r => r.Summary!.EndsWith("RUNNING", StringComparison.Ordinal));
        Assert.Equal(Outcome.Ignored, running.Outcome);
        Assert.Contains("was already stopped", running.Reason);
        Assert.Equal(1, records.Sum(r => r.Actions.Count(a => a.Action.Operation == "StopTask")));
    }

    [Fact]
    public async Task Replay_AgentDisconnectScenario_WaitsTheGraceIsCancelledByAReconnectThenReplacesAndLeavesTheOriginal()
    {
        var records = await ReplayRepoAsync("scenarios/agent-disconnect.jsonl");
        var lines = records.Select(r => (r.Trigger, r.Summary, r.Outcome.Name(), string.Join(",", r.Actions.Select(a => a.Action.Operation)), r.Time!.Value.ToString("HH:mm:ss"))).ToList();
        Assert.Equal(
        [
            ("event", "instance 4eeb8e14 ACTIVE", "ignored", "", "09:00:00"),
            ("event", "instance 62b3f124 ACTIVE", "ignored", "", "09:00:01"),
            ("event", "task ecd9c473 RUNNING", "ignored", "", "09:00:05"),
            // The first sweep restores the placement of web, drifted in the repository's snapshot.
            ("sweep", "sweep (Scheduled Event)", "ignored", "", "09:05:00"),
            ("sweep", "web SERVICE_DEPLOYMENT_COMPLETED", "acted", "UpdateService", "09:05:00"),
            ("event", "instance 4eeb8e14 ACTIVE (agent off)", "deferred", "", "09:10:00"),
            ("event", "instance 4eeb8e14 ACTIVE", "ignored", "", "09:13:00"),
            ("timer", "instance 4eeb8e14 ACTIVE (agent off)", "ignored", "", "09:15:00"),
            ("event", "instance 4eeb8e14 ACTIVE (agent off)", "deferred", "", "09:30:00"),
            ("timer", "instance 4eeb8e14 ACTIVE (agent off)", "acted", "RunTask", "09:35:00"),
            ("event", lines[10].Summary, "ignored", "", "09:35:15"),
            ("event", "instance 4eeb8e14 ACTIVE", "acted", "StopTask", "09:50:00"),
            ("event", "task ecd9c473 STOPPED", "ignored", "", "09:50:10"),
        ], lines);
        // The grace runs from the instance's updatedAt (09:10:00.600): 300 s.
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 9, 15, 0, 600, TimeSpan.Zero), records[5].DueAt);
        Assert.Equal(
            [ReasonCodes.GuardCheckCancelled, ReasonCodes.GuardAgentGrace, ReasonCodes.GuardDisconnectReplace, ReasonCodes.GuardReplacementLeaveOriginal, ReasonCodes.GuardReconnectStopOriginal],
            records[7..12].Select(r => r.Code));
        Assert.Equal(4L, ((ContainerInstanceStateChange)records[6].Event!.Detail).Version); // the reconnection that cancels the check
    }

    [Fact]
    public async Task Replay_StaleVersionsScenario_ActsOnceAndIgnoresOlderAndRepeatedVersions()
    {
        var records = await ReplayRepoAsync("scenarios/stale-versions.jsonl");
        Assert.Equal(1, records.Sum(r => r.Actions.Count(a => a.Action.Operation == "RunTask")));
        Assert.Equal(1, records.Sum(r => r.Actions.Count(a => a.Action.Operation == "StopTask")));
        static ContainerInstanceStateChange Instance(ReplayRecord r) => (ContainerInstanceStateChange)r.Event!.Detail;
        var stale = records.Where(r => r.Code == ReasonCodes.GuardStale).ToList();
        Assert.Equal([11L, 9L], stale.Select(r => Instance(r).Version));
        Assert.All(stale, r => Assert.Equal(Outcome.Ignored, r.Outcome));
        // The same version 12 redelivered under another event id is a duplicate.
        var duplicate = Assert.Single(records, r => r.Code == ReasonCodes.EngineDuplicateChange);
        Assert.Equal((12L, "be4ed6cc"), (Instance(duplicate).Version, Instance(duplicate).ContainerInstanceArn.Split('/')[^1][..8]));
        // Version 9 says the agent is off, but being stale it starts no grace check.
        Assert.DoesNotContain(records, r => r.Outcome == Outcome.Deferred);
    }

    [Fact]
    public async Task Replay_ReplacementThatCannotBePlaced_IsRetriedAndTheReplayStillEnds()
    {
        // Only instance A may take the worker, and A lacks CPU and memory: RunTask fails like ECS (RESOURCE:CPU).
        var json = File.ReadAllText(Path.Combine(Repository.Root, "reflex.policy.json"))
            .Replace("\"placement\": {\n            \"constraints\": [],", "\"placement\": {\n            \"constraints\": [ { \"type\": \"memberOf\", \"expression\": \"ec2InstanceId == i-0aaa0e242d1d87a6e\" } ],", StringComparison.Ordinal);
        var policy = PolicyLoader.Load(json);
        Assert.Single(policy.Clusters[0].Reschedule[0].Placement.Constraints);
        var records = await ReplayAsync(policy, SnapshotCluster(), Events("ecs-container-instance-draining.json"));

        var first = records[0];
        Assert.Equal(Outcome.Deferred, first.Outcome);
        Assert.Equal("capacity", Assert.Single(first.Actions).Status);
        Assert.Contains("ECS could not place it (RESOURCE:CPU (i-0aaa0e242d1d87a6e: 256 CPU units free, the task needs 512))", first.Reason);
        Assert.Equal(first.Time!.Value.AddSeconds(60), first.DueAt);
        // The retry comes due, fails the same way, and the replay stops waiting for capacity that never comes.
        Assert.Equal("timer", records[1].Trigger);
        Assert.Equal(Outcome.Deferred, records[1].Outcome);
        var last = records[^1];
        Assert.Equal("replay", last.Input);
        Assert.Contains("still wait, for capacity the embedded cluster will not get", last.Reason);
        Assert.True(records.Count < 10);
        Assert.DoesNotContain(records, r => r.Actions.Any(a => a.Action.Operation == "StopTask"));
    }

    [Fact]
    public async Task Replay_EmittedEvents_DoNotDisturbTheRescheduler()
    {
        var records = await ReplayRepoAsync("scenarios/crash-loop.jsonl");
        Assert.Equal(5, records.Sum(r => r.Actions.Count(a => a.Action.Operation == "RunTask" && a.Status == "done")));
        Assert.Equal(1, records.Sum(r => r.Actions.Count(a => a.Action.Operation == "GiveUp")));
        var emitted = records.Where(r => r.Input == ReplayEngine.EmittedInput).ToList();
        Assert.Equal(5, emitted.Count);
        Assert.All(emitted, r => Assert.Equal(("placement-guard", Outcome.Ignored), (r.Handler, r.Outcome)));
        Assert.All(emitted, r => Assert.Equal(ReasonCodes.GuardNoMove, r.Code));
    }

    [Fact]
    public async Task Replay_OfEveryRepositoryEvent_EndsWithoutFailures()
    {
        var files = ReplayInputs.ResolveFiles([Path.Combine(Repository.Root, "events")]);
        var records = await ReplayAsync(RepoPolicy(), SnapshotCluster(), files.ToArray());
        Assert.DoesNotContain(records, r => r.Outcome is Outcome.Failed or Outcome.Rejected);
        Assert.DoesNotContain(records, r => r.Input == "replay"); // nothing left waiting for capacity
        Assert.Contains(records, r => r.Code == ReasonCodes.GuardReplacementStopOriginal);
    }
}
