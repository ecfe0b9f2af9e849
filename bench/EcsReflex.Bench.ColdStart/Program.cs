using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using EcsReflex.Lambda.Emulator;

// Cold start of the bootstrap, measured from outside as whole-process figures:
//   exec → first `next` request (init), exec → first response (init + first invocation),
//   peak RSS (VmHWM) after the first response, binary and zip size.
// Three programs over N fresh processes each, interleaved (one of each per round, the order rotating every round):
// the Native AOT bootstrap (the published binary), the same code on the JIT (`dotnet bootstrap.dll`), and the floor,
// a minimal Native AOT Runtime API loop (bench/EcsReflex.Bench.MinimalLoop: the bootstrap's Runtime API client and
// publish settings, nothing else), with the bootstrap/floor ratios (issue 17).
//
//   dotnet run -c Release --project bench/EcsReflex.Bench.ColdStart -- [--runs 20] [--bootstrap FILE] [--jit FILE.dll] [--floor FILE]
var runs = 20;
string? aotPath = null, jitPath = null, floorPath = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--bootstrap": aotPath = args[++i]; break;
        case "--jit": jitPath = args[++i]; break;
        case "--floor": floorPath = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var root = BootstrapPublisher.FindRepositoryRoot(Directory.GetCurrentDirectory())
           ?? throw new InvalidOperationException("run from the repository");
aotPath ??= (await BootstrapPublisher.PublishAsync(root, Console.Error)).BootstrapPath;
floorPath ??= (await BootstrapPublisher.PublishAsync(root, Floor.Target, Console.Error)).BootstrapPath;
if (jitPath is null)
{
    Console.Error.WriteLine("building the JIT bootstrap (dotnet build -c Release)...");
    var build = Process.Start(new ProcessStartInfo("dotnet", ["build", Path.Combine(root, BootstrapPublisher.ProjectPath), "-c", "Release", "-nologo", "-v", "q"]) { RedirectStandardOutput = true })!;
    await build.StandardOutput.ReadToEndAsync();
    await build.WaitForExitAsync();
    if (build.ExitCode != 0) throw new InvalidOperationException("dotnet build failed");
    jitPath = Path.Combine(root, "functions", "EcsReflex.Lambda", "bin", "Release", "net10.0", "bootstrap.dll");
}

var policy = Path.Combine(root, "reflex.policy.json");
var payload = File.ReadAllBytes(Path.Combine(root, "events", "ecs-task-stopped-spot-interruption.json"));
var jitFiles = Directory.GetFiles(Path.GetDirectoryName(jitPath)!)
    .Where(f => !f.EndsWith(".pdb", StringComparison.Ordinal) && !f.EndsWith("bootstrap", StringComparison.Ordinal)).ToArray();
var aot = new Subject("Native AOT bootstrap", BootstrapCommand.Native(aotPath), "acted", new FileInfo(aotPath).Length);
var jit = new Subject("JIT bootstrap (`dotnet bootstrap.dll`)", BootstrapCommand.Jit(jitPath), "acted", jitFiles.Sum(f => new FileInfo(f).Length));
var floor = new Subject("minimal loop (the floor)", BootstrapCommand.Native(floorPath), Floor.Outcome, new FileInfo(floorPath).Length);
Subject[] programs = [aot, jit, floor];

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average {LoadAverage()} before; "
    + $"{runs} cold starts each (after 2 discarded warm-up rounds), interleaved");
var samples = programs.ToDictionary(p => p, _ => new List<Sample>());
for (var round = 0; round < runs + 2; round++)
{
    // One of each per round, starting with a different one each round: a drift of the machine (another process, the
    // page cache) falls on all three alike, and none always follows the heavy JIT run.
    for (var k = 0; k < programs.Length; k++)
    {
        var program = programs[(round + k) % programs.Length];
        var s = await MeasureAsync(program, policy, payload);
        if (round >= 2) samples[program].Add(s);
    }
}
Console.WriteLine($"load average {LoadAverage()} after");

