using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.Lambda;
using EcsReflex.Core.Policy;

// The CDK runs in one jsii (node) process per test process; its .NET client is not made for concurrent calls.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace EcsReflex.Infra.Tests;

/// <summary>A temporary folder removed at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ecsreflex-infra-tests-").FullName;
    public string File(string name, string content)
    {
        var p = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, content);
        return p;
    }
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Builds stacks the way tests need them: the function code is a folder with a dummy bootstrap, passed through props.</summary>
public static class Stacks
{
    /// <summary>
    /// The policy of most template tests: a cluster by ARN with a family rule and a family-group rule, a
    /// cluster by name with a rule that matches only by startedBy prefix, and a cluster with no rule.
    /// </summary>
    public const string TestPolicy = """
        {
          "clusters": [
            {
              "cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
              "reschedule": [
                { "name": "reports", "match": { "taskDefinitionFamily": "report", "startedByPrefix": "scheduler" } },
                { "name": "workers", "match": { "group": "family:worker" } }
              ]
            },
            {
              "cluster": "batch",
              "reschedule": [ { "name": "airflow", "match": { "startedByPrefix": "airflow/" } } ]
            },
            { "cluster": "idle" }
          ]
        }
        """;

    public const string ProdArn = "arn:aws:ecs:eu-west-1:111122223333:cluster/prod";
    public const string ProdPrefix = "arn:aws:ecs:eu-west-1:111122223333:";
    public const string StackPrefix = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:";

    /// <param name="code">Where the dummy function code goes; the caller removes it.</param>
    public static ReflexStack Build(TempDir code, ReflexPolicy policy, Func<ReflexStackProps, ReflexStackProps>? tweak = null)
    {
        code.File("code/bootstrap", "#!/bin/sh\n");
        var props = new ReflexStackProps { Policy = policy, Code = Code.FromAsset(System.IO.Path.Combine(code.Path, "code")) };
        if (tweak is not null) props = tweak(props);
        return new ReflexStack(new App(), "EcsReflex", props);
    }

    /// <summary>The synthesized template as JSON nodes, to walk it where Match is awkward (every IAM statement).</summary>
    public static JsonNode Json(Template template) =>
        JsonNode.Parse(Newtonsoft.Json.JsonConvert.SerializeObject(template.ToJSON()))!;

    public static IEnumerable<(string Policy, JsonObject Statement)> Statements(JsonNode template)
    {
        foreach (var (id, resource) in template["Resources"]!.AsObject())
        {
            if ((string?)resource!["Type"] != "AWS::IAM::Policy") continue;
            foreach (var s in resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
                yield return (id, s!.AsObject());
        }
    }

    public static IReadOnlyList<JsonNode?> AsList(JsonNode? node) => node is JsonArray a ? [.. a] : [node];

    /// <summary>The statements of the role of one handler's function.</summary>
    public static List<JsonObject> StatementsOf(JsonNode template, string handler)
    {
        var prefix = ReflexStack.Pascal(handler) + "Role";
        return [.. Statements(template).Where(s => s.Policy.StartsWith(prefix, StringComparison.Ordinal)).Select(s => s.Statement)];
    }

    private static readonly string[] MutatingEcsActions =
        ["ecs:RunTask", "ecs:StopTask", "ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StartTask", "ecs:CreateService",
         "ecs:DeleteService", "ecs:UpdateContainerInstancesState", "ecs:PutAttributes", "ecs:DeleteAttributes"];

    /// <summary>No IAM statement of the template allows a mutating ECS action (or any wildcard action) on "*".</summary>
    public static void AssertNoMutatingEcsActionOnEveryResource(JsonNode template)
    {
        var statements = Statements(template).ToList();
        Assert.NotEmpty(statements);
        foreach (var (policy, s) in statements)
        {
            var actions = AsList(s["Action"]).Select(a => (string)a!).ToList();
            var resources = AsList(s["Resource"]).Select(r => r is JsonValue ? (string?)r : null).ToList();
            Assert.DoesNotContain(actions, a => a.EndsWith('*'));
            if (actions.Any(MutatingEcsActions.Contains))
                Assert.False(resources.Contains("*"), $"{policy} allows {string.Join(", ", actions)} on \"*\"");
        }
    }

    public static Dictionary<string, object> Obj(params (string Key, object Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);
}
