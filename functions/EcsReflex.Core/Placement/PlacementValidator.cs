using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Placement;

/// <summary>A problem with a placement, at a path relative to the placement (<c>constraints[0].expression</c>).</summary>
public sealed record PlacementProblem(string Path, string Message);

/// <summary>
/// Validates task placement the way ECS will judge it: constraint types <c>distinctInstance</c> and
/// <c>memberOf</c> (with a valid cluster query language expression), strategies <c>binpack</c> (cpu or
/// memory), <c>spread</c> (instanceId, host or an attribute) and <c>random</c>, at most 10 constraints
/// counting the task definition's and at most 5 strategies.
/// </summary>
public static class PlacementValidator
{
    public const int MaxConstraints = 10;
    public const int MaxStrategies = 5;

    public static IReadOnlyList<PlacementProblem> Validate(IReadOnlyList<PlacementConstraintSpec> constraints, IReadOnlyList<PlacementStrategySpec> strategy,
        int addedConstraints = 0, string? addedWhy = null, int taskDefinitionConstraints = 0)
    {
        var problems = new List<PlacementProblem>();
        for (var i = 0; i < constraints.Count; i++)
            if (ValidateConstraint(constraints[i].Type, constraints[i].Expression) is { } p)
                problems.Add(p with { Path = $"constraints[{i}]{(p.Path.Length == 0 ? "" : ".")}{p.Path}" });
        for (var i = 0; i < strategy.Count; i++)
            if (ValidateStrategy(strategy[i].Type, strategy[i].Field) is { } p)
                problems.Add(p with { Path = $"strategy[{i}]{(p.Path.Length == 0 ? "" : ".")}{p.Path}" });
        if (CountProblem(constraints.Count, addedConstraints, addedWhy, taskDefinitionConstraints) is { } count)
            problems.Add(new PlacementProblem("constraints", count));
        if (strategy.Count > MaxStrategies)
            problems.Add(new PlacementProblem("strategy", $"has {strategy.Count} strategies; ECS accepts at most {MaxStrategies}: remove {strategy.Count - MaxStrategies}"));
        return problems;
    }

    /// <summary>
    /// The limit of 10 placement constraints per task counts the task definition's constraints and the
    /// request's together; <paramref name="added"/> are constraints EcsReflex adds itself.
    /// </summary>
    public static string? CountProblem(int given, int added = 0, string? addedWhy = null, int taskDefinitionConstraints = 0)
    {
        var total = given + added + taskDefinitionConstraints;
        if (total <= MaxConstraints) return null;
        var allowed = Math.Max(0, MaxConstraints - added - taskDefinitionConstraints);
        var parts = new List<string> { $"has {given} constraint{(given == 1 ? "" : "s")}" };
        if (added > 0) parts.Add($"EcsReflex adds {added} ({addedWhy ?? "its own"})");
        if (taskDefinitionConstraints > 0) parts.Add($"the task definition has {taskDefinitionConstraints}");
        return $"{string.Join("; ", parts)}; ECS accepts at most {MaxConstraints} per task, counting the task definition's: use at most {allowed} here";
    }

    /// <summary>One constraint: null when ECS would take it. The problem's path is "" (the constraint), "type" or "expression".</summary>
    public static PlacementProblem? ValidateConstraint(string type, string? expression)
    {
        switch (type)
        {
            case "distinctInstance":
                return expression is null ? null : new PlacementProblem("expression", "distinctInstance takes no expression; remove it (or use memberOf)");
            case "memberOf":
                if (string.IsNullOrWhiteSpace(expression))
                    return new PlacementProblem("expression", "memberOf needs an expression in the cluster query language, for example \"attribute:ecs.instance-type =~ m5.*\"");
                return QueryParser.TryParse(expression, out _, out var error) ? null : new PlacementProblem("expression", error!.Message);
            case "":
                return new PlacementProblem("type", "must not be empty; use \"distinctInstance\" or \"memberOf\"");
            default:
                return new PlacementProblem("type", $"\"{type}\" is not a constraint type; use \"distinctInstance\" or \"memberOf\"");
        }
    }

    /// <summary>One strategy: null when ECS would take it. The problem's path is "type" or "field".</summary>
    public static PlacementProblem? ValidateStrategy(string type, string? field)
    {
        switch (type)
        {
            case "binpack":
                return field is "cpu" or "memory" ? null
                    : new PlacementProblem("field", $"binpack packs on \"cpu\" or \"memory\", not {(field is null ? "nothing" : $"\"{field}\"")}");
            case "spread":
                if (string.IsNullOrWhiteSpace(field))
                    return new PlacementProblem("field", "spread needs a field: \"instanceId\" (or \"host\") or an attribute such as \"attribute:ecs.availability-zone\"");
                if (field is "instanceId" or "host") return null;
                if (field.StartsWith("attribute:", StringComparison.Ordinal) && field.Length > "attribute:".Length && !field.Any(char.IsWhiteSpace)) return null;
                return new PlacementProblem("field", $"spread spreads over \"instanceId\" (or \"host\") or an attribute written \"attribute:<name>\", not \"{field}\"{(field.StartsWith("ecs.", StringComparison.Ordinal) ? $"; did you mean \"attribute:{field}\"?" : "")}");
            case "random":
                return field is null ? null : new PlacementProblem("field", "random takes no field; remove it");
            case "":
                return new PlacementProblem("type", "must not be empty; use \"binpack\", \"spread\" or \"random\"");
            default:
                return new PlacementProblem("type", $"\"{type}\" is not a placement strategy; use \"binpack\", \"spread\" or \"random\"");
        }
    }

    /// <summary>Validates request-shaped placement (as ECS requests and describe-services carry it).</summary>
    public static IReadOnlyList<PlacementProblem> Validate(IReadOnlyList<Ecs.PlacementConstraint>? constraints, IReadOnlyList<Ecs.PlacementStrategy>? strategy, int taskDefinitionConstraints = 0) =>
        Validate((constraints ?? []).Select(c => new PlacementConstraintSpec(c.Type, c.Expression)).ToList(),
            (strategy ?? []).Select(s => new PlacementStrategySpec(s.Type, s.Field)).ToList(), taskDefinitionConstraints: taskDefinitionConstraints);
}
