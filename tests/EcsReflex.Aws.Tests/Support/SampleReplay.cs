using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>The repository's sample events and scenarios replayed on the embedded cluster, as `reflex replay` does.</summary>
public static class SampleReplay
{
    public static async Task<IReadOnlyList<ReplayRecord>> RunAsync() =>
        (await ReplayHarness.RunAsync([Repository.Events], label: ReplayHarness.FromRoot)).Records;

    /// <summary>Every action of the replay that would go to AWS (service <c>ecs</c>...), with the input it came from.</summary>
    public static async Task<IReadOnlyList<(string Input, ReflexAction Action)>> AwsActionsAsync() =>
        (await RunAsync()).SelectMany(r => r.Actions.Select(a => (r.Input, a.Action))).Where(x => x.Action.Service != "reflex").ToList();
}
