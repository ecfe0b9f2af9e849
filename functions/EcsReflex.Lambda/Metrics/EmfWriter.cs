using System.Buffers;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Metrics;

/// <summary>
/// Writes an invocation's metrics as one CloudWatch Embedded Metric Format line on stdout: CloudWatch
/// extracts the metrics from the log line, no API call. One document holds one value per dimension, so
/// outcomes are metric names (<c>Reactions.Acted</c>…) and AWS errors are <c>AwsErrors.&lt;Code&gt;</c>,
/// all with the dimension <c>Handler</c>.
/// </summary>
public static class EmfWriter
{
    public const string Namespace = "EcsReflex";

    public static readonly IReadOnlyList<(Outcome Outcome, string Metric)> OutcomeMetrics =
    [
        (Outcome.Acted, "Reactions.Acted"),
        (Outcome.Ignored, "Reactions.Ignored"),
        (Outcome.Deferred, "Reactions.Deferred"),
        (Outcome.Rejected, "Reactions.Rejected"),
        (Outcome.Failed, "Reactions.Failed"),
    ];

    public static void Write(ILineWriter output, InvocationMetrics m, string requestId, DateTimeOffset time)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("_aws");
            w.WriteNumber("Timestamp", time.ToUnixTimeMilliseconds());
            w.WriteStartArray("CloudWatchMetrics");
            w.WriteStartObject();
            w.WriteString("Namespace", Namespace);
            w.WriteStartArray("Dimensions");
            w.WriteStartArray();
            w.WriteStringValue("Handler");
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteStartArray("Metrics");
            Definition(w, "Reactions", "Count");
            foreach (var (_, name) in OutcomeMetrics) Definition(w, name, "Count");
            Definition(w, "Relaunches", "Count");
            Definition(w, "GiveUps", "Count");
            Definition(w, "ScaleOuts", "Count");
            Definition(w, "ScaleIns", "Count");
            Definition(w, "Replacements", "Count");
            Definition(w, "TasksStopped", "Count");
            Definition(w, "PlacementChanges", "Count");
            Definition(w, "AwsErrors", "Count");
            foreach (var code in m.AwsErrors.Keys) Definition(w, $"AwsErrors.{code}", "Count");
            if (m.DecisionDurationsMs.Count > 0) Definition(w, "DecisionDuration", "Milliseconds");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteString("Handler", m.Handler);
            w.WriteString("requestId", requestId);
            w.WriteNumber("Reactions", m.Reactions);
            foreach (var (outcome, name) in OutcomeMetrics) w.WriteNumber(name, m.Count(outcome));
            w.WriteNumber("Relaunches", m.Relaunches);
            w.WriteNumber("GiveUps", m.GiveUps);
            w.WriteNumber("ScaleOuts", m.ScaleOuts);
            w.WriteNumber("ScaleIns", m.ScaleIns);
            w.WriteNumber("Replacements", m.Replacements);
            w.WriteNumber("TasksStopped", m.TasksStopped);
            w.WriteNumber("PlacementChanges", m.PlacementChanges);
            w.WriteNumber("AwsErrors", m.AwsErrors.Values.Sum());
            foreach (var (code, n) in m.AwsErrors) w.WriteNumber($"AwsErrors.{code}", n);
            if (m.DecisionDurationsMs.Count == 1) w.WriteNumber("DecisionDuration", Math.Round(m.DecisionDurationsMs[0], 3));
            else if (m.DecisionDurationsMs.Count > 1)
            {
                w.WriteStartArray("DecisionDuration");
                foreach (var d in m.DecisionDurationsMs) w.WriteNumberValue(Math.Round(d, 3));
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        output.WriteLine(buffer.WrittenSpan);
    }

    private static void Definition(Utf8JsonWriter w, string name, string unit)
    {
        w.WriteStartObject();
        w.WriteString("Name", name);
        w.WriteString("Unit", unit);
        w.WriteEndObject();
    }
}
