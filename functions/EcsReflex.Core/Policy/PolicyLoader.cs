using System.Text.Json;
using System.Text.RegularExpressions;

namespace EcsReflex.Core.Policy;

/// <summary>One problem in a policy file: the JSON path of the field and what to do about it.</summary>
public sealed record PolicyError(string Path, string Message)
{
    /// <summary>For a JSON syntax error: where in the file (1-based line and column), to print as <c>FILE:LINE:COLUMN</c>.</summary>
    public JsonSyntaxError? Syntax { get; init; }

    public override string ToString() => $"{(Path.Length == 0 ? "(policy)" : Path)}: {Message}";
}

/// <summary>Thrown by <see cref="PolicyLoader.Load(ReadOnlySpan{byte})"/> with every problem found, not just the first.</summary>
public sealed class PolicyInvalidException(IReadOnlyList<PolicyError> errors)
    : Exception($"the policy is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<PolicyError> Errors { get; } = errors;
}

/// <summary>
/// Reads and validates a policy. Validation reports every problem at once with its path, so a user
/// fixes the file in one go; unknown fields are errors (they are almost always typos).
/// </summary>
public static partial class PolicyLoader
{
    public static ReflexPolicy Load(ReadOnlySpan<byte> utf8)
    {
        var (policy, errors) = TryLoad(utf8);
        if (errors.Count > 0) throw new PolicyInvalidException(errors);
        return policy!;
    }

    public static ReflexPolicy Load(string json) => Load(System.Text.Encoding.UTF8.GetBytes(json));

