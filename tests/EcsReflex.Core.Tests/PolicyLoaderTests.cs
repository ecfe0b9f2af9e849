using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class PolicyLoaderTests
{
    private const string Valid = """
    {
      "clusters": [{
        "cluster": "prod",
        "limits": { "maxRelaunchesPerMinute": 7 },
        "reschedule": [{
          "name": "batch-workers",
          "match": { "group": "family:worker" },
          "restart": "Always",
          "maxAttempts": 4,
          "backoff": { "initialSeconds": 5, "multiplier": 3, "maxSeconds": 100 },
          "resetAfterSeconds": 60,
          "ignoreExitCodes": [143, 130],
          "avoidFailedInstance": false,
          "placement": { "constraints": [{ "type": "distinctInstance" }], "strategy": [{ "type": "binpack", "field": "memory" }] },
          "network": { "subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED" }
        }]
      }]
    }
    """;

    [Fact]
    public void TheRepositoryPolicy_IsValid()
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Path("reflex.policy.json")));
        Assert.NotEmpty(policy.Clusters);
        Assert.NotEmpty(policy.Clusters[0].Reschedule);
    }

    [Fact]
    public void AValidPolicy_IsReadWithEveryField()
    {
        var p = PolicyLoader.Load(Valid);
        var c = Assert.Single(p.Clusters);
        Assert.Equal("prod", c.Name);
        Assert.Equal(7, c.Limits.MaxRelaunchesPerMinute);
        var r = Assert.Single(c.Reschedule);
        Assert.Equal(("batch-workers", "family:worker", RestartMode.Always, 4), (r.Name, r.Match.Group, r.Restart, r.MaxAttempts));
        Assert.Equal((5.0, 3.0, 100.0), (r.Backoff.InitialSeconds, r.Backoff.Multiplier, r.Backoff.MaxSeconds));
        Assert.Equal(60, r.ResetAfterSeconds);
        Assert.Equal([143, 130], r.IgnoreExitCodes);
        Assert.False(r.AvoidFailedInstance);
        Assert.Equal("distinctInstance", r.Placement.Constraints[0].Type);
        Assert.Equal(("binpack", "memory"), (r.Placement.Strategy[0].Type, r.Placement.Strategy[0].Field));
        Assert.Equal(("subnet-1", "sg-1", "ENABLED"), (r.Network!.Subnets[0], r.Network.SecurityGroups[0], r.Network.AssignPublicIp));
        Assert.Equal("clusters[0].reschedule[0]", r.Path);
    }

    [Fact]
    public void Defaults_ApplyWhenFieldsAreAbsent()
    {
        var p = PolicyLoader.Load("""{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"taskDefinitionFamily":"worker"}}]}]}""");
        var c = p.Clusters[0];
        var r = c.Reschedule[0];
        Assert.Equal(20, c.Limits.MaxRelaunchesPerMinute);
        Assert.Equal((RestartMode.OnFailure, 3, 600, true), (r.Restart, r.MaxAttempts, r.ResetAfterSeconds, r.AvoidFailedInstance));
        Assert.Equal((10.0, 2.0, 300.0), (r.Backoff.InitialSeconds, r.Backoff.Multiplier, r.Backoff.MaxSeconds));
    }

    public static TheoryData<string, string, string> Invalid => new()
    {
        { """{"clusters":[]}""", "clusters", "at least one cluster" },
        { """{}""", "clusters", "required field is missing" },
        { """{"clusters":[{"cluster":"prod","limit":{}}]}""", "clusters[0].limit", "unknown field" },
        { """{"clusters":[{"cluster":"not a name!"}]}""", "clusters[0].cluster", "neither a cluster name" },
        { """{"clusters":[{"cluster":"prod","limits":{"maxRelaunchesPerMinute":0}}]}""", "clusters[0].limits.maxRelaunchesPerMinute", "out of range" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r"}]}]}""", "clusters[0].reschedule[0].match", "required field is missing" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{}}]}]}""", "clusters[0].reschedule[0].match", "at least one of" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"service:web"}}]}]}""", "clusters[0].reschedule[0].match.group", "service scheduler" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"restart":"Sometimes"}]}]}""", "clusters[0].reschedule[0].restart", "OnFailure" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"maxAttempts":"3"}]}]}""", "clusters[0].reschedule[0].maxAttempts", "expected a whole number, got \"3\"" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"backoff":{"multiplier":0.5}}]}]}""", "clusters[0].reschedule[0].backoff.multiplier", "out of range" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"backoff":{"initialSeconds":60,"maxSeconds":10}}]}]}""", "clusters[0].reschedule[0].backoff.maxSeconds", "less than initialSeconds" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"network":{"subnets":[]}}]}]}""", "clusters[0].reschedule[0].network.subnets", "1 to 16" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"network":{"subnets":["s"],"assignPublicIp":"YES"}}]}]}""", "clusters[0].reschedule[0].network.assignPublicIp", "ENABLED" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"placement":{"constraints":[{"type":"memberOf"}]}}]}]}""", "clusters[0].reschedule[0].placement.constraints[0].expression", "memberOf needs an expression" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"placement":{"strategy":[{"type":"binpack","field":"disk"}]}}]}]}""", "clusters[0].reschedule[0].placement.strategy[0].field", "binpack packs on" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"},"placement":{"strategy":[{"type":"fancy"}]}}]}]}""", "clusters[0].reschedule[0].placement.strategy[0].type", "not a placement strategy" },
        { """{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"g"}},{"name":"r","match":{"group":"h"}}]}]}""", "clusters[0].reschedule[1].name", "already used" },
        { """{"clusters":[{"cluster":"prod"},{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}]}""", "clusters[1].cluster", "already configured" },
        { """{"clusters":[{"cluster":"prod"}], "extra": 1}""", "extra", "unknown field" },
        { """{"clusters":[{"cluster":"prod",}]""", "", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidPolicies_NameThePathAndTheReason(string json, string path, string fragment)
    {
        var (policy, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Null(policy);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        var ex = Assert.Throws<PolicyInvalidException>(() => PolicyLoader.Load(
            """{"clusters":[{"cluster":"prod","limits":{"maxRelaunchesPerMinute":-1},"reschedule":[{"name":"bad name","match":{},"maxAttempts":0}]}]}"""));
        Assert.Equal(
            ["clusters[0].limits.maxRelaunchesPerMinute", "clusters[0].reschedule[0].match", "clusters[0].reschedule[0].maxAttempts", "clusters[0].reschedule[0].name"],
            ex.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains("4 problems", ex.Message);
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAccepted()
    {
        var p = PolicyLoader.Load("""
            // production
            {"clusters":[{"cluster":"prod",},],}
            """);
        Assert.Equal("prod", p.Clusters[0].Name);
    }

    [Theory]
    [InlineData("prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", true)]
    [InlineData("prod", "arn:aws:ecs:eu-west-1:999999999999:cluster/prod", true)]
    [InlineData("prod", "arn:aws:ecs:us-east-1:123456789012:cluster/production", false)]
    [InlineData("arn:aws:ecs:us-east-1:123456789012:cluster/prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", true)]
    [InlineData("arn:aws:ecs:us-east-1:123456789012:cluster/prod", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", false)]
    public void ClusterMatching_ByNameOrExactArn(string configured, string eventArn, bool matches)
    {
        var p = PolicyLoader.Load($$"""{"clusters":[{"cluster":"{{configured}}"}]}""");
        Assert.Equal(matches, p.FindCluster(eventArn) is not null);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(6, 320)]
    [InlineData(7, 360)]
    [InlineData(50, 360)]
    public void Backoff_IsMinOfInitialTimesMultiplierPowerAndMax(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), new Backoff { InitialSeconds = 10, Multiplier = 2, MaxSeconds = 360 }.DelayFor(attempt));
}
