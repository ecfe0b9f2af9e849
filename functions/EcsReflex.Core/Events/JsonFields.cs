using System.Globalization;
using System.Text.Json;

namespace EcsReflex.Core.Events;

/// <summary>
/// Typed, tolerant reads of JSON members with the path of each member for error messages.
/// Tolerant where AWS is loose (numbers as strings, nulls for absent members); strict where a value
/// cannot be meant (a word where a number must be). Shared by the event parser and the snapshot reader.
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

    /// <summary>A string that AWS sometimes sends as a number (<c>cpu</c>, <c>memory</c>): both give the text.</summary>
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
        if (e.ValueKind == JsonValueKind.String && long.TryParse(e.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) return n;
        var isNumber = e.ValueKind == JsonValueKind.Number
            || (e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        throw Wrong(Child(path, name), isNumber ? "a whole number" : "a number", e);
    }

    public static int? OptionalInt(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n)) return n;
        if (e.ValueKind == JsonValueKind.String && int.TryParse(e.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) return n;
        var isNumber = e.ValueKind == JsonValueKind.Number
            || (e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        throw Wrong(Child(path, name), isNumber ? "a whole number from -2147483648 to 2147483647" : "a number", e);
    }

    public static double AsDouble(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        if (e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) && double.IsFinite(d)) return d;
        throw Wrong(path, "a number", e);
    }

    public static bool? OptionalBool(JsonElement obj, string name, string path)
    {
        var v = Get(obj, name);
        if (v is null) return null;
        var e = v.Value;
        if (e.ValueKind == JsonValueKind.True) return true;
        if (e.ValueKind == JsonValueKind.False) return false;
        if (e.ValueKind == JsonValueKind.String && bool.TryParse(e.GetString(), out var b)) return b;
        throw Wrong(Child(path, name), "true or false", e);
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
        // The AWS CLI and some SDKs print epoch seconds.
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
