using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using EcsReflex.Lambda.Emulator;

// Cold start of the bootstrap, measured from outside as whole-process figures:
//   exec → first `next` request (init), exec → first response (init + first invocation),
//   peak RSS (VmHWM) after the first response, binary and zip size.
// Native AOT (the published binary) and JIT (`dotnet bootstrap.dll`) side by side, over N fresh processes each.
//
//   dotnet run -c Release --project bench/EcsReflex.Bench.ColdStart -- [--runs 20] [--bootstrap FILE] [--jit FILE.dll]
var runs = 20;
string? aotPath = null, jitPath = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--bootstrap": aotPath = args[++i]; break;
        case "--jit": jitPath = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var root = BootstrapPublisher.FindRepositoryRoot(Directory.GetCurrentDirectory())
           ?? throw new InvalidOperationException("run from the repository");
aotPath ??= (await BootstrapPublisher.PublishAsync(root, Console.Error)).BootstrapPath;
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

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}; {DateTime.UtcNow:yyyy-MM-dd}; {runs} cold starts each (after 2 discarded warm-ups)");
Console.WriteLine();
Console.WriteLine("| bootstrap | exec → first next (median / p90 / min) | exec → first response (median / p90) | first invocation (median) | peak RSS (median / max) |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (name, command) in new[] { ("Native AOT", BootstrapCommand.Native(aotPath)), ("JIT (dotnet bootstrap.dll)", BootstrapCommand.Jit(jitPath)) })
{
    var samples = new List<Sample>();
    for (var i = 0; i < runs + 2; i++)
    {
        var s = await MeasureAsync(command, policy, payload);
        if (i >= 2) samples.Add(s);
    }
    string Ms(IEnumerable<double> xs, double q) => Quantile(xs, q).ToString("F1", CultureInfo.InvariantCulture);
    Console.WriteLine($"| {name} | {Ms(samples.Select(s => s.FirstNextMs), 0.5)} / {Ms(samples.Select(s => s.FirstNextMs), 0.9)} / {Ms(samples.Select(s => s.FirstNextMs), 0)} ms "
        + $"| {Ms(samples.Select(s => s.FirstResponseMs), 0.5)} / {Ms(samples.Select(s => s.FirstResponseMs), 0.9)} ms "
        + $"| {Ms(samples.Select(s => s.InvokeMs), 0.5)} ms "
        + $"| {Quantile(samples.Select(s => s.PeakRssKib / 1024.0), 0.5):F1} / {samples.Max(s => s.PeakRssKib) / 1024.0:F1} MiB |");
}

Console.WriteLine();
var aotZip = ZipSize([aotPath, Path.Combine(Path.GetDirectoryName(aotPath)!, "reflex.policy.json")]);
var jitDir = Path.GetDirectoryName(jitPath)!;
var jitFiles = Directory.GetFiles(jitDir).Where(f => !f.EndsWith(".pdb", StringComparison.Ordinal) && !f.EndsWith("bootstrap", StringComparison.Ordinal)).ToArray();
Console.WriteLine($"| artifact | size | zip |");
Console.WriteLine($"|---|---|---|");
Console.WriteLine($"| Native AOT `bootstrap` (+ policy in the zip) | {new FileInfo(aotPath).Length / 1048576.0:F2} MiB | {aotZip / 1048576.0:F2} MiB |");
Console.WriteLine($"| JIT assemblies (needs a .NET 10 runtime beside them) | {jitFiles.Sum(f => new FileInfo(f).Length) / 1048576.0:F2} MiB | {ZipSize(jitFiles) / 1048576.0:F2} MiB |");
return 0;

static async Task<Sample> MeasureAsync(BootstrapCommand command, string policy, byte[] payload)
{
    await using var emulator = await RuntimeApiEmulator.StartAsync();
    var invocation = emulator.InvokeAsync(payload, new InvokeOptions { Timeout = TimeSpan.FromSeconds(30) });
    await using var process = BootstrapProcess.Start(command, new Dictionary<string, string?>
    {
        ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi,
        ["_HANDLER"] = "task-rescheduler",
        ["REFLEX_DRY_RUN"] = "1",
        ["REFLEX_POLICY"] = policy,
    });
    var result = await invocation.WaitAsync(TimeSpan.FromSeconds(60));
    if (result.IsError) throw new InvalidOperationException($"{command}: {result.Error?.ErrorType}: {result.Error?.ErrorMessage}");
    using (var doc = JsonDocument.Parse(result.Body))
        if (doc.RootElement.GetProperty("outcome").GetString() != "acted") throw new InvalidOperationException($"{command}: unexpected response");
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

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";

internal sealed record Sample(double FirstNextMs, double FirstResponseMs, double InvokeMs, long PeakRssKib);
