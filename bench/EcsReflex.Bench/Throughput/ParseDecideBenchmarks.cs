using BenchmarkDotNet.Attributes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// One event of each kind the engine reacts to (the sample's bytes, as in <c>events/</c>): the parser alone,
/// and the parser followed by the pure core decision the engine would make for it, with the observation
/// gathered once beforehand (no store, no cluster, no actuator in the timed code). The parser shares one
/// string pool across operations, as the replay and a warm Lambda process do.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class ParseDecideBenchmarks
{
    /// <summary>The kinds, and the sample each is read from.</summary>
    public static readonly IReadOnlyDictionary<string, string> Samples = new Dictionary<string, string>
    {
        ["task-stopped-failure"] = "ecs-task-stopped-essential-exit-1.json",
        ["task-stopped-user"] = "ecs-task-stopped-user-initiated.json",
        ["task-running"] = "ecs-task-running-worker.json",
        ["instance-draining"] = "ecs-container-instance-draining.json",
        ["instance-active"] = "ecs-container-instance-active.json",
        ["alarm-alarm"] = "cloudwatch-alarm-alarm-web-cpu-high.json",
        ["alarm-ok"] = "cloudwatch-alarm-ok-web-cpu-low.json",
        ["service-action"] = "ecs-service-action-task-placement-failure-memory.json",
        ["deployment"] = "ecs-deployment-failed.json",
    };

    public static IEnumerable<string> Kinds => Samples.Keys;

    [ParamsSource(nameof(Kinds))]
    public string Kind { get; set; } = "task-stopped-failure";

    private ReadOnlyMemory<byte> _bytes;
    private ReflexPolicy _policy = null!;
    private Observations _observed = null!;
    private DateTimeOffset _now;
    private StringPool _pool = null!;

    [GlobalSetup]
    public void Setup()
    {
        var root = Repo.Root;
        _bytes = File.ReadAllBytes(Path.Combine(root, "events", Samples[Kind]));
        _policy = Workload.Policy();
        var cluster = new EmbeddedCluster(Workload.Snapshot());
        _pool = new StringPool();
        var e = EventParser.Parse(_bytes, _pool);
        _now = e.EffectiveTime ?? DateTimeOffset.UnixEpoch; // the replay's clock: the event's own time
        cluster.Now = _now;
        _observed = Observations.GatherAsync(e, _policy, cluster, new InMemoryStateStore()).GetAwaiter().GetResult();
        var d = CoreDecisions.Decide(e, _policy, _observed, _now);
        // Printed into the BenchmarkDotNet log, so a reader can see what each kind decides.
        Console.WriteLine($"// {Kind} ({Samples[Kind]}, {_bytes.Length} bytes): {d?.Outcome.Name() ?? "no handler"}" +
                          $"{(d is null ? "" : $", {d.Actions.Count} action(s)")}: {d?.Reason}");
    }

    [Benchmark(Baseline = true)]
    public EventEnvelope Parse() => EventParser.Parse(_bytes, _pool);

    [Benchmark]
    public Decision? ParseAndDecide() => CoreDecisions.Decide(EventParser.Parse(_bytes, _pool), _policy, _observed, _now);
}
