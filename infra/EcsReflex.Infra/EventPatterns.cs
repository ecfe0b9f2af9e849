using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra;

/// <summary>One EventBridge rule the stack creates: its construct id, the handler it invokes and its pattern.</summary>
public sealed record RuleSpec(string Id, string Handler, string Description, IReadOnlyDictionary<string, object> Pattern);

/// <summary>
/// The EventBridge patterns, built from the policy scope as plain data. Each matches only what the policy
/// covers: filtering in the rule costs nothing, filtering in code costs an invocation. Beyond the policy's clusters,
/// services and alarms, a pattern leaves out only what its handler ignores from the event alone (the stopped-task rule:
/// service tasks and stop codes that are never a failure; docs/deploy.md says each rule's fields). A handler with
/// nothing to do in the policy gets no rule. A pattern that would exceed EventBridge's size quota is split
/// over several rules (ids <c>Name</c>, <c>Name2</c>, …), each matching a part of the list.
/// </summary>
public static class EventPatterns
{
    /// <summary>EventBridge's default quota for the size of one event pattern, in characters.</summary>
    public const int MaxPatternLength = 2048;

    public const string EcsSource = "aws.ecs";
    public const string CloudWatchSource = "aws.cloudwatch";
    public const string TaskStateChange = "ECS Task State Change";
    public const string ContainerInstanceStateChange = "ECS Container Instance State Change";
    public const string ServiceAction = "ECS Service Action";
    public const string DeploymentStateChange = "ECS Deployment State Change";
    public const string AlarmStateChange = "CloudWatch Alarm State Change";

    /// <summary>The service action events the placement guard handles.</summary>
    public static readonly IReadOnlyList<string> ServiceActionEvents = ["SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_STEADY_STATE"];

    /// <summary>The deployment events the placement guard handles.</summary>
    public static readonly IReadOnlyList<string> DeploymentEvents = ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"];

    public static IReadOnlyList<RuleSpec> For(PolicyScope scope)
    {
        var rules = new List<RuleSpec>();

        rules.AddRange(Split("TaskStopped", HandlerNames.TaskRescheduler,
            "Stopped standalone tasks of the policy's clusters with reschedule rules whose stop code may be a failure, to the task rescheduler",
            [.. scope.RescheduleClusters.Select(c => c.EventMatcher)],
            values => Pattern(EcsSource, TaskStateChange, detail: new()
            {
                ["clusterArn"] = values,
                ["lastStatus"] = new object[] { "STOPPED" },
                // Each of these drops only stops the rescheduler ignores from the event alone (TaskRescheduler.SettledByItsEvent),
                // and keeps a stop that lacks the field (a task started from the console has no startedBy): a field a pattern
                // names must be in the event, or only "exists": false matches it. (A JSON null cannot be written into the
                // pattern: jsii passes .NET null as undefined, which the CDK drops. ECS leaves an absent field out.)
                ["group"] = OrMissing(new Dictionary<string, object> { ["anything-but"] = new Dictionary<string, object> { ["prefix"] = TaskRescheduler.ServiceGroupPrefix } }),
                ["startedBy"] = OrMissing(new Dictionary<string, object> { ["anything-but"] = new Dictionary<string, object> { ["prefix"] = TaskRescheduler.ServiceStarterPrefix } }),
                ["stopCode"] = OrMissing([.. TaskRescheduler.StopCodesThatMayFail]),
            })));

        rules.AddRange(Split("ContainerInstanceChanged", HandlerNames.PlacementGuard,
            "Container instance changes of the policy's clusters with drain settings, to the placement guard",
            [.. scope.DrainClusters.Select(c => c.EventMatcher)],
            values => Pattern(EcsSource, ContainerInstanceStateChange, detail: new() { ["clusterArn"] = values })));

        // Drain moves are make-before-break: the guard stops an original when its replacement (a task
        // EcsReflex started, startedBy reflex/…) reports RUNNING.
        rules.AddRange(Split("ReplacementRunning", HandlerNames.PlacementGuard,
            "Tasks EcsReflex started that reached RUNNING in the policy's clusters with drain settings, to the placement guard",
            [.. scope.DrainClusters.Select(c => c.EventMatcher)],
            values => Pattern(EcsSource, TaskStateChange, detail: new()
            {
                ["clusterArn"] = values,
                ["lastStatus"] = new object[] { "RUNNING" },
                ["startedBy"] = new object[] { new Dictionary<string, object> { ["prefix"] = "reflex/" } },
            })));

        var placementServices = scope.PlacementServices.Select(s => s.EventMatcher).ToArray();
        rules.AddRange(Split("ServiceAction", HandlerNames.PlacementGuard,
            "Placement failures and steady states of the policy's services with placement, to the placement guard",
            placementServices,
            values => Pattern(EcsSource, ServiceAction, resources: values,
                detail: new() { ["eventName"] = ServiceActionEvents.Cast<object>().ToArray() })));
        rules.AddRange(Split("Deployment", HandlerNames.PlacementGuard,
            "Deployments of the policy's services with placement, to the placement guard",
            placementServices,
            values => Pattern(EcsSource, DeploymentStateChange, resources: values,
                detail: new() { ["eventName"] = DeploymentEvents.Cast<object>().ToArray() })));

        rules.AddRange(Split("AlarmStateChanged", HandlerNames.ServiceScaler,
            "State changes of the alarms the policy maps to services, to the service scaler",
            [.. scope.AlarmNames.Cast<object>()],
            values => Pattern(CloudWatchSource, AlarmStateChange, detail: new() { ["alarmName"] = values })));

        return rules;
    }

    /// <summary>The matchers, or the field missing (<c>{"exists": false}</c>).</summary>
    private static object[] OrMissing(params object[] matchers) => [.. matchers, new Dictionary<string, object> { ["exists"] = false }];

    private static Dictionary<string, object> Pattern(string source, string detailType, Dictionary<string, object> detail, object[]? resources = null)
    {
        var pattern = new Dictionary<string, object>
        {
            ["source"] = new object[] { source },
            ["detail-type"] = new object[] { detailType },
        };
        if (resources is not null) pattern["resources"] = resources;
        pattern["detail"] = detail;
        return pattern;
    }

    /// <summary>The pattern as EventBridge measures it: its JSON text.</summary>
    public static string Json(IReadOnlyDictionary<string, object> pattern) => JsonSerializer.Serialize(pattern, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new();

    private static IEnumerable<RuleSpec> Split(string id, string handler, string description, object[] values,
        Func<object[], Dictionary<string, object>> build)
    {
        if (values.Length == 0) yield break;
        var n = 0;
        foreach (var part in Parts(values, build))
        {
            n++;
            yield return new RuleSpec(n == 1 ? id : $"{id}{n}", handler, description, part);
        }
    }

    private static IEnumerable<Dictionary<string, object>> Parts(object[] values, Func<object[], Dictionary<string, object>> build)
    {
        var pattern = build(values);
        if (Json(pattern).Length <= MaxPatternLength)
        {
            yield return pattern;
            yield break;
        }
        if (values.Length == 1)
            throw new InvalidOperationException(
                $"the EventBridge pattern for {JsonSerializer.Serialize(values[0], JsonOptions)} alone is longer than {MaxPatternLength} characters; shorten that name");
        var half = values.Length / 2;
        foreach (var p in Parts(values[..half], build)) yield return p;
        foreach (var p in Parts(values[half..], build)) yield return p;
    }
}
