namespace EcsReflex.Core.Hosting;

// The names the Lambda host, the CLI, the Runtime API emulator and the CDK app share, defined once.
// They are interfaces: a deployed stack, a user's environment and the docs rely on them, so they are
// extended, never renamed.

/// <summary>The handlers of the one bootstrap: the values <c>_HANDLER</c> accepts and the output names.</summary>
public static class HandlerNames
{
    public const string TaskRescheduler = "task-rescheduler";
    public const string PlacementGuard = "placement-guard";
    public const string ServiceScaler = "service-scaler";
    /// <summary>The delay queue's consumer: an SQS batch of deferred work, decided again when due.</summary>
    public const string RelaunchDue = "relaunch-due";
    /// <summary>The sweep, on a schedule: what no event said (a lost STOPPED event), decided as the event would have been.</summary>
    public const string Reconciler = "reconciler";

    public static readonly IReadOnlyList<string> All = [TaskRescheduler, PlacementGuard, ServiceScaler, RelaunchDue, Reconciler];

    /// <summary>Handlers that EventBridge invokes asynchronously (the others are fed by SQS); the reconciler by its schedule rule.</summary>
    public static readonly IReadOnlyList<string> EventDriven = [TaskRescheduler, PlacementGuard, ServiceScaler, Reconciler];

    /// <summary>Handlers that put deferred work on the delay queue (relaunch later, move later, decide a sustained alarm again).</summary>
    public static readonly IReadOnlyList<string> Defers = [TaskRescheduler, PlacementGuard, ServiceScaler, RelaunchDue, Reconciler];
}

/// <summary>Names of the environment variables the host reads; the CDK app sets them and the docs list them.</summary>
public static class EnvVars
{
    public const string Handler = "_HANDLER";
    public const string RuntimeApi = "AWS_LAMBDA_RUNTIME_API";
    public const string TraceId = "_X_AMZN_TRACE_ID";
    public const string Policy = "REFLEX_POLICY";
    public const string Table = "REFLEX_TABLE";
    public const string DelayQueueUrl = "REFLEX_DELAY_QUEUE_URL";
    public const string DeadLetterQueueUrl = "REFLEX_DLQ_URL";
    public const string DryRun = "REFLEX_DRY_RUN";
    /// <summary>Set by <c>reflex replay --lambda</c> only: the Runtime API emulator also serves the state, queues and clock.</summary>
    public const string LocalReplay = "REFLEX_LOCAL_REPLAY";
}

/// <summary>Where the deployed function finds the policy: beside the bootstrap, in the function's code directory.</summary>
public static class HostLayout
{
    public const string PolicyFileName = "reflex.policy.json";
    public const string DeployedPolicyPath = "/var/task/" + PolicyFileName;
}
