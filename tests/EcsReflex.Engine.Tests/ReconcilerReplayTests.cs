using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// Issue 15's sweep in the replay: on the simulated clock every <c>reconcile.intervalSeconds</c>, the reconciler reads the
/// embedded cluster's stopped tasks through the observer port; a stop no event said is decided as its STOPPED event, once,
/// and whichever of the sweep and a late event comes first acts.
/// </summary>
public class ReconcilerReplayTests
{
    private const string Cluster = "arn:aws:ecs:us-west-2:123456789012:cluster/default";
    private const string Lost = "arn:aws:ecs:us-west-2:123456789012:task/default/0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    private const string Other = "arn:aws:ecs:us-west-2:123456789012:task/default/99999999999999999999999999999999";

    private static ReflexPolicy Policy(int interval = 300) => PolicyLoader.Load($$$"""
    {"clusters":[{"cluster":"default","reschedule":[
      {"name":"jobs","match":{"taskDefinitionFamily":"worker"},"backoff":{"initialSeconds":0},"network":{"subnets":["subnet-070982705451dad82"]}}
    ]}],"reconcile":{"intervalSeconds":{{{interval}}}}}
    """);

    private static string Task(string arn, string status, int? exit, string? stoppedAt) => $$"""
      {"clusterArn":"{{Cluster}}","taskArn":"{{arn}}","taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/worker:3",
       "group":"family:worker","startedBy":"cron","lastStatus":"{{status}}","desiredStatus":"{{status}}","launchType":"FARGATE",
       "cpu":"256","memory":"512","version":4,"createdAt":"2026-04-01T09:00:00Z","startedAt":"2026-04-01T09:01:00Z"
       {{(stoppedAt is null ? "" : $",\"stoppedAt\":\"{stoppedAt}\",\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\"")}},
       "containers":[{"name":"app","lastStatus":"{{status}}"{{(exit is { } x ? $",\"exitCode\":{x}" : "")}}}]}
    """;

    /// <summary>As describe-tasks prints them: the task whose STOPPED event was lost (exit 1 at 09:58), and one running.</summary>
    private static EmbeddedCluster NewCluster() => new(SnapshotReader.Parse(System.Text.Encoding.UTF8.GetBytes(
        $$"""{"tasks":[{{Task(Lost, "STOPPED", 1, "2026-04-01T09:58:00Z")}},{{Task(Other, "RUNNING", null, null)}}]}""")));

    private static string Stopped(string taskArn, string id, string time) => $$"""
    {"version":"0","id":"{{id}}","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012","time":"{{time}}","region":"us-west-2","resources":["{{taskArn}}"],"detail":{{Task(taskArn, "STOPPED", 1, "2026-04-01T09:58:00Z").Replace("\n", "")}}}
    """.Replace("\n", "");

    /// <summary>A delivery that changes nothing for the stopped task: it only moves the replay's clock.</summary>
    private static string Tick(string id, string time) => $$"""
    {"version":"0","id":"{{id}}","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012","time":"{{time}}","region":"us-west-2","resources":["{{Other}}"],"detail":{{Task(Other, "RUNNING", null, null).Replace("\n", "")}}}
    """.Replace("\n", "");

    private static Task<(List<ReplayRecord> Records, ReplayEngine Engine)> Replay(params string[] lines) =>
        ReplayHarness.RunAsync([ReplayHarness.TempJsonl(lines)], Policy(), NewCluster());

    [Fact]
    public async Task ALostStop_IsRelaunchedByTheFirstSweep_ThenItsLateEventIsADuplicate()
    {
        var (records, engine) = await Replay(Tick("t-1", "2026-04-01T10:00:00Z"), Tick("t-2", "2026-04-01T10:11:00Z"), Stopped(Lost, "late", "2026-04-01T10:12:00Z"));

        // The sweep at 10:05 (one interval after the first input): its own record, then the stop it found, relaunched.
        var sweep = Assert.Single(records, r => r.Handler == "reconciler");
        Assert.Equal(("sweep", "sweep", new DateTimeOffset(2026, 4, 1, 10, 5, 0, TimeSpan.Zero), ReasonCodes.ReconcilerSwept), (sweep.Input, sweep.Trigger, sweep.Time!.Value, sweep.Code));
        Assert.Contains("default: 1 stopped task in 2 calls, 1 a rule would relaunch", sweep.Reason, StringComparison.Ordinal);
        Assert.EndsWith("of the 1 found, 0 already decided from their events, 1 decided now", sweep.Reason, StringComparison.Ordinal);
        var found = records[records.IndexOf(sweep) + 1];
        Assert.Equal(("sweep", "task-rescheduler", Outcome.Acted, ReasonCodes.ReschedulerRelaunch), (found.Trigger, found.Handler, found.Outcome, found.Code));
        Assert.StartsWith("found by the sweep (no ECS Task State Change of it was processed): ", found.Reason, StringComparison.Ordinal);
        var run = Assert.IsType<RunTaskRequest>(Assert.Single(found.Actions).Action.Request);
        Assert.Equal("arn:aws:ecs:us-west-2:123456789012:task-definition/worker:3", run.TaskDefinition);
        // The sweep at 10:10 finds it again, already decided: it prints nothing. The late event is the same change.
        Assert.Equal(2, engine.Sweeps);
        var late = Assert.Single(records, r => r.EventId == "late");
        Assert.Equal((Outcome.Ignored, ReasonCodes.EngineDuplicateChange), (late.Outcome, late.Code));
        Assert.Single(records.SelectMany(r => r.Actions), a => a.Action.Request is RunTaskRequest);
    }

    [Fact]
    public async Task AStopWhoseEventCame_IsNotDecidedAgainByTheSweep()
    {
        var (records, engine) = await Replay(Stopped(Lost, "on-time", "2026-04-01T10:00:00Z"), Tick("t-2", "2026-04-01T10:11:00Z"));

        Assert.Equal(Outcome.Acted, Assert.Single(records, r => r.EventId == "on-time").Outcome);
        Assert.Equal(2, engine.Sweeps);
        Assert.DoesNotContain(records, r => r.Trigger == "sweep");
        Assert.Single(records.SelectMany(r => r.Actions), a => a.Action.Request is RunTaskRequest);
    }

    [Fact]
    public async Task Sweeps_RunEveryIntervalBetweenTheFirstAndTheLastInput_AndLeaveNoRecordOfTheirOwnAtTheEnd()
    {
        var (records, engine) = await ReplayHarness.RunAsync(
            [ReplayHarness.TempJsonl([Tick("t-1", "2026-04-01T10:00:00Z"), Tick("t-2", "2026-04-01T10:59:59Z")])], Policy(600), NewCluster());

        // 10:10, 10:20, … 10:50: five sweeps; the one due at 11:00 is after the last input and is not run.
        Assert.Equal(5, engine.Sweeps);
        Assert.DoesNotContain(records, r => r.Code == ReasonCodes.EngineReplayUntil);
        Assert.Single(records, r => r.Trigger == "sweep" && r.Handler == "task-rescheduler");
    }
}
