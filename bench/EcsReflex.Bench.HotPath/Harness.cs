using EcsReflex.Aws.Config;
using EcsReflex.Core.Hosting;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Bench.HotPath;

/// <summary>One invocation of a reaction kind: the handler it goes to, its payload (made when its turn comes), and whether its calls are counted.</summary>
public sealed record Step(string Handler, Func<StubWorld, Task<byte[]>> Payload, bool Measured)
{
    public static Step Measure(string handler, Func<StubWorld, Task<byte[]>> payload) => new(handler, payload, true);
    public static Step Measure(string handler, byte[] payload) => new(handler, _ => Task.FromResult(payload), true);
    public static Step Before(string handler, byte[] payload) => new(handler, _ => Task.FromResult(payload), false);
}

/// <summary>One row of the table: what is delivered, to a cluster the stubs describe as <see cref="Arrange"/> sets it up.</summary>
public sealed record Kind(string Name, IReadOnlyList<Step> Steps)
{
    public Action<StubWorld>? Arrange { get; init; }
}

/// <summary>What one reaction kind cost: its measured invocations' calls, durations and decisions.</summary>
public sealed record KindResult(Kind Kind, IReadOnlyList<AwsCall> Calls, IReadOnlyList<double> InvocationMs, IReadOnlyList<string> Codes)
{
    /// <summary>Round trips per invocation (a call of one invocation never overlaps another's), in order.</summary>
    public IReadOnlyList<IReadOnlyList<AwsCall>> Waves =>
        Calls.GroupBy(c => c.Invocation).OrderBy(g => g.Key)
            .SelectMany(g => RoundTrips.Group(g, c => c.StartedAt, c => c.EndedAt)).ToList();
}

/// <summary>
/// Runs reaction kinds through the published bootstrap: for each kind a fresh DynamoDB table and fresh bootstrap processes
/// (one per handler, as deployed: each function its own process), each started against its own Runtime API emulator and
/// warmed up with one invocation about a cluster (or alarm) the policy does not name before anything is counted. The
/// bootstrap's real AWS clients reach <see cref="LoopbackAws"/> through <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>.
/// </summary>
public sealed class Harness(string bootstrap, string policy, Uri endpoint, CallRecorder recorder, StubWorld world, Dynalite dynalite)
{
    public const string DelayQueueUrl = $"https://sqs.{StubWorld.Region}.amazonaws.com/{StubWorld.Account}/reflex-delay";
    public const string DeadLetterQueueUrl = $"https://sqs.{StubWorld.Region}.amazonaws.com/{StubWorld.Account}/reflex-dlq";

    /// <summary>For each handler, the payload that warms its bootstrap up (a cluster or alarm the policy does not name).</summary>
    public required IReadOnlyDictionary<string, byte[]> WarmUps { get; init; }

    public async Task<KindResult> RunAsync(Kind kind, CancellationToken ct = default)
    {
        world.Reset();
        kind.Arrange?.Invoke(world);
        var table = await dynalite.NewTableAsync(ct);
        var functions = new Dictionary<string, (RuntimeApiEmulator Emulator, BootstrapProcess Process)>(StringComparer.Ordinal);
        var durations = new List<double>();
        var codes = new List<string>();
        try
        {
            recorder.Invocation = 0;
            var measured = 0;
            foreach (var step in kind.Steps)
            {
                if (!functions.TryGetValue(step.Handler, out var f))
                {
                    f = await StartAsync(step.Handler, table, ct);
                    functions[step.Handler] = f;
                    await InvokeAsync(f, WarmUps[step.Handler], ct);
                }
                var payload = await step.Payload(world);
                recorder.Invocation = step.Measured ? ++measured : 0;
                var (ms, lines) = await InvokeAsync(f, payload, ct);
                recorder.Invocation = 0;
                if (!step.Measured) continue;
                durations.Add(ms);
                codes.AddRange(lines);
            }
            return new KindResult(kind, recorder.Calls.Where(c => c.Invocation > 0).ToList(), durations, codes);
        }
        finally
        {
            foreach (var (emulator, process) in functions.Values)
            {
                await process.DisposeAsync();
                await emulator.DisposeAsync();
            }
            recorder.Clear();
        }
    }

