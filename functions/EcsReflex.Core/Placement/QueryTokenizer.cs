using System.Text;

namespace EcsReflex.Core.Placement;

public enum QueryTokenKind
{
    End, LeftParen, RightParen, LeftBracket, RightBracket, Comma, And, Or, Not,
    /// <summary>A bare word where an expression starts: a subject such as <c>attribute:ecs.instance-type</c>.</summary>
    Word,
    /// <summary>A comparison operator, symbol or word form.</summary>
    Operator,
    /// <summary>An argument value, bare or quoted (the token's text is unquoted).</summary>
    Value,
}

/// <summary>One token: its kind, its text (unquoted for values), where it starts and, for operators, which.</summary>
public readonly record struct QueryToken(QueryTokenKind Kind, string Text, int Position, QueryOperator Operator = default)
{
    public string Describe() => Kind switch
    {
        QueryTokenKind.End => "the end of the expression",
        QueryTokenKind.Value => $"\"{Text}\"",
        _ => $"\"{Text}\"",
    };
}

/// <summary>
/// Splits a cluster query language expression into tokens. The language is context-sensitive (a value may
/// contain characters that elsewhere are operators, like <c>t2.*</c> or <c>service:web</c>), so the parser
/// tells the tokenizer what it expects next: <see cref="ReadStructural"/> where an expression or a
/// keyword may stand, <see cref="ReadOperator"/> after a subject, <see cref="ReadValue"/> for arguments.
/// </summary>
public sealed class QueryTokenizer(string text)
{
    public string Text { get; } = text;
    public int Position { get; set; }

    private const string StructuralStops = "()[],=!<>~&|";

    private QueryLanguageException Error(int at, string reason) => new(Text, at, reason);

    private void SkipSpace()
    {
        while (Position < Text.Length && char.IsWhiteSpace(Text[Position])) Position++;
    }

    private bool At(string s) => string.CompareOrdinal(Text, Position, s, 0, s.Length) == 0;

    /// <summary>Where an expression, a keyword (<c>and</c>, <c>or</c>, <c>not</c>), a parenthesis or the end may stand.</summary>
    public QueryToken ReadStructural()
    {
        SkipSpace();
        var at = Position;
        if (at >= Text.Length) return new(QueryTokenKind.End, "", at);
        var c = Text[at];
        switch (c)
        {
            case '(': Position++; return new(QueryTokenKind.LeftParen, "(", at);
            case ')': Position++; return new(QueryTokenKind.RightParen, ")", at);
            case '[': Position++; return new(QueryTokenKind.LeftBracket, "[", at);
            case ']': Position++; return new(QueryTokenKind.RightBracket, "]", at);
            case ',': Position++; return new(QueryTokenKind.Comma, ",", at);
        }
        if (At("&&")) { Position += 2; return new(QueryTokenKind.And, "&&", at); }
        if (At("||")) { Position += 2; return new(QueryTokenKind.Or, "||", at); }
        if (c == '!' && !(At("!=") || At("!~")))
        {
            Position++;
            return new(QueryTokenKind.Not, "!", at);
        }
        var start = Position;
        while (Position < Text.Length && !char.IsWhiteSpace(Text[Position]) && StructuralStops.IndexOf(Text[Position]) < 0) Position++;
        if (Position == start)
        {
            // An operator or a stray character where an expression should start.
            var end = start;
            while (end < Text.Length && !char.IsWhiteSpace(Text[end]) && end - start < 3 && "=!<>~&|".IndexOf(Text[end]) >= 0) end++;
            Position = Math.Max(end, start + 1);
            return new(QueryTokenKind.Operator, Text[start..Position], start);
        }
        var word = Text[start..Position];
        if (word.Equals("and", StringComparison.OrdinalIgnoreCase)) return new(QueryTokenKind.And, word, start);
        if (word.Equals("or", StringComparison.OrdinalIgnoreCase)) return new(QueryTokenKind.Or, word, start);
        if (word.Equals("not", StringComparison.OrdinalIgnoreCase)) return new(QueryTokenKind.Not, word, start);
        return new(QueryTokenKind.Word, word, start);
    }

    private static readonly (string Text, QueryOperator Op)[] Symbols =
    [
        ("!exists", QueryOperator.NotExists), ("!in", QueryOperator.NotIn),
        ("==", QueryOperator.Equals), ("!=", QueryOperator.NotEquals), (">=", QueryOperator.GreaterThanOrEqual),
        ("<=", QueryOperator.LessThanOrEqual), ("=~", QueryOperator.Matches), ("!~", QueryOperator.NotMatches),
        (">", QueryOperator.GreaterThan), ("<", QueryOperator.LessThan),
    ];

