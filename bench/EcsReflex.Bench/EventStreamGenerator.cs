using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EcsReflex.Bench;

/// <summary>
/// Generates a realistic, seeded stream of events from the project's sample events: new ids, times,
/// task ARNs, instance versions and alarm datapoints, in time order. Same seed, same bytes.
/// </summary>
public sealed class EventStreamGenerator
{
    /// <summary>
    /// The generator's output format, in the names of the files it writes by default: a stream written by an earlier
    /// generator (2: tasks stop after they ran; 3: escapes as AWS writes them) is never taken for the current one.
    /// </summary>
    public const int Format = 3;

    private readonly List<(JsonNode Node, int Weight)> _templates = [];
    private readonly int _totalWeight;
    private readonly Random _rnd;
    private DateTimeOffset _time = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private long _version = 1000;
    // Tasks the stream said are RUNNING, oldest first: a later stop in the stream is one of them when there is one,
    // so that tasks run, then stop, as in a real cluster (a stream of stops of tasks never seen and of tasks that
    // never stop would grow the simulated cluster for ever).
    private readonly Queue<(string Arn, DateTimeOffset Since, string? Group, string? Instance)> _running = new();

    private readonly bool _stopsRunningTasks;

    /// <summary>
    /// JSON written the way EventBridge and CloudWatch write it: only what JSON requires is escaped (a quote as <c>\"</c>),
    /// so a timestamp's <c>+0000</c> and a reason's <c>-&gt;</c> stay as they are. The serialiser's default escapes
    /// them for HTML (<c>\u002B</c>, <c>\u0022</c>, <c>\u003E</c>), which no AWS event does and which sent every
    /// such string through the parser's unescaping path.
    /// </summary>
    private static readonly JsonSerializerOptions AsAwsWritesIt = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="stopsRunningTasks">
    /// True (the benchmarks): a stop in the stream is of a task it said was RUNNING when there is one. False: every
    /// task state change is of a new task, the stream the duplicates-and-disorder soak was written for (its shuffle
    /// rules treat task state changes of different tasks as independent, which stops of tasks on an instance are
    /// not once a drain's follow-up reads what the instance holds).
    /// </param>
    public EventStreamGenerator(string eventsFolder, int seed, bool stopsRunningTasks = true)
    {
        _stopsRunningTasks = stopsRunningTasks;
        _rnd = new Random(seed);
        foreach (var f in Directory.EnumerateFiles(eventsFolder, "*.json").Order(StringComparer.Ordinal))
        {
            if (f.EndsWith(".snapshot.json", StringComparison.Ordinal)) continue;
            var name = Path.GetFileName(f);
            // Weights: task stops and runs dominate a real stream; then alarms, then the rest.
            var weight = name.StartsWith("ecs-task-", StringComparison.Ordinal) ? 12
                : name.StartsWith("cloudwatch-", StringComparison.Ordinal) ? 5
                : 3;
            _templates.Add((JsonNode.Parse(File.ReadAllText(f))!, weight));
        }
        _totalWeight = _templates.Sum(t => t.Weight);
    }

