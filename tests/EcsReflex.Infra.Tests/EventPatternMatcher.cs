using System.Text.Json;
using System.Text.Json.Nodes;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// EventBridge's event pattern matching, for the operators the stack's rules use, written from the EventBridge user guide
/// ("Event patterns", "Arrays in event patterns", "Matching null values and empty strings", "Content filtering"):
/// <list type="bullet">
/// <item>A pattern object matches when every field it names matches (and); the event's other fields are ignored. A field
/// named in the pattern must be in the event, except under <c>{"exists": false}</c>.</item>
/// <item>A nested pattern object matches the event's object of that name, field by field.</item>
/// <item>A field's pattern is an array of matchers: it matches when any of them matches (or). When the event's value is an
/// array, it matches when any element matches.</item>
/// <item>Exact values: strings character by character, numbers by their JSON text (300 is not 300.0), <c>true</c>,
/// <c>false</c> and <c>null</c> (which an empty string does not match).</item>
/// <item><c>prefix</c> and <c>suffix</c>, on strings only; <c>anything-but</c> with a string, a number, a list of strings
/// or of numbers, or <c>{"prefix": …}</c> / <c>{"suffix": …}</c>; <c>exists</c> true or false, on leaf values only (an
/// object is not a leaf: <c>{"exists": false}</c> matches it).</item>
/// </list>
/// Where the guide leaves a case open, this matcher takes the reading that matches less (an <c>anything-but</c> string
/// against a number or a null, <c>exists</c> against a null or an empty array), so a test that asserts a delivery cannot
/// pass on a lenient guess. An operator it does not know throws: a rule that starts using one fails its tests until the
/// matcher learns it.
/// </summary>
public static class EventPatternMatcher
{
    public static bool Matches(string pattern, string @event) => Matches(JsonNode.Parse(pattern)!, JsonNode.Parse(@event));

    public static bool Matches(JsonNode pattern, JsonNode? @event) =>
        pattern is JsonObject p ? MatchesObject(p, @event, present: @event is not null)
            : throw new ArgumentException($"an event pattern is a JSON object, not {pattern.ToJsonString()}", nameof(pattern));

    /// <param name="present">False when the event has no such object: only <c>{"exists": false}</c> leaves match then.</param>
    private static bool MatchesObject(JsonObject pattern, JsonNode? node, bool present)
    {
        foreach (var (name, fieldPattern) in pattern)
        {
            if (name.StartsWith('$')) throw new NotSupportedException($"{name}: the matcher does not implement it");
            var child = node as JsonObject;
            var has = present && child is not null && child.ContainsKey(name);
            var value = has ? child![name] : null;
            var ok = fieldPattern switch
            {
                JsonObject nested => MatchesObject(nested, value, has && value is JsonObject),
                JsonArray matchers => MatchesField(matchers, has, value, name),
                _ => throw new ArgumentException($"{name}: a field's pattern is an array of matchers or an object, not {fieldPattern?.ToJsonString() ?? "null"}"),
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>Any matcher against the field (any element of it, when it is an array).</summary>
    private static bool MatchesField(JsonArray matchers, bool has, JsonNode? value, string name)
    {
        // A leaf: a value, or each value of an array of values. An object is not a leaf.
        var leaf = has && value is not JsonObject;
        List<JsonNode?> values = !leaf ? [] : value is JsonArray a ? [.. a] : [value];
        foreach (var m in matchers)
        {
            if (m is JsonObject op && op.Count == 1 && op.ContainsKey("exists"))
            {
                var wanted = op["exists"] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                    ? v.GetValue<bool>()
                    : throw new ArgumentException($"{name}: exists takes true or false");
                // A null value is present, but whether EventBridge calls it existing is not said: match neither way.
                if (leaf && value is null) continue;
                // An empty array holds no value: not said either.
                if (leaf && value is JsonArray { Count: 0 }) continue;
                if (wanted == leaf) return true;
                continue;
            }
            if (values.Any(v => MatchesValue(m, v, name))) return true;
        }
        return false;
    }

    private static bool MatchesValue(JsonNode? matcher, JsonNode? value, string name)
    {
        switch (matcher)
        {
            case null:
                return value is null;
            case JsonValue literal:
                return value is JsonValue v && SameLiteral(literal, v);
            case JsonObject op when op.Count == 1:
            {
                var (key, arg) = op.First();
                return key switch
                {
                    "prefix" => Text(value) is { } s && s.StartsWith(Arg(arg, key, name), StringComparison.Ordinal),
                    "suffix" => Text(value) is { } s && s.EndsWith(Arg(arg, key, name), StringComparison.Ordinal),
                    "anything-but" => AnythingBut(arg, value, name),
                    _ => throw new NotSupportedException($"{name}: the matcher does not implement \"{key}\""),
                };
            }
            default:
                throw new ArgumentException($"{name}: {matcher.ToJsonString()} is not a matcher");
        }
    }

    private static bool AnythingBut(JsonNode? arg, JsonNode? value, string name) => arg switch
    {
        JsonValue one when one.GetValueKind() is JsonValueKind.String or JsonValueKind.Number =>
            value is JsonValue v && v.GetValueKind() == one.GetValueKind() && !SameLiteral(one, v),
        JsonArray list when list.Count > 0 && list.All(e => e is JsonValue ev && ev.GetValueKind() == list[0]!.GetValueKind())
                            && list[0]!.GetValueKind() is JsonValueKind.String or JsonValueKind.Number =>
            value is JsonValue v && v.GetValueKind() == list[0]!.GetValueKind() && !list.Any(e => SameLiteral((JsonValue)e!, v)),
        JsonObject { Count: 1 } op when op.ContainsKey("prefix") =>
            Text(value) is { } s && !s.StartsWith(Arg(op["prefix"], "prefix", name), StringComparison.Ordinal),
        JsonObject { Count: 1 } op when op.ContainsKey("suffix") =>
            Text(value) is { } s && !s.EndsWith(Arg(op["suffix"], "suffix", name), StringComparison.Ordinal),
        _ => throw new NotSupportedException($"{name}: the matcher does not implement anything-but {arg?.ToJsonString() ?? "null"}"),
    };

    /// <summary>Same kind and the same JSON text: "a" is "a", 300 is not 300.0, true is true.</summary>
    private static bool SameLiteral(JsonValue a, JsonValue b) =>
        a.GetValueKind() == b.GetValueKind() && a.ToJsonString() == b.ToJsonString();

    private static string? Text(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static string Arg(JsonNode? arg, string op, string name) =>
        arg is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new ArgumentException($"{name}: {op} takes a string");
}
