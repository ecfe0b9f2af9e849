using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>The placement tests' names for the repository's files and the shared replay harness (<see cref="ReplayHarness"/>), and the snapshot's ARNs.</summary>
internal static class PlacementTestSupport
{
    public static string Events(string relative) => Repository.Path("events", relative);

    public static ReflexPolicy RepoPolicy() => ReplayHarness.Policy();

    public static EmbeddedCluster SnapshotCluster() => ReplayHarness.Cluster();

    /// <summary>Replays files in event time order, as <c>reflex replay</c> does.</summary>
    public static async Task<List<ReplayRecord>> ReplayAsync(ReflexPolicy policy, EmbeddedCluster cluster, params string[] files) =>
        (await ReplayHarness.RunAsync(files, policy, cluster)).Records;

    public static Task<List<ReplayRecord>> ReplayRepoAsync(params string[] eventFiles) =>
        ReplayAsync(RepoPolicy(), SnapshotCluster(), eventFiles.Select(Events).ToArray());

    public static string Json(ActionRequest r) => ActionJson.ToJson(r);

    public const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    public const string InstanceA = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/424b1fee9709931505d95954058b4714";
    public const string InstanceB = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/eee5ec7b4db846c31a728415e4a8e902";
    public const string InstanceC = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/e25ff36ce5fe4bfa26826e3d682b4c41";
    public const string WorkerOnB = "arn:aws:ecs:us-east-1:123456789012:task/prod/34c9b3e6fb6db0102948768be15d1b5e";
}