    private async Task<(RuntimeApiEmulator, BootstrapProcess)> StartAsync(string handler, string table, CancellationToken ct)
    {
        var emulator = await RuntimeApiEmulator.StartAsync(ct: ct);
        var env = new Dictionary<string, string?>
        {
            [EnvVars.RuntimeApi] = emulator.RuntimeApi,
            [EnvVars.Handler] = handler,
            [EnvVars.Policy] = policy,
            [EnvVars.Table] = table,
            [EnvVars.DelayQueueUrl] = DelayQueueUrl,
            [EnvVars.DeadLetterQueueUrl] = DeadLetterQueueUrl,
            [EnvVars.DryRun] = "0",
            ["AWS_LAMBDA_FUNCTION_NAME"] = $"reflex-{handler}",
            ["AWS_REGION"] = StubWorld.Region,
            ["AWS_DEFAULT_REGION"] = StubWorld.Region,
            // Dummy credentials: the stubs and dynalite check no signature. Nothing of the caller's AWS set-up is inherited.
            ["AWS_ACCESS_KEY_ID"] = "AKIDBENCHEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "bench/secret/not/a/real/key",
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            [AwsEndpoints.IgnoreVariable] = null,
            [AwsEndpoints.GlobalVariable] = null,
        };
        foreach (var service in new[] { AwsService.DynamoDb, AwsService.Ecs, AwsService.ApplicationAutoScaling, AwsService.CloudWatch, AwsService.Sqs })
            env[AwsEndpoints.VariableFor(service)] = endpoint.ToString();
        var process = BootstrapProcess.Start(BootstrapCommand.Native(bootstrap), env);
        var started = await Task.WhenAny(emulator.FirstNext, emulator.InitError, process.Exited, Task.Delay(TimeSpan.FromSeconds(30), ct));
        if (started != emulator.FirstNext)
        {
            var why = emulator.InitError.IsCompleted ? $"{(await emulator.InitError).ErrorType}: {(await emulator.InitError).ErrorMessage}" : string.Join(" | ", process.Errors.TakeLast(5));
            await process.DisposeAsync();
            await emulator.DisposeAsync();
            throw new InvalidOperationException($"the {handler} bootstrap did not start: {why}");
        }
        return (emulator, process);
    }

    /// <summary>One invocation: its duration as the emulator saw it, and the <c>outcome code</c> of every reaction it logged.</summary>
    private static async Task<(double Ms, List<string> Codes)> InvokeAsync((RuntimeApiEmulator Emulator, BootstrapProcess Process) f, byte[] payload, CancellationToken ct)
    {
        var from = f.Process.Lines.Count;
        var call = f.Emulator.InvokeAsync(payload, new InvokeOptions { Timeout = TimeSpan.FromSeconds(60) }, ct);
        if (await Task.WhenAny(call, f.Process.Exited) != call)
            throw new InvalidOperationException($"the bootstrap ({f.Process.Describe()}) exited during an invocation: {string.Join(" | ", f.Process.Errors.TakeLast(5))}");
        var result = await call;
        // The reaction lines come before the invocation's EMF line, which comes before the response.
        var emf = await f.Process.WaitForLineAsync(l => ReactionLines.IsEmf(l, result.RequestId), from, TimeSpan.FromSeconds(10), ct);
        var codes = new List<string>();
        var lines = f.Process.Lines;
        for (var i = from; i <= (emf?.Index ?? lines.Count - 1) && i < lines.Count; i++)
            if (ReactionLines.Is(lines[i], result.RequestId, "message", "reaction", out var json))
                codes.Add($"{ReactionLines.Str(json, "outcome")} {ReactionLines.Str(json, "code")}");
        if (result.IsError) codes.Add($"error {result.Error?.ErrorType}");
        return (result.Duration.TotalMilliseconds, codes);
    }
}

/// <summary>Summaries of the outcome codes: <c>acted rescheduler.relaunch ×3</c>.</summary>
public static class Codes
{
    public static string Summary(IEnumerable<string> codes) =>
        string.Join(", ", codes.GroupBy(c => c, StringComparer.Ordinal).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ×{g.Count()}"));
}
