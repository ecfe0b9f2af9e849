using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Replay;
using static EcsReflex.Engine.Tests.PlacementTestSupport;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// The sweep's missed drains: the drain scenario with its DRAINING event lost (the instance drains in the embedded
/// cluster, as in ECS; no handler hears of it). The next sweep finds the instance DRAINING and the placement guard moves
/// its standalone worker exactly as the event would have, one sweep later; with the event delivered, the sweep finds
/// the drain already decided and decides nothing again.
/// </summary>
public class ReconcilerDrainReplayTests
{
    private static readonly DateTimeOffset Until = new(2026, 3, 8, 9, 40, 0, TimeSpan.Zero);

    private static async Task<(List<ReplayRecord> Records, ReplayEngine Engine)> Replay(bool loseTheDrain)
    {
        var engine = new ReplayEngine(RepoPolicy(), SnapshotCluster())
        {
            Until = Until,
            Undelivered = loseTheDrain ? e => e.Detail is ContainerInstanceStateChange { Status: "DRAINING" } : null,
        };
        return (await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs([Events("scenarios/drain-make-before-break.jsonl")])), engine);
    }

    private static List<string> Actions(IEnumerable<ReplayRecord> records) =>
        [.. records.SelectMany(r => r.Actions).Select(a => $"{a.Action.Operation} {a.Status} {ActionJson.ToJson(a.Action.Request)}")];

    [Fact]
    public async Task ALostDrain_IsFoundByTheNextSweep_AndTheWorkerMovedAsTheEventWouldHaveMovedIt()
    {
        var (delivered, _) = await Replay(loseTheDrain: false);
        var (lost, engine) = await Replay(loseTheDrain: true);

        var undelivered = Assert.Single(lost, r => r.Code == ReasonCodes.EngineUndelivered);
        Assert.Equal(DetailTypes.ContainerInstanceStateChange, undelivered.DetailType);
        // The sweep at 09:35 (every 5 minutes from the first input at 09:00) finds it; the one at 09:30 ran before the drain.
        // (The first, at 09:05, restores the placement of web, drifted in the repository's snapshot: both replays have it.)
        var sweeps = lost.Where(r => r.Handler == "reconciler").ToList();
        Assert.Equal([new DateTimeOffset(2026, 3, 8, 9, 5, 0, TimeSpan.Zero), Until.AddMinutes(-5)], sweeps.Select(r => r.Time!.Value));
        var sweep = sweeps[1];
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 9, 35, 0, TimeSpan.Zero), sweep.Time);
        Assert.Contains("5 container instances in 2 calls, 1 draining or disconnected", sweep.Reason, StringComparison.Ordinal);
        Assert.EndsWith("of the 2 found, 0 already decided from their events, 2 decided now (1 of them changed nothing)", sweep.Reason, StringComparison.Ordinal);
        var moved = lost[lost.IndexOf(sweep) + 1];
        Assert.Equal(("sweep", "placement-guard", Outcome.Acted, ReasonCodes.GuardDrainReplace), (moved.Trigger, moved.Handler, moved.Outcome, moved.Code));
        Assert.StartsWith("found by the sweep (no ECS Container Instance State Change of it was processed): ", moved.Reason, StringComparison.Ordinal);

        // The same actions as with the event delivered: the replacement (same request, same client token), then the stop
        // of the original once the replacement runs.
        Assert.Equal(Actions(delivered), Actions(lost));
        Assert.Equal(["UpdateService", "RunTask", "StopTask"], Actions(lost).Select(a => a.Split(' ')[0]));
        Assert.Equal(1, engine.Cluster.TasksStarted);

        // Delivered, the sweeps after the drain find it decided: no sweep row but the first one's restore.
        Assert.Equal([ReasonCodes.ReconcilerSwept, ReasonCodes.GuardDriftRestore], delivered.Where(r => r.Trigger == ReplayEngine.SweepInput).Select(r => r.Code));
    }
}

/// <summary>The sweep's placement drift: the drift scenario with both its deployment events lost.</summary>
public class ReconcilerDriftReplayTests
{
    private static async Task<List<ReplayRecord>> Replay(bool loseTheDeployments) =>
        await ReplayHarness.RecordsAsync(new ReplayEngine(RepoPolicy(), SnapshotCluster())
        {
            Until = new DateTimeOffset(2026, 3, 11, 10, 20, 0, TimeSpan.Zero),
            Undelivered = loseTheDeployments ? e => e.Detail is DeploymentStateChange : null,
        }, ReplayHarness.Inputs([Events("scenarios/service-drift.jsonl")]));

    [Fact]
    public async Task ALostDeployment_LeavesNoDriftAfterTheNextSweep_WhichRestoresThePolicysPlacementOnce()
    {
        var delivered = await Replay(loseTheDeployments: false);
        var lost = await Replay(loseTheDeployments: true);

        var restore = Assert.Single(lost, r => r.Actions.Count > 0);
        Assert.Equal(("sweep", "placement-guard", ReasonCodes.GuardDriftRestore), (restore.Trigger, restore.Handler, restore.Code));
        Assert.Equal(new DateTimeOffset(2026, 3, 11, 10, 5, 0, TimeSpan.Zero), restore.Time);
        Assert.StartsWith("found by the sweep's placement check: web drifted from the policy's placement", restore.Reason, StringComparison.Ordinal);
        var sweep = lost[lost.IndexOf(restore) - 1];
        Assert.Equal("reconciler", sweep.Handler);
        Assert.Contains("1 service placement to check", sweep.Reason, StringComparison.Ordinal);
        // The same UpdateService the deployment event made; the later sweeps find the placement in place and print nothing.
        var expected = Assert.Single(delivered.SelectMany(r => r.Actions));
        Assert.Equal(ActionJson.ToJson(expected.Action.Request), ActionJson.ToJson(Assert.Single(restore.Actions).Action.Request));
        Assert.Single(lost, r => r.Trigger == "sweep" && r.Handler == "reconciler");
        Assert.DoesNotContain(delivered, r => r.Trigger == "sweep");
    }
}
