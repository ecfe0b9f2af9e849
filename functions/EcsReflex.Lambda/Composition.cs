using EcsReflex.Aws;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Deferred;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Ports;
using EcsReflex.Aws.State;
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
// functions/EcsReflex.Aws and reach the host through IAwsAdapters below: Composition.Aws() returns
// AwsSdkAdapters. When they cannot be used (no region, no credentials), configuring AWS (REFLEX_TABLE,
// the queue URLs, or acting without REFLEX_DRY_RUN) fails init with a message that says why: the host
// never pretends.
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

    /// <summary>What the reactor reads about the cluster (services, tasks, container instances, scalable targets, alarms).</summary>
    IClusterObserver? CreateClusterObserver();

    /// <summary>The AWS error code an exception carries (<c>ThrottlingException</c>…), or null for any other exception: counted in the <c>AwsErrors</c> metrics.</summary>
    string? ErrorCodeOf(Exception exception);
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
    /// <summary>The AWS adapters this bootstrap is built with: functions/EcsReflex.Aws, configured from the process environment.</summary>
    public static IAwsAdapters Aws() => new AwsSdkAdapters(new ProcessEnvironment());

    /// <summary>
    /// Chooses the ports from the settings: AWS when configured (and available), the local fallbacks
    /// otherwise (local replay is composed by <see cref="Local.LocalReplayComposition"/>). Problems are added to <paramref name="problems"/>;
    /// what was chosen is announced once in the log.
    /// </summary>
    public static HostServices? Compose(LambdaSettings s, ReflexPolicy policy, IAwsAdapters aws, JsonLog log, TimeProvider time, List<string> problems)
    {
        // Asked after the adapters were: the AWS adapters say why they could not make one only once they tried.
        string Why() => aws.Name;
        var notes = new List<(string Level, string Message)>();

        IStateStore? store;
        string storeName;
        if (s.Table is { } table)
        {
            store = aws.CreateStateStore(table);
            storeName = $"DynamoDB table {table}";
            if (store is null) problems.Add($"{EnvVars.Table}={table} asks for the DynamoDB state store, but {Why()}: unset {EnvVars.Table} to run on the in-memory store");
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
            if (delay is null) problems.Add($"{EnvVars.DelayQueueUrl}={dq} asks for the SQS delay queue, but {Why()}: unset it to log deferred work instead");
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
            if (dlq is null) problems.Add($"{EnvVars.DeadLetterQueueUrl}={dl} asks for the SQS dead-letter queue, but {Why()}: unset it to log poison events instead");
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
                problems.Add($"no ECS client: {Why()}, so actions cannot be sent: set {EnvVars.DryRun}=1 to record and log every action without sending it");
            ecs = new NotConnectedEcsApi();
        }
        if (observer is null)
        {
            observer = new UnknownClusterObserver();
            notes.Add((JsonLog.Warn, $"no cluster observer ({Why()}): EC2 instance ids are unknown, so a relaunch cannot be placed away from the instance that failed"));
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
}

/// <summary>
/// The AWS adapters of functions/EcsReflex.Aws: the DynamoDB state store, the SQS delay queue and dead-letter sender, the
/// ECS client and the cluster observer (ECS, Application Auto Scaling, CloudWatch), all configured one way from the
/// environment (<c>AWS_REGION</c>, the default credential chain — in Lambda, the execution role's variables —, and
/// <c>AWS_ENDPOINT_URL*</c>; docs/aws.md). The clients are made on first use; when they cannot be (no region, no
/// credentials), every <c>Create…</c> answers null and <see cref="Name"/> says why, so init reports it.
/// </summary>
/// <remarks>
/// The host asks for one cluster observer at init and keeps it for the life of the process. <see cref="AwsClusterObserver"/>
/// is built for that: every read asks AWS again, except the EC2 instance id behind a container instance, which never
/// changes and is remembered (bounded).
/// </remarks>
public sealed class AwsSdkAdapters(IEnvironment environment) : IAwsAdapters
{
    private readonly Lock _gate = new();
    private AwsClients? _clients;
    private string? _unavailable;

    public string Name => _unavailable is { } why
        ? $"the AWS adapters cannot be used ({why})"
        : "AWS adapters (functions/EcsReflex.Aws: DynamoDB, SQS, ECS, Application Auto Scaling, CloudWatch)";

    public IStateStore? CreateStateStore(string tableName) => Make(c => new DynamoDbStateStore(c.DynamoDb, tableName));

    public IDelayQueue? CreateDelayQueue(string queueUrl) => Make(c => new SqsDelayQueue(c.Sqs, queueUrl));

    public IDeadLetterSender? CreateDeadLetterSender(string queueUrl) => Make(c => new SqsDeadLetterSender(c.Sqs, queueUrl));

    public IEcsApi? CreateEcsApi() => Make(c => new AwsEcsApi(c.Ecs));

    public IClusterObserver? CreateClusterObserver() => Make(c => new AwsClusterObserver(c.Ecs, c.AutoScaling, c.CloudWatch));

    /// <summary>The service's error code, as the project's clients (DynamoDB, SQS, ECS, Application Auto Scaling, CloudWatch) read it.</summary>
    public string? ErrorCodeOf(Exception exception) => exception is AwsServiceException e ? e.ErrorCode : null;

    private T? Make<T>(Func<AwsClients, T> create) where T : class
    {
        try
        {
            AwsClients clients;
            lock (_gate)
            {
                if (_unavailable is not null) return null;
                clients = _clients ??= AwsClients.Create(environment);
            }
            return create(clients);
        }
        catch (AwsConfigurationException ex)
        {
            lock (_gate) _unavailable ??= ex.Message;
            return null;
        }
    }
}