string Ms(IEnumerable<double> xs, double q) => Quantile(xs, q).ToString("F1", CultureInfo.InvariantCulture);
static string MiB(double bytes) => (bytes / 1048576.0).ToString("F2", CultureInfo.InvariantCulture);
Console.WriteLine();
Console.WriteLine("| program | exec → first next (median / p90 / min) | exec → first response (median / p90) | first invocation (median) | peak RSS (median / max) | binary |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var p in programs)
{
    var xs = samples[p];
    Console.WriteLine($"| {p.Name} | {Ms(xs.Select(s => s.FirstNextMs), 0.5)} / {Ms(xs.Select(s => s.FirstNextMs), 0.9)} / {Ms(xs.Select(s => s.FirstNextMs), 0)} ms "
        + $"| {Ms(xs.Select(s => s.FirstResponseMs), 0.5)} / {Ms(xs.Select(s => s.FirstResponseMs), 0.9)} ms "
        + $"| {Ms(xs.Select(s => s.InvokeMs), 0.5)} ms "
        + $"| {Quantile(xs.Select(s => s.PeakRssKib / 1024.0), 0.5):F1} / {xs.Max(s => s.PeakRssKib) / 1024.0:F1} MiB "
        + $"| {MiB(p.BinaryBytes)} MiB{(p == jit ? " of assemblies (+ a .NET 10 runtime)" : "")} |");
}

Console.WriteLine();
Console.WriteLine("| against the floor | first next (median / p90) | first response (median / p90) | peak RSS (median) | binary |");
Console.WriteLine("|---|---|---|---|---|");
string Ratio(Subject p, Func<Sample, double> f, double q) =>
    (Quantile(samples[p].Select(f), q) / Quantile(samples[floor].Select(f), q)).ToString("F2", CultureInfo.InvariantCulture) + "×";
foreach (var p in new[] { aot, jit })
    Console.WriteLine($"| {p.Name} / floor | {Ratio(p, s => s.FirstNextMs, 0.5)} / {Ratio(p, s => s.FirstNextMs, 0.9)} "
        + $"| {Ratio(p, s => s.FirstResponseMs, 0.5)} / {Ratio(p, s => s.FirstResponseMs, 0.9)} "
        + $"| {Ratio(p, s => s.PeakRssKib, 0.5)} | {(double)p.BinaryBytes / floor.BinaryBytes:F2}× |");
var goal = Quantile(samples[aot].Select(s => s.FirstResponseMs), 0.5) / Quantile(samples[floor].Select(s => s.FirstResponseMs), 0.5);
Console.WriteLine();
Console.WriteLine($"goal (issue 17): the AOT bootstrap's first response within 1.25× the floor's: {goal:F2}× at the median, "
    + (goal <= 1.25 ? "met" : "not met"));

Console.WriteLine();
var aotZip = ZipSize([aotPath, Path.Combine(Path.GetDirectoryName(aotPath)!, "reflex.policy.json")]);
Console.WriteLine($"| artifact | size | zip |");
Console.WriteLine($"|---|---|---|");
Console.WriteLine($"| Native AOT `bootstrap` (+ policy in the zip) | {MiB(aot.BinaryBytes)} MiB | {MiB(aotZip)} MiB |");
Console.WriteLine($"| JIT assemblies (needs a .NET 10 runtime beside them) | {MiB(jit.BinaryBytes)} MiB | {MiB(ZipSize(jitFiles))} MiB |");
Console.WriteLine($"| the floor's binary | {MiB(floor.BinaryBytes)} MiB | {MiB(ZipSize([floorPath]))} MiB |");
return 0;

static async Task<Sample> MeasureAsync(Subject program, string policy, byte[] payload)
{
    await using var emulator = await RuntimeApiEmulator.StartAsync();
    var invocation = emulator.InvokeAsync(payload, new InvokeOptions { Timeout = TimeSpan.FromSeconds(30) });
    // The same environment for all three: the floor reads only AWS_LAMBDA_RUNTIME_API.
    await using var process = BootstrapProcess.Start(program.Command, new Dictionary<string, string?>
    {
        ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi,
        ["_HANDLER"] = "task-rescheduler",
        ["REFLEX_DRY_RUN"] = "1",
        ["REFLEX_POLICY"] = policy,
    });
    var result = await invocation.WaitAsync(TimeSpan.FromSeconds(60));
    if (result.IsError) throw new InvalidOperationException($"{program.Command}: {result.Error?.ErrorType}: {result.Error?.ErrorMessage}");
    using (var doc = JsonDocument.Parse(result.Body))
        if (doc.RootElement.GetProperty("outcome").GetString() != program.Outcome) throw new InvalidOperationException($"{program.Command}: unexpected response");
    var firstNext = await emulator.FirstNext;
    return new Sample(
        Stopwatch.GetElapsedTime(process.StartedAt, firstNext).TotalMilliseconds,
        Stopwatch.GetElapsedTime(process.StartedAt, result.CompletedAt).TotalMilliseconds,
        result.Duration.TotalMilliseconds,
        process.PeakRssKib() ?? 0);
}

static double Quantile(IEnumerable<double> xs, double q)
{
    var s = xs.Order().ToArray();
    return s[(int)Math.Round(q * (s.Length - 1))];
}

static long ZipSize(string[] files)
{
    using var ms = new MemoryStream();
    using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        foreach (var f in files) zip.CreateEntryFromFile(f, Path.GetFileName(f), CompressionLevel.SmallestSize);
    return ms.Length;
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";

internal sealed record Sample(double FirstNextMs, double FirstResponseMs, double InvokeMs, long PeakRssKib);

/// <summary>One program of the run: how to start it, the <c>outcome</c> its response must carry, its binary's size (the JIT's: its assemblies).</summary>
internal sealed record Subject(string Name, BootstrapCommand Command, string Outcome, long BinaryBytes);

/// <summary>The floor: bench/EcsReflex.Bench.MinimalLoop, published and cached as the bootstrap is (<c>artifacts/minimal-loop/&lt;hash&gt;/</c>).</summary>
internal static class Floor
{
    public const string Project = "bench/EcsReflex.Bench.MinimalLoop";

    /// <summary>The <c>outcome</c> of its fixed answer (<c>MinimalLoop.Answer</c>).</summary>
    public const string Outcome = "floor";

    /// <summary>Its sources: its folder, the bootstrap's client sources it compiles in, the publish settings it imports, the build files at the root.</summary>
    public static readonly PublishTarget Target = new(
        $"{Project}/EcsReflex.Bench.MinimalLoop.csproj",
        [Project, "functions/EcsReflex.Lambda/Client", "functions/EcsReflex.Lambda/NativeAot.props", .. BootstrapPublisher.RootFiles],
        "minimal-loop", "EcsReflex.Bench.MinimalLoop", "the minimal Runtime API loop (the cold-start floor)");
}
