using EcsReflex.Bench.HotPath;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// How bench/EcsReflex.Bench.HotPath counts sequential round trips and models wall time (issue 17's figures rest on it):
/// a call that starts while another of its wave is in flight joins the wave; one that starts after they all ended begins a new one.
/// </summary>
public sealed class HotPathRoundTripsTests
{
    private sealed record Call(string Name, long Start, long End, int Latency);

    private static List<string> Waves(params Call[] calls) =>
        RoundTrips.Group(calls, c => c.Start, c => c.End).Select(w => string.Join("+", w.Select(c => c.Name))).ToList();

    [Fact]
    public void CallsOneAfterAnother_AreOneRoundTripEach_EvenWhenOneStartsTheMomentTheOtherEnds()
    {
        Assert.Equal(["a", "b", "c"], Waves(new("a", 0, 4, 4), new("b", 4, 19, 15), new("c", 25, 29, 4)));
    }

    [Fact]
    public void OverlappedCalls_AreOneRoundTrip_AndALateJoinerExtendsIt()
    {
        // b starts while a is in flight; c starts after a ended but while b is still in flight: all three are one wave.
        Assert.Equal(["a+b+c", "d"], Waves(new("c", 12, 16, 4), new("a", 0, 10, 10), new("b", 1, 16, 15), new("d", 16, 20, 4)));
    }

    [Fact]
    public void ModelledWallTime_IsTheLongestLatencyOfEachWave_Summed()
    {
        var calls = new Call[] { new("ddb", 0, 5, 4), new("ecs", 1, 17, 15), new("aas", 2, 12, 10), new("sqs", 20, 31, 10) };
        var waves = RoundTrips.Group(calls, c => c.Start, c => c.End);
        Assert.Equal(2, waves.Count);
        Assert.Equal(15 + 10, RoundTrips.ModelledMs(waves, c => c.Latency));
        Assert.Empty(RoundTrips.Group(Array.Empty<Call>(), c => c.Start, c => c.End));
    }

    [Fact]
    public void Latencies_ParseTheCommandLine_AndKeepTheDefaultsOfServicesNotNamed()
    {
        var l = Latencies.Parse("ddb=2, ecs=30");
        Assert.Equal([2, 30, 10, 10, 10], Services.All.Select(l.For));
        Assert.Throws<FormatException>(() => Latencies.Parse("s3=5"));
    }
}
