using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EcsReflex.Core.Decisions;

namespace EcsReflex.Report;

/// <summary>
/// The report's data as JSON, embedded in the page for its script (the decisions table) and for anyone
/// who wants the numbers. Short member names keep 100,000 decisions small. Written with
/// <see cref="Utf8JsonWriter"/>: no reflection, AOT-safe.
/// </summary>
public static class ReportJson
{
    public const int Version = 1;

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
            w.WriteNumber("changes", x.Changes);
            w.WriteNumber("bucketSeconds", x.Bucket.TotalSeconds);
            w.WriteStartArray("points");
            foreach (var p in x.Points)
            {
                w.WriteStartObject();
                Time(w, "t", p.Time);
                w.WriteNumber("v", p.Value);
                if (p.Merged > 1)
                {
                    w.WriteNumber("lo", p.Low);
                    w.WriteNumber("hi", p.High);
                    w.WriteNumber("n", p.Merged);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("alarms");
            foreach (var a in x.AlarmMarks)
            {
                w.WriteStartObject();
                Time(w, "t", a.Time);
                w.WriteString("alarm", a.Alarm);
                w.WriteString("state", a.State);
                if (a.PreviousState is not null) w.WriteString("previous", a.PreviousState);
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
            w.WriteStartArray("buckets");
            foreach (var b in r.Buckets)
            {
                w.WriteStartObject();
                Time(w, "t", b.Start);
                w.WriteNumber("total", b.Total);
                w.WriteNumber("peak", b.PeakPerMinute);
                w.WriteEndObject();
            }
            w.WriteEndArray();
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

        // Decisions: n index, t time, g trigger, e event, d detail type, h handler, o outcome, r reason,
        // c cluster, s service, i input, u due at, x rejection code, a actions
        // (v service, op operation, st status, dt detail, sm summary, rq the exact request).
        w.WriteStartArray("decisions");
        foreach (var d in m.Decisions)
        {
            w.WriteStartObject();
            w.WriteNumber("n", d.Index);
            Time(w, "t", d.Time);
            w.WriteString("g", d.Trigger);
            Str(w, "e", d.Event);
            Str(w, "id", d.EventId);
            Str(w, "d", d.DetailType);
            Str(w, "h", d.Handler);
            w.WriteString("o", d.Outcome.Name());
            w.WriteString("r", d.Reason);
            Str(w, "c", d.Cluster);
            Str(w, "s", d.Service);
            w.WriteString("i", d.Input);
            if (d.DueAt is { } due) Time(w, "u", due);
            Str(w, "x", d.RejectionCode);
            if (d.Actions.Count > 0)
            {
                w.WriteStartArray("a");
                foreach (var a in d.Actions)
                {
                    w.WriteStartObject();
                    w.WriteString("v", a.Service);
                    w.WriteString("op", a.Operation);
                    w.WriteString("st", a.Status);
                    Str(w, "dt", a.Detail);
                    w.WriteString("sm", a.Summary);
                    w.WritePropertyName("rq");
                    w.WriteRawValue(a.RequestJson);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
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
