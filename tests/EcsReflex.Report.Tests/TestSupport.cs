using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Report.Tests;

/// <summary>
/// Builds replay records by hand, for what this branch's handlers do not produce yet (scaling,
/// placement): the report reads records, so a record is all a chart needs.
/// </summary>
public static class Synthetic
{
    public const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    public static readonly DateTimeOffset T0 = new(2026, 3, 10, 2, 0, 0, TimeSpan.Zero);

    public static ReflexPolicy Policy(int maxRelaunchesPerMinute = 20) => new()
    {
        Clusters = [new ClusterPolicy { Cluster = ClusterArn, Reschedule = [], Limits = new ClusterLimits { MaxRelaunchesPerMinute = maxRelaunchesPerMinute } }],
    };

    public static ClusterSnapshot Snapshot(params (string Service, int Desired)[] services) => new()
    {
        Services = [.. services.Select(s => new ObservedService
        {
            ServiceArn = $"arn:aws:ecs:us-east-1:123456789012:service/prod/{s.Service}",
            ServiceName = s.Service,
            ClusterArn = ClusterArn,
            DesiredCount = s.Desired,
        })],
    };

    public static EventEnvelope Alarm(string name, string state, string previous, DateTimeOffset at) => new()
    {
        Version = "0",
        Id = $"alarm-{name}-{at.UtcTicks}-{state}",
        DetailType = DetailTypes.AlarmStateChange,
        Source = DetailTypes.CloudWatchSource,
        Time = at,
        Detail = new AlarmStateChange
        {
            AlarmName = name,
            AlarmArn = $"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
            State = new AlarmState { Value = state, Timestamp = at, Reason = $"{name} went {state}" },
            PreviousState = new AlarmState { Value = previous },
        },
    };

    public static ReplayRecord ScaleRecord(EventEnvelope alarm, string service, int desired, DateTimeOffset at, string reason) => new()
    {
        Input = "synthetic.jsonl:1",
        Trigger = "event",
        EventId = alarm.Id,
        Time = at,
        DetailType = alarm.DetailType,
        Handler = "service-scaler",
        Outcome = Outcome.Acted,
        Code = ReasonCodes.ScalerScaleOut,
        Reason = reason,
        Event = alarm,
        Summary = $"alarm {((AlarmStateChange)alarm.Detail).AlarmName} {((AlarmStateChange)alarm.Detail).State.Value}",
        Actions = [new ActionResult(ReflexAction.UpdateService(new UpdateServiceRequest { Cluster = ClusterArn, Service = service, DesiredCount = desired }), ActionStatus.Done, $"desired {desired}")],
    };

    public static ReplayRecord AlarmOnly(EventEnvelope alarm, DateTimeOffset at) => new()
    {
        Input = "synthetic.jsonl:1",
        Trigger = "event",
        EventId = alarm.Id,
        Time = at,
        DetailType = alarm.DetailType,
        Handler = "service-scaler",
        Outcome = Outcome.Ignored,
        Code = ReasonCodes.ScalerNotInAlarm,
        Reason = "OK: nothing to do",
        Event = alarm,
        Summary = $"alarm {((AlarmStateChange)alarm.Detail).AlarmName} {((AlarmStateChange)alarm.Detail).State.Value}",
    };

    public static ReplayRecord Placement(string service, DateTimeOffset at) => new()
    {
        Input = "synthetic.jsonl:2",
        Trigger = "event",
        EventId = $"deploy-{at.UtcTicks}",
        Time = at,
        DetailType = DetailTypes.DeploymentStateChange,
        Handler = "placement-guard",
        Outcome = Outcome.Acted,
        Code = ReasonCodes.GuardDriftRestore,
        Reason = $"{service} drifted from its placement; restoring it",
        Actions = [new ActionResult(ReflexAction.UpdateService(new UpdateServiceRequest
        {
            Cluster = ClusterArn, Service = service,
            PlacementStrategy = [new PlacementStrategy { Type = "spread", Field = "attribute:ecs.availability-zone" }],
        }), ActionStatus.Done, null)],
    };

    public static ReplayRecord Stop(string taskId, DateTimeOffset at) => new()
    {
        Input = "synthetic.jsonl:3",
        Trigger = "event",
        EventId = $"drain-{at.UtcTicks}",
        Time = at,
        DetailType = DetailTypes.ContainerInstanceStateChange,
        Handler = "placement-guard",
        Outcome = Outcome.Acted,
        Code = ReasonCodes.GuardReplacementStopOriginal,
        Reason = "replacement running; stopping the original",
        Actions = [new ActionResult(ReflexAction.StopTask(new StopTaskRequest { Cluster = ClusterArn, Task = taskId, Reason = "EcsReflex: instance draining" }), ActionStatus.Done, null)],
    };

    public static ReplayRecord Relaunch(string lineage, int attempt, DateTimeOffset at, string trigger = "timer") => new()
    {
        Input = "synthetic.jsonl:4",
        Trigger = trigger,
        EventId = $"stop-{lineage}-{attempt}",
        Time = at,
        DetailType = DetailTypes.TaskStateChange,
        Handler = "task-rescheduler",
        Outcome = Outcome.Acted,
        Code = ReasonCodes.ReschedulerRelaunch,
        Reason = $"worker exited 1 (attempt {attempt} of 5); relaunching now",
        Actions = [new ActionResult(ReflexAction.RunTask(new RunTaskRequest
        {
            Cluster = ClusterArn,
            TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7",
            StartedBy = $"reflex/{lineage}/{attempt}",
            Group = "family:worker",
            ClientToken = $"reflex-{lineage}-{attempt}",
        }), ActionStatus.Done, $"started {lineage}{attempt}")],
    };

