using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace EcsReflex.Core;

/// <summary>
/// The encoder for JSON that people read (the replay's JSON lines, the Lambda log lines): it escapes only what
/// JSON requires (RFC 8259 §7: the quotation mark, the reverse solidus and the control characters U+0000 to
/// U+001F), and text that is not Unicode (a lone surrogate, invalid UTF-8) as U+FFFD. Everything else is written
/// as it is: <c>+</c>, <c>→</c>, <c>'</c>, <c>&lt;</c>, <c>é</c>, emoji, where the serializer's default writes
/// <c>\u002B</c> or <c>\u2192</c>. Not for JSON embedded in HTML. No reflection: trim and AOT safe.
/// </summary>
public sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    public static MinimalJsonEncoder Instance { get; } = new();

    /// <summary>Writer options with this encoder, for one JSON document per line.</summary>
    public static JsonWriterOptions WriterOptions => new() { Encoder = Instance, Indented = false };

    private static readonly SearchValues<char> Special = SearchValues.Create(SpecialChars());
    private static readonly SearchValues<byte> SpecialUtf8 = SearchValues.Create(SpecialBytes());

    private MinimalJsonEncoder() { }

    private static string SpecialChars()
    {
        var chars = new char[34];
        for (var i = 0; i < 0x20; i++) chars[i] = (char)i;
        chars[32] = '"';
        chars[33] = '\\';
        return new string(chars);
    }

    private static byte[] SpecialBytes() => [.. SpecialChars().Select(c => (byte)c)];

    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar is < 0x20 or '"' or '\\' or (>= 0xD800 and <= 0xDFFF) or > 0x10FFFF;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) =>
        FirstToEncode(new ReadOnlySpan<char>(text, textLength));

    /// <summary>The index of the first character to escape in UTF-16 text, or -1.</summary>
    public static int FirstToEncode(ReadOnlySpan<char> text)
    {
        var special = text.IndexOfAny(Special);
        var clean = special < 0 ? text : text[..special];
        // A surrogate is fine only as the first half of a pair followed by the second.
        var at = 0;
        while (true)
        {
            var s = clean[at..].IndexOfAnyInRange('\uD800', '\uDFFF');
            if (s < 0) return special;
            s += at;
            if (char.IsHighSurrogate(clean[s]) && s + 1 < text.Length && char.IsLowSurrogate(text[s + 1]))
            {
                at = s + 2;
                if (at >= clean.Length) return special;
                continue;
            }
            return s;
        }
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        var special = utf8Text.IndexOfAny(SpecialUtf8);
        var clean = special < 0 ? utf8Text : utf8Text[..special]; // cut at an ASCII byte: never inside a sequence
        if (Utf8.IsValid(clean)) return special;
        var at = 0;
        while (at < clean.Length)
        {
            if (Rune.DecodeFromUtf8(clean[at..], out _, out var used) != OperationStatus.Done) return at;
            at += used;
        }
        return special;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var destination = new Span<char>(buffer, bufferLength);
        numberOfCharactersWritten = 0;
        ReadOnlySpan<char> text = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            _ => default,
        };
        if (text.IsEmpty && unicodeScalar < 0x20)
        {
            if (bufferLength < 6) return false;
            "\\u00".CopyTo(destination);
            destination[4] = "0123456789abcdef"[unicodeScalar >> 4];
            destination[5] = "0123456789abcdef"[unicodeScalar & 0xF];
            numberOfCharactersWritten = 6;
            return true;
        }
        if (text.IsEmpty)
        {
            // Not a character JSON escapes: written as itself (U+FFFD for what is not a Unicode scalar).
            var rune = Rune.IsValid(unicodeScalar) ? new Rune(unicodeScalar) : Rune.ReplacementChar;
            return rune.TryEncodeToUtf16(destination, out numberOfCharactersWritten);
        }
        if (!text.TryCopyTo(destination)) return false;
        numberOfCharactersWritten = text.Length;
        return true;
    }
}
