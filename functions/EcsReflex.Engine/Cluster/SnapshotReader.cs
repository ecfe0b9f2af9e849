using System.Text.Json;
using EcsReflex.Core;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using static EcsReflex.Core.Events.JsonFields;

namespace EcsReflex.Engine.Cluster;

public sealed class SnapshotInvalidException(IReadOnlyList<string> problems)
    : Exception($"the snapshot is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    /// <summary>For a JSON syntax error: where in the file (1-based), to print as <c>FILE:LINE:COLUMN</c>.</summary>
    public JsonSyntaxError? Syntax { get; init; }
}

/// <summary>
/// Reads a cluster snapshot: one JSON object with the keys <c>services</c>, <c>tasks</c>,
/// <c>containerInstances</c> (each as <c>aws ecs describe-*</c> prints it) and optionally
/// <c>scalableTargets</c> (as <c>aws application-autoscaling describe-scalable-targets</c> prints its
/// <c>ScalableTargets</c>). Any key may be absent; unknown members are ignored. Every problem is reported.
/// </summary>
public static class SnapshotReader
{
    public static ClusterSnapshot Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument doc;
        utf8 = JsonText.WithoutBom(utf8);
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            var syntax = JsonText.Describe(ex, utf8);
            throw new SnapshotInvalidException([syntax?.ToString() ?? $"not valid JSON: {ex.Message}"]) { Syntax = syntax };
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SnapshotInvalidException([$"expected one JSON object with the keys services, tasks, containerInstances, got {Describe(root)}"]);
            var problems = new List<string>();
            var snapshot = new ClusterSnapshot
            {
                Services = Items(root, "services", ReadService, problems),
                Tasks = Items(root, "tasks", ReadTask, problems),
                ContainerInstances = Items(root, "containerInstances", ReadInstance, problems),
                ScalableTargets = Items(root, "scalableTargets", ReadScalableTarget, problems),
            };
            if (problems.Count > 0) throw new SnapshotInvalidException(problems);
            return snapshot;
        }
    }

    private static IReadOnlyList<T> Items<T>(JsonElement root, string key, Func<JsonElement, string, T> read, List<string> problems)
    {
        if (Get(root, key) is not { } list) return [];
        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{key}: expected an array, got {Describe(list)}");
            return [];
        }
        var result = new List<T>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"{key}[{i++}]";
            try
            {
                result.Add(read(AsObject(item, path), path));
            }
            catch (EventRejectedException ex)
            {
                problems.Add(ex.Message);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add($"{path}: unreadable ({ex.Message})");
            }
        }
        return result;
    }

    private static ObservedService ReadService(JsonElement s, string p)
    {
        var arn = RequireString(s, "serviceArn", p);
        return new ObservedService
        {
            ServiceArn = arn,
            ServiceName = OptionalString(s, "serviceName", p) ?? Arns.ServiceName(arn),
            ClusterArn = OptionalString(s, "clusterArn", p) ?? Arns.ClusterArnOfService(arn),
            Status = OptionalString(s, "status", p),
            DesiredCount = OptionalInt(s, "desiredCount", p) ?? 0,
            RunningCount = OptionalInt(s, "runningCount", p) ?? 0,
            PendingCount = OptionalInt(s, "pendingCount", p) ?? 0,
            LaunchType = OptionalString(s, "launchType", p),
            CapacityProviderStrategy = Array(s, "capacityProviderStrategy", p, (e, ip) => new CapacityProviderStrategyItem
            {
                CapacityProvider = RequireString(AsObject(e, ip), "capacityProvider", ip),
                Weight = OptionalInt(e, "weight", ip),
                Base = OptionalInt(e, "base", ip),
            }),
            PlacementConstraints = Array(s, "placementConstraints", p, ReadConstraint),
            PlacementStrategy = Array(s, "placementStrategy", p, ReadStrategy),
        };
    }

    public static PlacementConstraint ReadConstraint(JsonElement e, string p) =>
        new() { Type = RequireString(AsObject(e, p), "type", p), Expression = OptionalString(e, "expression", p) };

    public static PlacementStrategy ReadStrategy(JsonElement e, string p) =>
        new() { Type = RequireString(AsObject(e, p), "type", p), Field = OptionalString(e, "field", p) };

    private static ObservedTask ReadTask(JsonElement t, string p) => new()
    {
        TaskArn = RequireString(t, "taskArn", p),
        ClusterArn = OptionalString(t, "clusterArn", p),
        TaskDefinitionArn = OptionalString(t, "taskDefinitionArn", p),
        ContainerInstanceArn = OptionalString(t, "containerInstanceArn", p),
        Group = OptionalString(t, "group", p),
        StartedBy = OptionalString(t, "startedBy", p),
        LastStatus = OptionalString(t, "lastStatus", p),
        DesiredStatus = OptionalString(t, "desiredStatus", p),
        LaunchType = OptionalString(t, "launchType", p),
        CapacityProviderName = OptionalString(t, "capacityProviderName", p),
        Cpu = OptionalStringOrNumber(t, "cpu", p),
        Memory = OptionalStringOrNumber(t, "memory", p),
        AvailabilityZone = OptionalString(t, "availabilityZone", p),
        PlatformVersion = OptionalString(t, "platformVersion", p),
        CreatedAt = OptionalTime(t, "createdAt", p),
        StartedAt = OptionalTime(t, "startedAt", p),
        Tags = Array(t, "tags", p, (e, ip) => new Tag(RequireString(AsObject(e, ip), "key", ip), OptionalString(e, "value", ip) ?? "")),
        Overrides = OptionalObject(t, "overrides", p)?.Clone(),
        EnableExecuteCommand = OptionalBool(t, "enableExecuteCommand", p),
        Attachments = Array(t, "attachments", p, ReadAttachment),
        Version = OptionalLong(t, "version", p),
        StoppedAt = OptionalTime(t, "stoppedAt", p),
        StopCode = OptionalString(t, "stopCode", p),
        StoppedReason = OptionalString(t, "stoppedReason", p),
    };

    private static Attachment ReadAttachment(JsonElement a, string p) => new()
    {
        Id = OptionalString(AsObject(a, p), "id", p),
        Type = OptionalString(a, "type", p),
        Status = OptionalString(a, "status", p),
        Details = Array(a, "details", p, (d, dp) => new KeyValue(RequireString(AsObject(d, dp), "name", dp), OptionalStringOrNumber(d, "value", dp))),
    };

    private static ObservedContainerInstance ReadInstance(JsonElement c, string p) => new()
    {
        ContainerInstanceArn = RequireString(c, "containerInstanceArn", p),
        Ec2InstanceId = OptionalString(c, "ec2InstanceId", p),
        Status = OptionalString(c, "status", p),
        AgentConnected = OptionalBool(c, "agentConnected", p),
        Version = OptionalLong(c, "version", p),
        Attributes = Array(c, "attributes", p, (e, ip) => new KeyValue(RequireString(AsObject(e, ip), "name", ip), OptionalStringOrNumber(e, "value", ip))),
        RegisteredResources = Array(c, "registeredResources", p, EventParser.ReadResource),
        RemainingResources = Array(c, "remainingResources", p, EventParser.ReadResource),
        RunningTasksCount = OptionalInt(c, "runningTasksCount", p) ?? 0,
        PendingTasksCount = OptionalInt(c, "pendingTasksCount", p) ?? 0,
        RegisteredAt = OptionalTime(c, "registeredAt", p),
        CapacityProviderName = OptionalString(c, "capacityProviderName", p),
        AgentVersion = OptionalObject(c, "versionInfo", p) is { } vi ? OptionalString(vi, "agentVersion", Child(p, "versionInfo")) : null,
    };

    private static ObservedScalableTarget ReadScalableTarget(JsonElement s, string p) => new()
    {
        ServiceNamespace = RequireString(s, "ServiceNamespace", p),
        ResourceId = RequireString(s, "ResourceId", p),
        ScalableDimension = RequireString(s, "ScalableDimension", p),
        MinCapacity = OptionalInt(s, "MinCapacity", p) ?? 0,
        MaxCapacity = OptionalInt(s, "MaxCapacity", p) ?? 0,
    };
}
