using System.Text.Json.Nodes;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>The schema editors use and the loader agree on the scaling fields: the schema stays in step.</summary>
public class ScalingSchemaTests
{
    private static readonly JsonNode Defs = JsonNode.Parse(File.ReadAllText(Repository.Path("reflex.policy.schema.json")))!["$defs"]!;

    private const string MinimalStep = """{ "lowerBound": 0, "adjustment": 1 }""";
    private const string MinimalAlarm = $$"""{ "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ {{MinimalStep}} ] }""";
    private const string MinimalScaling = $$"""{ "minCount": 1, "maxCount": 3, "alarms": [ {{MinimalAlarm}} ] }""";

    /// <summary>A policy whose scaling, alarm or step object is <paramref name="json"/>, and the path of that object.</summary>
    private static (string Policy, string Path) Place(string def, string json) => def switch
    {
        "scaling" => ($$"""{ "clusters": [{ "cluster": "prod", "services": [{ "service": "web", "scaling": {{json}} }] }] }""", "clusters[0].services[0].scaling"),
        "alarm" => ($$"""{ "clusters": [{ "cluster": "prod", "services": [{ "service": "web", "scaling": { "minCount": 1, "maxCount": 3, "alarms": [ {{json}} ] } }] }] }""", "clusters[0].services[0].scaling.alarms[0]"),
        _ => ($$"""{ "clusters": [{ "cluster": "prod", "services": [{ "service": "web", "scaling": { "minCount": 1, "maxCount": 3, "alarms": [ { "alarmName": "a", "adjustmentType": "ChangeInCapacity", "steps": [ {{json}} ] } ] } }] }] }""", "clusters[0].services[0].scaling.alarms[0].steps[0]"),
    };

    private static string Minimal(string def) => def switch { "scaling" => MinimalScaling, "alarm" => MinimalAlarm, _ => MinimalStep };

    private static IReadOnlyList<PolicyError> Errors(string policy) => PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(policy)).Errors;

    [Theory]
    [InlineData("scaling")]
    [InlineData("alarm")]
    [InlineData("step")]
    public void EveryFieldTheSchemaDescribes_IsKnownToTheLoader(string def)
    {
        var properties = Defs[def]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        Assert.NotEmpty(properties);
        foreach (var name in properties)
        {
            var obj = JsonNode.Parse(Minimal(def))!.AsObject();
            if (!obj.ContainsKey(name)) obj[name] = null; // null reads as absent: only the field's name is on trial
            var (policy, path) = Place(def, obj.ToJsonString());
            Assert.DoesNotContain(Errors(policy), e => e.Path == $"{path}.{name}" && e.Message.StartsWith("unknown field", StringComparison.Ordinal));
        }
        var (bogus, bogusPath) = Place(def, Minimal(def).TrimEnd().TrimEnd('}') + """, "bogus": 1 }""");
        Assert.Contains(Errors(bogus), e => e.Path == $"{bogusPath}.bogus" && e.Message.StartsWith("unknown field", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("scaling")]
    [InlineData("alarm")]
    [InlineData("step")]
    public void EveryFieldTheSchemaRequires_IsRequiredByTheLoader(string def)
    {
        foreach (var name in Defs[def]!["required"]!.AsArray().Select(n => n!.GetValue<string>()))
        {
            var obj = JsonNode.Parse(Minimal(def))!.AsObject();
            obj.Remove(name);
            var (policy, path) = Place(def, obj.ToJsonString());
            Assert.Contains(Errors(policy), e => e.Path == $"{path}.{name}" && e.Message.StartsWith("required field is missing", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("scaleOutCooldownSeconds", ScalingPolicy.DefaultScaleOutCooldownSeconds)]
    [InlineData("scaleInCooldownSeconds", ScalingPolicy.DefaultScaleInCooldownSeconds)]
    [InlineData("scaleInStabilizationSeconds", ScalingPolicy.DefaultScaleInStabilizationSeconds)]
    public void TheSchemasDefaults_AreTheLoadersDefaults(string field, int loaderDefault) =>
        Assert.Equal(loaderDefault, Defs["scaling"]!["properties"]![field]!["default"]!.GetValue<int>());

    [Fact]
    public void TheSchemasChoices_AreTheLoadersChoices()
    {
        Assert.Equal(["leave", "clamp"], Defs["scaling"]!["properties"]!["coexistWithApplicationAutoScaling"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(Enum.GetNames<AdjustmentType>(), Defs["alarm"]!["properties"]!["adjustmentType"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["out", "in"], Defs["alarm"]!["properties"]!["direction"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
    }
}
