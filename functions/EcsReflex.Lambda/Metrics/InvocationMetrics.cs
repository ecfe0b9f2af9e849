using System.Globalization;
using System.Text.RegularExpressions;
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
public sealed partial class InvocationMetrics(string handler)
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

    /// <param name="decidedBy">The handler whose decision it is (<c>relaunch-due</c> decides as the handler of the event it carries).</param>
    public void Add(Outcome outcome, IReadOnlyList<ActionResult> actions, string reason, double? decisionMs, string? decidedBy = null)
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
                        switch (ScalingDirection(a.Detail, target) ?? ScalingDirection(reason, target))
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
            if (a.Status is "capacity" or "rejected-by-ecs")
                AddAwsError(FailureCode(a.Detail));
        }
    }

    public void AddAwsError(string code) => _awsErrors[code] = _awsErrors.GetValueOrDefault(code) + 1;

    /// <summary>
    /// Direction of a desired-count change from the text the scaler writes (<c>… 4 → 5 (max 40)</c>): positive for
    /// a scale-out, negative for a scale-in, null when the text does not say. With <paramref name="target"/>, the
    /// last change to that count (the text may quote other arrows, as in <c>step -25% (-2.25 → -2): 9 → 7</c>);
    /// without, the last change.
    /// </summary>
    public static int? ScalingDirection(string? text, int? target = null)
    {
        if (text is null) return null;
        var matches = CountChange().Matches(text);
        for (var i = matches.Count - 1; i >= 0; i--)
        {
            var m = matches[i];
            var to = int.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            if (target is { } t && to != t) continue;
            var from = int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            return to.CompareTo(from);
        }
        return null;
    }

    /// <summary>The reason of a RunTask failure (<c>RESOURCE:MEMORY</c>) without its detail in parentheses.</summary>
    public static string FailureCode(string? detail)
    {
        if (string.IsNullOrWhiteSpace(detail)) return "RunTaskFailure";
        var i = detail.IndexOf(" (", StringComparison.Ordinal);
        return (i > 0 ? detail[..i] : detail).Trim();
    }

    [GeneratedRegex(@"(?<![\d.\-])(\d{1,9})\s*(?:→|->)\s*(\d{1,9})(?![\d.])")]
    private static partial Regex CountChange();
}
