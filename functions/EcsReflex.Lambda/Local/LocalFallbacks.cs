using System.Text.Json;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
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

/// <summary>
/// No cluster observer (the bootstrap has no AWS adapters, or they could not be configured): what it cannot
/// know it says, never guesses.
/// <list type="bullet">
/// <item>EC2 instance ids: unknown (null), so the task rescheduler relaunches without avoiding the failed instance and says so;</item>
/// <item>CloudWatch alarm states: unavailable, with the reason (the scaler then decides from the events alone);</item>
/// <item>tasks on an instance, services, container instances, a service's scaling view: the placement guard and
/// the service scaler cannot decide without them, so init refuses those handlers (<see cref="ProblemFor"/>) and a
/// call that still reaches them (placement-guard work delivered to relaunch-due) fails with
/// <see cref="ObserverUnavailableException"/>, which fails that message: it is not decided on a guess.</item>
/// </list>
/// </summary>
public sealed class UnknownClusterObserver : IClusterObserver
{
    public const string Why = "this bootstrap has no cluster observer";
    public const string Fix = "give it one (a bootstrap built with the AWS adapters, with a region and credentials), or run it through `reflex replay --lambda`, which serves the embedded cluster";

    /// <summary>
    /// Why <paramref name="handler"/> cannot run without an observer (an init problem), or null when it can.
    /// <paramref name="cause"/> says why there is none (the adapters cannot be configured: no region, no credentials).
    /// </summary>
    public static string? ProblemFor(string handler, string cause) => handler switch
    {
        HandlerNames.PlacementGuard =>
            $"{HandlerNames.PlacementGuard} decides from what it observes of the cluster (the tasks on a container instance, services and their placement), and {Why} ({cause}): {Fix}",
        HandlerNames.ServiceScaler =>
            $"{HandlerNames.ServiceScaler} decides from a service's desired count and its Application Auto Scaling target, and {Why} ({cause}): {Fix}",
        _ => null,
    };

    public ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => ValueTask.FromResult<string?>(null);

    public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) =>
        ValueTask.FromResult(AlarmStatesObservation.None($"{Why}, so CloudWatch alarm states cannot be described"));

    public ValueTask<AlarmStatesObservation> DescribeAlarmNowAsync(string alarmName, CancellationToken ct) =>
        ValueTask.FromResult(AlarmStatesObservation.None($"{Why}, so the alarm's state now cannot be described"));

    /// <summary>Unknown: the rescheduler relaunches without the task's own tags and says so.</summary>
    public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct) =>
        ValueTask.FromResult(TaskTagsObservation.None($"{Why}, so the task's tags cannot be described"));

    public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct) =>
        throw new ObserverUnavailableException($"the desired count and scalable target of service {service}");

    /// <summary>Unknown: the sweep says it could not read the cluster (and fails, so that it is retried where the cluster is known).</summary>
    public ValueTask<StoppedTasksObservation> ListStoppedTasksAsync(string clusterArn, int maxCalls, CancellationToken ct) =>
        ValueTask.FromResult(StoppedTasksObservation.None($"{Why}, so its stopped tasks cannot be listed"));

    /// <summary>Unknown: the sweep says it could not read the cluster's instances (and fails, so that it is retried).</summary>
    public ValueTask<ContainerInstancesObservation> ListContainerInstancesAsync(string clusterArn, int maxCalls, CancellationToken ct) =>
        ValueTask.FromResult(ContainerInstancesObservation.None($"{Why}, so its container instances cannot be listed"));

    public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        throw new ObserverUnavailableException($"the tasks on container instance {containerInstanceArn}");

    public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) =>
        throw new ObserverUnavailableException($"service {serviceArnOrName}");

    public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) =>
        throw new ObserverUnavailableException($"container instance {containerInstanceArn}");
}

/// <summary>A decision needed something only a live cluster observer can tell, and there is none: the work fails rather than being decided on a guess.</summary>
public sealed class ObserverUnavailableException(string what)
    : InvalidOperationException($"cannot observe {what}: {UnknownClusterObserver.Why} (see its init log line); {UnknownClusterObserver.Fix}");

/// <summary>Dry run without an ECS client: the actuator never sends in dry run, so a call here is a bug, said loudly.</summary>
public sealed class NotConnectedEcsApi : IEcsApi
{
    private static InvalidOperationException Refuse(string op) =>
        new($"{op} reached an ECS client that is not connected: this bootstrap has no AWS ECS client and runs in dry run only");

    public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) => throw Refuse("RunTask");
    public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => throw Refuse("StopTask");
    public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => throw Refuse("UpdateService");
}
