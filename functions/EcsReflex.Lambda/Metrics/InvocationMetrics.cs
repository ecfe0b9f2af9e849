using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Lambda.Metrics;

/// <summary>
/// The counts of one invocation, built as data and written as one Embedded Metric Format line by
/// <see cref="EmfWriter"/>: reactions by outcome, relaunches, give-ups, scale-outs and scale-ins, the
/// placement guard's replacements, task stops and placement changes, AWS errors by code, and how long each
/// decision took. Actions count when done (or recorded in dry run).
/// </summary>
public sealed class InvocationMetrics(string handler)
{
    private readonly Dictionary<Outcome, int> _outcomes = [];
    private readonly SortedDictionary<string, int> _awsErrors = new(StringComparer.Ordinal);
    private readonly List<double> _decisionMs = [];

    public string Handler => handler;
    public int Reactions { get; private set; }
    /// <summary>RunTask of the task rescheduler: a failed task relaunched.</summary>
    public int Relaunches { get; private set; }
    public int GiveUps { get; private set; }
    public int ScaleOuts { get; private set; }
    public int ScaleIns { get; private set; }
    /// <summary>RunTask of the placement guard: a replacement started away from a draining or disconnected instance.</summary>
    public int Replacements { get; private set; }
    /// <summary>StopTask: an original stopped once its replacement runs (or its drain deadline passed).</summary>
    public int TasksStopped { get; private set; }
    /// <summary>UpdateService without a desired count: a service's placement constraints or strategy changed.</summary>
    public int PlacementChanges { get; private set; }
    public IReadOnlyDictionary<string, int> AwsErrors => _awsErrors;
    public IReadOnlyList<double> DecisionDurationsMs => _decisionMs;

    public int Count(Outcome o) => _outcomes.GetValueOrDefault(o);

    /// <param name="code">The reaction's code (<see cref="ReasonCodes"/>): says the direction of a desired-count change whose action does not.</param>
    /// <param name="decidedBy">The handler whose decision it is (<c>relaunch-due</c> decides as the handler of the event it carries).</param>
    public void Add(Outcome outcome, IReadOnlyList<ActionResult> actions, string code, double? decisionMs, string? decidedBy = null)
    {
        Reactions++;
        _outcomes[outcome] = Count(outcome) + 1;
        if (decisionMs is { } ms) _decisionMs.Add(ms);
        foreach (var a in actions)
        {
            if (a.Done)
                switch (a.Action.Request)
                {
                    case RunTaskRequest when decidedBy == HandlerNames.PlacementGuard:
                        Replacements++;
                        break;
                    case RunTaskRequest:
                        Relaunches++;
                        break;
                    case GiveUpRequest:
                        GiveUps++;
                        break;
                    case StopTaskRequest:
                        TasksStopped++;
                        break;
                    case UpdateServiceRequest { DesiredCount: { } target }:
                        switch (ScalingDirection(a.Action, target, code))
                        {
                            case > 0: ScaleOuts++; break;
                            case < 0: ScaleIns++; break;
                        }
                        break;
                    case UpdateServiceRequest:
                        PlacementChanges++;
                        break;
                }
            // RunTask answers with failures rather than an error: they are AWS errors all the same.
            if (a.State is ActionStatus.Capacity or ActionStatus.RejectedByEcs)
                AddAwsError(FailureCode(a.Detail));
        }
    }

    public void AddAwsError(string code) => _awsErrors[code] = _awsErrors.GetValueOrDefault(code) + 1;

    /// <summary>
    /// Direction of a desired-count change, from data: the count the action changes from (<see cref="ReflexAction.DesiredFrom"/>)
    /// against <paramref name="target"/>; without it, the decision's code (<see cref="ReasonCodes.ScalerScaleOut"/>,
    /// <see cref="ReasonCodes.ScalerScaleIn"/>). Positive for a scale-out, negative for a scale-in, 0 for no change, null
    /// when neither says.
    /// </summary>
    public static int? ScalingDirection(ReflexAction action, int target, string? code) =>
        action.DesiredFrom is { } from ? target.CompareTo(from)
        : code switch
        {
            ReasonCodes.ScalerScaleOut => 1,
            ReasonCodes.ScalerScaleIn => -1,
            _ => null,
        };

    /// <summary>The reason of a RunTask failure (<c>RESOURCE:MEMORY</c>) without its detail in parentheses.</summary>
    public static string FailureCode(string? detail)
    {
        if (string.IsNullOrWhiteSpace(detail)) return "RunTaskFailure";
        var i = detail.IndexOf(" (", StringComparison.Ordinal);
        return (i > 0 ? detail[..i] : detail).Trim();
    }
}
