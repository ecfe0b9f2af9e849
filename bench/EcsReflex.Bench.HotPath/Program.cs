using System.Globalization;
using System.Text;
using EcsReflex.Bench.HotPath;
using EcsReflex.Lambda.Emulator;

// The hot path of issue 17: what each reaction kind costs in AWS calls. The published Native AOT bootstrap runs through the
// Runtime API emulator with its real AWS clients pointed at one loopback endpoint: DynamoDB forwarded to dynalite, ECS,
// Application Auto Scaling, CloudWatch and SQS stubbed; every call is counted and given its service's fixed latency.
//
//   dotnet run -c Release --project bench/EcsReflex.Bench.HotPath -- [--bootstrap FILE] [--latency-ms ddb=4,ecs=15,aas=10,cw=10,sqs=10] [--no-burst | --burst-only]
string? bootstrap = null;
var latencies = Latencies.Default;
var burst = true;
var reactions = true;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--bootstrap" when i + 1 < args.Length: bootstrap = args[++i]; break;
        case "--latency-ms" when i + 1 < args.Length:
            try { latencies = Latencies.Parse(args[++i]); }
            catch (FormatException ex) { Console.Error.WriteLine(ex.Message); return 2; }
            break;
        case "--no-burst": burst = false; break;
        case "--burst-only": reactions = false; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: [--bootstrap FILE] [--latency-ms ddb=4,ecs=15,aas=10,cw=10,sqs=10] [--no-burst | --burst-only]");
            return 2;
    }
}

var root = BootstrapPublisher.FindRepositoryRoot(Directory.GetCurrentDirectory())
           ?? throw new InvalidOperationException("run from the repository");
bootstrap ??= (await BootstrapPublisher.PublishAsync(root, Console.Error)).BootstrapPath;
var policy = Path.Combine(root, "reflex.policy.json");

var recorder = new CallRecorder();
var world = new StubWorld();
await using var dynalite = await Dynalite.StartAsync(root);
await using var loopback = await LoopbackAws.StartAsync(dynalite.Endpoint, latencies, recorder, new StubAws(world));
var kinds = new Kinds(new SampleEvents(root));
var harness = new Harness(Path.GetFullPath(bootstrap), policy, loopback.Url, recorder, world, dynalite) { WarmUps = kinds.WarmUps() };

var results = new List<KindResult>();
foreach (var kind in reactions ? kinds.All() : [])
{
    Console.Error.WriteLine($"measuring: {kind.Name}");
    results.Add(await harness.RunAsync(kind));
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; bootstrap {Path.GetRelativePath(root, Path.GetFullPath(bootstrap))}");
Console.WriteLine($"latency per call: {latencies} (DynamoDB: dynalite's own time comes on top in the measured time, not in the modelled one)");
if (reactions)
{
    Console.WriteLine();
    Console.WriteLine("| reaction | decided | calls (DynamoDB / ECS / AAS / CloudWatch / SQS) | total | round trips | DynamoDB reads / writes | modelled wall time | measured invocation |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var r in results)
    {
        var per = string.Join(" / ", Services.All.Select(s => r.Calls.Count(c => c.Service == s)));
        var waves = r.Waves;
        Console.WriteLine($"| {r.Kind.Name} | {Codes.Summary(r.Codes)} | {per} | {r.Calls.Count} | {waves.Count} "
                          + $"| {r.Calls.Count(Services.IsRead)} / {r.Calls.Count(Services.IsWrite)} "
                          + $"| {RoundTrips.ModelledMs(waves, c => c.LatencyMs)} ms | {string.Join(" + ", r.InvocationMs.Select(ms => ms.ToString("F1", CultureInfo.InvariantCulture)))} ms |");
    }

    Console.WriteLine();
    Console.WriteLine("Round trips, in order (`a + b`: overlapped in one round trip; `×n`: n such round trips one after another):");
    Console.WriteLine();
    foreach (var r in results)
        Console.WriteLine($"- {r.Kind.Name}: {Sequence(r)}");

    var unknown = results.SelectMany(r => r.Calls).Where(c => c.Status >= 400 && c.Service != Services.DynamoDb).Select(c => $"{c.Service} {c.Operation}").Distinct().ToList();
    if (unknown.Count > 0)
    {
        Console.WriteLine();
        Console.WriteLine($"Answered with an error by the stubs: {string.Join(", ", unknown)}");
    }
}

if (burst)
{
    Console.Error.WriteLine($"replaying {Burst.Scenario} through the bootstrap (local replay)...");
    var b = await Burst.RunAsync(root, Path.GetFullPath(bootstrap), policy);
    Console.WriteLine();
    Console.WriteLine($"100-failure burst ({Burst.Scenario}, {b.Inputs} inputs, 20 relaunches a minute): through the emulator's local replay, "
                      + "not the stubs (its deferred work spans minutes of simulated time); each call to the local services stands for one AWS call, no latency.");
    Console.WriteLine();
    Console.WriteLine("| relaunched | rescheduler decisions (deferred) | other reactions (guard on RUNNING, sweeps) | calls (DynamoDB / ECS / CloudWatch / SQS) | total | of which the rescheduler's | rescheduler calls per relaunch | simulated span | took |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
    var split = string.Join(" / ", new[] { Services.DynamoDb, Services.Ecs, Services.CloudWatch, Services.Sqs }.Select(s => b.CallsByKind.GetValueOrDefault(s)));
    Console.WriteLine($"| {b.Relaunched} | {b.RescheduleDecisions} ({b.Deferred}) | {b.OtherRecords} | {split} | {b.Calls:N0} | {b.RescheduleCalls:N0} "
                      + $"| {(b.Relaunched == 0 ? 0 : (double)b.RescheduleCalls / b.Relaunched):F1} | {b.Simulated.TotalMinutes:F1} min | {b.Took.TotalSeconds:F0} s |");
}
return 0;

static string Sequence(KindResult r)
{
    var sb = new StringBuilder();
    string Wave(IReadOnlyList<AwsCall> w) => string.Join(" + ", w.Select(c => $"{c.Service} {c.Operation}"));
    var waves = r.Waves.Select(Wave).ToList();
    if (waves.Count == 0) return "no call";
    for (var i = 0; i < waves.Count;)
    {
        var j = i;
        while (j < waves.Count && waves[j] == waves[i]) j++;
        if (sb.Length > 0) sb.Append(" → ");
        sb.Append(j - i > 1 ? $"({waves[i]}) ×{j - i}" : waves[i]);
        i = j;
    }
    return sb.ToString();
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";
