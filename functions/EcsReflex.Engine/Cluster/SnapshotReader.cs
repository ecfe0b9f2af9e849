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

/// <summary>A snapshot as read, with what the reader noticed that does not stop a replay (each names its place and the fix).</summary>
public sealed record SnapshotLoad(ClusterSnapshot Snapshot, IReadOnlyList<string> Warnings);

/// <summary>
/// Reads a cluster snapshot: the AWS CLI's outputs as it prints them. One output is one JSON object with the keys
/// <c>services</c>, <c>tasks</c>, <c>containerInstances</c> (as <c>aws ecs describe-services</c>, <c>describe-tasks</c>
/// and <c>describe-container-instances</c> print them) and <c>ScalableTargets</c> (as <c>aws application-autoscaling
/// describe-scalable-targets</c> prints it; the earlier <c>scalableTargets</c> is read too); <c>failures</c>,
/// <c>nextToken</c> and <c>NextToken</c> are accepted and not used, and <c>cluster</c> says which cluster the output's
/// container instances belong to (the <c>--cluster</c> it was described with). Any key may be absent; any other key is a
/// problem, because a key the reader does not know is data it would silently drop. A snapshot is one such object, a
/// JSON array of them (<c>jq -s . *.json</c>) or a folder of <c>*.json</c> files, each one or the other; outputs of the
/// same command are concatenated (pages). An ARN listed twice (task, service, container instance; a scalable target's
/// resource) is a problem that names both places. Every problem is reported.
/// </summary>
public static class SnapshotReader
{
    /// <summary>The top-level keys the reader reads, as the CLI prints them.</summary>
    public static readonly string[] DataKeys = ["services", "tasks", "containerInstances", "ScalableTargets", "scalableTargets"];

    /// <summary>Keys the CLI prints that say nothing the replay uses.</summary>
    public static readonly string[] IgnoredKeys = ["failures", "nextToken", "NextToken"];

    /// <summary>The cluster (name or ARN) the object's container instances are registered in: an extension for old-format ARNs.</summary>
    public const string ClusterKey = "cluster";

    /// <summary>One snapshot document (an object or an array of them); problems throw, warnings are dropped (see <see cref="Read"/>).</summary>
    public static ClusterSnapshot Parse(ReadOnlySpan<byte> utf8) => Read(utf8).Snapshot;

    /// <summary>One snapshot document: an output object, or an array of output objects.</summary>
    public static SnapshotLoad Read(ReadOnlySpan<byte> utf8)
    {
        var acc = new Accumulator();
        ReadDocument(utf8, null, acc);
        return acc.Finish();
    }

    /// <summary>A snapshot file, or a folder of <c>*.json</c> output files (in name order, not recursive).</summary>
    /// <exception cref="IOException">a file cannot be read.</exception>
    /// <exception cref="SnapshotInvalidException">every problem found.</exception>
    public static SnapshotLoad Load(string path)
    {
        if (!Directory.Exists(path)) return Read(File.ReadAllBytes(path));
        var files = Directory.GetFiles(path, "*.json").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new SnapshotInvalidException([$"the folder has no *.json file: put the outputs of aws ecs describe-services, describe-tasks, describe-container-instances and aws application-autoscaling describe-scalable-targets in it, one per file"]);
        var acc = new Accumulator();
        foreach (var f in files) ReadDocument(File.ReadAllBytes(f), Path.GetFileName(f), acc);
        return acc.Finish();
    }

