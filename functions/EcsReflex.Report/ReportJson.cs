using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EcsReflex.Core.Decisions;

namespace EcsReflex.Report;

/// <summary>
/// The report's data as JSON, embedded in the page for its script (the charts' series, the summary, and the
/// layout, kinds and string tables of the decisions, whose columns and details are blocks of their own: see
/// <see cref="DecisionLog"/>) and for anyone who wants the numbers. Written with <see cref="Utf8JsonWriter"/>:
/// no reflection, AOT-safe.
/// </summary>
public static class ReportJson
{
    public const int Version = 2;

    public static void Write(ReportModel m, IBufferWriter<byte> output)
    {
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteNumber("version", Version);
        w.WriteString("policyFile", m.PolicyFile);
        Time(w, "start", m.Start);
        Time(w, "end", m.End);
        Time(w, "from", m.Window.From);
        Time(w, "to", m.Window.To);
        w.WriteStartArray("inputs");
        foreach (var i in m.Inputs) w.WriteStringValue(i);
        w.WriteEndArray();

        var s = m.Summary;
        w.WriteStartObject("summary");
        w.WriteNumber("decisions", s.Decisions);
        w.WriteNumber("events", s.Events);
        w.WriteNumber("timers", s.Timers);
        w.WriteNumber("sweeps", s.Sweeps);
        w.WriteStartObject("outcomes");
        foreach (var o in Enum.GetValues<Outcome>()) w.WriteNumber(o.Name(), s.Count(o));
        w.WriteEndObject();
        w.WriteNumber("relaunches", s.Relaunches);
        w.WriteNumber("giveUps", s.GiveUps);
        w.WriteNumber("scaleChanges", s.ScaleChanges);
        w.WriteNumber("placementChanges", s.PlacementChanges);
        w.WriteNumber("tasksStopped", s.TasksStopped);
        w.WriteNumber("rejectedInputs", s.RejectedInputs);
        w.WriteEndObject();

        w.WriteStartArray("scaledServices");
        foreach (var x in m.ScaledServices)
        {
            w.WriteStartObject();
            w.WriteString("cluster", x.Cluster);
            w.WriteString("service", x.Service);
            Int(w, "min", x.Min);
            Int(w, "max", x.Max);
            Int(w, "low", x.Low);
            Int(w, "high", x.High);
            w.WriteNumber("changes", x.Changes);
            w.WriteNumber("alarmTransitions", x.AlarmTransitions);
            w.WriteStartArray("episodes");
            foreach (var e in x.Episodes)
            {
                w.WriteStartObject();
                Time(w, "start", e.Start);
                Time(w, "end", e.End);
                w.WriteNumber("bucketSeconds", e.Bucket.TotalSeconds);
                // Points as parallel arrays (t in Unix seconds): what uPlot draws.
                w.WriteStartObject("points");
                Column(w, "t", e.Points, p => Unix(p.Time));
                Column(w, "v", e.Points, p => p.Value);
                Column(w, "lo", e.Points, p => p.Low);
                Column(w, "hi", e.Points, p => p.High);
                Column(w, "n", e.Points, p => p.Merged);
                w.WriteStartArray("label");
                foreach (var p in e.Points) w.WriteStringValue(p.Label);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartArray("alarms");
                foreach (var a in e.Alarms)
                {
                    w.WriteStartObject();
                    w.WriteNumber("t", Unix(a.Time));
                    w.WriteString("alarm", a.Alarm);
                    w.WriteString("state", a.State);
                    if (a.PreviousState is not null) w.WriteString("previous", a.PreviousState);
                    w.WriteNumber("n", a.Merged);
                    w.WriteString("label", a.Label);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("relaunches");
        foreach (var r in m.Relaunches)
        {
            w.WriteStartObject();
            w.WriteString("cluster", r.Cluster);
            Time(w, "start", r.Start);
            Time(w, "end", r.End);
            w.WriteNumber("limitPerMinute", r.LimitPerMinute);
            w.WriteNumber("bucketSeconds", r.Bucket.TotalSeconds);
            w.WriteNumber("total", r.Total);
            w.WriteStartObject("buckets");
            Column(w, "t", r.Buckets, b => Unix(b.Start));
            Column(w, "total", r.Buckets, b => b.Total);
            Column(w, "peak", r.Buckets, b => b.PeakPerMinute);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteNumber("lineagesTotal", m.LineagesTotal);
        w.WriteStartArray("lanes");
        foreach (var l in m.Lanes)
        {
            w.WriteStartObject();
            w.WriteString("cluster", l.Cluster);
            w.WriteString("lineage", l.Lineage);
            w.WriteStartArray("marks");
            foreach (var k in l.Marks)
            {
                w.WriteStartObject();
                Time(w, "t", k.Time);
                if (k.Until is { } u) Time(w, "until", u);
                w.WriteString("kind", k.Kind switch { LaneMarkKind.Failure => "failure", LaneMarkKind.Relaunch => "relaunch", LaneMarkKind.Wait => "wait", _ => "giveUp" });
                if (k.Merged > 1) w.WriteNumber("n", k.Merged);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        // Decisions: the compact form of DecisionLog (columns and details are in their own blocks of the page, gzipped
        // and in base64); here their layout and the string tables the columns index.
        var log = m.Decisions;
        w.WriteStartObject("decisions");
        w.WriteNumber("count", log.Count);
        w.WriteNumber("epoch", log.Epoch == long.MinValue ? 0 : log.Epoch);
        w.WriteNumber("withoutDetails", log.WithoutDetails);
        w.WriteNumber("detailBytes", log.DetailBytes);
        w.WriteStartArray("layout");
        foreach (var (name, type, offset) in log.Layout)
        {
            w.WriteStartArray();
            w.WriteStringValue(name);
            w.WriteStringValue(type);
            w.WriteNumberValue(offset);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        // kinds: [trigger, outcome, detailType, handler, code, cluster, service, ops] per kind, indices into the tables.
        w.WriteStartArray("kinds");
        foreach (var k in log.Kinds)
        {
            w.WriteStartArray();
            foreach (var v in new[] { k.Trigger, k.Outcome, k.DetailType, k.Handler, k.Code, k.Cluster, k.Service, k.Operations }) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartObject("tables");
        foreach (var (name, values) in log.Tables)
        {
            if (name == "kinds") continue;
            w.WriteStartArray(name);
            foreach (var v in values) if (v is null) w.WriteNullValue(); else w.WriteStringValue(v);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static long Unix(DateTimeOffset t) => t.ToUnixTimeSeconds();

    private static void Column<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, Func<T, long> value)
    {
        w.WriteStartArray(name);
        foreach (var i in items) w.WriteNumberValue(value(i));
        w.WriteEndArray();
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? t)
    {
        if (t is { } v) w.WriteString(name, v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        else w.WriteNull(name);
    }

    private static void Str(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void Int(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name);
    }
}
