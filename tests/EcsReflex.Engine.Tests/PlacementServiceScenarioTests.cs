using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
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
        Assert.Equal(ReasonCodes.GuardDriftRestore, fix.Code);

        var web = cluster.FindService(ClusterArn, "web")!;
        Assert.Equal("attribute:ecs.instance-type =~ m5.*", Assert.Single(web.PlacementConstraints).Expression);
        Assert.Equal(["spread", "binpack"], web.PlacementStrategy.Select(s => s.Type));

        Assert.Equal((Outcome.Ignored, ReasonCodes.GuardPlacementMatches), (records[1].Outcome, records[1].Code));
        Assert.Equal("SERVICE_DEPLOYMENT_COMPLETED", ((DeploymentStateChange)records[1].Event!.Detail).EventName);
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
        Assert.Equal(
            [ReasonCodes.GuardFallbackApply, ReasonCodes.GuardRestoreNotYet, ReasonCodes.GuardResourceShortage, ReasonCodes.GuardPlacementMatches, ReasonCodes.GuardFallbackRestore],
            records.Select(r => r.Code));
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
        Assert.Equal((Outcome.Ignored, ReasonCodes.GuardResourceShortage), (r.Outcome, r.Code));
        Assert.Empty(r.Actions);
    }
}
