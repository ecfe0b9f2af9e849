using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.State;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Local;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda;

// =====================================================================================================
// ALL AWS WIRING OF THE HOST IS IN THIS FILE.
//
// The host is built against the core's ports (IStateStore, IEcsApi, IClusterObserver) and the two queue
// ports (IDelayQueue, IDeadLetterSender in Core/State/QueuePorts.cs). The AWS implementations live in
// functions/EcsReflex.Aws and reach the host through IAwsAdapters below. Until that project is plugged in
// at the one MERGE POINT (Composition.Aws()), configuring AWS (REFLEX_TABLE, the queue URLs, or acting
// without REFLEX_DRY_RUN) fails init with a message that says so: the host never pretends.
// =====================================================================================================

/// <summary>The AWS adapters the host uses. Implemented by <c>functions/EcsReflex.Aws</c>; a null means "not available".</summary>
public interface IAwsAdapters
{
    /// <summary>A few words for the init log line ("AWS SDK adapters").</summary>
    string Name { get; }

    /// <summary>The DynamoDB state store on <paramref name="tableName"/> (<c>REFLEX_TABLE</c>).</summary>
    IStateStore? CreateStateStore(string tableName);

    /// <summary>The SQS delay queue at <paramref name="queueUrl"/> (<c>REFLEX_DELAY_QUEUE_URL</c>); the body is <see cref="DeferredWorkJson"/>.</summary>
    IDelayQueue? CreateDelayQueue(string queueUrl);

    /// <summary>The SQS dead-letter queue at <paramref name="queueUrl"/> (<c>REFLEX_DLQ_URL</c>).</summary>
    IDeadLetterSender? CreateDeadLetterSender(string queueUrl);

    /// <summary>The ECS client the actuator sends with (region and credentials from the Lambda environment).</summary>
    IEcsApi? CreateEcsApi();

    /// <summary>What the reactor reads about the cluster (EC2 instance id behind a container instance).</summary>
    IClusterObserver? CreateClusterObserver();

    /// <summary>The AWS error code an exception carries (<c>ThrottlingException</c>…), or null for any other exception: counted in the <c>AwsErrors</c> metrics.</summary>
    string? ErrorCodeOf(Exception exception);
}

/// <summary>No AWS adapters in this build: every AWS configuration is refused at init with a clear message.</summary>
public sealed class AwsNotPlugged : IAwsAdapters
{
    public static readonly AwsNotPlugged Instance = new();
    public string Name => "none (functions/EcsReflex.Aws is not plugged into Composition.cs)";
    public IStateStore? CreateStateStore(string tableName) => null;
    public IDelayQueue? CreateDelayQueue(string queueUrl) => null;
    public IDeadLetterSender? CreateDeadLetterSender(string queueUrl) => null;
    public IEcsApi? CreateEcsApi() => null;
    public IClusterObserver? CreateClusterObserver() => null;
    public string? ErrorCodeOf(Exception exception) => null;
}

/// <summary>Everything a handler works with, chosen once at init from the environment.</summary>
public sealed record HostServices
{
    public required ReflexPolicy Policy { get; init; }
    public required IStateStore Store { get; init; }
    public required IClusterObserver Observer { get; init; }
    public required IEcsApi Ecs { get; init; }
    public required IDelayQueue DelayQueue { get; init; }
    /// <summary><c>queued</c> when deferred work goes to a queue, <c>logged</c> for the local fallback.</summary>
    public required string DelayQueueMode { get; init; }
    public required IDeadLetterSender DeadLetters { get; init; }
    public required string DeadLetterMode { get; init; }
    public required IDecisionClock Clock { get; init; }
    public required bool DryRun { get; init; }
    public Func<Exception, string?> AwsErrorCode { get; init; } = _ => null;
}

public static class Composition
{
    /// <summary>
    /// MERGE POINT: the AWS adapters this bootstrap is built with. After functions/EcsReflex.Aws lands,
    /// return its implementation of <see cref="IAwsAdapters"/> here (and reference the project).
    /// </summary>
    public static IAwsAdapters Aws() => AwsNotPlugged.Instance;