    public static ReplayRecord Rejected(string input, string reason, DateTimeOffset? at) => new()
    {
        Input = input,
        Trigger = "event",
        Time = at,
        Outcome = Outcome.Rejected,
        Code = ReasonCodes.RejectInvalidJson,
        Reason = reason,
        RejectionCode = "invalid-json",
    };

    public static ReplayRecord Ignored(int i, DateTimeOffset at) => new()
    {
        Input = $"synthetic.jsonl:{i}",
        Trigger = "event",
        EventId = $"running-{i}",
        Time = at,
        DetailType = DetailTypes.TaskStateChange,
        Handler = "task-rescheduler",
        Outcome = Outcome.Ignored,
        Code = ReasonCodes.ReschedulerNotStopped,
        Reason = $"task {i:x8} is RUNNING, not STOPPED",
        Summary = $"task {i:x8} RUNNING",
    };

    /// <summary>A scaling scenario: two services scaled by alarms, with OK transitions and a duplicate delivery.</summary>
    public static (ReflexPolicy Policy, ClusterSnapshot Snapshot, List<ReplayRecord> Records) ScalingScenario()
    {
        var records = new List<ReplayRecord>();
        var t = T0;
        var high = Alarm("web-cpu-high", "ALARM", "OK", t.AddMinutes(1));
        records.Add(ScaleRecord(high, "web", 5, t.AddMinutes(1), "web-cpu-high at 87.5 (threshold 70, +17.5) → step +1: 4 → 5 (max 12)"));
        records.Add(ScaleRecord(high, "web", 5, t.AddMinutes(1), "duplicate delivery") with { Actions = [], Outcome = Outcome.Ignored, Code = ReasonCodes.EngineDuplicate, Reason = "duplicate: event was already processed" });
        var high2 = Alarm("web-cpu-high", "ALARM", "ALARM", t.AddMinutes(4));
        records.Add(ScaleRecord(high2, "web", 8, t.AddMinutes(4), "web-cpu-high at 95 (threshold 70, +25) → step +3: 5 → 8 (max 12)"));
        records.Add(AlarmOnly(Alarm("web-cpu-high", "OK", "ALARM", t.AddMinutes(12)), t.AddMinutes(12)));
        var low = Alarm("web-cpu-low", "ALARM", "OK", t.AddMinutes(20));
        records.Add(ScaleRecord(low, "web", 6, t.AddMinutes(20), "web-cpu-low → -25%: 8 → 6 (min 2)"));
        var apiHigh = Alarm("api-latency-high", "ALARM", "OK", t.AddMinutes(6));
        records.Add(ScaleRecord(apiHigh, "api", 4, t.AddMinutes(6), "api-latency-high → +1: 3 → 4"));
        records.Add(Placement("api", t.AddMinutes(8)));
        records.Add(Stop("0123456789abcdef0123456789abcdef", t.AddMinutes(9)));
        records.Add(Relaunch("1c468749f5b8473c6ce4eb03ddb636be", 1, t.AddMinutes(10)));
        records.Add(Rejected("synthetic.jsonl:42", "line 42 is not JSON: '}' is invalid after a value", t.AddMinutes(11)));
        records.Add(Ignored(7, t.AddMinutes(30)));
        records.Sort((a, b) => Nullable.Compare(a.Time, b.Time));
        return (Policy(), Snapshot(("web", 4), ("api", 3)), records);
    }

    public static readonly IReadOnlyList<ScaledServiceDeclaration> ScalingDeclarations =
    [
        new("prod", "web", MinCount: 2, MaxCount: 12, AlarmNames: ["web-cpu-high", "web-cpu-low"]),
        new("prod", "api", MinCount: 1, MaxCount: 10, AlarmNames: []),
    ];

    /// <summary>Reads the JSON data block of a written page.</summary>
    public static JsonDocument DataOf(string html)
    {
        const string open = "<script type=\"application/json\" id=\"reflex-data\">";
        var start = html.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has no reflex-data block");
        start += open.Length;
        var end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        return JsonDocument.Parse(html[start..end]);
    }

    /// <summary>The text of a script block of a written page, by id.</summary>
    public static string BlockOf(string html, string id)
    {
        var open = $"<script type=\"application/octet-stream\" id=\"{id}\">";
        var start = html.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, $"the page has no {id} block");
        start += open.Length;
        return html[start..html.IndexOf("</script>", start, StringComparison.Ordinal)];
    }

    /// <summary>The decisions a written page holds, read from its compact form (the columns and details blocks) as its script reads them.</summary>
    public static List<DecisionRow> DecisionsOf(string html)
    {
        using var data = DataOf(html);
        var d = data.RootElement.GetProperty("decisions");
        var layout = d.GetProperty("layout").EnumerateArray().Select(l => (l[0].GetString()!, l[1].GetString()!, l[2].GetInt32())).ToList();
        var tables = d.GetProperty("tables").EnumerateObject().ToDictionary(p => p.Name,
            p => (IReadOnlyList<string?>)[.. p.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? null : v.GetString())]);
        tables["kinds"] = [.. d.GetProperty("kinds").EnumerateArray().Select(k => string.Join(',', k.EnumerateArray().Select(v => v.GetInt32())))];
        return [.. DecisionLog.Read(Convert.FromBase64String(BlockOf(html, "reflex-columns")), layout, d.GetProperty("count").GetInt32(),
            d.GetProperty("epoch").GetInt64(), tables, Convert.FromBase64String(BlockOf(html, "reflex-details")))];
    }
}
