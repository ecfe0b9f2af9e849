using EcsReflex.Core.Placement;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

public class PlacementPolicyTests
{
    private static string Policy(string clusterExtras = "", string rulePlacement = "", string services = "") => $$"""
        {
          "clusters": [{
            "cluster": "prod"{{clusterExtras}},
            "reschedule": [{
              "name": "batch-workers",
              "match": { "group": "family:worker" }{{(rulePlacement.Length > 0 ? $",\n              \"placement\": {rulePlacement}" : "")}}
            }]{{(services.Length > 0 ? $",\n            \"services\": [{services}]" : "")}}
          }]
        }
        """;

    private static IReadOnlyList<PolicyError> Errors(string json)
    {
        var (_, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(json));
        return errors;
    }

    private static PolicyError Single(string json)
    {
        var errors = Errors(json);
        return Assert.Single(errors);
    }

    [Fact]
    public void Load_RepositoryPolicy_IsValidWithDrainAndServicePlacement()
    {
        var root = Repository.Root;
        var policy = PolicyLoader.Load(File.ReadAllBytes(Path.Combine(root, "reflex.policy.json")));
        var cluster = Assert.Single(policy.Clusters);
        Assert.NotNull(cluster.Drain);
        var web = cluster.FindService("web");
        Assert.NotNull(web?.Placement);
        Assert.True(web!.Placement!.Enforce);
        Assert.NotNull(web.Placement.Fallback);
    }

    [Fact]
    public void Load_MemberOfWithBadExpression_NamesThePathAndTheCharacter()
    {
        var error = Single(Policy(rulePlacement: """{ "constraints": [ { "type": "memberOf", "expression": "attribute:ecs.instance-type = m5.large" } ] }"""));
        Assert.Equal("clusters[0].reschedule[0].placement.constraints[0].expression", error.Path);
        Assert.Contains("\"=\" is not an operator; use ==", error.Message);
        Assert.Contains("(at character 29)", error.Message);
        Assert.Contains("    attribute:ecs.instance-type = m5.large\n    " + new string(' ', 28) + "^", error.Message);
    }

    [Fact]
    public void Load_ServicePlacementAndFallback_AreValidatedWithTheirPaths()
    {
        var errors = Errors(Policy(services: """
            { "service": "web", "placement": {
                "constraints": [ { "type": "memberOf", "expression": "task:group == " } ],
                "strategy": [ { "type": "spread", "field": "ecs.availability-zone" } ],
                "fallback": { "constraints": [ { "type": "distinctInstance", "expression": "x" } ], "strategy": [ { "type": "binpack", "field": "disk" } ] } } }
            """));
        Assert.Collection(errors.OrderBy(e => e.Path, StringComparer.Ordinal),
            e =>
            {
                Assert.Equal("clusters[0].services[0].placement.constraints[0].expression", e.Path);
                Assert.Contains("expected a value after task:group ==", e.Message);
            },
            e =>
            {
                Assert.Equal("clusters[0].services[0].placement.fallback.constraints[0].expression", e.Path);
                Assert.Contains("distinctInstance takes no expression", e.Message);
            },
            e =>
            {
                Assert.Equal("clusters[0].services[0].placement.fallback.strategy[0].field", e.Path);
                Assert.Contains("binpack packs on \"cpu\" or \"memory\", not \"disk\"", e.Message);
            },
            e =>
            {
                Assert.Equal("clusters[0].services[0].placement.strategy[0].field", e.Path);
                Assert.Contains("did you mean \"attribute:ecs.availability-zone\"?", e.Message);
            });
    }

    private static string Constraints(int n) =>
        "{ \"constraints\": [" + string.Join(", ", Enumerable.Repeat("""{ "type": "memberOf", "expression": "attribute:ecs.os-type == linux" }""", n)) + "] }";

    [Fact]
    public void Load_RuleWithTenConstraints_IsRejectedBecauseEcsReflexAddsOne()
    {
        Assert.Empty(Errors(Policy(rulePlacement: Constraints(9))));
        var error = Single(Policy(rulePlacement: Constraints(10)));
        Assert.Equal("clusters[0].reschedule[0].placement.constraints", error.Path);
        Assert.Contains("has 10 constraints; EcsReflex adds 1", error.Message);
        Assert.Contains("use at most 9 here", error.Message);
    }

