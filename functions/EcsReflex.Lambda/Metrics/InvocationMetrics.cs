using System.Globalization;
using System.Text.RegularExpressions;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Lambda.Metrics;

/// <summary>
/// The counts of one invocation, built as data and written as one Embedded Metric Format line by
/// <see cref="EmfWriter"/>: reactions by outcome, relaunches, give-ups, scale-outs and scale-ins, AWS
/// errors by code, and how long each decision took.
/// </summary>
public sealed partial class InvocationMetrics(string handler)
{
    private readonly Dictionary<Outcome, int> _outcomes = [];
    private readonly SortedDictionary<string, int> _awsErrors = new(StringComparer.Ordinal);
    private readonly List<double> _decisionMs = [];

    public string Handler => handler;
    public int Reactions { get; private set; }
    public int Relaunches { get; private set; }
    public int GiveUps { get; private set; }
    public int ScaleOuts { get; private set; }
    public int ScaleIns { get; private set; }
    public IReadOnlyDictionary<string, int> AwsErrors => _awsErrors;
    public IReadOnlyList<double> DecisionDurationsMs => _decisionMs;

    public int Count(Outcome o) => _outcomes.GetValueOrDefault(o);

    public void Add(Outcome outcome, IReadOnlyList<ActionResult> actions, string reason, double? decisionMs)
    {
        Reactions++;
        _outcomes[outcome] = Count(outcome) + 1;
        if (decisionMs is { } ms) _decisionMs.Add(ms);
        foreach (var a in actions)
        {
            switch (a.Action.Operation)
            {
                case "RunTask" when a.Done:
                    Relaunches++;
                    break;
                case "GiveUp" when a.Done:
                    GiveUps++;
                    break;
                case "UpdateService" when a.Done && a.Action.Request is UpdateServiceRequest { DesiredCount: not null }:
                    switch (ScalingDirection(a.Detail) ?? ScalingDirection(reason))
                    {
                        case > 0: ScaleOuts++; break;
                        case < 0: ScaleIns++; break;
                    }
                    break;
            }
            // RunTask answers with failures rather than an error: they are AWS errors all the same.
            if (a.Status is "capacity" or "rejected-by-ecs")
                AddAwsError(FailureCode(a.Detail));
        }
    }

    public void AddAwsError(string code) => _awsErrors[code] = _awsErrors.GetValueOrDefault(code) + 1;

    /// <summary>
    /// Direction of a desired-count change from the text the scaler writes (<c>4 → 5</c>): positive for a
    /// scale-out, negative for a scale-in, null when the text does not say.
    /// </summary>
    public static int? ScalingDirection(string? text)
    {
        if (text is null) return null;
        var matches = CountChange().Matches(text);
        if (matches.Count == 0) return null;
        var m = matches[^1];
        var from = int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
        var to = int.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
        return to.CompareTo(from);
    }

    /// <summary>The reason of a RunTask failure (<c>RESOURCE:MEMORY</c>) without its detail in parentheses.</summary>
    public static string FailureCode(string? detail)
    {
        if (string.IsNullOrWhiteSpace(detail)) return "RunTaskFailure";
        var i = detail.IndexOf(" (", StringComparison.Ordinal);
        return (i > 0 ? detail[..i] : detail).Trim();
    }

    [GeneratedRegex(@"(\d{1,9})\s*(?:→|->)\s*(\d{1,9})")]
    private static partial Regex CountChange();
}
