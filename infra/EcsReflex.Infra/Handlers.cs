namespace EcsReflex.Infra;

/// <summary>
/// The handlers of the one bootstrap (its <c>_HANDLER</c> values, pinned by the Lambda host issue) and the
/// names the host and the stack share: environment variables here; the metrics the stack alarms on are
/// <see cref="EcsReflex.Core.Metrics.ReflexMetrics"/>, defined once in EcsReflex.Core for the host and the stack.
/// </summary>
public static class Handlers
{
    public const string TaskRescheduler = "task-rescheduler";
    public const string PlacementGuard = "placement-guard";
    public const string ServiceScaler = "service-scaler";
    public const string RelaunchDue = "relaunch-due";

    public static readonly IReadOnlyList<string> All = [TaskRescheduler, PlacementGuard, ServiceScaler, RelaunchDue];

    /// <summary>Handlers that EventBridge invokes asynchronously (the others are fed by SQS).</summary>
    public static readonly IReadOnlyList<string> EventDriven = [TaskRescheduler, PlacementGuard, ServiceScaler];

    /// <summary>Handlers that put deferred work on the delay queue (relaunch later, move later).</summary>
    public static readonly IReadOnlyList<string> Defers = [TaskRescheduler, PlacementGuard, RelaunchDue];
}

/// <summary>Environment variables the host reads (pinned by the Lambda host issue).</summary>
public static class HostEnvironment
{
    public const string Policy = "REFLEX_POLICY";
    public const string Table = "REFLEX_TABLE";
    public const string DelayQueueUrl = "REFLEX_DELAY_QUEUE_URL";
    public const string DeadLetterQueueUrl = "REFLEX_DLQ_URL";
    public const string DryRun = "REFLEX_DRY_RUN";

    /// <summary>Where the asset puts the policy: beside the bootstrap in the function's code directory.</summary>
    public const string PolicyFileName = "reflex.policy.json";
    public const string DeployedPolicyPath = "/var/task/" + PolicyFileName;
}
