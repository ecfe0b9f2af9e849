using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EcsReflex.Bench.HotPath;

/// <summary>The repository's sample events (events/), read as JSON and edited for one measurement.</summary>
public sealed partial class SampleEvents(string root)
{
    public JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(root, "events", file)))!.AsObject();

    public static byte[] Bytes(JsonNode e) => Encoding.UTF8.GetBytes(e.ToJsonString());

    /// <summary>A fresh event id, so that no dedupe key of another measurement is met.</summary>
    public static JsonObject NewId(JsonObject e)
    {
        e["id"] = Guid.NewGuid().ToString();
        return e;
    }

    /// <summary>
    /// Every timestamp of the event moved so that its <c>time</c> is <paramref name="to"/> (as a delivery that arrives at once),
    /// each written back in its own format (<c>…Z</c>, <c>….517+0000</c>, with as many fraction digits as it had).
    /// </summary>
    public static JsonObject ShiftTo(JsonObject e, DateTimeOffset to)
    {
        var from = Parse(e["time"]!.GetValue<string>())!.Value.Time;
        Shift(e, to - from);
        return e;
    }

    private static void Shift(JsonNode node, TimeSpan by)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var s) && Parse(s) is { } t) o[key] = Format(t, by);
                    else if (value is not null) Shift(value, by);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue<string>(out var s) && Parse(s) is { } t) a[i] = Format(t, by);
                    else if (a[i] is { } child) Shift(child, by);
                }
                break;
        }
    }

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)$")]
    private static partial Regex Timestamp();

    private readonly record struct Stamp(DateTimeOffset Time, int Digits, string Suffix);

    private static Stamp? Parse(string s)
    {
        var m = Timestamp().Match(s);
        if (!m.Success) return null;
        var offset = m.Groups[3].Value;
        var iso = m.Groups[1].Value + m.Groups[2].Value + (offset == "Z" ? "Z" : offset.Contains(':', StringComparison.Ordinal) ? offset : offset.Insert(3, ":"));
        return DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? new Stamp(t, Math.Max(0, m.Groups[2].Value.Length - 1), offset)
            : null;
    }

    private static string Format(Stamp s, TimeSpan by)
    {
        var t = (s.Time + by).ToUniversalTime();
        var digits = Math.Min(s.Digits, 7);
        var fraction = digits == 0 ? "" : "." + t.ToString(digits == 1 ? "%f" : new string('f', digits), CultureInfo.InvariantCulture);
        var suffix = s.Suffix == "Z" ? "Z" : s.Suffix.Contains(':', StringComparison.Ordinal) ? "+00:00" : "+0000";
        return t.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + fraction + suffix;
    }

    /// <summary>
    /// The stop of another task of the same kind: a new task id everywhere the old one appears (ARNs, resources,
    /// containers), so that it starts a lineage of its own.
    /// </summary>
    public static JsonObject AnotherTask(JsonObject stop)
    {
        var arn = stop["detail"]!["taskArn"]!.GetValue<string>();
        var oldId = arn[(arn.LastIndexOf('/') + 1)..];
        var text = stop.ToJsonString().Replace(oldId, StubWorld.NewTaskId(), StringComparison.Ordinal);
        return NewId(JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>The same event for a cluster (or an alarm) the policy does not name: warms the bootstrap up without touching the measured state.</summary>
    public static JsonObject Foreign(JsonObject e)
    {
        var text = e.ToJsonString()
            .Replace($"cluster/{StubWorld.ClusterName}\"", "cluster/bench-warm-up\"", StringComparison.Ordinal)
            .Replace($"/{StubWorld.ClusterName}/", "/bench-warm-up/", StringComparison.Ordinal);
        var copy = NewId(JsonNode.Parse(text)!.AsObject());
        if (copy["detail"]?["alarmName"] is not null)
        {
            copy["detail"]!["alarmName"] = "bench-warm-up";
            copy["resources"] = new JsonArray($"arn:aws:cloudwatch:{StubWorld.Region}:{StubWorld.Account}:alarm:bench-warm-up");
        }
        return copy;
    }
}
