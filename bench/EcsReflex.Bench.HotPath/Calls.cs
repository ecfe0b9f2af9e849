using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace EcsReflex.Bench.HotPath;

/// <summary>The AWS services the bootstrap speaks to, with the short names <c>--latency-ms</c> takes.</summary>
public static class Services
{
    public const string DynamoDb = "DynamoDB", Ecs = "ECS", AutoScaling = "AAS", CloudWatch = "CloudWatch", Sqs = "SQS";

    /// <summary>In the order the table prints them.</summary>
    public static readonly IReadOnlyList<string> All = [DynamoDb, Ecs, AutoScaling, CloudWatch, Sqs];

    public static string? FromKey(string key) => key.ToLowerInvariant() switch
    {
        "ddb" or "dynamodb" => DynamoDb,
        "ecs" => Ecs,
        "aas" or "autoscaling" or "application-autoscaling" => AutoScaling,
        "cw" or "cloudwatch" => CloudWatch,
        "sqs" => Sqs,
        _ => null,
    };

    private static readonly HashSet<string> DynamoReads = new(StringComparer.Ordinal) { "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems" };
    private static readonly HashSet<string> DynamoWrites = new(StringComparer.Ordinal)
        { "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems" };

    public static bool IsRead(AwsCall c) => c.Service == DynamoDb && DynamoReads.Contains(c.Operation);
    public static bool IsWrite(AwsCall c) => c.Service == DynamoDb && DynamoWrites.Contains(c.Operation);
}

/// <summary>The fixed latency added to every call of a service, in milliseconds.</summary>
public sealed record Latencies(IReadOnlyDictionary<string, int> Ms)
{
    public static readonly Latencies Default = new(new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [Services.DynamoDb] = 4, [Services.Ecs] = 15, [Services.AutoScaling] = 10, [Services.CloudWatch] = 10, [Services.Sqs] = 10,
    });

    public int For(string service) => Ms.TryGetValue(service, out var ms) ? ms : 0;

    /// <summary><c>ddb=4,ecs=15,aas=10,cw=10,sqs=10</c>: the services named are changed, the others keep their default.</summary>
    public static Latencies Parse(string text)
    {
        var ms = new Dictionary<string, int>(Default.Ms, StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || Services.FromKey(kv[0]) is not { } service
                || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                throw new FormatException($"--latency-ms: '{part}' is not SERVICE=MS with SERVICE one of ddb, ecs, aas, cw, sqs");
            ms[service] = value;
        }
        return new Latencies(ms);
    }

    public override string ToString() =>
        string.Join(", ", Services.All.Select(s => $"{s} {For(s)} ms"));
}

/// <summary>
/// One AWS call as the loopback endpoint saw it: the invocation it belongs to, service and operation, when it arrived and
/// when its answer was written (<see cref="Stopwatch"/> timestamps), and the latency it was given.
/// </summary>
public sealed record AwsCall(int Invocation, string Service, string Operation, long StartedAt, long EndedAt, int LatencyMs, int Status);

/// <summary>Every call the loopback endpoint answered, tagged with the invocation the harness has in flight.</summary>
public sealed class CallRecorder
{
    private readonly ConcurrentQueue<AwsCall> _calls = new();
    private int _invocation;

    /// <summary>The invocation calls are counted for; 0 outside a measured invocation (set-up, warm-up).</summary>
    public int Invocation
    {
        get => Volatile.Read(ref _invocation);
        set => Volatile.Write(ref _invocation, value);
    }

    public void Add(AwsCall call) => _calls.Enqueue(call);

    public IReadOnlyList<AwsCall> Calls => _calls.ToList();

    public void Clear()
    {
        while (_calls.TryDequeue(out _)) { }
    }
}

/// <summary>
/// Sequential round trips: calls grouped into waves. Taken in the order they started, a call that starts while another call
/// of the wave is still in flight (before the latest end so far) joins it; otherwise it begins a new wave. Overlapped calls
/// cost one round trip; calls one after another cost one each.
/// </summary>
public static class RoundTrips
{
    public static IReadOnlyList<IReadOnlyList<T>> Group<T>(IEnumerable<T> calls, Func<T, long> start, Func<T, long> end)
    {
        var waves = new List<IReadOnlyList<T>>();
        List<T>? wave = null;
        var waveEnd = long.MinValue;
        foreach (var c in calls.OrderBy(start))
        {
            if (wave is not null && start(c) < waveEnd)
            {
                wave.Add(c);
                waveEnd = Math.Max(waveEnd, end(c));
                continue;
            }
            wave = [c];
            waves.Add(wave);
            waveEnd = end(c);
        }
        return waves;
    }

    /// <summary>The modelled wall time: over the waves, the longest latency in each, summed.</summary>
    public static int ModelledMs<T>(IEnumerable<IReadOnlyList<T>> waves, Func<T, int> latency) =>
        waves.Sum(w => w.Max(latency));
}
