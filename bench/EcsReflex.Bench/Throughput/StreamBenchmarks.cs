using System.Diagnostics;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Engines;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// The generated stream (seed 42, <see cref="EventCount"/> events, one JSON object a line), read from its
/// file by every pass exactly as the replay reads it (<see cref="ReplayInputs.Lines"/>: 64 KiB chunks, split
/// at newlines), so the passes differ only in what they do with each line:
/// a raw <see cref="Utf8JsonReader"/> pass (the baseline: the limit of reading the bytes), the parser alone,
/// the replay's input stage (parser + input records), the pure core alone (parser + decisions on first-sight
/// observations: <see cref="CoreFloor"/>, a bound on any replay), and the whole replay (parse, decide, act on the
/// embedded cluster, timers; records counted, no output). One operation is one event of the stream
/// (<c>OperationsPerInvoke</c> is set to the event count by <c>Program.cs</c>, since the count is chosen
/// at run time), so Mean is per event and Allocated is bytes per event.
/// </summary>
[MemoryDiagnoser]
[HideColumns(Column.AllocRatio)] // against the raw pass's ~1 B an event, the ratio says nothing
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class StreamBenchmarks
{
    public const string EventsVariable = "REFLEX_BENCH_EVENTS";
    public const int Seed = 42;

    /// <summary>Events in the stream: 1,000,000, or <c>REFLEX_BENCH_EVENTS</c> (a quick run: 100000).</summary>
    public static int EventCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable(EventsVariable), out var n) && n > 0 ? n : 1_000_000;

    /// <summary>The stream's file, keyed by count, seed and the generator's format (the <c>generate</c> subcommand's default name).</summary>
    public static string StreamFile(int count, int seed) =>
        Path.Combine(Path.GetTempPath(), $"reflex-stream-{count}-{seed}-v{EventStreamGenerator.Format}.jsonl");

    private string _file = null!;
    private ReflexPolicy _policy = null!;
    private ClusterSnapshot _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        var root = Repo.Root;
        _file = StreamFile(EventCount, Seed);
        if (!File.Exists(_file))
        {
            var sw = Stopwatch.StartNew();
            var partial = _file + $".{Environment.ProcessId}.tmp"; // never leave a half-written stream under the final name
            new EventStreamGenerator(Path.Combine(root, "events"), Seed).Write(partial, EventCount);
            File.Move(partial, _file, overwrite: true);
            Console.WriteLine($"// generated {_file} in {sw.Elapsed.TotalSeconds:F1} s");
        }
        Console.WriteLine($"// stream {_file}: {EventCount:N0} events, {new FileInfo(_file).Length / 1e6:F1} MB");
        _policy = Workload.Policy();
        _snapshot = Workload.Snapshot();
    }

    /// <summary>
    /// The process's peak RSS (VmHWM), into the log: with the default toolchain each benchmark runs in its
    /// own process, so after <see cref="Replay"/> it is the replay's peak (warm-up and iterations, each a
    /// fresh engine, plus the harness). With <c>--inProcess</c> it is the whole run's.
    /// </summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"// peak RSS of this benchmark process: {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
    }

    [Benchmark(Baseline = true)]
    public long Raw() => Workload.RawPass(_file).Tokens;

    [Benchmark]
    public long Parse() => Workload.ParsePass(_file, new StringPool()); // one pool per stream, as ReplayInputs.Read has

    [Benchmark]
    public long ReadInputs()
    {
        long events = 0;
        foreach (var item in ReplayInputs.Read(_file, "stream"))
            if (item.Event is not null) events++;
        return events;
    }

    /// <summary>Parse + the pure core decision, nothing else (<see cref="CoreFloor"/>): the most a replay can do per second.</summary>
    [Benchmark]
    public long CoreFloor() => new CoreFloor(_policy, _snapshot).Run(_file);

    [Benchmark]
    public async Task<long> Replay()
    {
        var engine = new ReplayEngine(_policy, Workload.Cluster(_snapshot));
        long records = 0;
        await foreach (var _ in engine.RunAsync(ReplayInputs.Read(_file, "stream"))) records++;
        return records;
    }
}
