using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EcsReflex.Core.Events;

/// <summary>
/// Typed reads of the current value of a <see cref="Utf8JsonReader"/>, with the same messages as
/// <see cref="JsonFields"/>: each field is read in the one JSON type AWS writes it in (a number as a
/// string, a string as a number, epoch seconds for a timestamp are rejected as <c>wrong-type</c> with
/// their path, never guessed at), and nulls are read as absent. The path is passed in already built only where it is cheap
/// (literals); callers build item paths only when they throw.
/// </summary>
internal static class JsonReading
{
    public delegate T ItemReader<T>(ref Utf8JsonReader r, string arrayPath, int index, StringPool? pool);

    public static string ItemPath(string arrayPath, int index) => $"{arrayPath}[{index}]";

    /// <summary>The current property name as chars (ASCII names fit the buffer); longer or escaped names come back as a string.</summary>
    public static ReadOnlySpan<char> Name(in Utf8JsonReader r, Span<char> buffer)
    {
        if (!r.ValueIsEscaped && r.ValueSpan.Length <= buffer.Length && !r.HasValueSequence)
        {
            var n = Encoding.UTF8.GetChars(r.ValueSpan, buffer);
            return buffer[..n];
        }
        return r.GetString();
    }

    public static string Describe(ref Utf8JsonReader r)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.String:
                var s = r.GetString() ?? "";
                return s.Length > 40 ? $"\"{s[..40]}…\"" : $"\"{s}\"";
            case JsonTokenType.Number: return Encoding.UTF8.GetString(r.HasValueSequence ? r.ValueSequence.ToArray() : r.ValueSpan);
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            case JsonTokenType.Null: return "null";
            case JsonTokenType.StartArray: return "an array";
            case JsonTokenType.StartObject: return "an object";
            default: return "nothing";
        }
    }

    public static EventRejectedException Wrong(ref Utf8JsonReader r, string path, string expected) =>
        new(RejectionKind.WrongType, path, $"expected {expected}, got {Describe(ref r)}");

    /// <summary>Moves to the value of the property the reader is on.</summary>
    public static void Value(ref Utf8JsonReader r) => r.Read();

    public static string? String(ref Utf8JsonReader r, string path) => r.TokenType switch
    {
        JsonTokenType.String => r.GetString(),
        JsonTokenType.Null => null,
        _ => throw Wrong(ref r, path, "a string"),
    };

    /// <summary>Like <see cref="String"/>, through the pool for values that repeat across a stream.</summary>
    public static string? Pooled(ref Utf8JsonReader r, StringPool? pool, string path)
    {
        if (pool is not null && r.TokenType == JsonTokenType.String && !r.ValueIsEscaped && !r.HasValueSequence)
            return pool.Get(r.ValueSpan) ?? String(ref r, path);
        return String(ref r, path);
    }

    // Readers for members of array items: the item's path (a string built from the array path, the index and the
    // member) is only needed for an error, so it is only built then. Building it for every member was a good part
    // of the parser's allocation.

    /// <summary><see cref="Pooled(ref Utf8JsonReader, StringPool?, string)"/> for <c>arrayPath[index]member</c>.</summary>
    public static string? PooledAt(ref Utf8JsonReader r, StringPool? pool, string arrayPath, int index, string member) =>
        r.TokenType == JsonTokenType.String ? Pooled(ref r, pool, arrayPath) : String(ref r, ItemPath(arrayPath, index) + member);

    /// <summary><see cref="String(ref Utf8JsonReader, string)"/> for <c>arrayPath[index]member</c>.</summary>
    public static string? StringAt(ref Utf8JsonReader r, string arrayPath, int index, string member) =>
        r.TokenType == JsonTokenType.String ? r.GetString() : String(ref r, ItemPath(arrayPath, index) + member);

    /// <summary><see cref="Long"/> for <c>arrayPath[index]member</c>.</summary>
    public static long? LongAt(ref Utf8JsonReader r, string arrayPath, int index, string member) =>
        r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var v) ? v : Long(ref r, ItemPath(arrayPath, index) + member);

    /// <summary><see cref="Int"/> for <c>arrayPath[index]member</c>.</summary>
    public static int? IntAt(ref Utf8JsonReader r, string arrayPath, int index, string member) =>
        r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var v) ? v : Int(ref r, ItemPath(arrayPath, index) + member);

    /// <summary><see cref="Bool"/> for <c>arrayPath[index]member</c>.</summary>
    public static bool? BoolAt(ref Utf8JsonReader r, string arrayPath, int index, string member) =>
        r.TokenType is JsonTokenType.True or JsonTokenType.False ? r.GetBoolean() : Bool(ref r, ItemPath(arrayPath, index) + member);

    /// <summary><see cref="ExpectObject"/> for <c>arrayPath[index]member</c>.</summary>
    public static void ExpectObjectAt(ref Utf8JsonReader r, string arrayPath, int index, string member)
    {
        if (r.TokenType != JsonTokenType.StartObject) ExpectObject(ref r, ItemPath(arrayPath, index) + member);
    }

    /// <summary><see cref="Double"/> for <c>arrayPath[index]member</c>.</summary>
    public static double? DoubleAt(ref Utf8JsonReader r, string arrayPath, int index, string member) =>
        r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var v) && double.IsFinite(v) ? v : Double(ref r, ItemPath(arrayPath, index) + member);

    /// <summary>What to say about a string that holds a number: the number without its quotes.</summary>
    private static string Unquoted(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.String && double.TryParse(r.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? " (a number in quotes is a string: write it without the quotes)" : "";

    public static long? Long(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n)) return n;
        throw Wrong(ref r, path, r.TokenType == JsonTokenType.Number ? "a whole number" : "a number" + Unquoted(ref r));
    }

    public static int? Int(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var n)) return n;
        throw Wrong(ref r, path, r.TokenType == JsonTokenType.Number ? "a whole number from -2147483648 to 2147483647" : "a number" + Unquoted(ref r));
    }

    public static double? Double(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        throw Wrong(ref r, path, "a number" + Unquoted(ref r));
    }

    public static bool? Bool(ref Utf8JsonReader r, string path)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.Null: return null;
            case JsonTokenType.String when bool.TryParse(r.GetString(), out _): throw Wrong(ref r, path, "true or false (without quotes)");
            default: throw Wrong(ref r, path, "true or false");
        }
    }

    public static DateTimeOffset? Time(ref Utf8JsonReader r, string path)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
            {
                Span<char> buffer = stackalloc char[40];
                if (!r.ValueIsEscaped && !r.HasValueSequence && r.ValueSpan.Length <= buffer.Length)
                {
                    var n = Encoding.UTF8.GetChars(r.ValueSpan, buffer);
                    if (Timestamps.TryParse(buffer[..n], out var t)) return t;
                }
                else if (Timestamps.TryParse(r.GetString(), out var t2)) return t2;
                throw new EventRejectedException(RejectionKind.InvalidValue, path, $"expected an ISO 8601 timestamp, got {Describe(ref r)}");
            }
            default:
                // EventBridge writes every timestamp of these events as an ISO 8601 string; a number is not one
                // (12345 would be 1970-01-01T03:25:45Z as epoch seconds, or a few seconds after 1970 as milliseconds).
                throw Wrong(ref r, path, "an ISO 8601 timestamp string such as \"2026-03-02T09:20:11Z\"");
        }
    }

    public static void ExpectObject(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, path, "an object");
    }

    /// <summary>Reads an array (null: empty). The reader is on the value; it ends on the array's end.</summary>
    public static IReadOnlyList<T> Array<T>(ref Utf8JsonReader r, string path, ItemReader<T> read, StringPool? pool = null)
    {
        if (r.TokenType == JsonTokenType.Null) return [];
        if (r.TokenType != JsonTokenType.StartArray) throw Wrong(ref r, path, "an array");
        List<T>? list = null;
        var i = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            (list ??= []).Add(read(ref r, path, i, pool));
            i++;
        }
        return list is null ? [] : list;
    }

    public static string StringItem(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool) =>
        r.TokenType == JsonTokenType.String ? Pooled(ref r, pool, arrayPath)! : throw Wrong(ref r, ItemPath(arrayPath, i), "a string");

    public static KeyValue KeyValueItem(ref Utf8JsonReader r, string arrayPath, int i, StringPool? pool)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Wrong(ref r, ItemPath(arrayPath, i), "an object");
        string? name = null, value = null;
        Span<char> buf = stackalloc char[32];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var n = Name(in r, buf);
            r.Read();
            if (n.SequenceEqual("name")) name = r.TokenType == JsonTokenType.String ? Pooled(ref r, pool, arrayPath) : String(ref r, ItemPath(arrayPath, i) + ".name");
            else if (n.SequenceEqual("value")) value = r.TokenType == JsonTokenType.String ? Pooled(ref r, pool, arrayPath) : String(ref r, ItemPath(arrayPath, i) + ".value");
            else r.Skip();
        }
        return new KeyValue(name ?? throw new EventRejectedException(RejectionKind.MissingField, ItemPath(arrayPath, i) + ".name", "required field is missing"), value);
    }
}
