using System.Buffers;
using System.Globalization;
using System.Text;

namespace EcsReflex.Report;

/// <summary>Escaping for the page: everything that comes from events, the policy or file names goes through here.</summary>
public static class Html
{
    /// <summary>Escapes text for an HTML element or a quoted attribute value.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Copies UTF-8 JSON into a <c>&lt;script&gt;</c> block so that nothing in it can end the block or open
    /// a comment: <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> (only ever inside JSON strings) become \u escapes,
    /// which JSON.parse reads back unchanged.
    /// </summary>
    public static void WriteScriptSafeJson(ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        while (!json.IsEmpty)
        {
            var i = json.IndexOfAny((byte)'<', (byte)'>', (byte)'&');
            var plain = i < 0 ? json : json[..i];
            output.Write(plain);
            if (i < 0) break;
            output.Write(json[i] switch
            {
                (byte)'<' => "\\u003c"u8,
                (byte)'>' => "\\u003e"u8,
                _ => "\\u0026"u8,
            });
            json = json[(i + 1)..];
        }
    }

    /// <summary>A number for SVG attributes: invariant, at most two decimals.</summary>
    public static string N(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>A stable id fragment: letters, digits and dashes only.</summary>
    public static string Id(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        return sb.ToString();
    }

    public static string Time(DateTimeOffset? t, string format = "yyyy-MM-dd HH:mm:ss") =>
        t is { } v ? v.UtcDateTime.ToString(format, CultureInfo.InvariantCulture) : "—";

    public static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
