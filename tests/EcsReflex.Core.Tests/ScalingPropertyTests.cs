using CsCheck;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using static EcsReflex.Core.Tests.ScalingFixtures;

namespace EcsReflex.Core.Tests;

/// <summary>Properties of the pure scaler over random policies and random alarm histories.</summary>
public class ScalingPropertyTests
{
    private static readonly string[] Alarms = ["web-cpu-high", "web-cpu-low", "web-latency-high", "web-exact"];
    private static readonly string[] States = ["ALARM", "ALARM", "OK", "INSUFFICIENT_DATA"];

    /// <summary>One alarm transition: which alarm, which state, metric − threshold (null: no datapoint), seconds since the previous one.</summary>
    public sealed record Step(int Alarm, int State, int? Offset, int Gap)
    {
        public override string ToString() => $"+{Gap}s {Alarms[Alarm]} {States[State]} {(Offset is { } o ? $"{o:+0;-0}" : "no datapoint")}";
    }

    public sealed record Case(int Min, int Max, int OutCooldown, int InCooldown, int Stabilization, int? Magnitude, (int Min, int Max)? Aas, int Initial, Step[] Steps)
    {
        public ReflexPolicy Policy() => WebPolicy(Min, Max, OutCooldown, InCooldown, Stabilization, coexist: "clamp", minMagnitude: Magnitude);
        public ObservedScalableTarget? Target => Aas is { } a ? AasTarget(a.Min, a.Max) : null;
        public (int Lo, int Hi) Bounds => Aas is { } a ? (Math.Max(Min, a.Min), Math.Min(Max, a.Max)) : (Min, Max);
        public override string ToString() =>
            $"bounds [{Min},{Max}] aas {Aas} cooldowns {OutCooldown}/{InCooldown} stabilisation {Stabilization} magnitude {Magnitude} from {Initial}:\n  {string.Join("\n  ", Steps.AsEnumerable())}";
    }

