using System.Globalization;
using System.Text.RegularExpressions;

namespace EcsReflex.Core.Placement;

/// <summary>
/// Parser and validator of the ECS cluster query language (the expressions of <c>memberOf</c> placement
/// constraints):
/// <code>
/// expression := or
/// or         := and { ("or" | "||") and }
/// and        := unary { ("and" | "&amp;&amp;") unary }
/// unary      := ("not" | "!") unary | "(" expression ")" | comparison
/// comparison := subject operator [ value | "[" value { "," value } "]" ]
/// subject    := attribute:NAME | ec2InstanceId | registeredAt | runningTasksCount | task:group
///             | agentConnected | agentVersion
/// </code>
/// Every operator has a symbol and a word form (<c>==</c>/<c>equals</c>, <c>!in</c>/<c>not_in</c>…).
/// Whatever the input, it returns an expression or throws <see cref="QueryLanguageException"/> pointing
/// at the offending character; nothing else.
/// </summary>
public static class QueryParser
{
    public const int MaxLength = 2000;

    public const string SubjectList = "attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount, task:group, agentConnected or agentVersion";

    public static QueryExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Length > MaxLength)
            throw new QueryLanguageException(expression, MaxLength, $"the expression is {expression.Length} characters long; ECS accepts at most {MaxLength}");
        if (string.IsNullOrWhiteSpace(expression))
            throw new QueryLanguageException(expression, 0, $"the expression is empty; write a comparison such as \"attribute:ecs.instance-type =~ m5.*\"");
        var p = new Parser(new QueryTokenizer(expression));
        var result = p.Or(depth: 0);
        var next = p.Tokens.ReadStructural();
        if (next.Kind != QueryTokenKind.End)
            throw new QueryLanguageException(expression, next.Position, next.Kind == QueryTokenKind.RightParen
                ? "this ) closes no ( ; remove it or add the ( it closes"
                : $"expected and, or, or the end of the expression, found {next.Describe()}; join comparisons with and / or");
        return result;
    }

    /// <summary>Parses without throwing: the expression, or the exception that says what is wrong.</summary>
    public static bool TryParse(string expression, out QueryExpression? result, out QueryLanguageException? error)
    {
        try
        {
            result = Parse(expression);
            error = null;
            return true;
        }
        catch (QueryLanguageException ex)
        {
            result = null;
            error = ex;
            return false;
        }
    }

    /// <summary>The canonical text of <paramref name="expression"/>, or the text trimmed when it does not parse.</summary>
    public static string Canonical(string expression) =>
        TryParse(expression, out var e, out _) ? QueryFormatter.Format(e!) : expression.Trim();

    private sealed class Parser(QueryTokenizer tokens)
    {
        public QueryTokenizer Tokens { get; } = tokens;

        // Parentheses and not nest; a bound keeps a hostile input from exhausting the stack.
        private const int MaxDepth = 100;

        private QueryLanguageException Error(int at, string reason) => new(Tokens.Text, at, reason);

        private QueryToken Peek()
        {
            var save = Tokens.Position;
            var t = Tokens.ReadStructural();
            Tokens.Position = save;
            return t;
        }

        public QueryExpression Or(int depth)
        {
            var left = And(depth);
            while (Peek().Kind == QueryTokenKind.Or)
            {
                Tokens.ReadStructural();
                left = new QueryOr(left, And(depth), left.Position);
            }
            return left;
        }

        private QueryExpression And(int depth)
        {
            var left = Unary(depth);
            while (Peek().Kind == QueryTokenKind.And)
            {
                Tokens.ReadStructural();
                left = new QueryAnd(left, Unary(depth), left.Position);
            }
            return left;
        }

        private QueryExpression Unary(int depth)
        {
            if (depth > MaxDepth) throw Error(Tokens.Position, $"parentheses and not are nested more than {MaxDepth} deep");
            var t = Tokens.ReadStructural();
            switch (t.Kind)
            {
                case QueryTokenKind.Not:
                    return new QueryNot(Unary(depth + 1), t.Position);
                case QueryTokenKind.LeftParen:
                {
                    var inner = Or(depth + 1);
                    var close = Tokens.ReadStructural();
                    if (close.Kind != QueryTokenKind.RightParen)
                        throw Error(close.Position, close.Kind == QueryTokenKind.End
                            ? $"the ( at character {t.Position + 1} is never closed; add a )"
                            : $"expected ) to close the ( at character {t.Position + 1}, found {close.Describe()}");
                    return inner;
                }
                case QueryTokenKind.Word:
                    return Comparison(t);
                case QueryTokenKind.End:
                    throw Error(t.Position, t.Position == 0
                        ? "the expression is empty"
                        : "the expression ends where a comparison should follow; complete it or remove the trailing and / or / not");
                default:
                    throw Error(t.Position, $"expected a comparison (subject operator value), found {t.Describe()}; a comparison starts with {SubjectList}");
            }
        }

        private QueryComparison Comparison(QueryToken word)
        {
            var subject = Subject(word);
            var op = Tokens.ReadOperator(subject.Text);
            CheckOperator(subject, op);
            var values = new List<string>();
            var valuePositions = new List<int>();
            switch (op.Operator)
            {
                case QueryOperator.Exists or QueryOperator.NotExists:
                    break;
                case QueryOperator.In or QueryOperator.NotIn:
                {
                    if (Tokens.PeekChar() != '[')
                        throw Error(Tokens.Position, $"{op.Text} needs a list in brackets, for example {subject.Text} {op.Text} [a, b]");
                    var open = Tokens.Position;
                    Tokens.Position++;
                    while (true)
                    {
                        if (Tokens.PeekChar() == ']' && values.Count == 0)
                            throw Error(Tokens.Position, $"the list after {op.Text} is empty; give at least one value");
                        var v = Tokens.ReadValue(inList: true, values.Count == 0 ? $"{op.Text} [" : ",");
                        values.Add(v.Text);
                        valuePositions.Add(v.Position);
                        var sep = Tokens.PeekChar();
                        if (sep == ',') { Tokens.Position++; continue; }
                        if (sep == ']') { Tokens.Position++; break; }
                        throw Error(Tokens.Position, sep == '\0'
                            ? $"the list opened at character {open + 1} is never closed; add a ]"
                            : $"expected , or ] in the list opened at character {open + 1}, found \"{sep}\"");
                    }
                    break;
                }
                default:
                {
                    var c = Tokens.PeekChar();
                    if (c == '[')
                        throw Error(Tokens.Position, $"{op.Text} compares with one value; to compare with a list use in or !in");
                    var v = Tokens.ReadValue(inList: false, $"{subject.Text} {op.Text}");
                    values.Add(v.Text);
                    valuePositions.Add(v.Position);
                    break;
                }
            }
            Regex? pattern = null;
            for (var i = 0; i < values.Count; i++)
            {
                var r = CheckValue(subject, op, values[i], valuePositions[i]);
                pattern ??= r;
            }
            return new QueryComparison(subject, op.Operator, values, word.Position) { Pattern = pattern };
        }

        private QuerySubject Subject(QueryToken word)
        {
            var w = word.Text;
            if (w.StartsWith("attribute:", StringComparison.Ordinal))
            {
                var name = w["attribute:".Length..];
                if (name.Length == 0)
                    throw Error(word.Position + w.Length, "attribute: needs an attribute name, for example attribute:ecs.instance-type");
                return new QuerySubject(QuerySubjectKind.Attribute, name);
            }
            switch (w)
            {
                case "ec2InstanceId": return new(QuerySubjectKind.Ec2InstanceId);
                case "registeredAt": return new(QuerySubjectKind.RegisteredAt);
                case "runningTasksCount": return new(QuerySubjectKind.RunningTasksCount);
                case "task:group": return new(QuerySubjectKind.TaskGroup);
                case "agentConnected": return new(QuerySubjectKind.AgentConnected);
                case "agentVersion": return new(QuerySubjectKind.AgentVersion);
            }
            var hint = w.StartsWith("attributes:", StringComparison.OrdinalIgnoreCase) || w.StartsWith("ecs.", StringComparison.Ordinal)
                ? $"; did you mean attribute:{(w.Contains(':') ? w[(w.IndexOf(':') + 1)..] : w)}?"
                : "";
            throw Error(word.Position, $"\"{w}\" is not a subject; use {SubjectList}{hint}");
        }

        private static readonly QueryOperator[] StringOperators =
            [QueryOperator.Equals, QueryOperator.NotEquals, QueryOperator.In, QueryOperator.NotIn, QueryOperator.Matches, QueryOperator.NotMatches];

        private static readonly QueryOperator[] OrderOperators =
            [QueryOperator.Equals, QueryOperator.NotEquals, QueryOperator.GreaterThan, QueryOperator.GreaterThanOrEqual, QueryOperator.LessThan, QueryOperator.LessThanOrEqual];

        /// <summary>The operators each subject takes, as the ECS documentation lists them (attributes take all).</summary>
        public static IReadOnlyList<QueryOperator>? Allowed(QuerySubjectKind kind) => kind switch
        {
            QuerySubjectKind.Ec2InstanceId or QuerySubjectKind.AgentConnected => StringOperators,
            QuerySubjectKind.TaskGroup => [.. StringOperators, QueryOperator.Exists, QueryOperator.NotExists],
            QuerySubjectKind.RegisteredAt or QuerySubjectKind.RunningTasksCount or QuerySubjectKind.AgentVersion => OrderOperators,
            _ => null,
        };

        private void CheckOperator(QuerySubject subject, QueryToken op)
        {
            if (Allowed(subject.Kind) is { } allowed && !allowed.Contains(op.Operator))
                throw Error(op.Position, $"{subject.Text} does not take {op.Text}; use {string.Join(", ", allowed.Select(o => o.Symbol()))}");
        }

        private Regex? CheckValue(QuerySubject subject, QueryToken op, string value, int at)
        {
            if (value.Length == 0) throw Error(at, $"the value after {op.Text} is empty");
            if (op.Operator is QueryOperator.Matches or QueryOperator.NotMatches)
            {
                try
                {
                    return QueryEvaluator.Compile(value);
                }
                catch (ArgumentException ex)
                {
                    throw Error(at, $"\"{value}\" is not a valid pattern for {op.Text} ({ex.Message.Split('\n')[0].TrimEnd('.')})");
                }
            }
            switch (subject.Kind)
            {
                case QuerySubjectKind.RunningTasksCount when !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                    throw Error(at, $"runningTasksCount compares with a whole number, not \"{value}\"");
                case QuerySubjectKind.RegisteredAt when !QueryEvaluator.TryParseDate(value, out _):
                    throw Error(at, $"\"{value}\" is not a date; registeredAt takes 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18");
                case QuerySubjectKind.AgentConnected when value is not ("true" or "false"):
                    throw Error(at, $"agentConnected is true or false, not \"{value}\"");
                case QuerySubjectKind.AgentVersion when !QueryEvaluator.TryParseVersion(value, out _):
                    throw Error(at, $"\"{value}\" is not an agent version; write it like 1.14.5");
            }
            return null;
        }
    }
}
