using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Engine.State;
using static EcsReflex.Engine.Tests.PlacementTestSupport;

namespace EcsReflex.Engine.Tests;

public class PlacementServiceScenarioTests
{
    private const string Preferred =
        "\"placementConstraints\":[{\"type\":\"memberOf\",\"expression\":\"attribute:ecs.instance-type =~ m5.*\"}]," +
        "\"placementStrategy\":[{\"type\":\"spread\",\"field\":\"attribute:ecs.availability-zone\"},{\"type\":\"binpack\",\"field\":\"memory\"}]}";

    private const string Fallback =
        "\"placementConstraints\":[],\"placementStrategy\":[{\"type\":\"spread\",\"field\":\"attribute:ecs.availability-zone\"}]}";

    [Fact]
    public async Task Replay_ServiceDrift_RestoresThePolicysPlacementOnceAndThenFindsItInPlace()
    {
        var cluster = SnapshotCluster();
        var records = await ReplayAsync(RepoPolicy(), cluster, Events("scenarios/service-drift.jsonl"));
        Assert.Equal(2, records.Count);

        var fix = records[0];
        Assert.Equal(("placement-guard", Outcome.Acted), (fix.Handler, fix.Outcome));
        var update = Assert.Single(fix.Actions);
        Assert.Equal(("ecs", "UpdateService", "done"), (update.Action.Service, update.Action.Operation, update.Status));
        Assert.Equal("{\"cluster\":\"" + ClusterArn + "\",\"service\":\"web\"," + Preferred, Json(update.Action.Request));
        Assert.Contains("constraint memberOf(attribute:ecs.instance-type =~ m5.*) missing", fix.Reason);

        var web = cluster.FindService(ClusterArn, "web")!;
        Assert.Equal("attribute:ecs.instance-type =~ m5.*", Assert.Single(web.PlacementConstraints).Expression);
        Assert.Equal(["spread", "binpack"], web.PlacementStrategy.Select(s => s.Type));

        Assert.Equal(Outcome.Ignored, records[1].Outcome);
        Assert.Equal("SERVICE_DEPLOYMENT_COMPLETED of web: its placement matches the policy's placement", records[1].Reason);
    }

    [Fact]
    public async Task Replay_FallbackAndRestore_AppliesTheFallbackAndRestoresOnTheFirstSteadyStateAfter900Seconds()
    {
        var cluster = SnapshotCluster();
        var store = new InMemoryStateStore();
        var engine = new Replay.ReplayEngine(RepoPolicy(), cluster, store);
        var records = await ReplayHarness.RecordsAsync(engine, ReplayHarness.Inputs([Events("scenarios/placement-fallback-restore.jsonl")]));

        Assert.Equal(
        [
            ("web SERVICE_TASK_PLACEMENT_FAILURE", Outcome.Acted),
            ("web SERVICE_STEADY_STATE", Outcome.Ignored),
            ("web SERVICE_TASK_PLACEMENT_FAILURE", Outcome.Ignored),
            ("web SERVICE_DEPLOYMENT_IN_PROGRESS", Outcome.Ignored),
            ("web SERVICE_STEADY_STATE", Outcome.Acted),
        ], records.Select(r => (r.Summary, r.Outcome)).ToList());

        Assert.Equal("{\"cluster\":\"" + ClusterArn + "\",\"service\":\"web\"," + Fallback, Json(Assert.Single(records[0].Actions).Action.Request));
        Assert.Contains("the preferred placement comes back on the first steady state after 10:15:00", records[1].Reason);
        Assert.Equal("ECS could not place a task of web: no container instance has enough CPU (RESOURCE:CPU); left to the capacity providers", records[2].Reason);
        Assert.Contains("matches the fallback placement", records[3].Reason);
        Assert.Equal("{\"cluster\":\"" + ClusterArn + "\",\"service\":\"web\"," + Preferred, Json(Assert.Single(records[4].Actions).Action.Request));

        var record = await store.GetServicePlacementAsync("prod", "web", default);
        Assert.NotNull(record);
        Assert.Null(record!.FallbackAppliedAt);
        Assert.Equal("attribute:ecs.instance-type =~ m5.*", Assert.Single(cluster.FindService(ClusterArn, "web")!.PlacementConstraints).Expression);
    }

    [Fact]
    public async Task Replay_SamplePlacementFailureForMemory_IsReportedNotActedOn()
    {
        var records = await ReplayRepoAsync("ecs-service-action-task-placement-failure-memory.json");
        var r = Assert.Single(records);
        Assert.Equal(Outcome.Ignored, r.Outcome);
        Assert.Equal("ECS could not place a task of web: no container instance has enough memory (RESOURCE:MEMORY); left to the capacity providers", r.Reason);
    }
}
