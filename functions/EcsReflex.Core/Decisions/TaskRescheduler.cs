using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>How a stop is classified. <see cref="Infrastructure"/> does not count towards maxAttempts.</summary>
public enum StopKind { NotStopped, UserInitiated, Success, Exit, Oom, Start, Infrastructure, Other }

/// <summary>What the engine observed before deciding: nothing here is fetched by the core itself.</summary>
public sealed record TaskObservation
{
    /// <summary>The lineage record of the stopped task's chain, if one was recorded.</summary>
    public LineageRecord? Lineage { get; init; }
    /// <summary>EC2 instance id of the container instance the task ran on, when known.</summary>
    public string? FailedEc2InstanceId { get; init; }
    /// <summary>The placement guard's move of the stopped task's lineage, if one was recorded.</summary>
    public DrainMoveRecord? DrainMove { get; init; }
    /// <summary>
    /// The stopped task's own tags (DescribeTasks with TAGS), or null when they were not read: the engine reads them
    /// only once a decision relaunches (<see cref="TaskRescheduler.WantsTags"/>) and then decides again with them.
    /// </summary>
    public TaskTagsObservation? Tags { get; init; }

    public static readonly TaskObservation None = new();
}

/// <summary>
/// What a relaunch reproduces of a task: the RunTask fields taken from the task itself. The rescheduler builds it from
/// the stopped task's event, the placement guard from the task as described (DescribeTasks); both hand it to
/// <see cref="TaskRescheduler.BuildRunTask"/>.
/// </summary>
public readonly record struct RelaunchSource(
    string ClusterArn, string TaskArn, string? TaskDefinitionArn, string? Group, string? StartedBy,
    string? LaunchType, string? CapacityProviderName, string? PlatformVersion, bool? EnableExecuteCommand,
    JsonElement? Overrides, IReadOnlyList<Attachment> Attachments)
{
    /// <summary>The stopped task, as its event says it.</summary>
    public static RelaunchSource Of(TaskStateChange t) => new(t.ClusterArn, t.TaskArn, t.TaskDefinitionArn, t.Group, t.StartedBy,
        t.LaunchType, t.CapacityProviderName, t.PlatformVersion, t.EnableExecuteCommand, t.Overrides, t.Attachments);

    /// <summary>A task as described; in <paramref name="clusterArn"/> when the description does not say its cluster.</summary>
    public static RelaunchSource Of(ObservedTask t, string clusterArn) => new(t.ClusterArn ?? clusterArn, t.TaskArn, t.TaskDefinitionArn, t.Group, t.StartedBy,
        t.LaunchType, t.CapacityProviderName, t.PlatformVersion, t.EnableExecuteCommand, t.Overrides, t.Attachments);
}

/// <summary>The container instance a failed task ran on, to place its relaunch away from; its EC2 instance id when known.</summary>
public readonly record struct FailedInstance(string ContainerInstanceArn, string? Ec2InstanceId);

/// <summary>
/// A relaunch as built: the request, or the <see cref="Problem"/> sentence why it cannot be; what the reason says of its
/// placement (" away from i-…") and of what it could not carry over ("; not carried over: …"), each possibly "".
/// </summary>
public readonly record struct BuiltRelaunch(RunTaskRequest? Request, string? Problem, string PlacementNote, string CarryNote);

/// <summary>The lineage a task belongs to, the attempt it is, and whether EcsReflex started it (<c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>).</summary>
public readonly record struct TaskLineage(string Lineage, int Attempt, bool ReflexStarted);

/// <summary>
/// The task rescheduler's decisions. Pure: the event, what was observed, the policy and the time in;
/// a <see cref="Decision"/> out.
/// </summary>
public static class TaskRescheduler
{
    public const string StartedByPrefix = "reflex/";
    public const string LineageTag = "reflex:lineage";
    public const string AttemptTag = "reflex:attempt";
    public const string OriginalStartedByTag = "reflex:startedBy";
    public const string RuleTag = "reflex:rule";
    /// <summary>The prefix of EcsReflex's own tags: set anew on every relaunch, never copied from the stopped task.</summary>
    public const string OwnTagPrefix = "reflex:";
    /// <summary>RunTask's limit on <c>tags</c> (the model's <c>Tags</c> shape: at most 50).</summary>
    public const int MaxTags = 50;
    /// <summary>The attachment type of an Amazon EBS volume ECS attached to a task.</summary>
    public const string EbsAttachmentType = "AmazonElasticBlockStorage";

    /// <summary>The group prefix of a service's tasks (<c>service:NAME</c>).</summary>
    public const string ServiceGroupPrefix = "service:";
    /// <summary>The startedBy prefix of the tasks a service's scheduler starts (<c>ecs-svc/…</c>).</summary>
    public const string ServiceStarterPrefix = "ecs-svc/";

    public static bool IsServiceTask(TaskStateChange t) => IsServiceTask(t.Group, t.StartedBy);

    /// <summary>A task of a service (a <c>service:</c> group, an <c>ecs-svc/</c> starter): the ECS service scheduler replaces it.</summary>
    public static bool IsServiceTask(string? group, string? startedBy) =>
        (group?.StartsWith(ServiceGroupPrefix, StringComparison.Ordinal) ?? false)
        || (startedBy?.StartsWith(ServiceStarterPrefix, StringComparison.Ordinal) ?? false);