    [Fact]
    public void Load_ServiceWithTenConstraints_IsAcceptedAndEleven_Rejected()
    {
        Assert.Empty(Errors(Policy(services: $$"""{ "service": "web", "placement": {{Constraints(10)}} }""")));
        var error = Single(Policy(services: $$"""{ "service": "web", "placement": {{Constraints(11)}} }"""));
        Assert.Equal("clusters[0].services[0].placement.constraints", error.Path);
        Assert.Contains("ECS accepts at most 10 per task, counting the task definition's", error.Message);
    }

    [Fact]
    public void Load_SixStrategies_AreRejected()
    {
        var six = "{ \"strategy\": [" + string.Join(", ", Enumerable.Repeat("""{ "type": "random" }""", 6)) + "] }";
        var error = Single(Policy(rulePlacement: six));
        Assert.Equal("clusters[0].reschedule[0].placement.strategy", error.Path);
        Assert.Contains("at most 5", error.Message);
    }

    public static TheoryData<string, string, string> BadStrategies => new()
    {
        { """{ "type": "spread" }""", "strategy[0].field", "spread needs a field" },
        { """{ "type": "spread", "field": "zone" }""", "strategy[0].field", "\"instanceId\" (or \"host\") or an attribute" },
        { """{ "type": "binpack" }""", "strategy[0].field", "not nothing" },
        { """{ "type": "random", "field": "cpu" }""", "strategy[0].field", "random takes no field" },
        { """{ "type": "fill" }""", "strategy[0].type", "\"fill\" is not a placement strategy" },
        { """{ "field": "cpu" }""", "strategy[0].type", "required field is missing" },
    };

    [Theory]
    [MemberData(nameof(BadStrategies))]
    public void Load_BadStrategy_IsReportedOnce(string strategy, string path, string words)
    {
        var error = Single(Policy(rulePlacement: $$"""{ "strategy": [ {{strategy}} ] }"""));
        Assert.Equal("clusters[0].reschedule[0].placement." + path, error.Path);
        Assert.Contains(words, error.Message);
    }

    [Theory]
    [InlineData("""{ "type": "spread", "field": "instanceId" }""")]
    [InlineData("""{ "type": "spread", "field": "host" }""")]
    [InlineData("""{ "type": "spread", "field": "attribute:ecs.availability-zone" }""")]
    [InlineData("""{ "type": "spread", "field": "attribute:rack" }""")]
    [InlineData("""{ "type": "binpack", "field": "cpu" }""")]
    [InlineData("""{ "type": "binpack", "field": "memory" }""")]
    [InlineData("""{ "type": "random" }""")]
    public void Load_ValidStrategy_IsAccepted(string strategy)
    {
        Assert.Empty(Errors(Policy(rulePlacement: $$"""{ "strategy": [ {{strategy}} ] }""")));
    }

    [Fact]
    public void Load_Drain_ReadsItsSettingsAndDefaults()
    {
        var defaults = PolicyLoader.Load(Policy()).Clusters[0];
        Assert.Null(defaults.Drain);
        Assert.Equal(300, DrainPolicy.Default.AgentDisconnectedGraceSeconds);
        Assert.Null(DrainPolicy.Default.StopOriginalAfterSeconds);

        var set = PolicyLoader.Load(Policy(clusterExtras: """, "drain": { "stopOriginalAfterSeconds": 120, "agentDisconnectedGraceSeconds": 60 }""")).Clusters[0].Drain!;
        Assert.Equal(120, set.StopOriginalAfterSeconds);
        Assert.Equal(60, set.AgentDisconnectedGraceSeconds);

        var grace = PolicyLoader.Load(Policy(clusterExtras: """, "drain": {}""")).Clusters[0].Drain!;
        Assert.Equal(300, grace.AgentDisconnectedGraceSeconds);
        Assert.Null(grace.StopOriginalAfterSeconds);
    }

    [Theory]
    [InlineData("""{ "agentDisconnectedGraceSeconds": -1 }""", "clusters[0].drain.agentDisconnectedGraceSeconds", "out of range")]
    [InlineData("""{ "stopOriginalAfterSeconds": "soon" }""", "clusters[0].drain.stopOriginalAfterSeconds", "expected a whole number")]
    [InlineData("""{ "stopOriginalAfter": 30 }""", "clusters[0].drain.stopOriginalAfter", "unknown field")]
    public void Load_BadDrain_IsReported(string drain, string path, string words)
    {
        var error = Single(Policy(clusterExtras: $", \"drain\": {drain}"));
        Assert.Equal(path, error.Path);
        Assert.Contains(words, error.Message);
    }

