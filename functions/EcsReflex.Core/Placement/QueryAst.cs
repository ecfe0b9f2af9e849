using System.Text.RegularExpressions;

namespace EcsReflex.Core.Placement;

// The parsed form of a cluster query language expression (the language of memberOf constraints):
// comparisons "subject operator [argument]" combined with and, or, not and parentheses.

/// <summary>What a comparison looks at on a container instance.</summary>
public enum QuerySubjectKind
{
    /// <summary><c>attribute:&lt;name&gt;</c>: a built-in or custom container instance attribute.</summary>
    Attribute,
    /// <summary><c>ec2InstanceId</c>.</summary>
    Ec2InstanceId,
    /// <summary><c>registeredAt</c>: when the container instance registered.</summary>
    RegisteredAt,
    /// <summary><c>runningTasksCount</c>.</summary>
    RunningTasksCount,
    /// <summary><c>task:group</c>: the groups of the tasks running on the instance.</summary>
    TaskGroup,
    /// <summary><c>agentConnected</c>: true or false.</summary>
    AgentConnected,
    /// <summary><c>agentVersion</c>: the ECS container agent version, like 1.14.5.</summary>
    AgentVersion,
}

public enum QueryOperator
{
    Equals, NotEquals, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual,
    Exists, NotExists, In, NotIn, Matches, NotMatches,
}

public static class QueryOperators
{
    /// <summary>The symbol form, as the canonical text writes it.</summary>
    public static string Symbol(this QueryOperator op) => op switch
    {
        QueryOperator.Equals => "==",
        QueryOperator.NotEquals => "!=",
        QueryOperator.GreaterThan => ">",
        QueryOperator.GreaterThanOrEqual => ">=",
        QueryOperator.LessThan => "<",
        QueryOperator.LessThanOrEqual => "<=",
        QueryOperator.Exists => "exists",
        QueryOperator.NotExists => "!exists",
        QueryOperator.In => "in",
        QueryOperator.NotIn => "!in",
        QueryOperator.Matches => "=~",
        _ => "!~",
    };

    /// <summary>True for the operators that hold when their positive counterpart does not.</summary>
    public static bool IsNegative(this QueryOperator op) =>
        op is QueryOperator.NotEquals or QueryOperator.NotExists or QueryOperator.NotIn or QueryOperator.NotMatches;

    /// <summary>The operator a negative one negates (<c>!=</c> → <c>==</c>); others unchanged.</summary>
    public static QueryOperator Positive(this QueryOperator op) => op switch
    {
        QueryOperator.NotEquals => QueryOperator.Equals,
        QueryOperator.NotExists => QueryOperator.Exists,
        QueryOperator.NotIn => QueryOperator.In,
        QueryOperator.NotMatches => QueryOperator.Matches,
        _ => op,
    };
}

public sealed record QuerySubject(QuerySubjectKind Kind, string? AttributeName = null)
{
    public string Text => Kind switch
    {
        QuerySubjectKind.Attribute => $"attribute:{AttributeName}",
        QuerySubjectKind.Ec2InstanceId => "ec2InstanceId",
        QuerySubjectKind.RegisteredAt => "registeredAt",
        QuerySubjectKind.RunningTasksCount => "runningTasksCount",
        QuerySubjectKind.TaskGroup => "task:group",
        QuerySubjectKind.AgentConnected => "agentConnected",
        _ => "agentVersion",
    };

    public override string ToString() => Text;
}

/// <summary>A parsed expression. <see cref="Position"/> is where it starts in the text (0-based).</summary>
public abstract record QueryExpression(int Position)
{
    /// <summary>The canonical text: symbol operators, single spaces, lower-case keywords, lists as <c>[a, b]</c>.</summary>
    public sealed override string ToString() => QueryFormatter.Format(this);
}

public sealed record QueryAnd(QueryExpression Left, QueryExpression Right, int Position) : QueryExpression(Position);

public sealed record QueryOr(QueryExpression Left, QueryExpression Right, int Position) : QueryExpression(Position);

public sealed record QueryNot(QueryExpression Operand, int Position) : QueryExpression(Position);

/// <summary>
/// <c>subject operator [argument]</c>. <see cref="Values"/> holds the argument (one value, or the list of
/// <c>in</c>/<c>!in</c>; none for <c>exists</c>/<c>!exists</c>), unquoted. <see cref="Pattern"/> is the
/// compiled pattern of <c>=~</c>/<c>!~</c>.
/// </summary>
public sealed record QueryComparison(QuerySubject Subject, QueryOperator Operator, IReadOnlyList<string> Values, int Position)
    : QueryExpression(Position)
{
    public Regex? Pattern { get; init; }
}

/// <summary>Writes an expression in its canonical form, so two spellings of the same expression compare equal.</summary>
public static class QueryFormatter
{
    public static string Format(QueryExpression e) => e switch
    {
        QueryOr o => $"{Format(o.Left)} or {Format(o.Right)}",
        QueryAnd a => $"{Wrap(a.Left, a)} and {Wrap(a.Right, a)}",
        QueryNot n => $"not ({Format(n.Operand)})",
        QueryComparison c => Comparison(c),
        _ => e.GetType().Name,
    };

    private static string Wrap(QueryExpression child, QueryExpression parent) =>
        child is QueryOr && parent is QueryAnd ? $"({Format(child)})" : Format(child);

    private static string Comparison(QueryComparison c)
    {
        var head = $"{c.Subject.Text} {c.Operator.Symbol()}";
        return c.Operator switch
        {
            QueryOperator.Exists or QueryOperator.NotExists => head,
            QueryOperator.In or QueryOperator.NotIn => $"{head} [{string.Join(", ", c.Values.Select(Value))}]",
            _ => $"{head} {Value(c.Values[0])}",
        };
    }

    /// <summary>A value as written back: bare when that reads the same, else in single quotes.</summary>
    public static string Value(string v)
    {
        var bare = v.Length > 0 && v[0] is not ('\'' or '"' or '[');
        var depth = 0;
        foreach (var ch in v)
        {
            if (char.IsWhiteSpace(ch) || ch == ',') { bare = false; break; }
            if (ch is '(' or '[') depth++;
            else if (ch is ')' or ']' && --depth < 0) { bare = false; break; }
        }
        if (bare && depth == 0) return v;
        return "'" + v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
    }
}