    private static readonly Gen<Step> GenStep =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[-40, 120], Gen.Int[0, 9], Gen.Int[0, 400],
            (alarm, state, offset, noData, gap) => new Step(alarm, state, noData == 0 ? null : offset, gap));

    private static Gen<Case> GenCase(bool startInBounds) =>
        from min in Gen.Int[0, 10]
        from span in Gen.Int[0, 30]
        from outCd in Gen.OneOf(0, 30, 60)
        from inCd in Gen.OneOf(0, 120, 300)
        from stab in Gen.OneOf(0, 120, 300)
        from magnitude in Gen.OneOf<int?>(null, 1, 2)
        from aasKind in Gen.Int[0, 2]
        from aasMin in Gen.Int[0, min + span]
        from aasSpan in Gen.Int[0, 20]
        from initial in Gen.Int[0, 60]
        from steps in GenStep.Array[1, 40]
        let max = min + span
        let aas = aasKind == 0 ? ((int, int)?)(aasMin, Math.Max(Math.Max(aasMin, min), Math.Min(max, aasMin + aasSpan))) : null
        let lo = aas is { } a1 ? Math.Max(min, a1.Item1) : min
        let hi = aas is { } a2 ? Math.Min(max, a2.Item2) : max
        select new Case(min, max, outCd, inCd, stab, magnitude, aas, startInBounds ? lo + initial % (hi - lo + 1) : initial, steps);

    private static AlarmStateChange Event(Step s, DateTimeOffset at)
    {
        var alarm = Alarms[s.Alarm];
        var threshold = ThresholdOf(alarm);
        // Scale-in alarms breach below their threshold: mirror the offset so most transitions select a step.
        double? metric = s.Offset is { } o ? threshold + (alarm == "web-cpu-low" ? -o : o) : null;
        return Alarm(alarm, States[s.State], at, metric, threshold);
    }

    private static Simulation Run(Case c, IEnumerable<(Step Step, DateTimeOffset At, DateTimeOffset Now)> deliveries)
    {
        var sim = new Simulation(c.Policy(), c.Initial);
        foreach (var (step, at, now) in deliveries) sim.Feed(Event(step, at), now, c.Target);
        return sim;
    }

    /// <summary>Each transition once, in order: its state timestamp is also the time it is delivered.</summary>
    private static List<(Step Step, DateTimeOffset At, DateTimeOffset Now)> Once(Case c)
    {
        var t = T0;
        var list = new List<(Step, DateTimeOffset, DateTimeOffset)>();
        foreach (var s in c.Steps)
        {
            t = t.AddSeconds(s.Gap);
            list.Add((s, t, t));
        }
        return list;
    }

    [Fact]
    public void DesiredCount_StartingWithinBounds_StaysWithinBoundsAfterEveryDecision()
    {
        GenCase(startInBounds: true).Sample(c =>
        {
            var (lo, hi) = c.Bounds;
            var sim = new Simulation(c.Policy(), c.Initial);
            foreach (var (step, at, now) in Once(c))
            {
                var d = sim.Feed(Event(step, at), now, c.Target);
                Assert.True(sim.DesiredCount >= lo && sim.DesiredCount <= hi, $"{sim.DesiredCount} left [{lo}, {hi}] after: {d.Reason}");
            }
        }, iter: 400);
    }

    [Fact]
    public void EveryUpdateService_AsksForACountWithinBounds_WhereverTheCountStarted()
    {
        GenCase(startInBounds: false).Sample(c =>
        {
            var (lo, hi) = c.Bounds;
            var sim = Run(c, Once(c));
            foreach (var d in sim.Decisions)
                if (d.Desired() is { } n)
                    Assert.True(n >= lo && n <= hi, $"UpdateService {n} outside [{lo}, {hi}]: {d.Reason}");
        }, iter: 400);
    }

    [Fact]
    public void AScaleOutAlarmNeverLowersTheCount_AndAScaleInAlarmNeverRaisesIt_ExceptToReachTheBounds()
    {
        GenCase(startInBounds: false).Sample(c =>
        {
            var (lo, hi) = c.Bounds;
            var policy = c.Policy();
            var sim = new Simulation(policy, c.Initial);
            foreach (var (step, at, now) in Once(c))
            {
                var before = sim.DesiredCount;
                var alarm = Event(step, at);
                var d = sim.Feed(alarm, now, c.Target);
                if (d.Desired() is not { } after) continue;
                var direction = policy.Clusters[0].Services[0].Scaling!.FindAlarm(alarm.AlarmName)!.Direction;
                if (direction == ScalingDirection.Out)
                    Assert.True(after > before || before > hi, $"scale-out alarm took {before} → {after}: {d.Reason}");
                else
                    Assert.True(after < before || before < lo, $"scale-in alarm took {before} → {after}: {d.Reason}");
            }
        }, iter: 400);
    }

    [Fact]
    public void ReplayingTheSequenceTwice_WithDuplicatesInterleaved_EndsAtTheSameCountAsOnce()
    {
        Gen.Select(GenCase(startInBounds: true), Gen.Int[0, 1000].Array[40]).Sample((c, picks) =>
        {
            var once = Once(c);
            var expected = Run(c, once).DesiredCount;

            // Every transition delivered again later: some right away, some after later ones, then the whole sequence again.
            var twice = new List<(Step, DateTimeOffset, DateTimeOffset)>();
            for (var i = 0; i < once.Count; i++)
            {
                twice.Add(once[i]);
                var j = picks[i] % (i + 1);
                if (picks[i] % 3 != 0) twice.Add((once[j].Step, once[j].At, once[i].Now)); // a duplicate of an earlier (or the same) transition
            }
            var end = once[^1].Now;
            twice.AddRange(once.Select(o => (o.Step, o.At, end.AddSeconds(1))));

            var actual = Run(c, twice);
            Assert.True(expected == actual.DesiredCount, $"once: {expected}, with duplicates: {actual.DesiredCount}");
        }, iter: 300);
    }
}
