using System.Buffers;
using System.Globalization;
using System.Text.Json;
namespace EcsReflex.Core.Events;

/// <summary>
/// A task or container instance state change written as the EventBridge event ECS would deliver: an event the embedded
/// cluster emitted (a task it started is RUNNING, one it stopped is STOPPED), sent by the Lambda replay to the real
/// bootstrap, and what the reconciler's sweep found (a stop, a drain, a disconnect), which the bootstrap puts on the delay
/// queue when its decision is deferred, and the alarm state change of a sustained alarm's re-decision it re-arms; and the
/// schedule's event of each sweep the Lambda replay sends. Every field
/// <see cref="EventParser"/> reads is written, so what reads it back decides on what the writer decided on; times keep
/// their full precision (7 fractional digits, UTC).
/// </summary>
public static class EventJson
{
    public static byte[] Write(EventEnvelope e)
    {
        if (e.Detail is not (TaskStateChange or ContainerInstanceStateChange or DeploymentStateChange or ScheduledEvent or AlarmStateChange { Configuration: null }))
            throw new NotSupportedException($"only task, container instance and deployment state changes, an alarm state change without configuration (a re-armed re-decision's) and a schedule's event are written as events; {e.DetailType} cannot be");
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("version", e.Version);
            w.WriteString("id", e.Id);
            w.WriteString("detail-type", e.DetailType);
            w.WriteString("source", e.Source);
            Optional(w, "account", e.Account);
            Time(w, "time", e.Time);
            Optional(w, "region", e.Region);
            w.WriteStartArray("resources");
            foreach (var r in e.Resources) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteStartObject("detail");
            switch (e.Detail)
            {
                case TaskStateChange t: WriteTask(w, t); break;
                case ContainerInstanceStateChange i: WriteInstance(w, i); break;
                case DeploymentStateChange d: WriteDeployment(w, d); break;
                case AlarmStateChange a: WriteAlarm(w, a); break;
                // A schedule's event has an empty detail (the rule is in resources).
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteTask(Utf8JsonWriter w, TaskStateChange t)
    {
        w.WriteString("clusterArn", t.ClusterArn);
        w.WriteString("taskArn", t.TaskArn);
        Optional(w, "taskDefinitionArn", t.TaskDefinitionArn);
        Optional(w, "group", t.Group);
        Optional(w, "startedBy", t.StartedBy);
        w.WriteString("lastStatus", t.LastStatus);
        Optional(w, "desiredStatus", t.DesiredStatus);
        Optional(w, "stopCode", t.StopCode);
        Optional(w, "stoppedReason", t.StoppedReason);
        Optional(w, "launchType", t.LaunchType);
        Optional(w, "capacityProviderName", t.CapacityProviderName);
        Optional(w, "platformVersion", t.PlatformVersion);
        Optional(w, "availabilityZone", t.AvailabilityZone);
        Optional(w, "containerInstanceArn", t.ContainerInstanceArn);
        Optional(w, "cpu", t.Cpu);
        Optional(w, "memory", t.Memory);
        if (t.EnableExecuteCommand is { } exec) w.WriteBoolean("enableExecuteCommand", exec);
        if (t.Version is { } version) w.WriteNumber("version", version);
        w.WriteStartArray("containers");
        foreach (var c in t.Containers)
        {
            w.WriteStartObject();
            Optional(w, "name", c.Name);
            Optional(w, "containerArn", c.ContainerArn);
            Optional(w, "lastStatus", c.LastStatus);
            if (c.ExitCode is { } code) w.WriteNumber("exitCode", code);
            Optional(w, "reason", c.Reason);
            Optional(w, "image", c.Image);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (t.Overrides is { } overrides)
        {
            w.WritePropertyName("overrides");
            overrides.WriteTo(w);
        }
        w.WriteStartArray("attachments");
        foreach (var a in t.Attachments)
        {
            w.WriteStartObject();
            Optional(w, "id", a.Id);
            Optional(w, "type", a.Type);
            Optional(w, "status", a.Status);
            KeyValues(w, "details", a.Details);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        KeyValues(w, "attributes", t.Attributes);
        Time(w, "createdAt", t.CreatedAt);
        Time(w, "startedAt", t.StartedAt);
        Time(w, "stoppingAt", t.StoppingAt);
        Time(w, "stoppedAt", t.StoppedAt);
        Time(w, "updatedAt", t.UpdatedAt);
    }

    private static void WriteInstance(Utf8JsonWriter w, ContainerInstanceStateChange i)
    {
        w.WriteString("clusterArn", i.ClusterArn);
        w.WriteString("containerInstanceArn", i.ContainerInstanceArn);
        Optional(w, "ec2InstanceId", i.Ec2InstanceId);
        w.WriteString("status", i.Status);
        Optional(w, "statusReason", i.StatusReason);
        if (i.AgentConnected is { } agent) w.WriteBoolean("agentConnected", agent);
        if (i.Version is { } version) w.WriteNumber("version", version);
        KeyValues(w, "attributes", i.Attributes);
        Resources(w, "registeredResources", i.RegisteredResources);
        Resources(w, "remainingResources", i.RemainingResources);
        if (i.RunningTasksCount is { } running) w.WriteNumber("runningTasksCount", running);
        if (i.PendingTasksCount is { } pending) w.WriteNumber("pendingTasksCount", pending);
        Time(w, "registeredAt", i.RegisteredAt);
        Time(w, "updatedAt", i.UpdatedAt);
    }

    private static void WriteDeployment(Utf8JsonWriter w, DeploymentStateChange d)
    {
        Optional(w, "eventType", d.EventType);
        w.WriteString("eventName", d.EventName);
        Optional(w, "deploymentId", d.DeploymentId);
        Optional(w, "clusterArn", d.ClusterArn);
        Optional(w, "reason", d.Reason);
        Time(w, "updatedAt", d.UpdatedAt);
    }

    private static void Resources(Utf8JsonWriter w, string name, IReadOnlyList<InstanceResource> items)
    {
        w.WriteStartArray(name);
        foreach (var r in items)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            Optional(w, "type", r.Type);
            if (r.IntegerValue is { } i) w.WriteNumber("integerValue", i);
            if (r.LongValue is { } l) w.WriteNumber("longValue", l);
            if (r.DoubleValue is { } d) w.WriteNumber("doubleValue", d);
            if (r.StringSetValue.Count > 0)
            {
                w.WriteStartArray("stringSetValue");
                foreach (var v in r.StringSetValue) w.WriteStringValue(v);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void KeyValues(Utf8JsonWriter w, string name, IReadOnlyList<KeyValue> items)
    {
        w.WriteStartArray(name);
        foreach (var kv in items)
        {
            w.WriteStartObject();
            w.WriteString("name", kv.Name);
            Optional(w, "value", kv.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>An alarm's state change as the sweep re-arms one: its name and states (the alarm's ARN is in resources).</summary>
    private static void WriteAlarm(Utf8JsonWriter w, AlarmStateChange a)
    {
        w.WriteString("alarmName", a.AlarmName);
        WriteAlarmState(w, "state", a.State);
        if (a.PreviousState is { } previous) WriteAlarmState(w, "previousState", previous);
    }

    private static void WriteAlarmState(Utf8JsonWriter w, string name, AlarmState s)
    {
        w.WriteStartObject(name);
        w.WriteString("value", s.Value);
        Optional(w, "reason", s.Reason);
        Optional(w, "reasonData", s.ReasonDataJson); // a JSON document in a string, as CloudWatch sends it
        Time(w, "timestamp", s.Timestamp);
        Optional(w, "actionsSuppressedBy", s.ActionsSuppressedBy);
        w.WriteEndObject();
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } t) w.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
    }
}