    [Fact]
    public void Load_ServicePlacement_ReadsEnforceFallbackAndRestore()
    {
        var placement = PolicyLoader.Load(Policy(services: """
            { "service": "web", "placement": {
                "constraints": [ { "type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*" } ],
                "strategy": [ { "type": "spread", "field": "attribute:ecs.availability-zone" } ],
                "enforce": true,
                "fallback": { "strategy": [ { "type": "random" } ] },
                "restoreAfterSeconds": 600 } }
            """)).Clusters[0].Services[0].Placement!;
        Assert.True(placement.Enforce);
        Assert.Equal("attribute:ecs.instance-type =~ m5.*", Assert.Single(placement.Constraints).Expression);
        Assert.Equal("random", Assert.Single(placement.Fallback!.Strategy).Type);
        Assert.Empty(placement.Fallback.Constraints);
        Assert.Equal(600, placement.RestoreAfterSeconds);

        var plain = PolicyLoader.Load(Policy(services: """{ "service": "web", "placement": {} }""")).Clusters[0].Services[0].Placement!;
        Assert.False(plain.Enforce);
        Assert.Null(plain.Fallback);
        Assert.Equal(900, plain.RestoreAfterSeconds);
    }

    [Fact]
    public void Load_RestoreAfterSecondsWithoutFallback_IsRejected()
    {
        var error = Single(Policy(services: """{ "service": "web", "placement": { "restoreAfterSeconds": 60 } }"""));
        Assert.Equal("clusters[0].services[0].placement.restoreAfterSeconds", error.Path);
        Assert.Contains("there is no \"fallback\"", error.Message);
    }

    [Fact]
    public void Schema_DescribesTheSameDrainAndPlacementFieldsAndLimitsAsTheLoader()
    {
        using var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repository.Root, "reflex.policy.schema.json")));
        var defs = schema.RootElement.GetProperty("$defs");
        static string[] Keys(System.Text.Json.JsonElement def) =>
            def.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["agentDisconnectedGraceSeconds", "stopOriginalAfterSeconds"], Keys(defs.GetProperty("drain")));
        Assert.Equal(["constraints", "enforce", "fallback", "restoreAfterSeconds", "strategy"], Keys(defs.GetProperty("servicePlacement")));
        Assert.Equal(["constraints", "strategy"], Keys(defs.GetProperty("rulePlacement")));
        Assert.Equal(PlacementValidator.MaxConstraints - 1, defs.GetProperty("rulePlacement").GetProperty("properties").GetProperty("constraints").GetProperty("maxItems").GetInt32());
        Assert.Equal(PlacementValidator.MaxConstraints, defs.GetProperty("constraints").GetProperty("maxItems").GetInt32());
        Assert.Equal(PlacementValidator.MaxStrategies, defs.GetProperty("strategies").GetProperty("maxItems").GetInt32());
        Assert.Equal(DrainPolicy.DefaultAgentDisconnectedGraceSeconds, defs.GetProperty("drain").GetProperty("properties").GetProperty("agentDisconnectedGraceSeconds").GetProperty("default").GetInt32());
        Assert.Equal(ServicePlacementPolicy.DefaultRestoreAfterSeconds, defs.GetProperty("servicePlacement").GetProperty("properties").GetProperty("restoreAfterSeconds").GetProperty("default").GetInt32());
    }

    [Fact]
    public void Validator_RequestShapedPlacement_CountsTheTaskDefinitionsConstraints()
    {
        var constraints = Enumerable.Repeat(new Ecs.PlacementConstraint { Type = "distinctInstance" }, 8).ToList();
        Assert.Empty(PlacementValidator.Validate(constraints, null, taskDefinitionConstraints: 2));
        var problem = Assert.Single(PlacementValidator.Validate(constraints, null, taskDefinitionConstraints: 3));
        Assert.Equal("constraints", problem.Path);
        Assert.Contains("the task definition has 3", problem.Message);
        Assert.Contains("use at most 7 here", problem.Message);
    }
}
