using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EcsReflex.Core;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Placement;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Cluster;

/// <summary>A container instance the simulator may place on: what is left of it, and the tasks it runs.</summary>
/// <summary>
/// An instance as placement sees it: what is left of it, and how many live tasks of each task group run on
/// it (all that distinctInstance, spread and <c>task:group</c> need; the cluster keeps these counts as tasks come and go).
/// </summary>
public sealed record PlacementCandidate(ObservedContainerInstance Instance, long RemainingCpu, long RemainingMemory, IReadOnlyDictionary<string, int> GroupCounts)
{
    /// <summary>A candidate from the live tasks on the instance.</summary>
    public static PlacementCandidate FromTasks(ObservedContainerInstance instance, long remainingCpu, long remainingMemory, IEnumerable<ObservedTask> tasks) =>
        new(instance, remainingCpu, remainingMemory,
            tasks.Where(t => t.Group is not null).GroupBy(t => t.Group!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));
}

/// <summary>What one task needs: its size, its group, the request's constraints and strategies, and the key that seeds random.</summary>
public sealed record PlacementAsk
{
    public long Cpu { get; init; }
    public long Memory { get; init; }
    /// <summary>The task group (<c>family:&lt;family&gt;</c> unless the request names one): distinctInstance and spread count it.</summary>
    public required string Group { get; init; }
    public IReadOnlyList<PlacementConstraint> Constraints { get; init; } = [];
    public IReadOnlyList<PlacementStrategy> Strategy { get; init; } = [];
    /// <summary>Seeds the random strategy: the same key gives the same choice, so a replay repeats itself.</summary>
    public string RandomKey { get; init; } = "";
}

/// <summary>Where a task goes, or, when nothing fits, why not, per container instance (as RunTask's <c>failures</c>).</summary>
public sealed record PlacementOutcome(PlacementCandidate? Chosen, IReadOnlyList<RunTaskFailure> Failures);

/// <summary>
/// Places one task the way ECS documents it for the EC2 launch type: among ACTIVE container instances,
/// keep those with enough remaining CPU and memory, then those that satisfy the constraints
/// (<c>distinctInstance</c>: no task of the same group on it; <c>memberOf</c>: the cluster query language
/// expression holds), then order them by the strategies in turn — <c>binpack</c> (least of the resource
/// left after placing), <c>spread</c> (fewest tasks of the group with the same field value), <c>random</c>
/// (seeded) — and take the first; remaining ties go to the lowest container instance ARN. Without a
/// strategy the choice is random (seeded). When nothing fits, each instance gets the failure ECS reports
/// for it: <c>AGENT</c>, <c>RESOURCE:CPU</c>, <c>RESOURCE:MEMORY</c>, <c>DistinctInstance placement
/// constraint unsatisfied.</c> or <c>MemberOf placement constraint unsatisfied.</c> (resource failures first).
/// </summary>
public static class PlacementSimulator
{
    public const string MemberOfFailure = "MemberOf placement constraint unsatisfied.";
    /// <summary>A bound on the parse cache: the expressions of a replay are the policy's and the snapshot's, a handful.</summary>
    public const int MaxCachedExpressions = 1024;
    public const string DistinctInstanceFailure = "DistinctInstance placement constraint unsatisfied.";

