using System.Text;
using System.Text.Json;

namespace EcsReflex.Core;

/// <summary>
/// A JSON syntax error where a person can find it: 1-based <see cref="Line"/> and <see cref="Column"/>
/// (in characters), what is wrong in EcsReflex's words, and the text found there.
/// </summary>
public sealed record JsonSyntaxError(int Line, int Column, string Problem, string Found, string Excerpt)
{
    /// <summary><c>not valid JSON: PROBLEM; found X in: EXCERPT</c>, without the position.</summary>
    public string Message => Found.Length == 0
        ? $"not valid JSON: {Problem}"
        : $"not valid JSON: {Problem}; found {Found} in: {Excerpt}";

    /// <summary><c>LOCATION:LINE:COLUMN: not valid JSON: …</c>, the form editors and terminals link to.</summary>
    public string At(string location) => $"{location}:{Line}:{Column}: {Message}";

    public override string ToString() => $"line {Line}, column {Column}: {Message}";
}

/// <summary>
/// The one place that turns bytes read from a file into JSON text and a <see cref="JsonException"/> into
/// a <see cref="JsonSyntaxError"/>: used by the policy, the snapshot and the event inputs. Pure, no I/O.
/// </summary>
public static class JsonText
{
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The text without a leading UTF-8 byte order mark (editors on Windows write one).</summary>
    public static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) => utf8.StartsWith(Bom) ? utf8[3..] : utf8;

    /// <summary><see cref="WithoutBom(ReadOnlySpan{byte})"/> for memory.</summary>
    public static ReadOnlyMemory<byte> WithoutBom(ReadOnlyMemory<byte> utf8) => utf8.Span.StartsWith(Bom) ? utf8[3..] : utf8;

    /// <summary>
    /// Where and what the syntax error of <paramref name="ex"/> is in <paramref name="utf8"/> (the text that was
    /// parsed, without its BOM); null when the exception carries no position.
    /// </summary>
    public static JsonSyntaxError? Describe(JsonException ex, ReadOnlySpan<byte> utf8)
    {
        if (ex.LineNumber is not { } line0 || ex.BytePositionInLine is not { } byte0) return null;
        // Utf8JsonReader counts lines by '\n' and positions in bytes, both from 0.
        var lineStart = 0;
        for (long l = 0; l < line0; l++)
        {
            var nl = utf8[lineStart..].IndexOf((byte)'\n');
            if (nl < 0) break;
            lineStart += nl + 1;
        }
        var lineEnd = utf8[lineStart..].IndexOf((byte)'\n') is var e and >= 0 ? lineStart + e : utf8.Length;
        var at = (int)Math.Min(lineStart + byte0, lineEnd);
        // A misspelt literal (tru, nul) is reported where it stops matching: point at the whole word instead,
        // unless the word is the start of a string (then the error is inside the string).
        var word = at;
        while (word > lineStart && char.IsAsciiLetter((char)utf8[word - 1])) word--;
        if (word < at && (word == lineStart || utf8[word - 1] != '"')) at = word;
        var column = 1;
        foreach (var b in utf8[lineStart..at])
            if ((b & 0xC0) != 0x80) column++; // count characters, not UTF-8 continuation bytes
        var lineText = utf8[lineStart..lineEnd];
        var (problem, found) = Explain(utf8, at, ex.Message);
        return new JsonSyntaxError((int)line0 + 1, column, problem, found, Excerpt(lineText, at - lineStart));
    }

    private static (string Problem, string Found) Explain(ReadOnlySpan<byte> text, int at, string dotnetMessage)
    {
        var rest = text[at..];
        var trimmed = rest.TrimStart(" \t\r\n"u8);
        var before = text[..at].TrimEnd(" \t\r\n"u8);
        if (trimmed.IsEmpty)
            return before.IsEmpty
                ? ("the text is empty: expected a JSON value", "")
                : ("the text ends before the JSON value does: a closing '}' or ']' (or the rest of a value) is missing", "the end of the text");
        var found = Token(rest);
        var c = rest[0];
        var prev = before.IsEmpty ? (byte)0 : before[^1];
        if (dotnetMessage.Contains("Expected a ':'", StringComparison.Ordinal)) return ("a ':' is missing after the property name", found);
        if (c == '\'') return ("strings and names take double quotes (\"), not single quotes", found);
        if (c == '/') return ("comments are not allowed in this file", found);
        if (prev == ',' && c is (byte)'}' or (byte)']') return ("a ',' before a closing bracket is not allowed: remove the trailing comma", found);
        var prevEndsValue = prev is (byte)'"' or (byte)'}' or (byte)']' or (byte)'e' or (byte)'l' || (prev >= '0' && prev <= '9');
        if (prevEndsValue && (c is (byte)'"' or (byte)'{' or (byte)'[' or (byte)'-' or (byte)'t' or (byte)'f' or (byte)'n' || (c >= '0' && c <= '9')))
        {
            var valueLine = before.Count((byte)'\n') + 1;
            var line = text[..at].Count((byte)'\n') + 1;
            return (valueLine == line
                ? "a ',' is missing before this value or name"
                : $"a ',' is missing before this value or name (at the end of line {valueLine}, after the value there)", found);
        }
        if (prev is (byte)'{' && c != '"') return ("expected a property name in double quotes or '}'", found);
        if (prev is (byte)':' or (byte)'[' or (byte)',' && c is (byte)'}' or (byte)']' or (byte)',' or (byte)':')
            return ("expected a value (a string, number, object, array, true, false or null)", found);
        if (char.IsAsciiLetter((char)c) || c == '_')
            return ("a word that is not a JSON value: strings take double quotes, and only true, false and null are bare words", found);
        if (prevEndsValue && c == ':') return ("a ':' here is not expected: only a property name in double quotes takes one", found);
        if (c == '"' && rest.Length > 0) return ("a string that is not closed or holds a character JSON does not allow (a control character or a bad \\ escape)", found);
        return ($"unexpected {found}", found);
    }

    /// <summary>The token that starts at the error, quoted and cut short: <c>'"name"'</c>, <c>'}'</c>, <c>'True'</c>.</summary>
    private static string Token(ReadOnlySpan<byte> rest)
    {
        int n;
        if (rest[0] == '"')
        {
            n = 1;
            while (n < rest.Length && rest[n] != '"' && rest[n] != '\n' && n < 40) n += rest[n] == '\\' ? 2 : 1;
            if (n < rest.Length && rest[n] == '"') n++;
        }
        else if (char.IsAsciiLetterOrDigit((char)rest[0]) || rest[0] is (byte)'-' or (byte)'_' or (byte)'.')
        {
            n = 1;
            while (n < rest.Length && n < 40 && (char.IsAsciiLetterOrDigit((char)rest[n]) || rest[n] is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'+')) n++;
        }
        else n = Utf8Length(rest[0]);
        n = Math.Min(n, rest.Length);
        return $"'{Printable(rest[..n])}'";
    }

    /// <summary>The line around the error, trimmed and at most about 60 characters.</summary>
    private static string Excerpt(ReadOnlySpan<byte> line, int offset)
    {
        const int Before = 30, After = 30;
        var start = Math.Max(0, offset - Before);
        while (start > 0 && (line[start] & 0xC0) == 0x80) start--;
        var end = Math.Min(line.Length, offset + After);
        while (end < line.Length && (line[end] & 0xC0) == 0x80) end++;
        var text = Printable(line[start..end]).Trim();
        return (start > 0 ? "…" : "") + text + (end < line.Length ? "…" : "");
    }

    private static int Utf8Length(byte first) => first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var s = Encoding.UTF8.GetString(bytes);
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s) sb.Append(ch is '\t' or '\r' ? ' ' : char.IsControl(ch) ? '?' : ch);
        return sb.ToString();
    }
}
