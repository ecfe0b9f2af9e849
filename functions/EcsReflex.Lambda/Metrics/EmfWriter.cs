using System.Buffers;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Metrics;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Metrics;

/// <summary>
/// Writes an invocation's metrics as one CloudWatch Embedded Metric Format line on stdout: CloudWatch
/// extracts the metrics from the log line, no API call. One document holds one value per dimension, so
/// outcomes are metric names (<c>Reactions.Acted</c>…) and AWS errors are <c>AwsErrors.&lt;Code&gt;</c>,
/// all with the dimension <c>Handler</c>. Names, namespace and units are <see cref="ReflexMetrics"/>'s (EcsReflex.Core),
/// which the CDK stack's alarms use too.
/// </summary>
public static class EmfWriter
{
    public const string Namespace = ReflexMetrics.Namespace;

    public static IReadOnlyList<(Outcome Outcome, string Metric)> OutcomeMetrics => ReflexMetrics.OutcomeMetrics;

    /// <summary>The value of each of <see cref="ReflexMetrics.EveryInvocation"/> in <paramref name="m"/>; a name it does not know throws.</summary>
    public static int CountOf(InvocationMetrics m, string metric) => metric switch
    {
        ReflexMetrics.Reactions => m.Reactions,
        ReflexMetrics.Relaunches => m.Relaunches,
        ReflexMetrics.GiveUps => m.GiveUps,
        ReflexMetrics.ScaleOuts => m.ScaleOuts,
        ReflexMetrics.ScaleIns => m.ScaleIns,
        ReflexMetrics.Replacements => m.Replacements,
        ReflexMetrics.TasksStopped => m.TasksStopped,
        ReflexMetrics.PlacementChanges => m.PlacementChanges,
        ReflexMetrics.AwsErrors => m.AwsErrors.Values.Sum(),
        _ => OutcomeCount(m, metric),
    };

    private static int OutcomeCount(InvocationMetrics m, string metric)
    {
        foreach (var (outcome, name) in ReflexMetrics.OutcomeMetrics)
            if (name == metric) return m.Count(outcome);
        throw new ArgumentException($"{metric} is not a metric the host counts", nameof(metric));
    }

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
            w.WriteString("Namespace", ReflexMetrics.Namespace);
            w.WriteStartArray("Dimensions");
            w.WriteStartArray();
            w.WriteStringValue(ReflexMetrics.HandlerDimension);
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteStartArray("Metrics");
            foreach (var metric in ReflexMetrics.EveryInvocation) Definition(w, metric);
            foreach (var code in m.AwsErrors.Keys) Definition(w, new MetricDefinition(ReflexMetrics.AwsError(code), ReflexMetrics.Count));
            if (m.DecisionDurationsMs.Count > 0) Definition(w, ReflexMetrics.DecisionDurationMetric);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteString(ReflexMetrics.HandlerDimension, m.Handler);
            w.WriteString("requestId", requestId);
            foreach (var metric in ReflexMetrics.EveryInvocation) w.WriteNumber(metric.Name, CountOf(m, metric.Name));
            foreach (var (code, n) in m.AwsErrors) w.WriteNumber(ReflexMetrics.AwsError(code), n);
            if (m.DecisionDurationsMs.Count == 1) w.WriteNumber(ReflexMetrics.DecisionDuration, Math.Round(m.DecisionDurationsMs[0], 3));
            else if (m.DecisionDurationsMs.Count > 1)
            {
                w.WriteStartArray(ReflexMetrics.DecisionDuration);
                foreach (var d in m.DecisionDurationsMs) w.WriteNumberValue(Math.Round(d, 3));
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        output.WriteLine(buffer.WrittenSpan);
    }

    private static void Definition(Utf8JsonWriter w, MetricDefinition metric)
    {
        w.WriteStartObject();
        w.WriteString("Name", metric.Name);
        w.WriteString("Unit", metric.Unit);
        w.WriteEndObject();
    }
}