    public static (ReflexPolicy? Policy, IReadOnlyList<PolicyError> Errors) TryLoad(ReadOnlySpan<byte> utf8)
    {
        JsonDocument doc;
        utf8 = JsonText.WithoutBom(utf8); // editors on Windows write a byte order mark
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            var syntax = JsonText.Describe(ex, utf8);
            return (null, [syntax is null
                ? new PolicyError("", $"not valid JSON ({ex.Message}); fix the syntax at that line and position")
                : new PolicyError("", syntax.ToString()) { Syntax = syntax }]);
        }
        using (doc)
        {
            var r = new Reader();
            ReflexPolicy? policy = null;
            try
            {
                policy = ReadPolicy(r, doc.RootElement);
            }
            catch (InvalidOperationException ex)
            {
                r.Error("", $"unreadable text ({ex.Message})");
            }
            return r.Errors.Count > 0 ? (null, r.Errors) : (policy, r.Errors);
        }
    }

    private static ReflexPolicy ReadPolicy(Reader r, JsonElement root)
    {
        if (!r.Object(root, "", "$schema", "clusters", "reconcile")) return new ReflexPolicy { Clusters = [] };
        r.OptionalString(root, "", "$schema");
        var reconcile = ReadReconcile(r, root);
        var clusters = r.List(root, "", "clusters", required: true, ReadCluster);
        if (clusters.Count == 0 && root.TryGetProperty("clusters", out var c) && c.ValueKind == JsonValueKind.Array)
            r.Error("clusters", "must name at least one cluster: EcsReflex touches nothing the policy does not name");
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < clusters.Count; i++)
        {
            var key = clusters[i].Name;
            if (seen.TryGetValue(key, out var first))
                r.Error($"clusters[{i}].cluster", $"cluster \"{key}\" is already configured at clusters[{first}]; merge the two entries");
            else seen[key] = i;
        }
        ScalingPolicy.CheckAlarmsDriveOneService(r, clusters);
        return new ReflexPolicy { Clusters = clusters, Reconcile = reconcile };
    }

    /// <summary><c>reconcile</c>: the sweep's interval (every field optional).</summary>
    private static ReconcilePolicy ReadReconcile(Reader r, JsonElement root)
    {
        if (r.OptionalObject(root, "", "reconcile") is not { } e || !r.Object(e, "reconcile", "intervalSeconds")) return new ReconcilePolicy();
        var seconds = r.Int(e, "reconcile", "intervalSeconds", ReconcilePolicy.DefaultIntervalSeconds, ReconcilePolicy.MinIntervalSeconds, ReconcilePolicy.MaxIntervalSeconds);
        if (seconds % 60 != 0)
        {
            r.Error("reconcile.intervalSeconds", $"{seconds} is not a whole number of minutes (EventBridge's rate() schedule counts minutes); use {Math.Max(60, seconds / 60 * 60)} or {(seconds / 60 + 1) * 60}");
            seconds = ReconcilePolicy.DefaultIntervalSeconds;
        }
        return new ReconcilePolicy { IntervalSeconds = seconds };
    }

    private static ClusterPolicy ReadCluster(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "cluster", "limits", "drain", "reschedule", "services");
        var cluster = r.RequiredString(e, path, "cluster") ?? "";
        if (cluster.Length > 0 && !ClusterPattern().IsMatch(cluster))
            r.Error(Reader.Join(path, "cluster"), $"\"{cluster}\" is neither a cluster name (letters, digits, - and _, up to 255) nor a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)");
        var limits = new ClusterLimits();
        if (r.OptionalObject(e, path, "limits") is { } l)
        {
            var lp = Reader.Join(path, "limits");
            r.Object(l, lp, "maxRelaunchesPerMinute");
            limits = new ClusterLimits { MaxRelaunchesPerMinute = r.Int(l, lp, "maxRelaunchesPerMinute", ClusterLimits.DefaultMaxRelaunchesPerMinute, min: 1, max: 10_000) };
        }
        var rules = r.List(e, path, "reschedule", required: false, ReadRule);
        var names = new Dictionary<string, int>();
        for (var i = 0; i < rules.Count; i++)
        {
            if (names.TryGetValue(rules[i].Name, out var first))
                r.Error($"{path}.reschedule[{i}].name", $"rule name \"{rules[i].Name}\" is already used by {path}.reschedule[{first}]; names identify rules in logs and must be unique in a cluster");
            else names[rules[i].Name] = i;
        }
        var services = r.List(e, path, "services", required: false, ServicePolicyReader.Read);
        var serviceNames = new Dictionary<string, int>();
        for (var i = 0; i < services.Count; i++)
        {
            if (serviceNames.TryGetValue(services[i].Name, out var first))
                r.Error($"{path}.services[{i}].service", $"service \"{services[i].Name}\" is already configured at {path}.services[{first}]; merge the two entries");
            else serviceNames[services[i].Name] = i;
        }
        var drain = r.OptionalObject(e, path, "drain") is { } d ? DrainPolicy.Read(r, d, Reader.Join(path, "drain")) : null;
        return new ClusterPolicy { Cluster = cluster, Reschedule = rules, Limits = limits, Services = services, Drain = drain };
    }

    private static RescheduleRule ReadRule(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "name", "match", "restart", "maxAttempts", "backoff", "resetAfterSeconds", "ignoreExitCodes",
            "avoidFailedInstance", "placement", "network", "volumeConfigurations", "copyTags", "propagateTags", "enableECSManagedTags");
        var name = r.RequiredString(e, path, "name") ?? "";
        if (name.Length > 0 && !RuleNamePattern().IsMatch(name))
            r.Error(Reader.Join(path, "name"), $"\"{name}\" must be 1 to 64 letters, digits, '-' or '_'");

        var match = new TaskMatch();
        var mp = Reader.Join(path, "match");
        if (r.OptionalObject(e, path, "match") is { } m)
        {
            r.Object(m, mp, "group", "taskDefinitionFamily", "startedByPrefix");
            match = new TaskMatch
            {
                Group = r.OptionalString(m, mp, "group"),
                TaskDefinitionFamily = r.OptionalString(m, mp, "taskDefinitionFamily"),
                StartedByPrefix = r.OptionalString(m, mp, "startedByPrefix"),
            };
            if (match is { Group: null, TaskDefinitionFamily: null, StartedByPrefix: null })
                r.Error(mp, "must name at least one of \"group\", \"taskDefinitionFamily\", \"startedByPrefix\"; an empty match would take every task of the cluster");
            if (match.Group is { } g && g.StartsWith("service:", StringComparison.Ordinal))
                r.Error(Reader.Join(mp, "group"), $"\"{g}\" is a service group: the ECS service scheduler replaces service tasks, EcsReflex never does");
            if (match.StartedByPrefix is { } sb && sb.StartsWith("ecs-svc/", StringComparison.Ordinal))
                r.Error(Reader.Join(mp, "startedByPrefix"), $"\"{sb}\" matches service tasks: the ECS service scheduler replaces them, EcsReflex never does");
        }
        else r.Error(mp, "required field is missing; say which tasks the rule covers with \"group\", \"taskDefinitionFamily\" or \"startedByPrefix\"");

        var restart = RestartMode.OnFailure;
        switch (r.OptionalString(e, path, "restart"))
        {
            case null or "OnFailure": break;
            case "Always": restart = RestartMode.Always; break;
            case var other: r.Error(Reader.Join(path, "restart"), $"\"{other}\" is not a restart mode; use \"OnFailure\" or \"Always\""); break;
        }

        var backoff = new Backoff();
        if (r.OptionalObject(e, path, "backoff") is { } b)
        {
            var bp = Reader.Join(path, "backoff");
            r.Object(b, bp, "initialSeconds", "multiplier", "maxSeconds");
            backoff = new Backoff
            {
                InitialSeconds = r.Number(b, bp, "initialSeconds", 10, min: 0, max: 86_400),
                Multiplier = r.Number(b, bp, "multiplier", 2, min: 1, max: 100),
                MaxSeconds = r.Number(b, bp, "maxSeconds", 300, min: 0, max: 86_400),
            };
            if (backoff.MaxSeconds < backoff.InitialSeconds)
                r.Error(Reader.Join(bp, "maxSeconds"), $"{backoff.MaxSeconds} is less than initialSeconds ({backoff.InitialSeconds}); raise maxSeconds or lower initialSeconds");
        }

        return new RescheduleRule
        {
            Name = name,
            Path = path,
            Match = match,
            Restart = restart,
            MaxAttempts = r.Int(e, path, "maxAttempts", 3, min: 1, max: 1000),
            Backoff = backoff,
            ResetAfterSeconds = r.Int(e, path, "resetAfterSeconds", 600, min: 0, max: 31_536_000),
            IgnoreExitCodes = r.IntList(e, path, "ignoreExitCodes"),
            AvoidFailedInstance = r.Bool(e, path, "avoidFailedInstance", true),
            Placement = r.OptionalObject(e, path, "placement") is { } p ? ReadPlacement(r, p, Reader.Join(path, "placement"), 1, RuleAddedConstraintWhy) : PlacementSpec.Empty,
            Network = r.OptionalObject(e, path, "network") is { } n ? ReadNetwork(r, n, Reader.Join(path, "network")) : null,
            VolumeConfigurations = VolumeConfigurationReader.ReadList(r, e, path),
            CopyTags = r.Bool(e, path, "copyTags", true),
            PropagateTags = ReadPropagateTags(r, e, path),
            EnableEcsManagedTags = r.OptionalBool(e, path, "enableECSManagedTags"),
        };
    }

    /// <summary>RunTask's <c>propagateTags</c>: the model's enum, less <c>SERVICE</c>, which RunTask refuses.</summary>
    private static string? ReadPropagateTags(Reader r, JsonElement e, string path)
    {
        var value = r.OptionalString(e, path, "propagateTags");
        switch (value)
        {
            case null or "TASK_DEFINITION" or "NONE": return value;
            case "SERVICE":
                r.Error(Reader.Join(path, "propagateTags"), "\"SERVICE\" is refused by RunTask (a standalone task has no service to take tags from); use \"TASK_DEFINITION\" or \"NONE\", or leave it out");
                return null;
            default:
                r.Error(Reader.Join(path, "propagateTags"), $"\"{value}\" is not a propagateTags value; use \"TASK_DEFINITION\" (the task definition's tags) or \"NONE\"");
                return null;
        }
    }

    public const int MaxConstraints = Placement.PlacementValidator.MaxConstraints;
    public const int MaxStrategies = Placement.PlacementValidator.MaxStrategies;

    /// <summary>Why a rule's placement may hold one constraint fewer than ECS allows.</summary>
    public const string RuleAddedConstraintWhy = "a memberOf constraint that keeps a relaunched or moved task off its old instance";

    internal static PlacementSpec ReadPlacement(Reader r, JsonElement e, string path, params string[] extraFields) =>
        ReadPlacement(r, e, path, 0, null, extraFields);

    /// <summary>
    /// Reads a placement and validates it with <see cref="Placement.PlacementValidator"/>: constraint and
    /// strategy types and fields, memberOf expressions in the cluster query language (errors name the
    /// character), and the limits (<paramref name="addedConstraints"/> are constraints EcsReflex adds itself).
    /// </summary>
    internal static PlacementSpec ReadPlacement(Reader r, JsonElement e, string path, int addedConstraints, string? addedWhy, params string[] extraFields)
    {
        r.Object(e, path, ["constraints", "strategy", .. extraFields]);
        // A missing, empty or non-string type is reported by RequiredString; the validator judges the rest.
        var constraints = r.List(e, path, "constraints", required: false, (rr, c, cp) =>
        {
            rr.Object(c, cp, "type", "expression");
            var spec = new PlacementConstraintSpec(rr.RequiredString(c, cp, "type") ?? "", rr.OptionalString(c, cp, "expression"));
            if (spec.Type.Length > 0 && Placement.PlacementValidator.ValidateConstraint(spec.Type, spec.Expression) is { } problem)
                rr.Error(Reader.Join(cp, problem.Path), problem.Message);
            return spec;
        });
        if (Placement.PlacementValidator.CountProblem(constraints.Count, addedConstraints, addedWhy) is { } count)
            r.Error(Reader.Join(path, "constraints"), count);
        var strategy = r.List(e, path, "strategy", required: false, (rr, s, sp) =>
        {
            rr.Object(s, sp, "type", "field");
            var spec = new PlacementStrategySpec(rr.RequiredString(s, sp, "type") ?? "", rr.OptionalString(s, sp, "field"));
            if (spec.Type.Length > 0 && Placement.PlacementValidator.ValidateStrategy(spec.Type, spec.Field) is { } problem)
                rr.Error(Reader.Join(sp, problem.Path), problem.Message);
            return spec;
        });
        if (strategy.Count > MaxStrategies)
            r.Error(Reader.Join(path, "strategy"), $"has {strategy.Count} strategies; ECS accepts at most {MaxStrategies}: remove {strategy.Count - MaxStrategies}");
        return new PlacementSpec { Constraints = constraints, Strategy = strategy };
    }

    private static NetworkSpec ReadNetwork(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "subnets", "securityGroups", "assignPublicIp");
        var subnets = r.StringList(e, path, "subnets", required: true);
        if (subnets.Count is 0 or > 16 && e.TryGetProperty("subnets", out var s) && s.ValueKind == JsonValueKind.Array)
            r.Error(Reader.Join(path, "subnets"), $"has {subnets.Count} subnets; awsvpc tasks need 1 to 16");
        var groups = r.StringList(e, path, "securityGroups", required: false);
        if (groups.Count > 5) r.Error(Reader.Join(path, "securityGroups"), $"has {groups.Count} security groups; ECS accepts at most 5");
        var assign = r.OptionalString(e, path, "assignPublicIp") ?? "DISABLED";
        if (assign is not ("ENABLED" or "DISABLED"))
            r.Error(Reader.Join(path, "assignPublicIp"), $"\"{assign}\" must be \"ENABLED\" or \"DISABLED\"");
        return new NetworkSpec { Subnets = subnets, SecurityGroups = groups, AssignPublicIp = assign };
    }

    [GeneratedRegex(@"^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}|[A-Za-z0-9_-]{1,255})$")]
    private static partial Regex ClusterPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex RuleNamePattern();
}