    public void Write(string path, int count)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        for (var i = 0; i < count; i++) w.Write(Next() + "\n");
    }

    public IEnumerable<string> Generate(int count)
    {
        for (var i = 0; i < count; i++) yield return Next();
    }

    private JsonNode Pick()
    {
        var x = _rnd.Next(_totalWeight);
        foreach (var (node, weight) in _templates)
        {
            if (x < weight) return node;
            x -= weight;
        }
        return _templates[^1].Node;
    }

    private string Hex(int n)
    {
        Span<byte> b = stackalloc byte[n / 2];
        _rnd.NextBytes(b);
        return Convert.ToHexStringLower(b);
    }

    private static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
    private static string Iso0000(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fff+0000", CultureInfo.InvariantCulture);

    /// <summary>A task state change of a new task (the stream before tasks stopped were ones it had said were running).</summary>
    private void NewTaskEachTime(JsonNode e, JsonNode d)
    {
        var id = Hex(32);
        var arn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}";
        e["resources"] = new JsonArray(arn);
        d["taskArn"] = arn;
        if (d["containers"] is JsonArray cs)
            foreach (var c in cs) if (c is JsonObject co && co.ContainsKey("taskArn")) co["taskArn"] = arn;
        var ran = TimeSpan.FromSeconds(5 + _rnd.Next(900));
        foreach (var k in new[] { "createdAt", "pullStartedAt", "pullStoppedAt", "startedAt" })
            if (d[k] is not null) d[k] = Iso(_time - ran);
        foreach (var k in new[] { "stoppingAt", "executionStoppedAt", "stoppedAt", "updatedAt" })
            if (d[k] is not null) d[k] = Iso(_time);
        d["version"] = 2 + _rnd.Next(4);
    }

    public string Next()
    {
        _time = _time.AddMilliseconds(500 + _rnd.Next(4000));
        var e = Pick().DeepClone();
        e["id"] = $"{Hex(8)}-{Hex(4)}-{Hex(4)}-{Hex(4)}-{Hex(12)}";
        e["time"] = _time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var d = e["detail"]!;
        switch (e["detail-type"]!.GetValue<string>())
        {
            case "ECS Task State Change":
            {
                if (!_stopsRunningTasks)
                {
                    NewTaskEachTime(e, d);
                    break;
                }
                var stopping = d["lastStatus"]?.GetValue<string>() == "STOPPED";
                var group = d["group"]?.GetValue<string>();
                var ran = TimeSpan.FromSeconds(5 + _rnd.Next(900));
                string arn;
                if (stopping && _running.TryPeek(out var oldest) && _time - oldest.Since >= ran && oldest.Group == group)
                {
                    _running.Dequeue();
                    arn = oldest.Arn;
                    ran = _time - oldest.Since;
                    if (oldest.Instance is not null && d["containerInstanceArn"] is not null) d["containerInstanceArn"] = oldest.Instance;
                }
                else arn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{Hex(32)}";
                if (!stopping) _running.Enqueue((arn, _time, group, d["containerInstanceArn"]?.GetValue<string>()));
                e["resources"] = new JsonArray(arn);
                d["taskArn"] = arn;
                if (d["containers"] is JsonArray cs)
                    foreach (var c in cs) if (c is JsonObject co && co.ContainsKey("taskArn")) co["taskArn"] = arn;
                foreach (var k in new[] { "createdAt", "pullStartedAt", "pullStoppedAt", "startedAt" })
                    if (d[k] is not null) d[k] = Iso(_time - ran);
                foreach (var k in new[] { "stoppingAt", "executionStoppedAt", "stoppedAt", "updatedAt" })
                    if (d[k] is not null) d[k] = Iso(_time);
                d["version"] = stopping ? 4 + _rnd.Next(2) : 2 + _rnd.Next(2); // a task's stop comes after its start
                break;
            }
            case "ECS Container Instance State Change":
                d["version"] = ++_version;
                d["updatedAt"] = Iso(_time);
                break;
            case "CloudWatch Alarm State Change":
            {
                var state = d["state"]!;
                state["timestamp"] = Iso0000(_time);
                if (state["reasonData"] is JsonValue rv && rv.GetValue<string>() is { } raw && raw.Contains("recentDatapoints", StringComparison.Ordinal))
                {
                    var data = JsonNode.Parse(raw)!;
                    var threshold = data["threshold"]?.GetValue<double>() ?? 50;
                    data["recentDatapoints"] = new JsonArray(Math.Round(threshold * (0.5 + _rnd.NextDouble()), 2));
                    state["reasonData"] = data.ToJsonString(AsAwsWritesIt);
                }
                break;
            }
            case "ECS Service Action":
                d["createdAt"] = Iso(_time);
                break;
            case "ECS Deployment State Change":
                d["updatedAt"] = Iso(_time);
                break;
        }
        return e.ToJsonString(AsAwsWritesIt);
    }
}
