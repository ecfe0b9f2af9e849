using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;
using static EcsReflex.Engine.Tests.ScalingHarness;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// The sweep re-arms a sustained alarm's lost re-decision (issue 15): one ALARM transition, the alarm stays in ALARM for
/// 30 minutes, and the delay queue loses the first re-decision (its message dead-lettered). Without the sweep the service
/// would stay at its first step; the sweep after it finds the scaling record still waiting for it and decides it, and the
/// steps go on to the max, each once.
/// </summary>
public sealed class ScalingRearmReplayTests
{
    private static async Task<(List<ReplayRecord> Records, Cluster.EmbeddedCluster Cluster)> Replay(Func<EventEnvelope, DateTimeOffset, bool>? lose)
    {
        var cluster = WebCluster(20);
        var engine = new ReplayEngine(Policy(120), cluster, new InMemoryStateStore()) { LostWork = lose };
        var items = new[] { ("ALARM", TimeSpan.Zero, (double?)95), ("OK", TimeSpan.FromMinutes(30), null) }
            .Select((t, i) => Item(AlarmEvent("web-cpu-high", t.Item1, T0 + t.Item2, t.Item3), i + 1));
        return (await ReplayHarness.RecordsAsync(engine, items), cluster);
    }

    private static bool FirstReDecision(EventEnvelope e, DateTimeOffset due) => e.Detail is AlarmStateChange && due == T0.AddMinutes(1);

    [Fact]
    public async Task ALostReDecision_IsReArmedByTheNextSweep_AndTheServiceStillStepsToItsMaxOncePerStep()
    {
        var (full, _) = await Replay(null);
        var (lossy, cluster) = await Replay(FirstReDecision);

        var lost = Assert.Single(lossy, r => r.Code == ReasonCodes.EngineUndelivered);
        Assert.Equal(("timer", (DateTimeOffset?)T0.AddMinutes(1)), (lost.Trigger, lost.Time));
        Assert.Empty(lost.Actions);

        // The sweep at 10:05 (one interval after the first input) finds the re-decision due at 10:01 waiting.
        var sweep = Assert.Single(lossy, r => r.Handler == HandlerNames.Reconciler);
        Assert.Equal(T0.AddMinutes(5), sweep.Time);
        Assert.Contains("1 scaling record, 1 sustained alarm re-decision overdue", sweep.Reason, StringComparison.Ordinal);
        Assert.EndsWith("of the 1 found, 0 already decided from their events, 1 decided now", sweep.Reason, StringComparison.Ordinal);
        var rearmed = lossy[lossy.IndexOf(sweep) + 1];
        Assert.Equal(("sweep", HandlerNames.ServiceScaler, ReasonCodes.ScalerScaleOut), (rearmed.Trigger, rearmed.Handler, rearmed.Code));
        Assert.StartsWith("re-armed by the sweep (the re-decision due at 10:01:00 did not come): web-cpu-high still in ALARM since 10:00:00", rearmed.Reason, StringComparison.Ordinal);
        Assert.Equal(26, Assert.Single(new[] { rearmed }.UpdateServices()).DesiredCount);

        // Every step once, as with nothing lost: the same counts in the same order, later; then the bound holds.
        Assert.Equal([23, 26, 29, 32, 35, 38, 40], full.UpdateServices().Select(u => u.DesiredCount!.Value));
        Assert.Equal(full.UpdateServices().Select(u => u.DesiredCount), lossy.UpdateServices().Select(u => u.DesiredCount));
        Assert.Equal(40, cluster.DesiredOfWeb());
        Assert.Equal(ReasonCodes.ScalerBound, lossy.Last(r => r.Trigger == "timer").Code);
        // With nothing lost, the sweeps find nothing overdue and print nothing.
        Assert.DoesNotContain(full, r => r.Trigger == ReplayEngine.SweepInput);
    }

    [Fact]
    public async Task TheReArmedChain_IsTheRecordsOneReDecision_ASecondSweepFindsNothingMoreToReArm()
    {
        var (lossy, _) = await Replay(FirstReDecision);

        // One re-armed re-decision; after it, each re-decision comes from the chain it scheduled, one a minute or at the
        // cooldown's end, never two due at once.
        Assert.Single(lossy, r => r.Reason.StartsWith("re-armed by the sweep", StringComparison.Ordinal));
        var timers = lossy.Where(r => r.Trigger == "timer" && r.Time > T0.AddMinutes(5)).Select(r => r.Time!.Value).ToList();
        Assert.Equal(timers.Distinct().Count(), timers.Count);
        // The full stream's chain from its second step (10:02, 26) to the bound (10:14), four minutes later: 10:05 to 10:17.
        Assert.Equal(Enumerable.Range(6, 12).Select(m => T0.AddMinutes(m)), timers);
        // The sweeps after the re-arm (10:10, 10:15…) find the chain's re-decision not yet overdue: no row.
        Assert.Single(lossy, r => r.Handler == HandlerNames.Reconciler);
    }
}
