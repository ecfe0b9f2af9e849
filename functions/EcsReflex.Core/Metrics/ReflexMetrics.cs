using EcsReflex.Core.Decisions;

namespace EcsReflex.Core.Metrics;

/// <summary>One metric as CloudWatch Embedded Metric Format declares it: its name and unit.</summary>
public readonly record struct MetricDefinition(string Name, string Unit);

/// <summary>
/// The CloudWatch metrics EcsReflex emits, defined once: the Lambda host writes them as one Embedded Metric Format
/// line per invocation (<c>EcsReflex.Lambda/Metrics/EmfWriter.cs</c>), and the CDK stack alarms on them
/// (<c>infra/EcsReflex.Infra/ReflexStack.cs</c>, which references this project). Namespace <see cref="Namespace"/>,
/// the one dimension <see cref="HandlerDimension"/> set to the handler name; outcomes are metric names
/// (<c>Reactions.Acted</c>…) and AWS errors are <c>AwsErrors.&lt;Code&gt;</c>, as one EMF document holds one value
/// per dimension.
/// </summary>
public static class ReflexMetrics
{
    public const string Namespace = "EcsReflex";
    public const string HandlerDimension = "Handler";

    // Units, as CloudWatch names them.
    public const string Count = "Count";
    public const string Milliseconds = "Milliseconds";

    /// <summary>Reactions of the invocation (events, messages, poison inputs), whatever their outcome.</summary>
    public const string Reactions = "Reactions";
    /// <summary>RunTask of the task rescheduler: a failed task relaunched.</summary>
    public const string Relaunches = "Relaunches";
    /// <summary>A task lineage given up after its rule's maxAttempts (the stack alarms on it).</summary>
    public const string GiveUps = "GiveUps";
    public const string ScaleOuts = "ScaleOuts";
    public const string ScaleIns = "ScaleIns";
    /// <summary>RunTask of the placement guard: a replacement away from a draining or disconnected instance.</summary>
    public const string Replacements = "Replacements";
    public const string TasksStopped = "TasksStopped";
    /// <summary>UpdateService without a desired count: a service's placement changed.</summary>
    public const string PlacementChanges = "PlacementChanges";
    /// <summary>AWS errors of the invocation, all codes together; each code also as <see cref="AwsError"/>.</summary>
    public const string AwsErrors = "AwsErrors";
    /// <summary>How long each decision took (one value per decision).</summary>
    public const string DecisionDuration = "DecisionDuration";

    /// <summary>The metric of one AWS error code: <c>AwsErrors.ThrottlingException</c>.</summary>
    public static string AwsError(string code) => $"{AwsErrors}.{code}";

    /// <summary>The reactions of one outcome: <c>Reactions.Acted</c>…</summary>
    public static readonly IReadOnlyList<(Outcome Outcome, string Metric)> OutcomeMetrics =
    [
        (Outcome.Acted, "Reactions.Acted"),
        (Outcome.Ignored, "Reactions.Ignored"),
        (Outcome.Deferred, "Reactions.Deferred"),
        (Outcome.Rejected, "Reactions.Rejected"),
        (Outcome.Failed, "Reactions.Failed"),
    ];

    /// <summary>
    /// The metrics every EMF line of the host declares, in the order it writes them (counts); an invocation also
    /// declares <see cref="AwsError"/> of each code it met and, when it decided anything, <see cref="DecisionDuration"/>.
    /// </summary>
    public static readonly IReadOnlyList<MetricDefinition> EveryInvocation =
    [
        new(Reactions, Count),
        .. OutcomeMetrics.Select(o => new MetricDefinition(o.Metric, Count)),
        new(Relaunches, Count),
        new(GiveUps, Count),
        new(ScaleOuts, Count),
        new(ScaleIns, Count),
        new(Replacements, Count),
        new(TasksStopped, Count),
        new(PlacementChanges, Count),
        new(AwsErrors, Count),
    ];

    /// <summary><see cref="DecisionDuration"/> with its unit.</summary>
    public static readonly MetricDefinition DecisionDurationMetric = new(DecisionDuration, Milliseconds);
}
