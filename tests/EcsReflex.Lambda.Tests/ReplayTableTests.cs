using EcsReflex.Core.Observed;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>docs/lambda.md: <c>reflex replay --lambda</c> prints the same table as the in-process replay, line for line.</summary>
public sealed class ReplayTableOnTheJitTests
{
    private static BootstrapCommand Jit => BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"));

    [Fact]
    public async Task ScalingScenario_OnTheJit_PrintsTheInProcessTable_DesiredFromTo()
    {
        var scenario = Repository.Path("events", "scenarios", "scaling.jsonl");
        var expected = await Tables.InProcessAsync(scenario, Replays.Snapshot);
        var actual = await Tables.ThroughBootstrapAsync(Jit, scenario, Replays.Snapshot);
        Assert.Contains(expected, l => l.Contains("UpdateService web desired 4 → 5", StringComparison.Ordinal));
        Replays.AssertSame(expected, actual);
    }

    [Fact]
    public async Task UnplacedTaskStarts_OnTheJit_AreMarkedAsInProcess()
    {
        var stop = Repository.Path("events", "ecs-task-stopped-essential-exit-1.json");
        var expected = await Tables.InProcessAsync(stop, ClusterSnapshot.Empty);
        var actual = await Tables.ThroughBootstrapAsync(Jit, stop, ClusterSnapshot.Empty);
        Assert.Contains(expected, l => l.Contains("RunTask worker:7 unplaced as reflex/", StringComparison.Ordinal));
        Replays.AssertSame(expected, actual);
    }
}

/// <summary>The same through the published Native AOT binary, the artifact that ships.</summary>
[Collection(PublishedBootstrapCollection.Name)]
public sealed class ReplayTableOnTheBinaryTests(PublishedBootstrapFixture fixture)
{
    [Fact]
    public async Task ScalingScenario_ThroughTheBinary_PrintsTheInProcessTable_DesiredFromTo()
    {
        var native = BootstrapCommand.Native(fixture.Published.BootstrapPath);
        var scenario = Repository.Path("events", "scenarios", "scaling.jsonl");
        var expected = await Tables.InProcessAsync(scenario, Replays.Snapshot);
        var actual = await Tables.ThroughBootstrapAsync(native, scenario, Replays.Snapshot);
        Assert.Contains(expected, l => l.Contains("UpdateService web desired 4 → 5", StringComparison.Ordinal));
        Replays.AssertSame(expected, actual);
    }
}
