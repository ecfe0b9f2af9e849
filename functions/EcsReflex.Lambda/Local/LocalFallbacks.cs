using System.Text.Json;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Local;

/// <summary>No <c>REFLEX_DELAY_QUEUE_URL</c>: deferred work is logged (with the message it would have sent), with a warning.</summary>
public sealed class LoggingDelayQueue(JsonLog log) : IDelayQueue
{
    public Task SendAsync(DeferredWork work, CancellationToken ct)
    {
        log.Warning("deferred work not queued: REFLEX_DELAY_QUEUE_URL is not set, so nothing will decide it again at its due time", w =>
        {
            w.WriteString("dueAt", JsonLog.FormatTime(work.DueAt));
            w.WritePropertyName("delayQueueMessage");
            w.WriteRawValue(DeferredWorkJson.Write(work));
        });
        return Task.CompletedTask;
    }
}

/// <summary>No <c>REFLEX_DLQ_URL</c>: poison inputs are logged with their reason and payload, with a warning.</summary>
public sealed class LoggingDeadLetterSender(JsonLog log) : IDeadLetterSender
{
    public Task SendAsync(DeadLetter letter, CancellationToken ct)
    {
        log.Warning("poison input not dead-lettered: REFLEX_DLQ_URL is not set, so it is kept only in this log", w =>
        {
            JsonLog.WriteOptional(w, "requestId", letter.RequestId);
            if (letter.MessageId is not null) w.WriteString("messageId", letter.MessageId);
            JsonLog.WriteOptional(w, "eventId", letter.EventId);
            w.WriteString("rejection", letter.Code);
            w.WriteString("reason", letter.Reason);
            w.WriteString("payload", letter.Payload);
        });
        return Task.CompletedTask;
    }
}

/// <summary>Dry run without an ECS client: knows no EC2 instance ids (the decision says it cannot avoid the failed instance).</summary>
public sealed class UnknownClusterObserver : IClusterObserver
{
    public Task<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => Task.FromResult<string?>(null);
}

/// <summary>Dry run without an ECS client: the actuator never sends in dry run, so a call here is a bug, said loudly.</summary>
public sealed class NotConnectedEcsApi : IEcsApi
{
    private static InvalidOperationException Refuse(string op) =>
        new($"{op} reached an ECS client that is not connected: this bootstrap has no AWS ECS client and runs in dry run only");

    public Task<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) => throw Refuse("RunTask");
    public Task<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => throw Refuse("StopTask");
    public Task<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => throw Refuse("UpdateService");
}
