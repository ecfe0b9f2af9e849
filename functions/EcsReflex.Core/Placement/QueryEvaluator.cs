using System.Globalization;
using System.Text.RegularExpressions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;

namespace EcsReflex.Core.Placement;

/// <summary>
/// What an expression is evaluated against: a container instance and the groups of the tasks running on
/// it (for <c>task:group</c>). <see cref="RunningTasksCount"/>, when given, replaces the instance's own
/// count (the embedded cluster keeps it current as it places and stops tasks).
/// </summary>
public sealed record QueryTarget
{
    public required ObservedContainerInstance Instance { get; init; }
    public IReadOnlyCollection<string> TaskGroups { get; init; } = [];
    public int? RunningTasksCount { get; init; }
}

/// <summary>
/// Evaluates cluster query language expressions against container instances. Semantics, where the ECS
/// documentation leaves room:
/// <list type="bullet">
/// <item>Strings compare ordinally and case-sensitively. <c>&gt;</c>, <c>&lt;</c>… on attributes compare
/// as numbers when both sides are numbers, else as strings.</item>
/// <item><c>=~</c> is a full match of the whole value (like Java's <c>Pattern.matches</c>).</item>
/// <item>A missing value (an attribute the instance does not have, an unknown registration time) makes
/// every positive operator false and every negative one (<c>!=</c>, <c>!in</c>, <c>!~</c>, <c>!exists</c>) true.</item>
/// <item><c>task:group == g</c> holds when any task on the instance is in group g; <c>task:group != g</c>
/// when none is (task anti-affinity, the same as <c>not(task:group == g)</c>); likewise for in and =~.</item>
/// <item><c>registeredAt</c> takes full timestamps (no zone means UTC) or dates (midnight UTC).</item>
/// </list>
/// </summary>
public static class QueryEvaluator
{
    public static bool Matches(QueryExpression e, QueryTarget target) => e switch
    {
        QueryAnd a => Matches(a.Left, target) && Matches(a.Right, target),
        QueryOr o => Matches(o.Left, target) || Matches(o.Right, target),
        QueryNot n => !Matches(n.Operand, target),
        QueryComparison c => c.Operator.IsNegative() ? !Positive(c, c.Operator.Positive(), target) : Positive(c, c.Operator, target),
        _ => false,
    };

    /// <summary>Parses and evaluates; throws <see cref="QueryLanguageException"/> for an invalid expression.</summary>
    public static bool Matches(string expression, QueryTarget target) => Matches(QueryParser.Parse(expression), target);

    private static bool Positive(QueryComparison c, QueryOperator op, QueryTarget t)
    {
        var i = t.Instance;
        switch (c.Subject.Kind)
        {
            case QuerySubjectKind.TaskGroup:
                return op == QueryOperator.Exists ? t.TaskGroups.Count > 0 : t.TaskGroups.Any(g => Compare(c, op, g));
            case QuerySubjectKind.Attribute:
            {
                var attr = i.Attributes.FirstOrDefault(a => string.Equals(a.Name, c.Subject.AttributeName, StringComparison.Ordinal));
                if (op == QueryOperator.Exists) return attr is not null;
                return attr?.Value is { } v && Compare(c, op, v);
            }
            case QuerySubjectKind.Ec2InstanceId:
                return i.Ec2InstanceId is { } id && Compare(c, op, id);
            case QuerySubjectKind.AgentConnected:
                return i.AgentConnected is { } ac && Compare(c, op, ac ? "true" : "false");
            case QuerySubjectKind.RunningTasksCount:
            {
                var n = (long)(t.RunningTasksCount ?? i.RunningTasksCount);
                return Order(op, n.CompareTo(long.Parse(c.Values[0], NumberStyles.None, CultureInfo.InvariantCulture)));
            }
            case QuerySubjectKind.RegisteredAt:
                return i.RegisteredAt is { } at && TryParseDate(c.Values[0], out var d) && Order(op, at.CompareTo(d));
            case QuerySubjectKind.AgentVersion:
                return i.AgentVersion is { } av && TryParseVersion(av, out var have) && TryParseVersion(c.Values[0], out var want)
                       && Order(op, CompareVersions(have, want));
            default:
                return false;
        }
    }

    private static bool Compare(QueryComparison c, QueryOperator op, string actual) => op switch
    {
        QueryOperator.Equals => string.Equals(actual, c.Values[0], StringComparison.Ordinal),
        QueryOperator.In => c.Values.Contains(actual, StringComparer.Ordinal),
        QueryOperator.Matches => IsMatch(c.Pattern ?? Compile(c.Values[0]), actual),
        QueryOperator.GreaterThan or QueryOperator.GreaterThanOrEqual or QueryOperator.LessThan or QueryOperator.LessThanOrEqual
            => Order(op, CompareValues(actual, c.Values[0])),
        _ => false,
    };

    private static bool IsMatch(Regex pattern, string actual)
    {
        try
        {
            return pattern.IsMatch(actual);
        }
        catch (RegexMatchTimeoutException)
        {
            return false; // a pattern too slow to decide does not select the instance
        }
    }

    private static bool Order(QueryOperator op, int cmp) => op switch
    {
        QueryOperator.Equals => cmp == 0,
        QueryOperator.GreaterThan => cmp > 0,
        QueryOperator.GreaterThanOrEqual => cmp >= 0,
        QueryOperator.LessThan => cmp < 0,
        QueryOperator.LessThanOrEqual => cmp <= 0,
        _ => false,
    };

    private static int CompareValues(string a, string b) =>
        double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
            ? x.CompareTo(y)
            : string.CompareOrdinal(a, b);

    /// <summary>
    /// Compiles a <c>=~</c> pattern as a full match. ECS documents Java regular expressions; the common
    /// syntax is the same in .NET. A time-out bounds a pathological pattern.
    /// </summary>
    public static Regex Compile(string pattern)
    {
        // Checked alone first, so a pattern like "a)(b" cannot pass by closing the wrapper's group.
        _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        return new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>The date forms registeredAt takes: 2018-06-18T22:28:28+00:00, …Z, without zone (UTC), or 2018-06-18.</summary>
    public static bool TryParseDate(string s, out DateTimeOffset value)
    {
        if (s.Length == 10 && DateTime.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day))
        {
            value = new DateTimeOffset(day, TimeSpan.Zero);
            return true;
        }
        return Timestamps.TryParse(s, out value);
    }

    public static bool TryParseVersion(string s, out int[] parts)
    {
        parts = [];
        var pieces = s.Split('.');
        if (pieces.Length is 0 or > 6) return false;
        var list = new int[pieces.Length];
        for (var k = 0; k < pieces.Length; k++)
            if (!int.TryParse(pieces[k], NumberStyles.None, CultureInfo.InvariantCulture, out list[k])) return false;
        parts = list;
        return true;
    }

    private static int CompareVersions(int[] a, int[] b)
    {
        for (var k = 0; k < Math.Max(a.Length, b.Length); k++)
        {
            var x = k < a.Length ? a[k] : 0;
            var y = k < b.Length ? b[k] : 0;
            if (x != y) return x.CompareTo(y);
        }
        return 0;
    }
}