    private static readonly Dictionary<string, QueryOperator> Words = new(StringComparer.Ordinal)
    {
        ["equals"] = QueryOperator.Equals,
        ["not_equals"] = QueryOperator.NotEquals,
        ["greater_than"] = QueryOperator.GreaterThan,
        ["greater_than_equal"] = QueryOperator.GreaterThanOrEqual,
        ["less_than"] = QueryOperator.LessThan,
        ["less_than_equal"] = QueryOperator.LessThanOrEqual,
        ["exists"] = QueryOperator.Exists,
        ["not_exists"] = QueryOperator.NotExists,
        ["in"] = QueryOperator.In,
        ["not_in"] = QueryOperator.NotIn,
        ["matches"] = QueryOperator.Matches,
        ["not_matches"] = QueryOperator.NotMatches,
    };

    public const string OperatorList = "==, !=, >, >=, <, <=, exists, !exists, in, !in, =~, !~ (or equals, not_equals, greater_than, greater_than_equal, less_than, less_than_equal, not_exists, not_in, matches, not_matches)";

    /// <summary>After a subject: one comparison operator in symbol or word form.</summary>
    public QueryToken ReadOperator(string subject)
    {
        SkipSpace();
        var at = Position;
        if (at >= Text.Length)
            throw Error(at, $"expected an operator after {subject}; use one of {OperatorList}");
        foreach (var (sym, op) in Symbols)
        {
            if (!At(sym)) continue;
            var end = at + sym.Length;
            // Word-like symbols (!in, !exists) must end at a word boundary: "!inside" is not "!in".
            if (char.IsAsciiLetter(sym[^1]) && end < Text.Length && (char.IsAsciiLetterOrDigit(Text[end]) || Text[end] == '_')) continue;
            Position = end;
            return new(QueryTokenKind.Operator, sym, at, op);
        }
        var start = Position;
        while (Position < Text.Length && (char.IsAsciiLetterOrDigit(Text[Position]) || Text[Position] == '_')) Position++;
        var word = Text[start..Position];
        if (Words.TryGetValue(word, out var wop)) return new(QueryTokenKind.Operator, word, at, wop);
        Position = at;
        if (Text[at] == '=')
            throw Error(at, $"\"=\" is not an operator; use == for equality (or =~ to match a pattern)");
        var found = word.Length > 0 ? word : Next(at);
        throw Error(at, $"expected an operator after {subject}, found \"{found}\"; use one of {OperatorList}");
    }

    private string Next(int at)
    {
        var end = at;
        while (end < Text.Length && !char.IsWhiteSpace(Text[end]) && end - at < 20) end++;
        return end > at ? Text[at..end] : Text[at].ToString();
    }

    /// <summary>
    /// One argument value: quoted ('…' or "…", a backslash escapes the quote) or bare. A bare value ends at
    /// white space, at a ')' or ']' that closes nothing opened inside it, and, in a list, at a comma; so
    /// patterns like <c>(t2|m5).*</c> need no quotes while <c>not(task:group == db)</c> still closes.
    /// </summary>
    public QueryToken ReadValue(bool inList, string after)
    {
        SkipSpace();
        var at = Position;
        if (at >= Text.Length) throw Error(at, $"expected a value after {after}");
        var c = Text[at];
        if (c is '\'' or '"')
        {
            var sb = new StringBuilder();
            Position++;
            while (Position < Text.Length)
            {
                var ch = Text[Position];
                if (ch == '\\' && Position + 1 < Text.Length && (Text[Position + 1] == c || Text[Position + 1] == '\\'))
                {
                    sb.Append(Text[Position + 1]);
                    Position += 2;
                    continue;
                }
                if (ch == c)
                {
                    Position++;
                    return new(QueryTokenKind.Value, sb.ToString(), at);
                }
                sb.Append(ch);
                Position++;
            }
            throw Error(at, $"the quote {c} opened here is never closed; end the value with {c}");
        }
        if (c is ')' or ']' or ',' || (c == '[' && inList))
            throw Error(at, $"expected a value after {after}, found \"{c}\"");
        var depth = 0;
        var start = Position;
        while (Position < Text.Length)
        {
            var ch = Text[Position];
            if (char.IsWhiteSpace(ch)) break;
            if (ch is '(' or '[') depth++;
            else if (ch is ')' or ']')
            {
                if (depth == 0) break;
                depth--;
            }
            else if (ch == ',' && depth == 0 && inList) break;
            Position++;
        }
        return new(QueryTokenKind.Value, Text[start..Position], start);
    }

    /// <summary>Skips white space and returns the next character without consuming it, or '\0' at the end.</summary>
    public char PeekChar()
    {
        SkipSpace();
        return Position < Text.Length ? Text[Position] : '\0';
    }
}