    /// <summary>Parses <c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>; false for any other startedBy.</summary>
    public static bool TryParseLineage(string? startedBy, out string lineage, out int attempt)
    {
        lineage = "";
        attempt = 0;
        if (startedBy is null || !startedBy.StartsWith(StartedByPrefix, StringComparison.Ordinal)) return false;
        var rest = startedBy.AsSpan(StartedByPrefix.Length);
        var slash = rest.LastIndexOf('/');
        if (slash <= 0) return false;
        if (!int.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out attempt)) return false;
        lineage = rest[..slash].ToString();
        return lineage.Length > 0;
    }

    /// <summary>
    /// The RunTask client token for replacing one stopped task: the same stop always gives the same
    /// token (ECS then launches at most once), two different stops never share one. 64 characters.
    /// </summary>
    public static string ClientToken(string cluster, string stoppedTaskArn, string purpose = "relaunch")
    {
        // SHA-256 of "purpose\ncluster\narn", 57 hex digits: "reflex-" + 57 = 64 characters, ECS's limit.
        var length = Encoding.UTF8.GetByteCount(purpose) + Encoding.UTF8.GetByteCount(cluster) + Encoding.UTF8.GetByteCount(stoppedTaskArn) + 2;
        var rented = length <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        Span<byte> text = rented ?? stackalloc byte[512];
        var n = Encoding.UTF8.GetBytes(purpose, text);
        text[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(cluster, text[n..]);
        text[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(stoppedTaskArn, text[n..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(text[..n], hash);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        Span<char> token = stackalloc char[7 + 64];
        "reflex-".CopyTo(token);
        Convert.TryToHexStringLower(hash, token[7..], out _);
        return new string(token[..64]);
    }

    public readonly record struct Classification(StopKind Kind, string What, string? Container);

    /// <summary>Why the task stopped, in the rescheduler's terms, with a few words for the reason.</summary>
    public static Classification Classify(TaskStateChange t, IReadOnlyList<int> ignoreExitCodes)
    {
        if (!string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal))
            return new(StopKind.NotStopped, $"is {t.LastStatus}, not STOPPED", null);
        return ByStopCode(t) ?? OutOfMemory(t) ?? ByExitCodes(t, ignoreExitCodes);
    }

    /// <summary>
    /// The stop codes under which a stop may be a failure (<see cref="ByStopCode"/>): <c>EssentialContainerExited</c> (the
    /// containers tell), <c>TaskFailedToStart</c>, <c>SpotInterruption</c> and <c>TerminationNotice</c>. Every other stop
    /// code (<c>UserInitiated</c>, <c>ServiceSchedulerInitiated</c>, any code ECS adds) is not a failure under any rule; a
    /// stop with no stop code is told by its containers. The stack's rule for stopped tasks lets through these codes and
    /// stops with none, nothing else (<see cref="NotAFailureByItsStopCode"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> StopCodesThatMayFail = ["EssentialContainerExited", "TaskFailedToStart", "SpotInterruption", "TerminationNotice"];

    /// <summary>True when the stop code alone says the stop is not a failure, whatever the rule (<see cref="StopCodesThatMayFail"/>).</summary>
    /// <remarks>A loop, not LINQ: the sweep asks it of every stopped task it lists, and an enumerator each time was 600 B an event of the replay.</remarks>
    public static bool NotAFailureByItsStopCode(TaskStateChange t)
    {
        if (t.StopCode is not { } code) return false;
        for (var i = 0; i < StopCodesThatMayFail.Count; i++)
            if (string.Equals(StopCodesThatMayFail[i], code, StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>What the stop code says alone; null for none or <c>EssentialContainerExited</c>, which the containers tell.</summary>
    private static Classification? ByStopCode(TaskStateChange t) => t.StopCode switch
    {
        "UserInitiated" => new(StopKind.UserInitiated, $"was stopped by a user ({Short(t.StoppedReason) ?? "UserInitiated"})", null),
        "SpotInterruption" => new(StopKind.Infrastructure, "lost its Spot capacity (SpotInterruption)", null),
        "TerminationNotice" => new(StopKind.Infrastructure, "lost its host (TerminationNotice)", null),
        "TaskFailedToStart" => new(StopKind.Start, $"failed to start ({Short(t.StoppedReason) ?? Short(t.Containers.FirstOrDefault(c => c.Reason is not null)?.Reason) ?? "TaskFailedToStart"})", null),
        "ServiceSchedulerInitiated" => new(StopKind.Other, "was stopped by the service scheduler (ServiceSchedulerInitiated)", null),
        null or "EssentialContainerExited" => null,
        _ => new(StopKind.Other, $"stopped with code {t.StopCode}, which the rescheduler does not treat as a failure", null),
    };

    /// <summary>A container that ran out of memory (its reason says <c>OutOfMemoryError</c>), before any exit code.</summary>
    private static Classification? OutOfMemory(TaskStateChange t)
    {
        foreach (var c in t.Containers)
            if (c.Reason?.Contains("OutOfMemoryError", StringComparison.Ordinal) == true)
                return new(StopKind.Oom, $"{c.Name ?? "a container"} ran out of memory (exit {c.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}, OutOfMemoryError)", c.Name);
        return null;
    }

    /// <summary>What the containers' exit codes say: the first failed container, else success (0 or ignored codes), else the stop's own words.</summary>
    private static Classification ByExitCodes(TaskStateChange t, IReadOnlyList<int> ignoreExitCodes)
    {
        ContainerDetail? failed = null;
        var ignored = new List<string>();
        var zeros = 0;
        foreach (var c in t.Containers)
        {
            if (c.ExitCode is { } code)
            {
                if (code == 0) zeros++;
                else if (ignoreExitCodes.Contains(code)) ignored.Add($"{c.Name} exited {code}");
                else failed ??= c;
            }
            else if (c.Reason is not null && failed is null) failed = c;
        }
        if (failed is not null)
            return failed.ExitCode is { } ec
                ? new(StopKind.Exit, $"{failed.Name ?? "a container"} exited {ec}", failed.Name)
                : new(StopKind.Exit, $"{failed.Name ?? "a container"} stopped without an exit code ({Short(failed.Reason)})", failed.Name);
        if (ignored.Count > 0)
            return new(StopKind.Success, $"{string.Join(", ", ignored)}, listed in ignoreExitCodes", null);
        if (zeros > 0)
            return new(StopKind.Success, zeros == t.Containers.Count ? "exited 0" : "exited 0 where it reported exit codes", null);
        if (t.StopCode == "EssentialContainerExited")
            return new(StopKind.Exit, $"had an essential container exit ({Short(t.StoppedReason) ?? "no exit code in the event"})", null);
        return new(StopKind.Other, $"stopped for a reason the event does not say ({Short(t.StoppedReason) ?? "no stop code, no exit codes"})", null);
    }

    private static string? Short(string? s) => s is null ? null : s.Length <= 120 ? s : s[..117] + "...";

    /// <summary>
    /// A stop in, a decision out, through the rules below in this order: stopped in a policy cluster, not a service task,
    /// a rule covers it, its lineage not given up, a failure (<see cref="NotAFailure"/>), not being moved
    /// (<see cref="BeingMoved"/>), the count (<see cref="CountSoFar"/>, <see cref="GivesUp"/>, <see cref="NextAttempt"/>),
    /// then the relaunch (<see cref="Relaunch"/>).
    /// </summary>
    public static Decision Decide(TaskStateChange t, ReflexPolicy policy, TaskObservation observed, DateTimeOffset now)
    {
        var family = Arns.TaskDefinitionFamily(t.TaskDefinitionArn);
        var name = family is null ? $"task {t.TaskId}" : $"task {t.TaskId} ({family})";
        if (!string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal))
            return Decision.Ignored(ReasonCodes.ReschedulerNotStopped, $"{name} is {t.LastStatus}, not STOPPED: the rescheduler reacts to stops only");
        if (policy.FindCluster(t.ClusterArn) is not { } cluster)
            return Decision.Ignored(ReasonCodes.ReschedulerClusterNotInPolicy, $"cluster {Arns.ClusterName(t.ClusterArn)} is not in the policy");
        if (IsServiceTask(t))
            return Decision.Ignored(ReasonCodes.ReschedulerServiceTask, $"{name} belongs to a service ({t.Group ?? t.StartedBy}): the ECS service scheduler replaces it");

        var chain = LineageOf(t);
        var record = observed.Lineage;
        if (FindRule(cluster, t.Group, t.TaskDefinitionArn, t.StartedBy, chain.ReflexStarted, record) is not { } rule)
            return Decision.Ignored(ReasonCodes.ReschedulerNoRule, $"{name} matches no reschedule rule of cluster {cluster.Name}");
        if (record is { GivenUp: true })
            return Decision.Ignored(ReasonCodes.ReschedulerGivenUp, $"{name}: lineage {chain.Lineage} was given up after attempt {record.Attempt}; nothing more is relaunched");

        var c = Classify(t, rule.IgnoreExitCodes);
        var prefix = $"{name}: {c.What}";
        if (NotAFailure(c, rule, prefix) is { } notAFailure) return notAFailure;
        if (BeingMoved(t, observed.DrainMove, chain.Lineage, prefix) is { } moved) return moved;

        var stoppedAt = t.StoppedAt ?? t.UpdatedAt ?? now;
        var current = CountSoFar(t, rule, chain.Attempt, stoppedAt, out var resetAfter);
        if (GivesUp(c.Kind, current, rule))
            return GiveUp(t, cluster, rule, chain.Lineage, current, record, prefix, stoppedAt, c);
        return Relaunch(t, cluster, rule, chain, record, observed, c, NextAttempt(c.Kind, rule, current, resetAfter), prefix, stoppedAt, now);
    }

    /// <summary>The lineage a stopped task belongs to (<see cref="LineageOf"/>): its chain's when EcsReflex started it, else its own id.</summary>
    public static string LineageIdOf(TaskStateChange t) => LineageOf(t).Lineage;

    /// <summary>The lineage a task carries on (<c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>), or the one it starts: its own id, attempt 0.</summary>
    private static TaskLineage LineageOf(TaskStateChange t) =>
        TryParseLineage(t.StartedBy, out var lineage, out var attempt) ? new(lineage, attempt, true) : new(t.TaskId, 0, false);

    /// <summary>
    /// Would <see cref="Decide"/> act on this stop (relaunch, defer or give up) from its event alone, with nothing observed?
    /// The same rules, in the same order, up to <see cref="NotAFailure"/> (after it every path acts), without the sentences:
    /// the reconciler's sweep asks it of every stopped task ECS still lists.
    /// </summary>
    public static bool ActsOnItsEventAlone(TaskStateChange t, ReflexPolicy policy)
    {
        if (!string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal) || IsServiceTask(t)) return false;
        if (policy.FindCluster(t.ClusterArn) is not { } cluster) return false;
        var chain = LineageOf(t);
        if (FindRule(cluster, t.Group, t.TaskDefinitionArn, t.StartedBy, chain.ReflexStarted, null) is not { } rule) return false;
        return IsFailure(Classify(t, rule.IgnoreExitCodes).Kind, rule);
    }

    /// <summary>
    /// Does the event alone settle <see cref="Decide"/>'s ignore, whatever is observed? Not a stop, a cluster outside the
    /// policy, a service's task (none of them reads anything), or a stop of a task EcsReflex did not start that no rule
    /// would act on (<see cref="ActsOnItsEventAlone"/> false: its lineage record cannot pick another rule, and no record
    /// or drain move turns an ignore into an action). A task EcsReflex started is not settled by its rule (its chain's record
    /// keeps the rule, which may differ from the one its event matches), but it is when its stop code alone says the stop is
    /// not a failure (<see cref="NotAFailureByItsStopCode"/>: a user's stop, or the scheduler's): no rule makes that a failure,
    /// and a given-up record or no rule is an ignore too.
    /// </summary>
    public static bool SettledByItsEvent(TaskStateChange t, ReflexPolicy policy) =>
        !string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal) || policy.FindCluster(t.ClusterArn) is null || IsServiceTask(t)
        || NotAFailureByItsStopCode(t)
        || (!TryParseLineage(t.StartedBy, out _, out _) && !ActsOnItsEventAlone(t, policy));

    private static bool IsFailure(StopKind kind, RescheduleRule rule) =>
        kind is not (StopKind.UserInitiated or StopKind.Other or StopKind.NotStopped) && (kind != StopKind.Success || rule.Restart == RestartMode.Always);

    /// <summary>Is it a failure? A user's or the scheduler's stop is not; a success is relaunched only under <c>restart: Always</c>.</summary>
    private static Decision? NotAFailure(Classification c, RescheduleRule rule, string prefix) => IsFailure(c.Kind, rule) ? null : c.Kind switch
    {
        StopKind.UserInitiated or StopKind.Other or StopKind.NotStopped => Decision.Ignored(ReasonCodes.ReschedulerNotAFailure, $"{prefix}: not a failure"),
        StopKind.Success when rule.Restart != RestartMode.Always =>
            Decision.Ignored(ReasonCodes.ReschedulerSuccess, $"{prefix}: success, and rule {rule.Name} restarts on failure only"),
        _ => null,
    };

    /// <summary>Being moved: the placement guard's replacement of this very task carries its lineage on, so it is not relaunched.</summary>
    private static Decision? BeingMoved(TaskStateChange t, DrainMoveRecord? move, string lineage, string prefix) =>
        move is not null && move.OriginalTaskArn == t.TaskArn
            ? Decision.Ignored(ReasonCodes.ReschedulerBeingMoved, $"{prefix}, but it was being moved off container instance {move.Ec2InstanceId ?? Arns.ContainerInstanceId(move.ContainerInstanceArn)}: its replacement ({move.ReplacementStartedBy}) carries lineage {lineage} on, so it is not relaunched")
            : null;

    /// <summary>
    /// The count so far: the attempt the task was, or 0 when it ran longer than <c>resetAfterSeconds</c> (then
    /// <paramref name="resetAfter"/> says how long it ran; null otherwise).
    /// </summary>
    private static int CountSoFar(TaskStateChange t, RescheduleRule rule, int attempt, DateTimeOffset stoppedAt, out TimeSpan? resetAfter)
    {
        var ranFor = t.StartedAt is { } started ? stoppedAt - started : (TimeSpan?)null;
        var reset = ranFor is { } rf && rf > TimeSpan.FromSeconds(rule.ResetAfterSeconds) && attempt > 0;
        resetAfter = reset ? ranFor : null;
        return reset ? 0 : attempt;
    }

    /// <summary>Give up: a failure (not infrastructure, not a success) of an attempt that already reached <c>maxAttempts</c>.</summary>
    private static bool GivesUp(StopKind kind, int current, RescheduleRule rule) =>
        kind is not (StopKind.Infrastructure or StopKind.Success) && current >= rule.MaxAttempts;

    /// <summary>The attempt a relaunch is: its number, its back-off, and the words for the count.</summary>
    private readonly record struct Attempt(int Number, TimeSpan Delay, string CountNote);

    /// <summary>The next attempt: infrastructure keeps the count and goes at once, a success starts none, a failure counts one and backs off.</summary>
    private static Attempt NextAttempt(StopKind kind, RescheduleRule rule, int current, TimeSpan? resetAfter)
    {
        var delay = Backoff(kind, rule, current);
        return kind switch
        {
            StopKind.Infrastructure => new(current, delay, $"infrastructure, not counted (attempt {current} of {rule.MaxAttempts})"),
            StopKind.Success => new(0, delay, "restart: Always"),
            _ => new(current + 1, delay,
                $"attempt {current + 1} of {rule.MaxAttempts}" + (resetAfter is { } ranFor ? $", count reset after {Seconds(ranFor)} of running" : "")),
        };
    }

    /// <summary>
    /// Back-off: attempt n waits <c>min(initial × multiplier^(n−1), max)</c> (<see cref="Policy.Backoff.DelayFor"/>); infrastructure
    /// and a success wait for nothing.
    /// </summary>
    private static TimeSpan Backoff(StopKind kind, RescheduleRule rule, int current) =>
        kind is StopKind.Infrastructure or StopKind.Success ? TimeSpan.Zero : rule.Backoff.DelayFor(current + 1);

    /// <summary>When a relaunch after <paramref name="delay"/> is due: zero back-off means at once, whatever the stop's own timestamp says.</summary>
    private static DateTimeOffset DueAt(TimeSpan delay, DateTimeOffset stoppedAt, DateTimeOffset now) =>
        delay > TimeSpan.Zero ? stoppedAt + delay : now;

    /// <summary>The relaunch: rejected when the task cannot be reproduced, deferred to the back-off's due time, else now.</summary>
    private static Decision Relaunch(TaskStateChange t, ClusterPolicy cluster, RescheduleRule rule, TaskLineage chain, LineageRecord? record,
        TaskObservation observed, Classification c, Attempt next, string prefix, DateTimeOffset stoppedAt, DateTimeOffset now)
    {
        var built = BuildRunTask(RelaunchSource.Of(t), rule, chain.Lineage, next.Number, record, FailedInstanceToAvoid(t, rule, c, observed), observed.Tags);
        if (built.Problem is not null)
            return Decision.Rejected(ReasonCodes.ReschedulerCannotRelaunch, $"{prefix} ({next.CountNote}), but {built.Problem}");
        var due = DueAt(next.Delay, stoppedAt, now);
        if (due > now)
        {
            return new Decision
            {
                Outcome = Outcome.Deferred,
                Code = ReasonCodes.ReschedulerBackoff,
                Reason = $"{prefix} ({next.CountNote}); relaunching in {Seconds(next.Delay)}{built.PlacementNote}{built.CarryNote}",
                DueAt = due,
            };
        }
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.ReschedulerRelaunch,
            Reason = $"{prefix} ({next.CountNote}); relaunching now{built.PlacementNote}{built.CarryNote}",
            Actions = [ReflexAction.RunTask(built.Request!)],
            Writes = [new LineageWrite(NextRecord(t, cluster, rule, chain, record, c, next.Number, stoppedAt)) { When = CommitPoint.Acted }],
        };
    }

    /// <summary>The lineage once relaunched: the new attempt, the original starter, the last failure (a success keeps the previous one).</summary>
    private static LineageRecord NextRecord(TaskStateChange t, ClusterPolicy cluster, RescheduleRule rule, TaskLineage chain, LineageRecord? record,
        Classification c, int attempt, DateTimeOffset stoppedAt) => new()
    {
        Cluster = cluster.Name,
        Lineage = chain.Lineage,
        Rule = rule.Name,
        Attempt = attempt,
        OriginalStartedBy = chain.ReflexStarted ? record?.OriginalStartedBy : t.StartedBy,
        LastFailure = c.Kind == StopKind.Success ? record?.LastFailure : c.What,
        LastFailureAt = c.Kind == StopKind.Success ? record?.LastFailureAt : stoppedAt,
        LastTaskArn = t.TaskArn,
    };

    /// <summary>
    /// Whether the decision on <paramref name="t"/> places its relaunch away from the EC2 instance it failed on (the rule's
    /// <c>avoidFailedInstance</c>, a failure after the task started, on EC2): only then is the instance's id worth asking
    /// ECS for when the container instance record does not keep it. <paramref name="record"/>: the chain's lineage record.
    /// </summary>
    public static bool UsesFailedEc2InstanceId(TaskStateChange t, ReflexPolicy policy, LineageRecord? record)
    {
        if (t.ContainerInstanceArn is null || IsFargate(t) || policy.FindCluster(t.ClusterArn) is not { } cluster) return false;
        var reflexStarted = TryParseLineage(t.StartedBy, out _, out _);
        return FindRule(cluster, t.Group, t.TaskDefinitionArn, t.StartedBy, reflexStarted, record) is { } rule
               && AvoidsFailedInstance(rule, Classify(t, rule.IgnoreExitCodes).Kind);
    }

    /// <summary>
    /// Placement away from the failed instance, when the rule wants it and the stop may be the instance's fault: not a
    /// failed start, not a success.
    /// </summary>
    private static FailedInstance? FailedInstanceToAvoid(TaskStateChange t, RescheduleRule rule, Classification c, TaskObservation observed) =>
        AvoidsFailedInstance(rule, c.Kind) && t.ContainerInstanceArn is { } ci
            ? new FailedInstance(ci, observed.FailedEc2InstanceId)
            : null;

    private static bool AvoidsFailedInstance(RescheduleRule rule, StopKind kind) => rule.AvoidFailedInstance && kind is not (StopKind.Start or StopKind.Success);

    /// <summary>
    /// Whether the decision on this stop, from its event alone, relaunches it now with a rule that copies tags: the attempt
    /// count and the back-off come from the event (<c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>, the stop's time), so only a
    /// lineage given up, another rule kept by the chain's record or a drain move can make it otherwise. The rescheduler then
    /// reads the tags beside its other reads instead of after the decision (a read wasted in those rare cases).
    /// </summary>
    public static bool LikelyRelaunchesWithTags(TaskStateChange t, ReflexPolicy policy, DateTimeOffset now)
    {
        if (!ActsOnItsEventAlone(t, policy) || policy.FindCluster(t.ClusterArn) is not { } cluster) return false;
        var chain = LineageOf(t);
        if (FindRule(cluster, t.Group, t.TaskDefinitionArn, t.StartedBy, chain.ReflexStarted, null) is not { CopyTags: true } rule) return false;
        var c = Classify(t, rule.IgnoreExitCodes);
        var stoppedAt = t.StoppedAt ?? t.UpdatedAt ?? now;
        var current = CountSoFar(t, rule, chain.Attempt, stoppedAt, out _);
        if (GivesUp(c.Kind, current, rule)) return false;
        return DueAt(Backoff(c.Kind, rule, current), stoppedAt, now) <= now;
    }

    /// <summary>
    /// True when <paramref name="decision"/> relaunches now with a rule that copies tags and the stopped task's tags were
    /// not read yet: the engine then reads them (the only time it does) and decides again with them.
    /// </summary>
    public static bool WantsTags(ReflexPolicy policy, TaskStateChange t, TaskObservation observed, Decision decision)
    {
        if (observed.Tags is not null || decision.Outcome != Outcome.Acted || decision.Lineage is not { } lineage) return false;
        if (!decision.Actions.Any(a => a.Request is RunTaskRequest)) return false;
        var cluster = policy.FindCluster(t.ClusterArn);
        return cluster?.Reschedule.FirstOrDefault(r => r.Name == lineage.Rule)?.CopyTags == true;
    }

    /// <summary>The rule covering a task: the rule that started its chain, else the first whose match holds.</summary>
    public static RescheduleRule? FindRule(ClusterPolicy cluster, string? group, string? taskDefinitionArn, string? taskStartedBy, bool reflexStarted, LineageRecord? record)
    {
        if (reflexStarted && record is not null)
        {
            // The chain keeps the rule that started it.
            foreach (var r in cluster.Reschedule)
                if (r.Name == record.Rule) return r;
        }
        var startedBy = reflexStarted ? record?.OriginalStartedBy : taskStartedBy;
        foreach (var r in cluster.Reschedule)
        {
            // A task EcsReflex started was matched by a rule when it was started: its startedBy is ours,
            // so a startedByPrefix condition is judged on the original startedBy when it is known.
            var match = reflexStarted && startedBy is null ? r.Match with { StartedByPrefix = null } : r.Match;
            if (match.Matches(group, taskDefinitionArn, startedBy)) return r;
        }
        return null;
    }

    private static Decision GiveUp(TaskStateChange t, ClusterPolicy cluster, RescheduleRule rule, string lineage, int attempt,
        LineageRecord? record, string prefix, DateTimeOffset stoppedAt, Classification c)
    {
        var reason = $"{prefix} (attempt {attempt} of {rule.MaxAttempts}); giving up on lineage {lineage}";
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.ReschedulerGaveUp,
            Reason = reason,
            Actions =
            [
                ReflexAction.GiveUp(new GiveUpRequest
                {
                    Cluster = t.ClusterArn, TaskArn = t.TaskArn, Lineage = lineage, Attempt = attempt,
                    MaxAttempts = rule.MaxAttempts, Rule = rule.Name, Reason = c.What,
                }),
            ],
            Writes =
            [
                new LineageWrite(new LineageRecord
                {
                    Cluster = cluster.Name, Lineage = lineage, Rule = rule.Name, Attempt = attempt,
                    OriginalStartedBy = record?.OriginalStartedBy, LastFailure = c.What, LastFailureAt = stoppedAt,
                    GivenUp = true, LastTaskArn = t.TaskArn,
                }) { When = CommitPoint.Acted },
            ],
        };
    }

    public static bool IsFargate(TaskStateChange t) => IsFargate(t.LaunchType, t.CapacityProviderName);

    public static bool IsFargate(string? launchType, string? capacityProviderName) =>
        string.Equals(launchType, "FARGATE", StringComparison.Ordinal)
        || (capacityProviderName?.StartsWith("FARGATE", StringComparison.Ordinal) ?? false);

    public static bool IsEbs(Attachment a) => string.Equals(a.Type, EbsAttachmentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The volume name of an EBS attachment (its <c>volumeName</c> detail), when it says.</summary>
    public static string? EbsVolumeName(Attachment a)
    {
        foreach (var d in a.Details)
            if (d.Name == "volumeName" && !string.IsNullOrEmpty(d.Value)) return d.Value;
        return null;
    }

    public static bool UsesAwsVpc(in RelaunchSource t) =>
        IsFargate(t.LaunchType, t.CapacityProviderName) || t.Attachments.Any(a => string.Equals(a.Type, "eni", StringComparison.OrdinalIgnoreCase)
                                               || string.Equals(a.Type, "ElasticNetworkInterface", StringComparison.Ordinal));

    /// <summary>
    /// Build the request: the RunTask that reproduces <paramref name="task"/> as attempt <paramref name="attempt"/> of
    /// <paramref name="lineage"/>, or the problem sentence why it cannot (<see cref="CannotReproduce"/>). The rules it
    /// applies: the policy's placement, away from <paramref name="awayFrom"/> when given (<see cref="Placement"/>),
    /// EcsReflex's tags (<see cref="ReflexTags"/>, with <paramref name="extraTags"/>: a move's <c>reflex:movedFrom</c>)
    /// and the task's own (<see cref="CarryTags"/>), and a client token for <paramref name="purpose"/>.
    /// </summary>
    public static BuiltRelaunch BuildRunTask(in RelaunchSource task, RescheduleRule rule, string lineage, int attempt, LineageRecord? record,
        FailedInstance? awayFrom, TaskTagsObservation? ownTags, string purpose = "relaunch", IReadOnlyList<Tag>? extraTags = null)
    {
        if (CannotReproduce(task, rule) is { } problem) return new BuiltRelaunch(null, problem, "", "");
        var placementNote = Placement(task, rule, awayFrom, out var constraints, out var strategy);
        var tags = ReflexTags(lineage, attempt, rule, record?.OriginalStartedBy ?? (TryParseLineage(task.StartedBy, out _, out _) ? null : task.StartedBy), extraTags);
        var carryNote = CarryTags(tags, rule, ownTags);
        var request = new RunTaskRequest
        {
            Cluster = task.ClusterArn,
            TaskDefinition = task.TaskDefinitionArn!, // CannotReproduce refuses a task without one
            Count = 1,
            Group = task.Group,
            StartedBy = $"{StartedByPrefix}{lineage}/{attempt.ToString(CultureInfo.InvariantCulture)}",
            LaunchType = task.CapacityProviderName is null ? task.LaunchType : null,
            CapacityProviderStrategy = task.CapacityProviderName is { } cp ? [new CapacityProviderStrategyItem { CapacityProvider = cp, Weight = 1 }] : null,
            PlatformVersion = task.PlatformVersion,
            EnableExecuteCommand = task.EnableExecuteCommand == true ? true : null,
            NetworkConfiguration = Network(task, rule),
            Overrides = task.Overrides,
            PlacementConstraints = constraints,
            PlacementStrategy = strategy,
            Tags = tags,
            EnableEcsManagedTags = rule.EnableEcsManagedTags,
            PropagateTags = rule.PropagateTags,
            VolumeConfigurations = rule.VolumeConfigurations.Count > 0 ? rule.VolumeConfigurations : null,
            ClientToken = ClientToken(task.ClusterArn, task.TaskArn, purpose),
        };
        return new BuiltRelaunch(request, null, placementNote, carryNote);
    }

    /// <summary>What keeps a relaunch from reproducing the task: no task definition, awsvpc without the rule's network, an EBS volume without its configuration.</summary>
    private static string? CannotReproduce(in RelaunchSource task, RescheduleRule rule)
    {
        if (task.TaskDefinitionArn is null) return "the event has no taskDefinitionArn to relaunch";
        if (UsesAwsVpc(task) && rule.Network is null)
            return $"it uses awsvpc networking and rule {rule.Name} has no network configuration: set {rule.Path}.network (subnets, securityGroups) so the relaunch can be placed";
        return EbsProblem(task.Attachments, rule);
    }

    /// <summary>The network configuration of an awsvpc task, from the policy (the event does not carry security groups); none otherwise.</summary>
    private static NetworkConfiguration? Network(in RelaunchSource task, RescheduleRule rule) =>
        UsesAwsVpc(task) && rule.Network is { } network
            ? new NetworkConfiguration
            {
                AwsvpcConfiguration = new AwsVpcConfiguration
                {
                    Subnets = network.Subnets,
                    SecurityGroups = network.SecurityGroups.Count > 0 ? network.SecurityGroups : null,
                    AssignPublicIp = network.AssignPublicIp,
                },
            }
            : null;

    /// <summary>
    /// The policy's placement, plus placement away from <paramref name="awayFrom"/>; none for Fargate, which takes no
    /// placement. Returns what the reason says of it (" away from i-…", or why not), or "".
    /// </summary>
    private static string Placement(in RelaunchSource task, RescheduleRule rule, FailedInstance? awayFrom,
        out List<PlacementConstraint>? constraints, out List<PlacementStrategy>? strategy)
    {
        constraints = null;
        strategy = null;
        if (IsFargate(task.LaunchType, task.CapacityProviderName))
            return rule.Placement.Constraints.Count > 0 || rule.Placement.Strategy.Count > 0
                ? " (Fargate takes no placement constraints or strategies: the policy's are not sent)"
                : "";
        var c = rule.Placement.Constraints.Select(x => new PlacementConstraint { Type = x.Type, Expression = x.Expression }).ToList();
        var s = rule.Placement.Strategy.Select(x => new PlacementStrategy { Type = x.Type, Field = x.Field }).ToList();
        var note = awayFrom is { } failed ? AwayFromFailedInstance(c, failed) : "";
        if (c.Count > 0) constraints = c;
        if (s.Count > 0) strategy = s;
        return note;
    }

    /// <summary>Placement away from the failed instance: <c>memberOf(ec2InstanceId != i-…)</c>, or a note when its EC2 id is unknown.</summary>
    private static string AwayFromFailedInstance(List<PlacementConstraint> constraints, FailedInstance failed)
    {
        if (failed.Ec2InstanceId is not { } ec2)
            return $" (cannot avoid the failed instance {Arns.ContainerInstanceId(failed.ContainerInstanceArn)}: its EC2 instance id is unknown)";
        constraints.Add(new PlacementConstraint { Type = "memberOf", Expression = $"ec2InstanceId != {ec2}" });
        return $" away from {ec2}";
    }

    /// <summary>EcsReflex's own tags on a relaunch: lineage, attempt, rule, the original starter (when known), then <paramref name="extraTags"/>.</summary>
    private static List<Tag> ReflexTags(string lineage, int attempt, RescheduleRule rule, string? originalStartedBy, IReadOnlyList<Tag>? extraTags)
    {
        var tags = new List<Tag>
        {
            new(LineageTag, lineage),
            new(AttemptTag, attempt.ToString(CultureInfo.InvariantCulture)),
            new(RuleTag, rule.Name),
        };
        if (originalStartedBy is not null) tags.Add(new Tag(OriginalStartedByTag, originalStartedBy));
        if (extraTags is not null) tags.AddRange(extraTags);
        return tags;
    }

    /// <summary>Carry tags: the task's own after EcsReflex's (<see cref="CopyTags"/>); returns "; not carried over: …" for what is left out, or "".</summary>
    private static string CarryTags(List<Tag> tags, RescheduleRule rule, TaskTagsObservation? ownTags)
    {
        var notCarried = new List<string>();
        CopyTags(tags, rule, ownTags, notCarried);
        return notCarried.Count > 0 ? $"; not carried over: {string.Join("; ", notCarried)}" : "";
    }

    /// <summary>
    /// Why a task with an Amazon EBS volume cannot be relaunched under <paramref name="rule"/>: the event does not carry
    /// the volume's configuration (size, type, role…), so the rule must give it, for every volume the task had.
    /// </summary>
    private static string? EbsProblem(IReadOnlyList<Attachment> attachments, RescheduleRule rule)
    {
        List<string>? names = null;
        var unnamed = false;
        foreach (var a in attachments)
        {
            if (!IsEbs(a)) continue;
            if (EbsVolumeName(a) is { } n) (names ??= []).Add(n);
            else unnamed = true;
        }
        if (names is null && !unnamed) return null;
        var which = names is null ? "" : $" ({string.Join(", ", names.Select(n => $"\"{n}\""))})";
        if (rule.VolumeConfigurations.Count == 0)
            return $"it has an Amazon EBS volume{which} and rule {rule.Name} has no volume configuration (the event does not carry it): set {rule.Path}.volumeConfigurations " +
                   $"(an entry with \"name\"{(names is null ? "" : $": \"{names[0]}\"")} and \"managedEBSVolume\" with roleArn and sizeInGiB or snapshotId) so the relaunch gets its volume";
        if (names is null) return null;
        foreach (var n in names)
            if (!rule.VolumeConfigurations.Any(v => v.Name == n))
                return $"its Amazon EBS volume \"{n}\" is not configured by rule {rule.Name} ({rule.Path}.volumeConfigurations names {string.Join(", ", rule.VolumeConfigurations.Select(v => $"\"{v.Name}\""))}): add an entry with \"name\": \"{n}\"";
        return null;
    }

    /// <summary>
    /// Adds the stopped task's own tags after EcsReflex's (<paramref name="tags"/>): not those with the reserved
    /// <c>aws:</c> prefix (ECS refuses them), not EcsReflex's own (set anew), at most <see cref="MaxTags"/> in all.
    /// What is left out is said in <paramref name="notCarried"/>.
    /// </summary>
    public static void CopyTags(List<Tag> tags, RescheduleRule rule, TaskTagsObservation? observed, List<string> notCarried)
    {
        if (!rule.CopyTags || observed is null) return;
        if (observed.Unavailable is { } why)
        {
            notCarried.Add($"its tags, which could not be read ({why})");
            return;
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var own in tags) keys.Add(own.Key);
        var reserved = new List<string>();
        var copied = new List<Tag>();
        foreach (var tag in observed.Tags)
        {
            if (tag.Key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                // ECS adds its managed tags (aws:ecs:…) again itself when the rule asks for them.
                if (!(rule.EnableEcsManagedTags == true && tag.Key.StartsWith("aws:ecs:", StringComparison.OrdinalIgnoreCase)))
                    reserved.Add(tag.Key);
                continue;
            }
            if (tag.Key.StartsWith(OwnTagPrefix, StringComparison.Ordinal)) continue;
            if (keys.Add(tag.Key)) copied.Add(tag);
        }
        var room = Math.Max(0, MaxTags - tags.Count);
        if (copied.Count > room)
        {
            var over = copied.Count - room;
            notCarried.Add($"{over} of its tags ({Keys(copied.Skip(room).Select(x => x.Key))}), over RunTask's limit of {MaxTags} tags with EcsReflex's {tags.Count}");
            copied.RemoveRange(room, over);
        }
        if (reserved.Count > 0)
        {
            var hint = rule.EnableEcsManagedTags is null && reserved.Any(k => k.StartsWith("aws:ecs:", StringComparison.OrdinalIgnoreCase))
                ? $"; set {rule.Path}.enableECSManagedTags to true for ECS to add its own aws:ecs: tags"
                : "";
            notCarried.Add($"its aws: tag{(reserved.Count == 1 ? "" : "s")} ({Keys(reserved)}), which only AWS may set{hint}");
        }
        tags.AddRange(copied);
    }

    private static string Keys(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        const int shown = 5;
        return list.Count <= shown ? string.Join(", ", list) : $"{string.Join(", ", list.Take(shown))} and {list.Count - shown} more";
    }

    public static string Seconds(TimeSpan span)
    {
        var s = span.TotalSeconds;
        if (s < 120) return $"{Math.Round(s, s < 10 ? 1 : 0).ToString(CultureInfo.InvariantCulture)} s";
        if (s < 7200) return $"{Math.Round(s / 60, 1).ToString(CultureInfo.InvariantCulture)} min";
        return $"{Math.Round(s / 3600, 1).ToString(CultureInfo.InvariantCulture)} h";
    }
}
