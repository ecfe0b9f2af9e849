using System.Diagnostics;
using System.Text.Json;
using EcsReflex.Bench;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

// dotnet run -c Release --project bench/EcsReflex.Bench -- generate [--count N] [--seed S] [--out FILE]
// dotnet run -c Release --project bench/EcsReflex.Bench -- replay FILE      (streaming replay: events/s, allocation, peak RSS)
// dotnet run -c Release --project bench/EcsReflex.Bench -- report FILE [--out PAGE]   (the replay and the report page, as `reflex report`: time, peak RSS, page size)
// dotnet run -c Release --project bench/EcsReflex.Bench -- parse FILE     (the parser alone)
// dotnet run -c Release --project bench/EcsReflex.Bench -- floor FILE     (the parser and the pure core decisions, nothing else)
// dotnet run -c Release --project bench/EcsReflex.Bench -- raw FILE       (a raw Utf8JsonReader pass: the limit of reading the bytes)
// dotnet run -c Release --project bench/EcsReflex.Bench -- bdn [--filter '*'] [BenchmarkDotNet arguments]   (Throughput/: BenchmarkDotNet)
var repo = Repo.Root;
switch (args.FirstOrDefault())
{
    case "bdn":
        return EcsReflex.Bench.Throughput.BdnRunner.Run(args[1..]);
    case "generate":
    {
        var count = int.Parse(Arg("--count") ?? "1000000");
        var seed = int.Parse(Arg("--seed") ?? "42");
        var output = Arg("--out") ?? EcsReflex.Bench.Throughput.StreamBenchmarks.StreamFile(count, seed);
        var sw = Stopwatch.StartNew();
        new EventStreamGenerator(Path.Combine(repo, "events"), seed).Write(output, count);
        Console.WriteLine($"{output}: {count} events, {new FileInfo(output).Length / 1e6:F1} MB, {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
    case "replay":
    {
        var file = args[1];
        var policy = Workload.Policy();
        var snapshot = Workload.Snapshot();
        var bytesBefore = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        var engine = new ReplayEngine(policy, Workload.Cluster(snapshot));
        var summary = new ReplaySummary();
        await foreach (var r in engine.RunAsync(ReplayInputs.Read(file, Path.GetFileName(file)))) summary.Add(r);
        sw.Stop();
        var alloc = GC.GetTotalAllocatedBytes(true) - bytesBefore;
        var kept = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine(summary);
        Console.WriteLine($"held at the end: store {engine.Store.Counts}; cluster {engine.Cluster.Counts}");
        Console.WriteLine($"replay: {summary.Events} events in {sw.Elapsed.TotalSeconds:F2} s = {summary.Events / sw.Elapsed.TotalSeconds:N0} events/s; " +
                          $"{alloc / (double)summary.Events:N0} B allocated per event; peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; " +
                          $"GCs gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, paused {GC.GetTotalPauseDuration().TotalSeconds:F2} s; " +
                          $"managed heap held at the end {kept / 1e6:F0} MB; " +
                          $"process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F2} s");
        return 0;
    }
    case "report":
    {
        // What `reflex report` does (ReportCommand): the same replay, each record into the report builder as it
        // comes, then the page. Measured as `replay` is, in its own process, so peak RSS is the report's.
        var file = args[1];
        var output = Arg("--out") ?? Path.Combine(Path.GetTempPath(), $"reflex-report-{Path.GetFileNameWithoutExtension(file)}.html");
        var policy = Workload.Policy();
        var snapshot = Workload.Snapshot();
        var bytesBefore = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        var engine = new ReplayEngine(policy, Workload.Cluster(snapshot));
        var builder = new EcsReflex.Report.ReportBuilder(policy, snapshot, null, "reflex.policy.json", [Path.GetFileName(file)]);
        var summary = new ReplaySummary();
        await foreach (var r in engine.RunAsync(ReplayInputs.Read(file, Path.GetFileName(file))))
        {
            builder.Add(r);
            summary.Add(r);
        }
        var replayed = sw.Elapsed;
        var model = builder.Build();
        using (var page = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            EcsReflex.Report.HtmlReportWriter.Write(model, page);
        sw.Stop();
        var alloc = GC.GetTotalAllocatedBytes(true) - bytesBefore;
        var kept = GC.GetTotalMemory(forceFullCollection: true); // what the replay, the builder and the model hold at the end
        GC.KeepAlive(engine);
        var log = model.Decisions;
        Console.WriteLine(summary);
        Console.WriteLine($"report: {summary.Events} events in {sw.Elapsed.TotalSeconds:F2} s (replay and builder {replayed.TotalSeconds:F2} s, page {(sw.Elapsed - replayed).TotalSeconds:F2} s) = {summary.Events / sw.Elapsed.TotalSeconds:N0} events/s; " +
                          $"{alloc / (double)summary.Events:N0} B allocated per event; peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; " +
                          $"page {new FileInfo(output).Length / 1e6:F1} MB ({output}): {log.Count:N0} decisions, {log.WithoutDetails:N0} without details, details {log.DetailBytes / 1e6:F1} MB inflated; " +
                          $"managed heap held at the end {kept / 1e6:F0} MB; " +
                          $"process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F2} s");
        return 0;
    }
    case "raw":
    {
        var file = args[1];
        var sw = Stopwatch.StartNew();
        var (lines, tokens) = Workload.RawPass(file);
        Console.WriteLine($"raw: {lines} events in {sw.Elapsed.TotalSeconds:F2} s = {lines / sw.Elapsed.TotalSeconds:N0} events/s ({tokens} tokens)");
        return 0;
    }
    case "floor":
    {
        var file = args[1];
        var floor = new EcsReflex.Bench.Throughput.CoreFloor(Workload.Policy(), Workload.Snapshot());
        var before = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        var events = floor.Run(file);
        Console.WriteLine($"core floor (parse + pure decision): {events} events, {floor.Decisions} decisions in {sw.Elapsed.TotalSeconds:F2} s = {events / sw.Elapsed.TotalSeconds:N0} events/s, {(GC.GetTotalAllocatedBytes(true) - before) / (double)events:N0} B/event");
        return 0;
    }
    case "parse":
    {
        var file = args[1];
        var sw = Stopwatch.StartNew();
        var before = GC.GetTotalAllocatedBytes(true);
        var lines = Workload.ParsePass(file, args.Contains("--no-pool") ? null : new StringPool());
        Console.WriteLine($"parse: {lines} events in {sw.Elapsed.TotalSeconds:F2} s = {lines / sw.Elapsed.TotalSeconds:N0} events/s, {(GC.GetTotalAllocatedBytes(true) - before) / (double)lines:N0} B/event");
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: bdn [BenchmarkDotNet arguments] | generate [--count N] [--seed S] [--out FILE] | replay FILE | report FILE [--out PAGE] | parse FILE [--no-pool] | floor FILE | raw FILE");
        return 2;
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

namespace EcsReflex.Bench
{
    /// <summary>The simulated cluster every stream replay of the benchmarks runs on.</summary>
    public static class Workload
    {
        /// <summary>
        /// The tasks EcsReflex relaunches finish their work after this long (exit 0), as batch workers do. The generated
        /// stream only stops tasks it made up, so without it every relaunched task would run to the end of the stream
        /// and the simulated cluster would grow with it: a month of events would end with hundreds of thousands of tasks.
        /// </summary>
        public static readonly TimeSpan RelaunchedTaskLifetime = TimeSpan.FromMinutes(30);

        public static EmbeddedCluster Cluster(EcsReflex.Core.Observed.ClusterSnapshot snapshot) =>
            new(snapshot) { StartedTaskLifetime = RelaunchedTaskLifetime };

        /// <summary>The repository's policy, as the replay's default.</summary>
        public static ReflexPolicy Policy() => PolicyLoader.Load(File.ReadAllBytes(Path.Combine(Repo.Root, "reflex.policy.json")));

        /// <summary>The repository's snapshot, as the replay's default.</summary>
        public static EcsReflex.Core.Observed.ClusterSnapshot Snapshot() =>
            SnapshotReader.Parse(File.ReadAllBytes(Path.Combine(Repo.Root, "events", "cluster.snapshot.json")));

        /// <summary>Every token of every line, as the replay reads lines: the limit of reading the bytes. Lines and tokens.</summary>
        public static (long Lines, long Tokens) RawPass(string file)
        {
            long lines = 0, tokens = 0;
            foreach (var (_, bytes) in ReplayInputs.Lines(file))
            {
                var reader = new Utf8JsonReader(bytes.Span);
                while (reader.Read()) tokens++;
                lines++;
            }
            return (lines, tokens);
        }

        /// <summary>The parser over every line, with <paramref name="pool"/> (one per stream, as the replay has). Events parsed.</summary>
        public static long ParsePass(string file, StringPool? pool)
        {
            long events = 0;
            foreach (var (_, bytes) in ReplayInputs.Lines(file))
            {
                EventParser.Parse(bytes, pool);
                events++;
            }
            return events;
        }
    }

    public static class Repo
    {
        public static string Root { get; } = Find();

        private static string Find()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Serverless.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
        }
    }
}