    /// <summary>
    /// Chooses the ports from the settings: AWS when configured (and available), the local fallbacks
    /// otherwise, the emulator's local services in local replay. Problems are added to <paramref name="problems"/>;
    /// what was chosen is announced once in the log.
    /// </summary>
    public static HostServices? Compose(LambdaSettings s, ReflexPolicy policy, IAwsAdapters aws, JsonLog log, TimeProvider time, List<string> problems)
    {
        if (s.LocalReplay) return ComposeLocalReplay(s, policy, log, problems);

        var notPlugged = $"this bootstrap has no AWS adapters (functions/EcsReflex.Aws is not plugged into Composition.cs)";
        var notes = new List<(string Level, string Message)>();

        IStateStore? store;
        string storeName;
        if (s.Table is { } table)
        {
            store = aws.CreateStateStore(table);
            storeName = $"DynamoDB table {table}";
            if (store is null) problems.Add($"{EnvVars.Table}={table} asks for the DynamoDB state store, but {notPlugged}: unset {EnvVars.Table} to run on the in-memory store, or deploy a bootstrap built with the adapters");
        }
        else
        {
            store = new InMemoryStateStore(time);
            storeName = "in memory";
            notes.Add((JsonLog.Info, $"state store: in memory, because {EnvVars.Table} is not set: duplicates, lineages and rate limits are not shared with other instances nor kept across cold starts"));
        }

        IDelayQueue? delay;
        string delayMode;
        if (s.DelayQueueUrl is { } dq)
        {
            delay = aws.CreateDelayQueue(dq);
            delayMode = "queued";
            if (delay is null) problems.Add($"{EnvVars.DelayQueueUrl}={dq} asks for the SQS delay queue, but {notPlugged}: unset it to log deferred work instead");
        }
        else
        {
            delay = new LoggingDelayQueue(log);
            delayMode = "logged";
            notes.Add((JsonLog.Warn, $"{EnvVars.DelayQueueUrl} is not set: deferred work (back-off, rate limit) is logged, not queued, and nothing decides it again"));
        }

        IDeadLetterSender? dlq;
        string dlqMode;
        if (s.DeadLetterQueueUrl is { } dl)
        {
            dlq = aws.CreateDeadLetterSender(dl);
            dlqMode = "queued";
            if (dlq is null) problems.Add($"{EnvVars.DeadLetterQueueUrl}={dl} asks for the SQS dead-letter queue, but {notPlugged}: unset it to log poison events instead");
        }
        else
        {
            dlq = new LoggingDeadLetterSender(log);
            dlqMode = "logged";
            notes.Add((JsonLog.Warn, $"{EnvVars.DeadLetterQueueUrl} is not set: poison events are logged with their reason, not dead-lettered"));
        }

        var ecs = aws.CreateEcsApi();
        var observer = aws.CreateClusterObserver();
        if (ecs is null)
        {
            if (!s.DryRun)
                problems.Add($"no ECS client: {notPlugged}, so actions cannot be sent: set {EnvVars.DryRun}=1 to record and log every action without sending it, or deploy a bootstrap built with the adapters");
            ecs = new NotConnectedEcsApi();
        }
        if (observer is null)
        {
            observer = new UnknownClusterObserver();
            notes.Add((JsonLog.Warn, "no cluster observer: EC2 instance ids are unknown, so a relaunch cannot be placed away from the instance that failed"));
        }

        if (problems.Count > 0) return null;

        log.Information("init", w =>
        {
            w.WriteString("policy", s.PolicyPath);
            w.WriteString("store", storeName);
            w.WriteString("delayQueue", s.DelayQueueUrl ?? "logged (not set)");
            w.WriteString("deadLetterQueue", s.DeadLetterQueueUrl ?? "logged (not set)");
            w.WriteString("aws", aws.Name);
            w.WriteBoolean("dryRun", s.DryRun);
        });
        foreach (var (level, message) in notes) log.Write(level, message);

        return new HostServices
        {
            Policy = policy, Store = store!, Observer = observer, Ecs = ecs,
            DelayQueue = delay!, DelayQueueMode = delayMode, DeadLetters = dlq!, DeadLetterMode = dlqMode,
            Clock = new SystemDecisionClock(time), DryRun = s.DryRun, AwsErrorCode = aws.ErrorCodeOf,
        };
    }

    private static HostServices? ComposeLocalReplay(LambdaSettings s, ReflexPolicy policy, JsonLog log, List<string> problems)
    {
        foreach (var (name, value) in new[] { (EnvVars.Table, s.Table), (EnvVars.DelayQueueUrl, s.DelayQueueUrl), (EnvVars.DeadLetterQueueUrl, s.DeadLetterQueueUrl) })
            if (value is not null)
                problems.Add($"{EnvVars.LocalReplay}=1 runs on the emulator's in-memory store and queues; {name} cannot be combined with it: unset one of them");
        if (s.RuntimeApi is null) problems.Add($"{EnvVars.LocalReplay}=1 needs {EnvVars.RuntimeApi} (the emulator's host:port)");
        if (problems.Count > 0) return null;

        var local = new EmulatorServicesClient(s.RuntimeApi!);
        log.Information("init", w =>
        {
            w.WriteString("policy", s.PolicyPath);
            w.WriteString("store", "in memory, served by the Runtime API emulator (local replay)");
            w.WriteString("delayQueue", "the emulator's (local replay)");
            w.WriteString("deadLetterQueue", "the emulator's (local replay)");
            w.WriteString("aws", "none: local replay");
            w.WriteBoolean("dryRun", true);
        });
        return new HostServices
        {
            Policy = policy, Store = local, Observer = local, Ecs = new NotConnectedEcsApi(),
            DelayQueue = local, DelayQueueMode = "queued", DeadLetters = local, DeadLetterMode = "queued",
            Clock = new LocalReplayClock(), DryRun = true,
        };
    }
}
