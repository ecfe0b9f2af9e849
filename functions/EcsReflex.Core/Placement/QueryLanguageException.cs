using System.Globalization;
using System.Text;

namespace EcsReflex.Core.Placement;

/// <summary>
/// A cluster query language expression that cannot be used. <see cref="Position"/> is the 0-based index
/// of the offending character; the message says it 1-based ("at character 12") and shows the expression
/// with a caret under that character, so a person sees at once where to look.
/// </summary>
public sealed class QueryLanguageException : Exception
{
    public QueryLanguageException(string expression, int position, string reason)
        : base(Compose(expression, position, reason))
    {
        Expression = expression;
        Position = Math.Clamp(position, 0, expression.Length);
        Reason = reason;
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }
    /// <summary>0-based index of the offending character (the length of the expression when the problem is its end).</summary>
    public int Position { get; }
    /// <summary>1-based character number, as the message says it.</summary>
    public int Character => Position + 1;
    /// <summary>What is wrong, without the position and the caret lines.</summary>
    public string Reason { get; }

    /// <summary>The reason, the position and two lines: the expression (or the part around the position) and a caret under the offending character.</summary>
    public static string Compose(string expression, int position, string reason)
    {
        position = Math.Clamp(position, 0, expression.Length);
        var (excerpt, caret) = Excerpt(expression, position);
        var sb = new StringBuilder();
        sb.Append(reason).Append(" (at character ").Append((position + 1).ToString(CultureInfo.InvariantCulture)).Append(')').Append('\n');
        sb.Append("    ").Append(excerpt).Append('\n');
        sb.Append("    ").Append(' ', caret).Append('^');
        return sb.ToString();
    }

    private const int Window = 72;

    /// <summary>The visible part of a long expression around <paramref name="position"/>, and the caret's column in it.</summary>
    private static (string Text, int Caret) Excerpt(string expression, int position)
    {
        // Control characters would break the caret line: show them as spaces.
        var flat = new string(expression.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        if (flat.Length <= Window) return (flat, position);
        var start = Math.Max(0, position - Window / 2);
        var end = Math.Min(flat.Length, start + Window);
        start = Math.Max(0, end - Window);
        var text = flat[start..end];
        var caret = position - start;
        if (start > 0) { text = "…" + text; caret++; }
        if (end < flat.Length) text += "…";
        return (text, caret);
    }
}