    private static void ReadDocument(ReadOnlySpan<byte> utf8, string? file, Accumulator acc)
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
            // One file: the error is FILE:LINE:COLUMN (the caller knows the file). In a folder: the file's name, its line and column.
            if (file is null) throw new SnapshotInvalidException([syntax?.ToString() ?? $"not valid JSON: {ex.Message}"]) { Syntax = syntax };
            acc.Problems.Add(syntax is null ? Place(file, "", $"not valid JSON: {ex.Message}") : $"{file}:{syntax.Line}:{syntax.Column}: {syntax.Message}");
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var output in root.EnumerateArray()) ReadOutput(output, file, $"[{i++}]", acc);
            }
            else ReadOutput(root, file, "", acc);
        }
    }

    private static string Place(string? file, string path, string what) =>
        file is null ? (path.Length == 0 ? what : $"{path}: {what}") : path.Length == 0 ? $"{file}: {what}" : $"{file}: {path}: {what}";

    private static string Where(string? file, string path) => file is null ? path : $"{file} {path}";

    private static string Known => string.Join(", ", DataKeys) + ", " + string.Join(", ", IgnoredKeys) + ", " + ClusterKey;

    private static void ReadOutput(JsonElement output, string? file, string prefix, Accumulator acc)
    {
        if (output.ValueKind != JsonValueKind.Object)
        {
            acc.Problems.Add(Place(file, prefix, $"expected an AWS CLI output (a JSON object with the keys services, tasks, containerInstances or ScalableTargets), or an array of them, got {Describe(output)}"));
            return;
        }
        var path = prefix.Length == 0 ? "" : prefix + ".";
        string? cluster = null;
        foreach (var member in output.EnumerateObject())
        {
            var key = member.Name;
            if (System.Array.IndexOf(DataKeys, key) >= 0 || System.Array.IndexOf(IgnoredKeys, key) >= 0) continue;
            if (key == ClusterKey)
            {
                if (member.Value.ValueKind == JsonValueKind.String && member.Value.GetString() is { Length: > 0 } c) cluster = c;
                else acc.Problems.Add(Place(file, path + key, $"expected a cluster name or ARN (the --cluster the container instances were described with), got {Describe(member.Value)}"));
                continue;
            }
            var hint = System.Array.Find(DataKeys, k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) is { } near
                ? $"did you mean {near}? " : "";
            acc.Problems.Add(Place(file, path + key,
                $"unknown key: {hint}a snapshot reads the outputs of aws ecs describe-services, describe-tasks, describe-container-instances and aws application-autoscaling describe-scalable-targets as printed; known keys: {Known}; remove the key (or the file of another command)"));
        }
        acc.Services.AddRange(Items(output, "services", path, file, ReadService, acc.Problems));
        acc.Tasks.AddRange(Items(output, "tasks", path, file, ReadTask, acc.Problems));
        foreach (var (instance, where) in Items(output, "containerInstances", path, file, ReadInstance, acc.Problems))
        {
            var given = cluster is null ? null : Arns.ClusterArnIn(cluster, instance.ContainerInstanceArn) ?? cluster;
            var own = Arns.ClusterArnOfContainerInstance(instance.ContainerInstanceArn);
            if (own is not null && given is not null && Arns.ClusterName(given) != Arns.ClusterName(own))
                acc.Problems.Add($"{where}: container instance {instance.ContainerInstanceArn} is in cluster {Arns.ClusterName(own)} (its ARN says so), not in {cluster} ({path}{ClusterKey}): remove {ClusterKey} or put the instance in the output of its own cluster");
            acc.Instances.Add((instance with { ClusterArn = own ?? given }, where));
        }
        acc.Targets.AddRange(Items(output, "ScalableTargets", path, file, ReadScalableTarget, acc.Problems));
        acc.Targets.AddRange(Items(output, "scalableTargets", path, file, ReadScalableTarget, acc.Problems));
        NoteFailures(output, path, file, acc);
    }

    /// <summary>
    /// A describe-* output's <c>failures</c> (<c>{"arn": …, "reason": "MISSING"}</c>): what AWS could not describe is not in
    /// the snapshot, which the replay should say rather than take the cluster as complete.
    /// </summary>
    private static void NoteFailures(JsonElement output, string path, string? file, Accumulator acc)
    {
        if (!output.TryGetProperty("failures", out var failures) || failures.ValueKind != JsonValueKind.Array) return;
        var i = 0;
        foreach (var f in failures.EnumerateArray())
        {
            var place = Place(file, $"{path}failures[{i++}]", "");
            string Text(string name) => f.ValueKind == JsonValueKind.Object && f.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            var arn = Text("arn") is { Length: > 0 } a ? a : "a resource";
            var why = Text("reason") is { Length: > 0 } r ? r : "no reason given";
            var detail = Text("detail") is { Length: > 0 } d ? $" ({d})" : "";
            acc.Warnings.Add($"{place.TrimEnd(' ', ':')}: AWS could not describe {arn}: {why}{detail}; the snapshot does not have it");
        }
    }

    /// <summary>The outputs read so far, concatenated by kind, each item with where it came from.</summary>
    private sealed class Accumulator
    {
        public readonly List<string> Problems = [];
        public readonly List<string> Warnings = [];
        public readonly List<(ObservedService Item, string Where)> Services = [];
        public readonly List<(ObservedTask Item, string Where)> Tasks = [];
        public readonly List<(ObservedContainerInstance Item, string Where)> Instances = [];
        public readonly List<(ObservedScalableTarget Item, string Where)> Targets = [];

        public SnapshotLoad Finish()
        {
            var warnings = new List<string>(Warnings);
            Unique(Services, s => s.ServiceArn, "service");
            Unique(Tasks, t => t.TaskArn, "task");
            Unique(Instances, c => c.ContainerInstanceArn, "container instance");
            Unique(Targets, t => $"{t.ServiceNamespace} {t.ScalableDimension} {t.ResourceId}", "scalable target (namespace, dimension, resource)");
            var instances = AssociateClusters(warnings);
            if (Problems.Count > 0) throw new SnapshotInvalidException(Problems);
            return new SnapshotLoad(new ClusterSnapshot
            {
                Services = [.. Services.Select(x => x.Item)],
                Tasks = [.. Tasks.Select(x => x.Item)],
                ContainerInstances = instances,
                ScalableTargets = [.. Targets.Select(x => x.Item)],
            }, warnings);
        }

        private void Unique<T>(List<(T Item, string Where)> items, Func<T, string> key, string what)
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (item, where) in items)
                if (!seen.TryAdd(key(item), where))
                    Problems.Add($"{where}: {what} {key(item)} is listed twice, also at {seen[key(item)]}: keep one (two outputs of the same command overlap)");
        }

        /// <summary>
        /// An instance whose ARN names no cluster (the old format) takes the cluster of the tasks the snapshot says run on
        /// it (they must agree); one that still has none is kept, but nothing is placed on it, and a warning says how to fix it.
        /// </summary>
        private List<ObservedContainerInstance> AssociateClusters(List<string> warnings)
        {
            var byInstance = new Dictionary<string, (string Cluster, string Where)>(StringComparer.Ordinal);
            foreach (var (t, where) in Tasks)
            {
                if (t.ContainerInstanceArn is not { } ci || t.ClusterArn is not { } c) continue;
                if (!byInstance.TryAdd(ci, (c, where)) && Arns.ClusterName(byInstance[ci].Cluster) != Arns.ClusterName(c))
                    Problems.Add($"{where}: task {t.TaskArn} runs on container instance {ci} in cluster {c}, but {byInstance[ci].Where} says that instance is in {byInstance[ci].Cluster}: an instance is in one cluster");
            }
            var result = new List<ObservedContainerInstance>(Instances.Count);
            foreach (var (c, where) in Instances)
            {
                var instance = c;
                if (byInstance.TryGetValue(c.ContainerInstanceArn, out var fromTask))
                {
                    if (c.ClusterArn is null) instance = c with { ClusterArn = fromTask.Cluster };
                    else if (Arns.ClusterName(c.ClusterArn) != Arns.ClusterName(fromTask.Cluster))
                        Problems.Add($"{fromTask.Where}: the task runs on container instance {c.ContainerInstanceArn} in cluster {fromTask.Cluster}, but {where} is in cluster {c.ClusterArn}: an instance is in one cluster");
                }
                if (instance.ClusterArn is null)
                    warnings.Add($"{where}: container instance {c.ContainerInstanceArn} has an old-format ARN, which names no cluster, and no task in the snapshot runs on it: "
                        + $"no task is placed on it; add \"{ClusterKey}\": \"<the --cluster it was described with>\" to that describe-container-instances output");
                result.Add(instance);
            }
            return result;
        }
    }

    private static List<(T Item, string Where)> Items<T>(JsonElement root, string key, string prefix, string? file, Func<JsonElement, string, T> read, List<string> problems)
    {
        if (Get(root, key) is not { } list) return [];
        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add(Place(file, prefix + key, $"expected an array, got {Describe(list)}"));
            return [];
        }
        var result = new List<(T, string)>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"{prefix}{key}[{i++}]";
            try
            {
                result.Add((read(AsObject(item, path), path), Where(file, path)));
            }
            catch (EventRejectedException ex)
            {
                problems.Add(file is null ? ex.Message : $"{file}: {ex.Message}");
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(Place(file, path, $"unreadable ({ex.Message})"));
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
        Containers = Array(t, "containers", p, ReadContainer),
    };

    private static ContainerDetail ReadContainer(JsonElement c, string p) => new()
    {
        Name = OptionalString(AsObject(c, p), "name", p),
        ContainerArn = OptionalString(c, "containerArn", p),
        LastStatus = OptionalString(c, "lastStatus", p),
        ExitCode = OptionalLong(c, "exitCode", p) is { } code ? (int)Math.Clamp(code, int.MinValue, int.MaxValue) : null,
        Reason = OptionalString(c, "reason", p),
        Image = OptionalString(c, "image", p),
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
