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
        var sweep = Assert.Single(lost, r => r.Handler == "reconciler");
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 9, 35, 0, TimeSpan.Zero), sweep.Time);
        Assert.Contains("5 container instances in 2 calls, 1 draining or disconnected", sweep.Reason, StringComparison.Ordinal);
        Assert.EndsWith("of the 1 found, 0 already decided from their events, 1 decided now", sweep.Reason, StringComparison.Ordinal);
        var moved = lost[lost.IndexOf(sweep) + 1];
        Assert.Equal(("sweep", "placement-guard", Outcome.Acted, ReasonCodes.GuardDrainReplace), (moved.Trigger, moved.Handler, moved.Outcome, moved.Code));
        Assert.StartsWith("found by the sweep (no ECS Container Instance State Change of it was processed): ", moved.Reason, StringComparison.Ordinal);

        // The same actions as with the event delivered: the replacement (same request, same client token), then the stop
        // of the original once the replacement runs.
        Assert.Equal(Actions(delivered), Actions(lost));
        Assert.Equal(["RunTask", "StopTask"], Actions(lost).Select(a => a.Split(' ')[0]));
        Assert.Equal(1, engine.Cluster.TasksStarted);

        // Delivered, the sweeps after the drain find it decided: no sweep row at all.
        Assert.DoesNotContain(delivered, r => r.Trigger == ReplayEngine.SweepInput);
    }
}
