using System.Globalization;
using System.Text;
using System.Text.Json;
using EcsReflex.Core;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Engine.Acting;

namespace EcsReflex.Engine.Replay;

/// <summary>Short human descriptions of events and actions, for the table and the logs.</summary>
public static class Describe
{
    public static string Event(EventEnvelope e) => e.Detail switch
    {
        TaskStateChange t => $"task {Short(t.TaskId)} {t.LastStatus}",
        ContainerInstanceStateChange i => $"instance {Short(Arns.ContainerInstanceId(i.ContainerInstanceArn))} {i.Status}{(i.AgentConnected == false ? " (agent off)" : "")}",
        ServiceAction s => $"{Arns.ServiceName(s.ServiceArn ?? "?")} {s.EventName}",
        DeploymentStateChange d => $"{Arns.ServiceName(d.ServiceArn ?? "?")} {d.EventName}",
        AlarmStateChange a => $"alarm {a.AlarmName} {a.State.Value}",
        UnsupportedDetail u => u.DetailType,
        ScheduledEvent => "sweep (Scheduled Event)",
        _ => e.DetailType,
    };

    /// <summary>
    /// An action as carried out, for the table: the action, then its status unless it went through, and an unplaced
    /// task start says so right after the task definition (<c>RunTask worker:7 unplaced as reflex/…</c>), where the
    /// column's width keeps it.
    /// </summary>
    public static string Result(ActionResult a)
    {
        var text = Action(a.Action);
        if (a.Placement is { } placement && a.Action.Summary is null && a.Action.Request is RunTaskRequest r)
        {
            var head = $"RunTask {Arns.LastSegment(r.TaskDefinition)}";
            text = text.StartsWith(head, StringComparison.Ordinal) ? $"{head} {placement}{text[head.Length..]}" : $"{text} {placement}";
        }
        return text + (a.State is ActionStatus.Done or ActionStatus.Recorded ? "" : $" [{a.Status}]");
    }

    public static string Short(string id) => id.Length > 8 ? id[..8] : id;

    public static string Action(ReflexAction a) => a.Summary is { } summary ? $"{a.Operation} {summary}" : a.Request switch
    {
        RunTaskRequest r => $"RunTask {Arns.LastSegment(r.TaskDefinition)} as {r.StartedBy}",
        StopTaskRequest s => $"StopTask {Short(Arns.LastSegment(s.Task))}",
        UpdateServiceRequest u => $"UpdateService {Arns.ServiceName(u.Service)}" + (u.DesiredCount is { } d ? $" desired {d}" : "") + (u.PlacementConstraints is not null || u.PlacementStrategy is not null ? " placement" : ""),
        GiveUpRequest g => $"GiveUp lineage {Short(g.Lineage)}",
        _ => $"{a.Service}:{a.Operation}",
    };
}

/// <summary>
/// Writes replay records as JSON lines: one object per processed event or fired timer. Text is written as it is
/// (<c>+</c>, <c>→</c>, <c>'</c>), escaping only what JSON requires (<see cref="MinimalJsonEncoder"/>).
/// </summary>
public sealed class JsonLinesWriter(Stream output) : IDisposable
{
    private readonly Utf8JsonWriter _w = new(output, MinimalJsonEncoder.WriterOptions);

    public void Write(ReplayRecord r)
    {
        _w.WriteStartObject();
        _w.WriteString("input", r.Input);
        _w.WriteString("trigger", r.Trigger);
        if (r.EventId is null) _w.WriteNull("eventId"); else _w.WriteString("eventId", r.EventId);
        if (r.Time is { } t) _w.WriteString("time", t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)); else _w.WriteNull("time");
        if (r.DetailType is null) _w.WriteNull("detailType"); else _w.WriteString("detailType", r.DetailType);
        if (r.Handler is null) _w.WriteNull("handler"); else _w.WriteString("handler", r.Handler);
        _w.WriteString("outcome", r.Outcome.Name());
        _w.WriteString("reason", r.Reason);
        _w.WriteString("code", r.Code);
        if (r.RejectionCode is not null) _w.WriteString("rejection", r.RejectionCode);
        if (r.DueAt is { } due) _w.WriteString("dueAt", due.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        _w.WriteStartArray("actions");
        foreach (var a in r.Actions)
        {
            _w.WriteStartObject();
            _w.WriteString("service", a.Action.Service);
            _w.WriteString("operation", a.Action.Operation);
            _w.WritePropertyName("request");
            ActionJson.Write(_w, a.Action.Request);
            _w.WriteString("status", a.Status);
            if (a.Detail is not null) _w.WriteString("detail", a.Detail);
            if (a.Placement is not null) _w.WriteString("placement", a.Placement);
            _w.WriteEndObject();
        }
        _w.WriteEndArray();
        _w.WriteEndObject();
        _w.Flush();
        _w.Reset(); // one JSON document per line: without a reset the writer refuses a second top-level object
        output.WriteByte((byte)'\n');
        _w.Reset(); // each line is its own JSON document
    }

