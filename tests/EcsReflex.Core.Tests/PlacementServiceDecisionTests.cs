using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class PlacementServiceDecisionTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string WebArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
    private static readonly DateTimeOffset Now = new(2026, 3, 11, 10, 0, 0, TimeSpan.Zero);

    private static ReflexPolicy Policy(bool enforce = true, bool fallback = true) => PolicyLoader.Load($$"""
        {
          "clusters": [{
            "cluster": "prod",
            "services": [{
              "service": "web",
              "placement": {
                "constraints": [ { "type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*" } ],
                "strategy": [ { "type": "spread", "field": "attribute:ecs.availability-zone" }, { "type": "binpack", "field": "memory" } ],
                "enforce": {{(enforce ? "true" : "false")}}{{(fallback ? """
                ,
                "fallback": { "strategy": [ { "type": "spread", "field": "attribute:ecs.availability-zone" } ] },
                "restoreAfterSeconds": 900
        """ : "")}}
              }
            }]
          }]
        }
        """);

    private static ObservedService Web(IReadOnlyList<PlacementConstraint>? constraints = null, IReadOnlyList<PlacementStrategy>? strategy = null, string launchType = "EC2") => new()
    {
        ServiceArn = WebArn,
        ServiceName = "web",
        ClusterArn = Cluster,
        LaunchType = launchType,
        PlacementConstraints = constraints ?? [],
        PlacementStrategy = strategy ?? [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }],
    };

    private static DeploymentStateChange Deployment(string name = "SERVICE_DEPLOYMENT_IN_PROGRESS") => new()
    {
        EventName = name, ServiceArn = WebArn, ClusterArn = Cluster, UpdatedAt = Now,
    };

    private static ServiceAction Action(string name, string? reason = null) => new()
    {
        EventName = name, ServiceArn = WebArn, ClusterArn = Cluster, Reason = reason, CreatedAt = Now,
    };

    private const string Preferred =
        "\"placementConstraints\":[{\"type\":\"memberOf\",\"expression\":\"attribute:ecs.instance-type =~ m5.*\"}]," +
        "\"placementStrategy\":[{\"type\":\"spread\",\"field\":\"attribute:ecs.availability-zone\"},{\"type\":\"binpack\",\"field\":\"memory\"}]}";

    private const string Fallback =
        "\"placementConstraints\":[],\"placementStrategy\":[{\"type\":\"spread\",\"field\":\"attribute:ecs.availability-zone\"}]}";

    [Theory]
    [InlineData("SERVICE_DEPLOYMENT_IN_PROGRESS")]
    [InlineData("SERVICE_DEPLOYMENT_COMPLETED")]
    public void Decide_WhenTheServiceDriftedFromThePolicy_RestoresItWithOneUpdateService(string eventName)
    {
        var d = PlacementGuard.DecideDeployment(Deployment(eventName), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardDriftRestore, d.Code);
        var update = Assert.Single(d.Actions);
        Assert.Equal(("ecs", "UpdateService"), (update.Service, update.Operation));
        Assert.Equal("{\"cluster\":\"" + Cluster + "\",\"service\":\"web\"," + Preferred, ActionJson.ToJson(update.Request));
        Assert.Equal(
            "web drifted from the policy's placement (constraint memberOf(attribute:ecs.instance-type =~ m5.*) missing; " +
            "strategy is [spread(attribute:ecs.availability-zone)], the policy says [spread(attribute:ecs.availability-zone), binpack(memory)]): restoring it with UpdateService",
            d.Reason);
    }

    [Fact]
    public void Decide_WhenThePlacementMatchesInAnotherSpelling_DoesNothing()
    {
        var service = Web(
            [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type  matches  m5.*" }],
            [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }, new PlacementStrategy { Type = "binpack", Field = "memory" }]);
        var d = PlacementGuard.DecideDeployment(Deployment(), Policy(), new ServiceObservation { Service = service }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardPlacementMatches, d.Code);
        Assert.Equal("SERVICE_DEPLOYMENT_IN_PROGRESS of web: its placement matches the policy's placement", d.Reason);
    }

    [Fact]
    public void Decide_StrategiesInAnotherOrder_AreADrift()
    {
        var service = Web(
            [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type =~ m5.*" }],
            [new PlacementStrategy { Type = "binpack", Field = "memory" }, new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }]);
        var d = PlacementGuard.DecideDeployment(Deployment(), Policy(), new ServiceObservation { Service = service }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.DoesNotContain("constraint", d.Reason);
    }

    [Fact]
    public void Decide_ExtraConstraintOnTheService_IsReportedAndRemoved()
    {
        var service = Web(
            [new PlacementConstraint { Type = "memberOf", Expression = "attribute:ecs.instance-type =~ m5.*" }, new PlacementConstraint { Type = "distinctInstance" }],
            [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }, new PlacementStrategy { Type = "binpack", Field = "memory" }]);
        var d = PlacementGuard.DecideDeployment(Deployment(), Policy(), new ServiceObservation { Service = service }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Contains("constraint distinctInstance not in the policy", d.Reason);
        Assert.Equal("{\"cluster\":\"" + Cluster + "\",\"service\":\"web\"," + Preferred, ActionJson.ToJson(d.Actions[0].Request));
    }

    [Fact]
    public void Decide_FargateService_SaysSoAndDoesNothing()
    {
        var d = PlacementGuard.DecideDeployment(Deployment(), Policy(), new ServiceObservation { Service = Web(launchType: "FARGATE") }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardFargate, d.Code);
        Assert.Empty(d.Actions);
        Assert.Equal("web runs on Fargate, which takes no placement constraints or strategies: nothing to enforce", d.Reason);
    }

    [Fact]
    public void Decide_PlacementNotEnforced_DoesNothing()
    {
        var d = PlacementGuard.DecideDeployment(Deployment(), Policy(enforce: false), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardNotEnforced, d.Code);
        Assert.Contains("not enforced", d.Reason);
    }

    [Fact]
    public void Decide_FailedDeployment_IsNotAPlacementMatter()
    {
        var d = PlacementGuard.DecideDeployment(Deployment("SERVICE_DEPLOYMENT_FAILED"), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardNotADeploymentCheck, d.Code);
        Assert.Empty(d.Actions);
    }

    [Fact]
    public void Decide_WhileTheFallbackIsInEffect_EnforcesTheFallback()
    {
        var record = new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Now.AddMinutes(-5) };
        var onFallback = PlacementGuard.DecideDeployment(Deployment(), Policy(), new ServiceObservation { Service = Web(), Record = record }, Now);
        Assert.Equal(Outcome.Ignored, onFallback.Outcome);
        Assert.Contains("matches the fallback placement", onFallback.Reason);
    }

    [Theory]
    [InlineData("RESOURCE:MEMORY", "memory")]
    [InlineData("RESOURCE:CPU", "CPU")]
    [InlineData("RESOURCE:PORTS", "free ports")]
    [InlineData("RESOURCE:ENI", "network interfaces (ENI)")]
    public void Decide_ResourcePlacementFailure_IsReportedAndLeftToCapacityProviders(string reason, string missing)
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", reason), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardResourceShortage, d.Code);
        Assert.Empty(d.Actions);
        Assert.Equal($"ECS could not place a task of web: no container instance has enough {missing} ({reason}); left to the capacity providers", d.Reason);
    }

    [Theory]
    [InlineData("MemberOf placement constraint unsatisfied.")]
    [InlineData("DistinctInstance placement constraint unsatisfied.")]
    public void Decide_ConstraintPlacementFailure_AppliesTheFallback(string reason)
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", reason), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardFallbackApply, d.Code);
        var update = Assert.Single(d.Actions);
        Assert.Equal("{\"cluster\":\"" + Cluster + "\",\"service\":\"web\"," + Fallback, ActionJson.ToJson(update.Request));
        Assert.Contains("the preferred one comes back on the first steady state after 10:15:00", d.Reason);
        var write = Assert.IsType<ServicePlacementWrite>(Assert.Single(d.Writes));
        Assert.Equal(CommitPoint.AfterAction, write.When);
        Assert.Same(update, d.Actions[write.ActionIndex]);
        Assert.Equal(Now, write.Record.FallbackAppliedAt);
        Assert.Equal(reason, write.Record.FallbackReason);
    }

    [Fact]
    public void Decide_ConstraintFailureWithoutFallback_IsReported()
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", "MemberOf placement constraint unsatisfied."), Policy(fallback: false), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardNoFallback, d.Code);
        Assert.Contains("has no fallback placement", d.Reason);
    }

    [Fact]
    public void Decide_ConstraintFailureWhileOnTheFallback_ChangesNothing()
    {
        var record = new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Now.AddMinutes(-1) };
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", "MemberOf placement constraint unsatisfied."), Policy(), new ServiceObservation { Service = Web(), Record = record }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardFallbackInEffect, d.Code);
        Assert.Contains("already in effect since 09:59:00", d.Reason);
    }

    [Theory]
    [InlineData("AGENT")]
    [InlineData("")]
    public void Decide_OtherPlacementFailure_IsLeftToEcs(string reason)
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", reason), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardNotAConstraintFailure, d.Code);
        Assert.Empty(d.Actions);
        Assert.Contains("is not caused by a placement constraint", d.Reason);
    }

    [Fact]
    public void Decide_SteadyStateBeforeRestoreAfterSeconds_KeepsTheFallback()
    {
        var record = new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Now };
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_STEADY_STATE"), Policy(), new ServiceObservation { Service = Web(), Record = record }, Now.AddSeconds(899));
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal(ReasonCodes.GuardRestoreNotYet, d.Code);
        Assert.Contains("comes back on the first steady state after 10:15:00", d.Reason);
    }

    [Fact]
    public void Decide_SteadyStateAfterRestoreAfterSeconds_RestoresThePreferredPlacement()
    {
        var record = new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Now };
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_STEADY_STATE"), Policy(), new ServiceObservation { Service = Web(), Record = record }, Now.AddSeconds(900));
        Assert.Equal(Outcome.Acted, d.Outcome);
        Assert.Equal(ReasonCodes.GuardFallbackRestore, d.Code);
        var update = Assert.Single(d.Actions);
        Assert.Equal("{\"cluster\":\"" + Cluster + "\",\"service\":\"web\"," + Preferred, ActionJson.ToJson(update.Request));
        var write = Assert.IsType<ServicePlacementWrite>(Assert.Single(d.Writes));
        Assert.Equal(CommitPoint.AfterAction, write.When);
        Assert.Same(update, d.Actions[write.ActionIndex]);
        Assert.Null(write.Record.FallbackAppliedAt);
    }

    [Fact]
    public void Decide_SteadyStateWithoutFallbackInEffect_DoesNothing()
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_STEADY_STATE"), Policy(), new ServiceObservation { Service = Web() }, Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Equal("web reached a steady state; no fallback placement is in effect", d.Reason);
    }

    [Fact]
    public void Decide_ServiceNotInThePolicy_IsIgnored()
    {
        var d = PlacementGuard.DecideServiceAction(Action("SERVICE_TASK_PLACEMENT_FAILURE", "MemberOf placement constraint unsatisfied.") with { ServiceArn = "arn:aws:ecs:us-east-1:123456789012:service/prod/api" },
            Policy(), new ServiceObservation(), Now);
        Assert.Equal(Outcome.Ignored, d.Outcome);
        Assert.Contains("service api is not in the policy", d.Reason);
    }
}
