using System.Globalization;
using System.Text.Json;

namespace EcsReflex.Core.Events;

/// <summary>
/// Typed reads of JSON members with the path of each member for error messages, for the snapshot reader
/// (what <c>aws ecs describe-*</c> prints) and the queue messages. Each member is read in the JSON type AWS
/// prints it in; a number in quotes or a boolean in quotes is <c>wrong-type</c>, never guessed at. Two
/// members are read in both forms: <see cref="OptionalTime"/> (AWS prints both: epoch seconds from the AWS
/// CLI v1, ISO 8601 from v2) and <see cref="OptionalStringOrNumber"/>. Nulls are read as absent.
/// </summary>
public static class JsonFields
{
    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => Quote(e.GetString() ?? ""),
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "nothing",
    };

    private static string Quote(string s) => s.Length > 40 ? $"\"{s[..40]}…\"" : $"\"{s}\"";

    /// <summary>What to say about a string that holds a number: the number without its quotes.</summary>
    private static string Unquoted(JsonElement e) =>
        e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? " (a number in quotes is a string: write it without the quotes)" : "";

    public static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
    public static string Index(string path, int i) => $"{path}[{i}]";

    public static EventRejectedException Wrong(string path, string expected, JsonElement got) =>
        new(RejectionKind.WrongType, path, $"expected {expected}, got {Describe(got)}");

    public static EventRejectedException Missing(string path) =>
        new(RejectionKind.MissingField, path, "required field is missing");

    /// <summary>The member, or null when absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement obj, string name)
    {
        if (obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        return null;
    }

    public static JsonElement RequireObject(JsonElement obj, string name, string path)
    {
        var p = Child(path, name);
        var v = Get(obj, name) ?? throw Missing(p);
        if (v.ValueKind != JsonValueKind.Object) throw Wrong(p, "an object", v);
        return v;
    }

    public static JsonElement? OptionalObject(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Object) throw Wrong(Child(path, name), "an object", v.Value);
        return v;
    }

    public static string RequireString(JsonElement obj, string name, string path)
    {
        var s = OptionalString(obj, name, path);
        if (s is null) throw Missing(Child(path, name));
        return s;
    }

    public static string? OptionalString(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.String) throw Wrong(Child(path, name), "a string", v.Value);
        return v.Value.GetString();
    }

    /// <summary>
    /// A string the snapshot reader also takes as a number (<c>cpu</c>, <c>memory</c>, attribute values): both
    /// give the text. The AWS CLI examples print them as strings only; kept for snapshots written by hand.
    /// </summary>
    public static string? OptionalStringOrNumber(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        return v.Value.ValueKind switch
        {
            JsonValueKind.String => v.Value.GetString(),
            JsonValueKind.Number => v.Value.GetRawText(),
            _ => throw Wrong(Child(path, name), "a string or a number", v.Value),
        };
    }

    public static long? OptionalLong(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n)) return n;
        throw Wrong(Child(path, name), e.ValueKind == JsonValueKind.Number ? "a whole number" : "a number" + Unquoted(e), e);
    }

    public static int? OptionalInt(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n)) return n;
        throw Wrong(Child(path, name), e.ValueKind == JsonValueKind.Number ? "a whole number from -2147483648 to 2147483647" : "a number" + Unquoted(e), e);
    }

    public static double AsDouble(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        throw Wrong(path, "a number" + Unquoted(e), e);
    }

    public static bool? OptionalBool(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.True) return true;
        if (e.ValueKind == JsonValueKind.False) return false;
        throw Wrong(Child(path, name), e.ValueKind == JsonValueKind.String && bool.TryParse(e.GetString(), out _) ? "true or false (without quotes)" : "true or false", e);
    }

    public static DateTimeOffset? OptionalTime(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.String)
        {
            var s = e.GetString()!;
            if (Timestamps.TryParse(s, out var t)) return t;
            throw new EventRejectedException(RejectionKind.InvalidValue, Child(path, name), $"expected an ISO 8601 timestamp, got {Describe(e)}");
        }
        // The AWS CLI v1 prints epoch seconds with a fraction ("createdAt": 1466801808.595 in the
        // describe-services example of aws/aws-cli, awscli/examples/ecs/describe-services.rst); v2 prints ISO 8601.
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var epoch) && epoch is > 0 and < 253402300800)
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000));
        throw Wrong(Child(path, name), "a timestamp", e);
    }

    /// <summary>Each element of an optional array, with its path. Absent or null: nothing.</summary>
    public static IReadOnlyList<T> Array<T>(JsonElement obj, string name, string path, Func<JsonElement, string, T> read)
    {
        var v = Get(obj, name);
        if (v is null) return [];
        var p = Child(path, name);
        if (v.Value.ValueKind != JsonValueKind.Array) throw Wrong(p, "an array", v.Value);
        var n = v.Value.GetArrayLength();
        if (n == 0) return [];
        var list = new T[n];
        var i = 0;
        foreach (var item in v.Value.EnumerateArray())
        {
            list[i] = read(item, Index(p, i));
            i++;
        }
        return list;
    }

    public static JsonElement AsObject(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Object ? e : throw Wrong(path, "an object", e);

    public static string AsString(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(path, "a string", e);
}