    public void Dispose() => _w.Dispose();
}

/// <summary>Counts of a replay, for the summary line and the tests.</summary>
public sealed class ReplaySummary
{
    private readonly Dictionary<Outcome, int> _outcomes = new();
    private readonly Dictionary<string, int> _operations = new(StringComparer.Ordinal);
    public int Events { get; private set; }
    public int Timers { get; private set; }
    /// <summary>Records of the reconciler's sweeps (a sweep that found something, and what it found).</summary>
    public int Swept { get; private set; }
    /// <summary>Where the replay's periodic work stopped, when some was left (<see cref="ReasonCodes.EngineReplayUntil"/>).</summary>
    public DateTimeOffset? PeriodicStoppedAt { get; private set; }

    public void Add(ReplayRecord r)
    {
        if (r.Code == ReasonCodes.EngineReplayUntil) PeriodicStoppedAt = r.Time;
        if (r.Trigger == "timer") Timers++;
        else if (r.Trigger == ReplayEngine.SweepInput) Swept++;
        else Events++;
        _outcomes[r.Outcome] = Count(r.Outcome) + 1;
        foreach (var a in r.Actions)
            _operations[a.Action.Operation] = Operations(a.Action.Operation) + 1;
    }

    public int Count(Outcome o) => _outcomes.GetValueOrDefault(o);
    public int Operations(string operation) => _operations.GetValueOrDefault(operation);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Events} events, {Timers} timers");
        if (Swept > 0) sb.Append(CultureInfo.InvariantCulture, $", {Swept} sweep records");
        sb.Append(": ");
        sb.Append(string.Join(", ", Enum.GetValues<Outcome>().Select(o => $"{Count(o)} {o.Name()}")));
        if (_operations.Count > 0)
            sb.Append("; actions: ").Append(string.Join(", ", _operations.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Value} {k.Key}")));
        if (PeriodicStoppedAt is { } at)
            sb.Append(CultureInfo.InvariantCulture, $"; periodic work stopped at {at.ToUniversalTime():yyyy-MM-dd HH:mm:ss}");
        return sb.ToString();
    }
}

/// <summary>A readable table: time, event, handler, outcome, action, reason.</summary>
public sealed class TableWriter(TextWriter output)
{
    private bool _header;

    public void Write(ReplayRecord r)
    {
        if (!_header)
        {
            output.WriteLine($"{"TIME",-20} {"EVENT",-34} {"HANDLER",-16} {"OUTCOME",-8} {"ACTION",-40} REASON");
            _header = true;
        }
        var time = r.Time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
        var ev = r.Trigger == "timer" ? $"(due) {r.Summary}" : r.Summary ?? Path.GetFileName(r.Input);
        var action = r.Actions.Count == 0 ? (r.DueAt is { } d ? $"wait until {d.ToUniversalTime():HH:mm:ss}" : "-")
            : string.Join("; ", r.Actions.Select(Describe.Result));
        output.WriteLine($"{time,-20} {Fit(ev, 34),-34} {r.Handler ?? "-",-16} {r.Outcome.Name(),-8} {Fit(action, 40),-40} {r.Reason}");
    }

    private static string Fit(string? s, int width) => s is null ? "-" : s.Length <= width ? s : s[..(width - 1)] + "…";
}
