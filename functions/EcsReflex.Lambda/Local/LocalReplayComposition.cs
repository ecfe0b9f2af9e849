using EcsReflex.Core.Policy;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Local;

/// <summary>
/// The ports of local replay mode (<c>REFLEX_LOCAL_REPLAY=1</c>, set by <c>reflex replay --lambda</c>): every one
/// is the Runtime API emulator's (<see cref="EmulatorServicesClient"/>): the shared in-memory store, the embedded
/// cluster as observer and as ECS API, the delay and dead-letter queues, and the replay's clock. Nothing reaches
/// AWS, so actions are sent (to the embedded cluster, which then emits the task state changes ECS would) unless
/// <c>REFLEX_DRY_RUN</c> says otherwise: the records are then those of the in-process <c>reflex replay</c>.
/// AWS settings cannot be combined with it.
/// </summary>
public static class LocalReplayComposition
{
    public static HostServices? Compose(LambdaSettings s, ReflexPolicy policy, JsonLog log, List<string> problems)
    {
        foreach (var (name, value) in new[] { (EnvVars.Table, s.Table), (EnvVars.DelayQueueUrl, s.DelayQueueUrl), (EnvVars.DeadLetterQueueUrl, s.DeadLetterQueueUrl) })
            if (value is not null)
                problems.Add($"{EnvVars.LocalReplay}=1 runs on the emulator's in-memory store, embedded cluster and queues; {name} cannot be combined with it: unset one of them");
        if (s.RuntimeApi is null) problems.Add($"{EnvVars.LocalReplay}=1 needs {EnvVars.RuntimeApi} (the emulator's host:port)");
        if (problems.Count > 0) return null;

        var local = new EmulatorServicesClient(s.RuntimeApi!);
        log.Information("init", w =>
        {
            w.WriteString("policy", s.PolicyPath);
            w.WriteString("store", "in memory, served by the Runtime API emulator (local replay)");
            w.WriteString("cluster", "the emulator's embedded cluster (local replay): observed and acted on, nothing reaches AWS");
            w.WriteString("delayQueue", "the emulator's (local replay)");
            w.WriteString("deadLetterQueue", "the emulator's (local replay)");
            w.WriteString("aws", "none: local replay");
            w.WriteBoolean("dryRun", s.DryRun);
        });
        return new HostServices
        {
            Policy = policy, Store = local, Observer = local, Ecs = local,
            DelayQueue = local, DelayQueueMode = "queued", DeadLetters = local, DeadLetterMode = "queued",
            Clock = new LocalReplayClock(), DryRun = s.DryRun,
        };
    }
}