    /// <param name="expressions">
    /// Parsed constraint expressions by text, kept by the caller across placements (the embedded cluster keeps one):
    /// the same few expressions come back with every RunTask, and parsing them (with their patterns) was a good part of
    /// a placement. Null: parse every time.
    /// </param>
    public static PlacementOutcome Place(PlacementAsk ask, IReadOnlyList<PlacementCandidate> candidates,
        Dictionary<string, (QueryExpression? Expression, string? Error)>? expressions = null)
    {
        var memberOf = new List<(string Text, QueryExpression Expression)>();
        var distinct = false;
        foreach (var c in ask.Constraints)
        {
            if (c.Type == "distinctInstance") { distinct = true; continue; }
            if (c.Type != "memberOf") return Invalid($"unknown placement constraint type \"{c.Type}\"");
            var text = c.Expression ?? "";
            if (expressions is null || !expressions.TryGetValue(text, out var parsed))
            {
                parsed = QueryParser.TryParse(text, out var e, out var error) ? (e, null) : (null, error!.Message.Split('\n')[0]);
                if (expressions is not null && expressions.Count < MaxCachedExpressions) expressions[text] = parsed;
            }
            if (parsed.Expression is null) return Invalid(parsed.Error!);
            memberOf.Add((text, parsed.Expression));
        }
        foreach (var s in ask.Strategy)
            if (PlacementValidator.ValidateStrategy(s.Type, s.Field) is { } p) return Invalid(p.Message);

        var fits = new List<PlacementCandidate>();
        var failures = new List<RunTaskFailure>();
        foreach (var cand in candidates.OrderBy(c => c.Instance.ContainerInstanceArn, StringComparer.Ordinal))
        {
            var inst = cand.Instance;
            var arn = inst.ContainerInstanceArn;
            var name = inst.Ec2InstanceId ?? Arns.ContainerInstanceId(arn);
            if (!string.Equals(inst.Status ?? "ACTIVE", "ACTIVE", StringComparison.Ordinal)) continue; // ECS places on ACTIVE instances only
            if (inst.AgentConnected == false)
            {
                failures.Add(new RunTaskFailure(arn, "AGENT", $"{name}: its agent is disconnected"));
                continue;
            }
            if (cand.RemainingCpu < ask.Cpu)
            {
                failures.Add(new RunTaskFailure(arn, "RESOURCE:CPU", $"{name}: {cand.RemainingCpu} CPU units free, the task needs {ask.Cpu}"));
                continue;
            }
            if (cand.RemainingMemory < ask.Memory)
            {
                failures.Add(new RunTaskFailure(arn, "RESOURCE:MEMORY", $"{name}: {cand.RemainingMemory} MiB free, the task needs {ask.Memory}"));
                continue;
            }
            if (distinct && cand.GroupCounts.GetValueOrDefault(ask.Group) > 0)
            {
                failures.Add(new RunTaskFailure(arn, DistinctInstanceFailure, $"{name} already runs a task of group {ask.Group}"));
                continue;
            }
            var target = Target(cand);
            var failed = memberOf.FirstOrDefault(m => !QueryEvaluator.Matches(m.Expression, target));
            if (failed.Expression is not null)
            {
                failures.Add(new RunTaskFailure(arn, MemberOfFailure, $"{name} does not satisfy \"{failed.Text}\""));
                continue;
            }
            fits.Add(cand);
        }
        if (fits.Count == 0)
        {
            if (failures.Count == 0) failures.Add(new RunTaskFailure(null, "No Container Instances were found in your cluster.", "no ACTIVE container instance to place on"));
            var ordered = failures.OrderBy(f => f.Reason?.StartsWith("RESOURCE:", StringComparison.Ordinal) == true ? 0 : 1).ToList();
            return new PlacementOutcome(null, ordered);
        }
        var strategy = ask.Strategy.Count > 0 ? ask.Strategy : [new PlacementStrategy { Type = "random" }];
        var chosen = fits
            .Select(f => (Candidate: f, Key: strategy.Select(s => Key(s, f, ask, candidates)).ToArray()))
            .OrderBy(f => f.Key, KeyComparer.Instance)
            .ThenBy(f => f.Candidate.Instance.ContainerInstanceArn, StringComparer.Ordinal)
            .First().Candidate;
        return new PlacementOutcome(chosen, []);
    }

    private static PlacementOutcome Invalid(string why) =>
        new(null, [new RunTaskFailure(null, "InvalidParameterException", why)]);

    public static QueryTarget Target(PlacementCandidate c) => new()
    {
        Instance = c.Instance,
        TaskGroups = [.. c.GroupCounts.Where(g => g.Value > 0).Select(g => g.Key)],
        RunningTasksCount = c.Instance.RunningTasksCount,
    };

    private static double Key(PlacementStrategy s, PlacementCandidate c, PlacementAsk ask, IReadOnlyList<PlacementCandidate> all) => s.Type switch
    {
        "binpack" when s.Field == "cpu" => c.RemainingCpu - ask.Cpu,
        "binpack" => c.RemainingMemory - ask.Memory,
        "spread" when s.Field is "instanceId" or "host" => GroupCount(c, ask.Group),
        "spread" => SpreadCount(s.Field!, c, ask.Group, all),
        _ => RandomKey(ask.RandomKey, c.Instance.ContainerInstanceArn),
    };

    private static int GroupCount(PlacementCandidate c, string group) => c.GroupCounts.GetValueOrDefault(group);

    /// <summary>Tasks of the group on every instance sharing this instance's value of the field.</summary>
    private static int SpreadCount(string field, PlacementCandidate c, string group, IReadOnlyList<PlacementCandidate> all)
    {
        var attribute = field.StartsWith("attribute:", StringComparison.Ordinal) ? field["attribute:".Length..] : field;
        var value = c.Instance.Attribute(attribute);
        return all.Where(o => string.Equals(o.Instance.Attribute(attribute), value, StringComparison.Ordinal)).Sum(o => GroupCount(o, group));
    }

    /// <summary>A number in [0, 1) from the key and the instance: deterministic, evenly spread.</summary>
    private static double RandomKey(string key, string instanceArn)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{instanceArn}"));
        return BitConverter.ToUInt64(hash, 0) / (double)ulong.MaxValue;
    }

    private sealed class KeyComparer : IComparer<double[]>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare(double[]? x, double[]? y)
        {
            for (var i = 0; i < Math.Min(x!.Length, y!.Length); i++)
            {
                var c = x[i].CompareTo(y[i]);
                if (c != 0) return c;
            }
            return 0;
        }
    }

    /// <summary>
    /// CPU units and MiB of a task, from the strings ECS prints: "512", "1024"; also "0.5 vCPU" and "2 GB".
    /// Null when there is no usable value.
    /// </summary>
    public static long? ParseCpu(string? s) => ParseUnits(s, "vcpu", 1024);

    public static long? ParseMemory(string? s) => ParseUnits(s, "gb", 1024);

    private static long? ParseUnits(string? s, string unit, long factor)
    {
        if (string.IsNullOrWhiteSpace(s)) return null;
        var t = s.Trim();
        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        if (t.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
            && double.TryParse(t[..^unit.Length].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0)
            return (long)Math.Round(d * factor);
        return null;
    }
}
