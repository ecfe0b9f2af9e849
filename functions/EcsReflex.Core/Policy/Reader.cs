using System.Text.Json;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Policy;

/// <summary>Reads policy JSON and collects every problem with its path instead of stopping at the first.</summary>
internal sealed class Reader
{
    public List<PolicyError> Errors { get; } = [];

    public void Error(string path, string message) => Errors.Add(new PolicyError(path, message));

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>Checks that <paramref name="e"/> is an object with only the known fields.</summary>
    public bool Object(JsonElement e, string path, params string[] known)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            Error(path, $"expected an object, got {JsonFields.Describe(e)}");
            return false;
        }
        foreach (var p in e.EnumerateObject())
            if (Array.IndexOf(known, p.Name) < 0)
                Error(Join(path, p.Name), $"unknown field; expected one of: {string.Join(", ", known.Where(k => k != "$schema"))}");
        return true;
    }

    private JsonElement? Get(JsonElement e, string path, string name, JsonValueKind kind, string expected)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == kind || (kind == JsonValueKind.True && v.ValueKind == JsonValueKind.False)) return v;
        Error(Join(path, name), $"expected {expected}, got {JsonFields.Describe(v)}");
        return null;
    }

    public string? OptionalString(JsonElement e, string path, string name) =>
        Get(e, path, name, JsonValueKind.String, "a string")?.GetString();

    public string? RequiredString(JsonElement e, string path, string name)
    {
        var present = e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;
        var s = OptionalString(e, path, name);
        if (!present) Error(Join(path, name), "required field is missing");
        else if (s is { Length: 0 }) Error(Join(path, name), "must not be empty");
        return s;
    }

    public JsonElement? OptionalObject(JsonElement e, string path, string name) =>
        Get(e, path, name, JsonValueKind.Object, "an object");

    public bool Bool(JsonElement e, string path, string name, bool fallback) =>
        Get(e, path, name, JsonValueKind.True, "true or false")?.GetBoolean() ?? fallback;

    public bool? OptionalBool(JsonElement e, string path, string name) =>
        Get(e, path, name, JsonValueKind.True, "true or false")?.GetBoolean();

    public int? OptionalInt(JsonElement e, string path, string name, int min, int max)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        var n = Int(e, path, name, int.MinValue, min, max);
        return n == int.MinValue ? null : n;
    }

    public int Int(JsonElement e, string path, string name, int fallback, int min, int max)
    {
        if (Get(e, path, name, JsonValueKind.Number, "a whole number") is not { } v) return fallback;
        if (!v.TryGetInt32(out var n))
        {
            Error(Join(path, name), $"expected a whole number, got {v.GetRawText()}");
            return fallback;
        }
        if (n < min || n > max)
        {
            Error(Join(path, name), $"{n} is out of range; use a value from {min} to {max}");
            return fallback;
        }
        return n;
    }

    public double Number(JsonElement e, string path, string name, double fallback, double min, double max)
    {
        if (Get(e, path, name, JsonValueKind.Number, "a number") is not { } v) return fallback;
        var d = v.GetDouble();
        if (d < min || d > max)
        {
            Error(Join(path, name), $"{v.GetRawText()} is out of range; use a value from {min} to {max}");
            return fallback;
        }
        return d;
    }

    public IReadOnlyList<T> List<T>(JsonElement e, string path, string name, bool required, Func<Reader, JsonElement, string, T> read)
    {
        var p = Join(path, name);
        if (Get(e, path, name, JsonValueKind.Array, "an array") is not { } a)
        {
            if (required && !(e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var x) && x.ValueKind != JsonValueKind.Null))
                Error(p, "required field is missing");
            return [];
        }
        var list = new List<T>();
        var i = 0;
        foreach (var item in a.EnumerateArray())
            list.Add(read(this, item, $"{p}[{i++}]"));
        return list;
    }

    public IReadOnlyList<string> StringList(JsonElement e, string path, string name, bool required) =>
        List(e, path, name, required, (r, item, p) =>
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } s) return s;
            r.Error(p, $"expected a non-empty string, got {JsonFields.Describe(item)}");
            return "";
        });

    public IReadOnlyList<int> IntList(JsonElement e, string path, string name) =>
        List(e, path, name, false, (r, item, p) =>
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var n)) return n;
            r.Error(p, $"expected a whole number, got {JsonFields.Describe(item)}");
            return 0;
        });
}
