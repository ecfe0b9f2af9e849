using System.Globalization;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Placement;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>What the engine observed before a container instance decision. Nothing here is fetched by the core.</summary>
public sealed record InstanceObservation
{
    /// <summary>The last state change recorded for the instance.</summary>
    public InstanceSeenRecord? LastSeen { get; init; }
    /// <summary>The tasks on the instance that are not stopped (ListTasks + DescribeTasks).</summary>
    public IReadOnlyList<ObservedTask> Tasks { get; init; } = [];
    /// <summary>Lineage records of those tasks, by lineage.</summary>
    public IReadOnlyDictionary<string, LineageRecord> Lineages { get; init; } = new Dictionary<string, LineageRecord>();
    /// <summary>Drain moves of those tasks' lineages, by lineage.</summary>
    public IReadOnlyDictionary<string, DrainMoveRecord> Moves { get; init; } = new Dictionary<string, DrainMoveRecord>();
    /// <summary>The EC2 instance id, when the event does not carry it.</summary>
    public string? Ec2InstanceId { get; init; }
    /// <summary>True when this is deferred work coming due (a grace check, a retry, a follow-up), not a delivery.</summary>
    public bool DueCheck { get; init; }
}

/// <summary>What the engine observed before deciding on a RUNNING task that may be a replacement.</summary>
public sealed record TaskRunningObservation
{
    public DrainMoveRecord? Move { get; init; }
    /// <summary>EC2 instance id of the instance the task runs on, for the reason.</summary>
    public string? Ec2InstanceId { get; init; }
}

/// <summary>What the engine observed before a service decision.</summary>
public sealed record ServiceObservation
{
    /// <summary>The service as describe-services shows it; null when it was not found.</summary>
    public ObservedService? Service { get; init; }
    public ServicePlacementRecord? Record { get; init; }
}

/// <summary>
/// The placement guard's decisions. Pure: the event, what was observed, the policy and the time in; a
/// <see cref="Decision"/> out, with the state to remember declared in its writes.
/// <list type="bullet">
/// <item>Container instance DRAINING: every standalone task a reschedule rule covers gets a replacement
/// elsewhere (make before break), the original is stopped once the replacement is RUNNING (or after
/// drain.stopOriginalAfterSeconds).</item>
/// <item>Agent disconnected past drain.agentDisconnectedGraceSeconds: replacements started, originals left to ECS.</item>
/// <item>Deployments of services with an enforced placement: drift restored with one UpdateService.</item>
/// <item>SERVICE_TASK_PLACEMENT_FAILURE: fallback placement for constraint failures; restored on a later steady state.</item>
/// </list>
/// </summary>
public static class PlacementGuard
{
    public const string MovedFromTag = "reflex:movedFrom";
    /// <summary>How far ECS's clock may lag the decider's when telling an older task from the replacement.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);
    public const string DrainPurpose = "drain";

    /// <summary>The RUNNING events the guard watches: tasks EcsReflex started (a replacement may be among them).</summary>
    public static bool WatchesTask(TaskStateChange t) =>
        string.Equals(t.LastStatus, "RUNNING", StringComparison.Ordinal)
        && (t.StartedBy?.StartsWith(TaskRescheduler.StartedByPrefix, StringComparison.Ordinal) ?? false);

    private static string Short(string id) => id.Length > 8 ? id[..8] : id;
    private static string Clock(DateTimeOffset t) => t.ToUniversalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string InstanceName(string containerInstanceArn, string? ec2) =>
        ec2 is null ? $"container instance {Short(Arns.ContainerInstanceId(containerInstanceArn))}" : $"{ec2} ({Short(Arns.ContainerInstanceId(containerInstanceArn))})";

    // ------------------------------------------------------------------ container instances

    /// <summary>
    /// A container instance changed: in a policy cluster and not stale (<see cref="Stale"/>), a DRAINING instance's
    /// tasks are moved (<see cref="Move"/>), a disconnected agent waits out its grace (<see cref="Disconnected"/>),
    /// a connected one finishes the moves begun while it was away (<see cref="Reconnected"/>). The instance as seen is
    /// always remembered (<see cref="Seen"/>), before the writes of what was decided.
    /// </summary>
    public static Decision DecideInstance(ContainerInstanceStateChange e, ReflexPolicy policy, InstanceObservation observed, DateTimeOffset now)
    {
        var ec2 = e.Ec2InstanceId ?? observed.Ec2InstanceId;
        var name = InstanceName(e.ContainerInstanceArn, ec2);
        if (policy.FindCluster(e.ClusterArn) is not { } cluster)
            return Decision.Ignored(ReasonCodes.GuardClusterNotInPolicy, $"cluster {Arns.ClusterName(e.ClusterArn)} is not in the policy");
        if (Stale(e, observed, name) is { } stale) return stale;

        var drain = cluster.Drain ?? DrainPolicy.Default;
        var seen = Seen(e, cluster, observed.LastSeen, now);
        var result = string.Equals(e.Status, "DRAINING", StringComparison.Ordinal)
            ? Move(e, cluster, drain, observed, ec2, name, DrainReason.Draining, now, $"{name} is DRAINING")
            : e.AgentConnected == false
                ? Disconnected(e, cluster, drain, observed, ec2, name, seen.DisconnectedSince!.Value, now)
                : Reconnected(e, observed, ec2, name, observed.LastSeen, now);
        return result with { Writes = [new InstanceSeenWrite(seen) { When = CommitPoint.UnlessFailed }, .. result.Writes] };
    }

    /// <summary>
    /// Stale: a version not newer than the one already seen changes nothing (a delivery of the same version, or an older
    /// one); a deferred check of an older version is cancelled by a reconnect or superseded by a newer change.
    /// </summary>
    private static Decision? Stale(ContainerInstanceStateChange e, InstanceObservation observed, string name)
    {
        var seen = observed.LastSeen;
        if (!(e.Version is { } v && seen?.Version is { } sv && (v < sv || (v == sv && !observed.DueCheck)))) return null;
        if (!observed.DueCheck)
            return Decision.Ignored(ReasonCodes.GuardStale, $"stale: version {v} of {name} is not newer than version {sv} already seen; nothing changes");
        return seen.AgentConnected == true
            ? Decision.Ignored(ReasonCodes.GuardCheckCancelled, $"the deferred check of {name} (version {v}) is cancelled: the agent reconnected (version {sv})")
            : Decision.Ignored(ReasonCodes.GuardCheckSuperseded, $"the deferred check of {name} (version {v}) is superseded by version {sv}");
    }

    /// <summary>The instance as now seen: version, status, agent, and since when its agent is disconnected (kept while it stays so).</summary>
    private static InstanceSeenRecord Seen(ContainerInstanceStateChange e, ClusterPolicy cluster, InstanceSeenRecord? seen, DateTimeOffset now) => new()
    {
        Cluster = cluster.Name,
        ContainerInstanceArn = e.ContainerInstanceArn,
        Version = e.Version ?? seen?.Version,
        Status = e.Status,
        AgentConnected = e.AgentConnected,
        DisconnectedSince = e.AgentConnected == false
            ? (seen is { AgentConnected: false, DisconnectedSince: { } ds } ? ds : e.UpdatedAt ?? now)
            : null,
        SeenAt = now,
        Ec2InstanceId = e.Ec2InstanceId ?? seen?.Ec2InstanceId,
    };

    /// <summary>The agent is disconnected: within drain.agentDisconnectedGraceSeconds, check again at its end; after it, move the tasks.</summary>
    private static Decision Disconnected(ContainerInstanceStateChange e, ClusterPolicy cluster, DrainPolicy drain, InstanceObservation observed,
        string? ec2, string name, DateTimeOffset since, DateTimeOffset now)
    {
        var due = since + TimeSpan.FromSeconds(drain.AgentDisconnectedGraceSeconds);
        if (now < due)
            return new Decision
            {
                Outcome = Outcome.Deferred,
                Code = ReasonCodes.GuardAgentGrace,
                Reason = $"the agent of {name} is disconnected since {Clock(since)}; if it still is at {Clock(due)} (grace {drain.AgentDisconnectedGraceSeconds} s), its standalone tasks get replacements",
                DueAt = due,
            };
        return Move(e, cluster, drain, observed, ec2, name, DrainReason.AgentDisconnected, now,
            $"the agent of {name} is disconnected since {Clock(since)}, longer than the grace of {drain.AgentDisconnectedGraceSeconds} s");
    }

    private static bool IsLive(ObservedTask t) =>
        !string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal) && !string.Equals(t.DesiredStatus, "STOPPED", StringComparison.Ordinal);

    /// <summary>
    /// Whether the decision on an instance reads <paramref name="t"/>'s lineage and drain move: a task EcsReflex started, or
    /// one a rule covers. A service's task and a task no rule covers are counted from their description alone
    /// (<see cref="MoveTask"/>), so an instance's cost does not grow with its service tasks (issue 17).
    /// </summary>
    public static bool ReadsRecordsOf(ClusterPolicy cluster, ObservedTask t) =>
        !TaskRescheduler.IsServiceTask(t.Group, t.StartedBy)
        && (TaskRescheduler.TryParseLineage(t.StartedBy, out _, out _)
            || TaskRescheduler.FindRule(cluster, t.Group, t.TaskDefinitionArn, t.StartedBy, false, null) is not null);

    /// <summary>The lineage a task of an instance belongs to: its chain's when EcsReflex started it, else its own id.</summary>
    public static string LineageIdOf(ObservedTask t) => LineageOf(t).Lineage;

    private static TaskLineage LineageOf(ObservedTask t) =>
        TaskRescheduler.TryParseLineage(t.StartedBy, out var lineage, out var attempt) ? new(lineage, attempt, true) : new(Arns.LastSegment(t.TaskArn), 0, false);

    private static string TaskName(ObservedTask t, string? extra = null)
    {
        var parts = new[] { Arns.TaskDefinitionFamily(t.TaskDefinitionArn), extra }.OfType<string>().ToList();
        var id = Short(Arns.LastSegment(t.TaskArn));
        return parts.Count == 0 ? id : $"{id} ({string.Join(", ", parts)})";
    }

    private static StopTaskRequest StopOriginal(string clusterArn, string taskArn, string why) => new()
    {
        Cluster = clusterArn,
        Task = taskArn,
        Reason = why.Length <= 255 ? why : why[..255],
    };

    /// <summary>One move of an instance's tasks: what it is about, and what it does, task by task, in order.</summary>
    private sealed class InstanceMove(ContainerInstanceStateChange e, ClusterPolicy cluster, DrainPolicy drain, string? ec2, DrainReason reason, DateTimeOffset now)
    {
        public readonly ContainerInstanceStateChange Instance = e;
        public readonly ClusterPolicy Cluster = cluster;
        public readonly DrainPolicy Drain = drain;
        public readonly string? Ec2 = ec2;
        /// <summary>The instance in the StopTask reasons: its EC2 id, else its container instance id.</summary>
        public readonly string Where = ec2 ?? Arns.ContainerInstanceId(e.ContainerInstanceArn);
        public readonly DrainReason Reason = reason;
        public readonly DateTimeOffset Now = now;
        public readonly List<ReflexAction> Actions = [];
        public readonly List<StateWrite> Writes = [];
        public readonly List<string> Started = [], Stopped = [], Waiting = [], Problems = [];
        public int Services, Uncovered;
        public DateTimeOffset? FollowUp;

        /// <summary>Decide again at <paramref name="at"/> if it is the earliest time yet.</summary>
        public void FollowUpAt(DateTimeOffset? at)
        {
            if (at is { } a && (FollowUp is null || a < FollowUp)) FollowUp = a;
        }
    }

    /// <summary>Replacements (make before break) for every standalone task a rule covers on the instance (<see cref="MoveTask"/>).</summary>
    private static Decision Move(ContainerInstanceStateChange e, ClusterPolicy cluster, DrainPolicy drain, InstanceObservation observed,
        string? ec2, string name, DrainReason reason, DateTimeOffset now, string why)
    {
        var m = new InstanceMove(e, cluster, drain, ec2, reason, now);
        foreach (var task in observed.Tasks.Where(IsLive).OrderBy(t => t.TaskArn, StringComparer.Ordinal))
            MoveTask(m, task, observed);
        var outcome = m.Actions.Count > 0 ? Outcome.Acted : m.Problems.Count > 0 ? Outcome.Rejected : Outcome.Ignored;
        return new Decision
        {
            Outcome = outcome, Code = MoveCode(m, outcome), Reason = $"{why}: {MoveSentence(m)}",
            Actions = m.Actions, Writes = m.Writes, FollowUpAt = m.FollowUp,
        };
    }

    /// <summary>
    /// One task of the instance: a service task is left to its scheduler; a task already being moved
    /// (<see cref="AlreadyBeingMoved"/>) or of a lineage being moved waits; a task no rule covers (or given up) is left
    /// alone; any other gets a replacement (<see cref="StartReplacement"/>).
    /// </summary>
    private static void MoveTask(InstanceMove m, ObservedTask task, InstanceObservation observed)
    {
        var source = RelaunchSource.Of(task, m.Instance.ClusterArn);
        if (TaskRescheduler.IsServiceTask(source.Group, source.StartedBy)) { m.Services++; return; }
        var chain = LineageOf(task);
        observed.Lineages.TryGetValue(chain.Lineage, out var record);
        observed.Moves.TryGetValue(chain.Lineage, out var move);
        if (move is not null && move.OriginalTaskArn == task.TaskArn)
            AlreadyBeingMoved(m, task, source.ClusterArn, move);
        else if (move is not null && !move.Done)
            m.Waiting.Add($"{TaskName(task)} belongs to lineage {Short(chain.Lineage)}, which is already being moved");
        else if (TaskRescheduler.FindRule(m.Cluster, source.Group, source.TaskDefinitionArn, source.StartedBy, chain.ReflexStarted, record) is not { } rule
                 || record is { GivenUp: true })
            m.Uncovered++;
        else
            StartReplacement(m, task, source, rule, chain, record);
    }

    /// <summary>
    /// Already being moved: on a draining instance whose agent is up, the original is stopped once its replacement runs
    /// or its time is up (<see cref="StopTheOriginal"/>), else it waits (<see cref="WaitForReplacement"/>).
    /// </summary>
    private static void AlreadyBeingMoved(InstanceMove m, ObservedTask task, string clusterArn, DrainMoveRecord move)
    {
        if (m.Reason != DrainReason.Draining || m.Instance.AgentConnected == false || move.OriginalStoppedAt is not null)
            m.Waiting.Add($"{TaskName(task)} already has a replacement ({move.ReplacementStartedBy}, started {Clock(move.StartedAt)})");
        else if (move.ReplacementRunningAt is not null || (move.StopOriginalAt is { } at && at <= m.Now))
            StopTheOriginal(m, task, clusterArn, move);
        else
            WaitForReplacement(m, task, move);
    }

    /// <summary>Stop the original: its replacement is RUNNING, or drain.stopOriginalAfterSeconds elapsed.</summary>
    private static void StopTheOriginal(InstanceMove m, ObservedTask task, string clusterArn, DrainMoveRecord move)
    {
        var because = move.ReplacementRunningAt is not null
            ? $"replacement {Short(Arns.LastSegment(move.ReplacementTaskArn ?? move.ReplacementStartedBy))} is RUNNING"
            : $"drain.stopOriginalAfterSeconds ({m.Drain.StopOriginalAfterSeconds} s) elapsed";
        m.Actions.Add(ReflexAction.StopTask(StopOriginal(clusterArn, task.TaskArn, $"EcsReflex: moved off draining container instance {m.Where}; {because}")));
        m.Writes.Add(new DrainMoveWrite(move with { Reason = DrainReason.Draining, OriginalStoppedAt = m.Now }).AfterAction(m.Actions.Count - 1));
        m.Stopped.Add(TaskName(task, because));
    }

    /// <summary>The original waits for its replacement; a move begun while the agent was away now stops its original like a drained one.</summary>
    private static void WaitForReplacement(InstanceMove m, ObservedTask task, DrainMoveRecord move)
    {
        if (move.Reason == DrainReason.AgentDisconnected)
        {
            // The instance can be reached again: its original is now stopped like a drained one.
            var stopAt = m.Drain.StopOriginalAfterSeconds is { } s ? m.Now + TimeSpan.FromSeconds(s) : (DateTimeOffset?)null;
            m.Writes.Add(new DrainMoveWrite(move with { Reason = DrainReason.Draining, StopOriginalAt = stopAt }));
            m.FollowUpAt(stopAt);
        }
        else m.FollowUpAt(move.StopOriginalAt);
        m.Waiting.Add($"{TaskName(task)} waits for its replacement ({move.ReplacementStartedBy}, started {Clock(move.StartedAt)})");
    }

    /// <summary>
    /// Start a replacement: the task as described (with its tags, DescribeTasks with TAGS), built as a relaunch of its
    /// lineage (<see cref="TaskRescheduler.BuildRunTask"/>), placed away from this instance (<see cref="AwayFromThisInstance"/>);
    /// the move is remembered once it is started, and a first move starts the task's lineage.
    /// </summary>
    private static void StartReplacement(InstanceMove m, ObservedTask task, in RelaunchSource source, RescheduleRule rule, TaskLineage chain, LineageRecord? record)
    {
        var built = TaskRescheduler.BuildRunTask(source, rule, chain.Lineage, chain.Attempt, record, awayFrom: null, TaskTagsObservation.Read(task.Tags),
            DrainPurpose, [new Tag(MovedFromTag, Arns.ContainerInstanceId(m.Instance.ContainerInstanceArn))]);
        if (built.Problem is not null || built.Request is null) { m.Problems.Add($"{TaskName(task)}: {built.Problem}"); return; }
        if (AwayFromThisInstance(built.Request, m.Ec2, out var tooMany) is not { } request) { m.Problems.Add($"{TaskName(task)}: its placement {tooMany}"); return; }
        m.Actions.Add(ReflexAction.RunTask(request));
        var stopOriginalAt = m.Reason == DrainReason.Draining && m.Drain.StopOriginalAfterSeconds is { } secs ? m.Now + TimeSpan.FromSeconds(secs) : (DateTimeOffset?)null;
        m.FollowUpAt(stopOriginalAt);
        m.Writes.Add(new DrainMoveWrite(new DrainMoveRecord
        {
            Cluster = m.Cluster.Name, Lineage = chain.Lineage, Rule = rule.Name, OriginalTaskArn = task.TaskArn,
            ContainerInstanceArn = m.Instance.ContainerInstanceArn, Ec2InstanceId = m.Ec2, Reason = m.Reason,
            ReplacementStartedBy = request.StartedBy!, ReplacementClientToken = request.ClientToken!, StartedAt = m.Now, StopOriginalAt = stopOriginalAt,
        }).AfterAction(m.Actions.Count - 1));
        if (record is null)
            m.Writes.Add(new LineageWrite(new LineageRecord
            {
                Cluster = m.Cluster.Name, Lineage = chain.Lineage, Rule = rule.Name, Attempt = chain.Attempt,
                OriginalStartedBy = chain.ReflexStarted ? null : task.StartedBy, LastTaskArn = task.TaskArn,
            }).AfterAction(m.Actions.Count - 1));
        // CarryNote is "; not carried over: …" or empty.
        m.Started.Add(TaskName(task, built.CarryNote.Length == 0 ? $"rule {rule.Name}" : $"rule {rule.Name}, {built.CarryNote[2..]}"));
    }

    /// <summary>Placement away from the instance being left (<c>memberOf(ec2InstanceId != i-…)</c>, when its id is known), within ECS's limit on constraints.</summary>
    private static RunTaskRequest? AwayFromThisInstance(RunTaskRequest request, string? ec2, out string? tooMany)
    {
        var constraints = request.PlacementConstraints?.ToList() ?? [];
        if (ec2 is not null)
            constraints.Add(new PlacementConstraint { Type = "memberOf", Expression = $"ec2InstanceId != {ec2}" });
        tooMany = PlacementValidator.CountProblem(constraints.Count);
        return tooMany is not null ? null : request with { PlacementConstraints = constraints.Count > 0 ? constraints : null };
    }

    /// <summary>The reason sentence of a move: replacements started, originals stopped, tasks waiting, problems, tasks left alone.</summary>
    private static string MoveSentence(InstanceMove m)
    {
        var parts = new List<string>();
        if (m.Started.Count > 0)
        {
            var away = m.Ec2 is null ? " (its EC2 instance id is unknown: ECS itself keeps tasks off a draining instance)" : $" away from {m.Ec2}";
            var then = m.Reason == DrainReason.AgentDisconnected
                ? "the originals cannot be reached and are left to ECS"
                : m.Drain.StopOriginalAfterSeconds is { } s
                    ? $"each original stops once its replacement is RUNNING, or after {s} s"
                    : "each original stops once its replacement is RUNNING";
            parts.Add($"starting replacements for {List(m.Started)}{away}; {then}");
        }
        if (m.Stopped.Count > 0) parts.Add($"stopping the original{(m.Stopped.Count == 1 ? "" : "s")} {List(m.Stopped)}");
        if (m.Waiting.Count > 0) parts.Add(List(m.Waiting));
        if (m.Problems.Count > 0) parts.Add($"cannot move {List(m.Problems)}");
        if (m.Services > 0) parts.Add($"{m.Services} service task{(m.Services == 1 ? "" : "s")} left to the ECS service scheduler");
        if (m.Uncovered > 0) parts.Add($"{m.Uncovered} standalone task{(m.Uncovered == 1 ? "" : "s")} no reschedule rule covers left alone");
        if (parts.Count == 0) parts.Add("no task on it to move");
        return string.Join("; ", parts);
    }

    private static string MoveCode(InstanceMove m, Outcome outcome)
    {
        var draining = m.Reason == DrainReason.Draining;
        return outcome switch
        {
            Outcome.Acted when m.Started.Count > 0 => draining ? ReasonCodes.GuardDrainReplace : ReasonCodes.GuardDisconnectReplace,
            Outcome.Acted => ReasonCodes.GuardDrainStopOriginal, // only a draining instance's originals are stopped
            Outcome.Rejected => draining ? ReasonCodes.GuardDrainCannotMove : ReasonCodes.GuardDisconnectCannotMove,
            _ => draining ? ReasonCodes.GuardDrainNothingToMove : ReasonCodes.GuardDisconnectNothingToMove,
        };
    }

    private static string List(IReadOnlyList<string> items) => items.Count switch
    {
        1 => items[0],
        _ => string.Join(", ", items),
    };

    /// <summary>An instance that is active and connected: a reconnect ends a pending check and lets disconnect moves finish.</summary>
    private static Decision Reconnected(ContainerInstanceStateChange e, InstanceObservation observed,
        string? ec2, string name, InstanceSeenRecord? seen, DateTimeOffset now)
    {
        var actions = new List<ReflexAction>();
        var writes = new List<StateWrite>();
        var stopped = new List<string>();
        var waiting = new List<string>();
        var where = ec2 ?? Arns.ContainerInstanceId(e.ContainerInstanceArn);
        foreach (var task in observed.Tasks.Where(IsLive).OrderBy(t => t.TaskArn, StringComparer.Ordinal))
        {
            if (!observed.Moves.TryGetValue(LineageOf(task).Lineage, out var move) || move.OriginalTaskArn != task.TaskArn
                || move.Reason != DrainReason.AgentDisconnected || move.OriginalStoppedAt is not null)
                continue;
            // Its replacement was started while the agent was away: both would run. Finish the move.
            if (move.ReplacementRunningAt is not null)
            {
                var stop = ReflexAction.StopTask(StopOriginal(task.ClusterArn ?? e.ClusterArn, task.TaskArn,
                    $"EcsReflex: agent of {where} reconnected after this task was replaced; replacement {Short(Arns.LastSegment(move.ReplacementTaskArn ?? move.ReplacementStartedBy))} is RUNNING"));
                actions.Add(stop);
                writes.Add(new DrainMoveWrite(move with { Reason = DrainReason.Draining, OriginalStoppedAt = now }).AfterAction(actions.Count - 1));
                stopped.Add(TaskName(task));
            }
            else
            {
                writes.Add(new DrainMoveWrite(move with { Reason = DrainReason.Draining }));
                waiting.Add(TaskName(task));
            }
        }
        return new Decision
        {
            Outcome = actions.Count > 0 ? Outcome.Acted : Outcome.Ignored,
            Code = actions.Count > 0 ? ReasonCodes.GuardReconnectStopOriginal : ReasonCodes.GuardReconnectNothingToMove,
            Reason = ReconnectSentence(e, name, seen, stopped, waiting), Actions = actions, Writes = writes,
        };
    }

    /// <summary>The reason sentence of a reconnect: originals stopped, originals still waiting for their replacements.</summary>
    private static string ReconnectSentence(ContainerInstanceStateChange e, string name, InstanceSeenRecord? seen, List<string> stopped, List<string> waiting)
    {
        var head = seen?.AgentConnected == false
            ? $"the agent of {name} reconnected (disconnected since {(seen.DisconnectedSince is { } d ? Clock(d) : "?")})"
            : $"{name} is {e.Status}";
        if (stopped.Count > 0)
            return $"{head}: its task{(stopped.Count == 1 ? "" : "s")} {List(stopped)} already {(stopped.Count == 1 ? "has a" : "have")} RUNNING replacement{(stopped.Count == 1 ? "" : "s")}, stopping the original{(stopped.Count == 1 ? "" : "s")}"
                   + (waiting.Count > 0 ? $"; {List(waiting)} stop once their replacements run" : "");
        if (waiting.Count > 0)
            return $"{head}: {List(waiting)} stop{(waiting.Count == 1 ? "s" : "")} once {(waiting.Count == 1 ? "its replacement runs" : "their replacements run")}";
        return seen?.AgentConnected == false ? $"{head}: any pending check is cancelled, nothing to move" : $"{head}: nothing to move";
    }

    // ------------------------------------------------------------------ replacements running

    /// <summary>A task EcsReflex started is RUNNING: when it replaces a task on a draining instance, the original is stopped.</summary>
    public static Decision DecideTaskRunning(TaskStateChange t, ReflexPolicy policy, TaskRunningObservation observed, DateTimeOffset now)
    {
        var family = Arns.TaskDefinitionFamily(t.TaskDefinitionArn);
        var name = family is null ? $"task {Short(t.TaskId)}" : $"task {Short(t.TaskId)} ({family})";
        var where = observed.Ec2InstanceId is { } w ? $" on {w}" : "";
        if (policy.FindCluster(t.ClusterArn) is null)
            return Decision.Ignored(ReasonCodes.GuardClusterNotInPolicy, $"cluster {Arns.ClusterName(t.ClusterArn)} is not in the policy");
        if (!WatchesTask(t))
            return Decision.Ignored(ReasonCodes.GuardNotWatched, $"{name} is {t.LastStatus}: the guard watches RUNNING tasks EcsReflex started");
        var move = observed.Move;
        if (move is null)
            return Decision.Ignored(ReasonCodes.GuardNoMove, $"{name} is RUNNING{where}: no drain move waits for it");
        if (move.OriginalTaskArn == t.TaskArn)
            return Decision.Ignored(ReasonCodes.GuardOriginalOfMove, $"{name} is RUNNING{where}: it is the original of a move; it stops once its replacement runs");
        var from = move.Ec2InstanceId ?? Arns.ContainerInstanceId(move.ContainerInstanceArn);
        var original = Short(Arns.LastSegment(move.OriginalTaskArn));
        // A late event of an older task of the lineage is not the replacement (nor a retry of it).
        if ((TaskRescheduler.TryParseLineage(t.StartedBy, out _, out var attempt) && TaskRescheduler.TryParseLineage(move.ReplacementStartedBy, out _, out var replacementAttempt) && attempt < replacementAttempt)
            || (t.CreatedAt is { } created && created < move.StartedAt - ClockSkew))
            return Decision.Ignored(ReasonCodes.GuardOlderThanReplacement, $"{name} is RUNNING{where}: it is older than the replacement of {original} ({move.ReplacementStartedBy}, started {Clock(move.StartedAt)})");
        if (move.OriginalStoppedAt is { } stoppedAt)
            return Decision.Ignored(ReasonCodes.GuardOriginalAlreadyStopped, $"{name} is RUNNING{where}; the original {original} on {from} was already stopped at {Clock(stoppedAt)}");
        var running = move with { ReplacementTaskArn = t.TaskArn, ReplacementRunningAt = move.ReplacementRunningAt ?? now };
        if (move.LeaveOriginal)
            return Decision.Ignored(ReasonCodes.GuardReplacementLeaveOriginal, $"{name}, the replacement of {original}, is RUNNING{where}; the original, on {from} whose agent is disconnected, is left to ECS")
                with { Writes = [new DrainMoveWrite(running)] };
        var stop = ReflexAction.StopTask(StopOriginal(t.ClusterArn, move.OriginalTaskArn,
            $"EcsReflex: moved off draining container instance {from}; replacement {Short(t.TaskId)} is RUNNING"));
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.GuardReplacementStopOriginal,
            Reason = $"{name}, the replacement of {original}, is RUNNING{where}: stopping the original on draining {from} (make before break)",
            Actions = [stop],
            Writes = [new DrainMoveWrite(running), new DrainMoveWrite(running with { OriginalStoppedAt = now }).AfterAction(0)],
        };
    }

    // ------------------------------------------------------------------ services

    public static bool IsFargate(ObservedService s) =>
        string.Equals(s.LaunchType, "FARGATE", StringComparison.Ordinal)
        || (s.CapacityProviderStrategy.Count > 0 && s.CapacityProviderStrategy.All(c => c.CapacityProvider.StartsWith("FARGATE", StringComparison.Ordinal)));

    private static (ClusterPolicy? Cluster, ServicePolicy? Service, string? Why, string WhyCode) FindService(ReflexPolicy policy, string? clusterArn, string? serviceArn)
    {
        if (serviceArn is null) return (null, null, "the event names no service", ReasonCodes.GuardNoServiceNamed);
        var name = Arns.ServiceName(serviceArn);
        var cluster = policy.FindCluster(clusterArn);
        if (cluster is null) return (null, null, $"cluster {(clusterArn is null ? "(unknown)" : Arns.ClusterName(clusterArn))} of service {name} is not in the policy", ReasonCodes.GuardClusterNotInPolicy);
        var service = cluster.FindService(serviceArn);
        if (service is null) return (cluster, null, $"service {name} is not in the policy", ReasonCodes.GuardServiceNotInPolicy);
        if (service.Placement is null) return (cluster, service, $"the policy of service {name} has no placement", ReasonCodes.GuardNoPlacementPolicy);
        return (cluster, service, null, "");
    }

    private static string Describe(PlacementConstraintSpec c) =>
        c.Type == "memberOf" && c.Expression is { } e ? $"memberOf({QueryParser.Canonical(e)})" : c.Expression is null ? c.Type : $"{c.Type}({c.Expression.Trim()})";

    private static string Describe(PlacementStrategySpec s) => s.Field is null ? s.Type : $"{s.Type}({s.Field})";

    private static string DescribeList(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    /// <summary>How the service's placement differs from <paramref name="want"/>: constraints as a set, strategies in order.</summary>
    public static IReadOnlyList<string> Differences(ObservedService service, PlacementSpec want)
    {
        var have = service.PlacementConstraints.Select(c => Describe(new PlacementConstraintSpec(c.Type, c.Expression))).ToList();
        var wanted = want.Constraints.Select(Describe).ToList();
        var missing = new List<string>(wanted);
        var extra = new List<string>();
        foreach (var h in have)
            if (!missing.Remove(h)) extra.Add(h);
        var diffs = new List<string>();
        if (missing.Count > 0) diffs.Add($"constraint{(missing.Count == 1 ? "" : "s")} {DescribeList(missing)} missing");
        if (extra.Count > 0) diffs.Add($"constraint{(extra.Count == 1 ? "" : "s")} {DescribeList(extra)} not in the policy");
        var haveS = service.PlacementStrategy.Select(s => Describe(new PlacementStrategySpec(s.Type, s.Field))).ToList();
        var wantS = want.Strategy.Select(Describe).ToList();
        if (!haveS.SequenceEqual(wantS, StringComparer.Ordinal))
            diffs.Add($"strategy is [{DescribeList(haveS)}], the policy says [{DescribeList(wantS)}]");
        return diffs;
    }

    private static UpdateServiceRequest UpdatePlacement(string clusterArn, string service, PlacementSpec spec) => new()
    {
        Cluster = clusterArn,
        Service = service,
        // Empty lists are sent as []: that is how UpdateService removes constraints or strategies.
        PlacementConstraints = spec.Constraints.Select(c => new PlacementConstraint { Type = c.Type, Expression = c.Expression }).ToList(),
        PlacementStrategy = spec.Strategy.Select(s => new PlacementStrategy { Type = s.Type, Field = s.Field }).ToList(),
    };

    /// <summary>Deployment in progress or completed: restore the policy's placement when the service drifted from it.</summary>
    public static Decision DecideDeployment(DeploymentStateChange d, ReflexPolicy policy, ServiceObservation observed, DateTimeOffset now)
    {
        var serviceName = d.ServiceArn is null ? "?" : Arns.ServiceName(d.ServiceArn);
        if (d.EventName is not ("SERVICE_DEPLOYMENT_IN_PROGRESS" or "SERVICE_DEPLOYMENT_COMPLETED"))
            return Decision.Ignored(ReasonCodes.GuardNotADeploymentCheck, $"{d.EventName} of {serviceName}: the guard checks placement on SERVICE_DEPLOYMENT_IN_PROGRESS and SERVICE_DEPLOYMENT_COMPLETED");
        var (cluster, sp, why, whyCode) = FindService(policy, d.ClusterArn, d.ServiceArn);
        if (why is not null) return Decision.Ignored(whyCode, why);
        var placement = sp!.Placement!;
        if (!placement.Enforce)
            return Decision.Ignored(ReasonCodes.GuardNotEnforced, $"the placement of {serviceName} is not enforced (placement.enforce is false)");
        if (observed.Service is not { } service)
            return Decision.Ignored(ReasonCodes.GuardServiceNotFound, $"service {serviceName} was not found in cluster {cluster!.Name}: nothing to compare");
        if (IsFargate(service))
            return Decision.Ignored(ReasonCodes.GuardFargate, $"{serviceName} runs on Fargate, which takes no placement constraints or strategies: nothing to enforce");

        var fallbackActive = observed.Record?.FallbackAppliedAt is not null && placement.Fallback is not null;
        var want = fallbackActive ? placement.Fallback! : placement.Preferred;
        var label = fallbackActive ? $"the fallback placement (in effect since {Clock(observed.Record!.FallbackAppliedAt!.Value)})" : "the policy's placement";
        var diffs = Differences(service, want);
        if (diffs.Count == 0)
            return Decision.Ignored(ReasonCodes.GuardPlacementMatches, $"{d.EventName} of {serviceName}: its placement matches {label}");
        // The service as ECS describes it names its cluster by ARN (a sweep's check may know only the policy's name).
        var update = ReflexAction.UpdateService(UpdatePlacement(service.ClusterArn ?? d.ClusterArn!, service.ServiceName, want));
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.GuardDriftRestore,
            Reason = $"{serviceName} drifted from {label} ({string.Join("; ", diffs)}): restoring it with UpdateService",
            Actions = [update],
        };
    }

    /// <summary>The resource a RESOURCE:* placement failure says is missing, in words.</summary>
    public static string MissingResource(string reason)
    {
        var what = reason["RESOURCE:".Length..];
        return what switch
        {
            "MEMORY" => "memory",
            "CPU" => "CPU",
            "PORTS" => "free ports",
            "PORTS_UDP" => "free UDP ports",
            "ENI" => "network interfaces (ENI)",
            "GPU" => "GPUs",
            _ => what.Length == 0 ? "resources" : what,
        };
    }

    /// <summary>Service actions: placement failures (<see cref="PlacementFailure"/>) and steady states (<see cref="SteadyState"/>).</summary>
    public static Decision DecideServiceAction(ServiceAction a, ReflexPolicy policy, ServiceObservation observed, DateTimeOffset now)
    {
        var serviceName = a.ServiceArn is null ? "?" : Arns.ServiceName(a.ServiceArn);
        return a.EventName switch
        {
            "SERVICE_TASK_PLACEMENT_FAILURE" => PlacementFailure(a, policy, observed, now, serviceName),
            "SERVICE_STEADY_STATE" => SteadyState(a, policy, observed, now, serviceName),
            _ => Decision.Ignored(ReasonCodes.GuardOtherServiceAction, $"{a.EventName} of {serviceName}: the guard acts on SERVICE_TASK_PLACEMENT_FAILURE and SERVICE_STEADY_STATE"),
        };
    }

    /// <summary>
    /// Fall back: a task of the service could not be placed because of a placement constraint, and its policy has a
    /// fallback placement that is not in effect yet. A shortage of resources is left to the capacity providers.
    /// </summary>
    private static Decision PlacementFailure(ServiceAction a, ReflexPolicy policy, ServiceObservation observed, DateTimeOffset now, string serviceName)
    {
        var reason = a.Reason?.Trim() ?? "";
        if (reason.StartsWith("RESOURCE:", StringComparison.Ordinal))
            return Decision.Ignored(ReasonCodes.GuardResourceShortage,
                $"ECS could not place a task of {serviceName}: no container instance has enough {MissingResource(reason)} ({reason}); left to the capacity providers");
        var (cluster, sp, why, whyCode) = FindService(policy, a.ClusterArn, a.ServiceArn);
        if (why is not null) return Decision.Ignored(whyCode, $"placement failure of {serviceName} ({(reason.Length == 0 ? "no reason given" : reason)}): {why}");
        if (!IsConstraintFailure(reason))
            return Decision.Ignored(ReasonCodes.GuardNotAConstraintFailure,
                $"placement failure of {serviceName} ({(reason.Length == 0 ? "no reason given" : reason)}) is not caused by a placement constraint: left to ECS");
        var placement = sp!.Placement!;
        if (placement.Fallback is null)
            return Decision.Ignored(ReasonCodes.GuardNoFallback, $"{serviceName} cannot be placed ({reason}) and its policy has no fallback placement");
        if (observed.Service is { } svc && IsFargate(svc))
            return Decision.Ignored(ReasonCodes.GuardFargate, $"{serviceName} runs on Fargate, which takes no placement constraints or strategies: no fallback to apply");
        if (observed.Record?.FallbackAppliedAt is { } since)
            return Decision.Ignored(ReasonCodes.GuardFallbackInEffect, $"{serviceName} cannot be placed ({reason}); its fallback placement is already in effect since {Clock(since)}");
        var clusterArn = a.ClusterArn ?? observed.Service?.ClusterArn ?? cluster!.Cluster;
        var restoreAt = now + TimeSpan.FromSeconds(placement.RestoreAfterSeconds);
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.GuardFallbackApply,
            Reason = $"{serviceName} cannot be placed ({reason}): applying its fallback placement ({Summary(placement.Fallback)}); the preferred one comes back on the first steady state after {Clock(restoreAt)}",
            Actions = [ReflexAction.UpdateService(UpdatePlacement(clusterArn, serviceName, placement.Fallback))],
            Writes = [new ServicePlacementWrite(new ServicePlacementRecord
            {
                Cluster = cluster!.Name, Service = serviceName, FallbackAppliedAt = now, FallbackReason = reason,
            }).AfterAction(0)],
        };
    }

    /// <summary>Restore: the service is steady on its fallback placement for longer than placement.restoreAfterSeconds.</summary>
    private static Decision SteadyState(ServiceAction a, ReflexPolicy policy, ServiceObservation observed, DateTimeOffset now, string serviceName)
    {
        var (cluster, sp, why, whyCode) = FindService(policy, a.ClusterArn, a.ServiceArn);
        if (why is not null) return Decision.Ignored(whyCode, $"{serviceName} reached a steady state; {why}");
        if (observed.Record?.FallbackAppliedAt is not { } since || sp!.Placement!.Fallback is null)
            return Decision.Ignored(ReasonCodes.GuardNoFallbackInEffect, $"{serviceName} reached a steady state; no fallback placement is in effect");
        var placement = sp.Placement;
        var restoreAt = since + TimeSpan.FromSeconds(placement.RestoreAfterSeconds);
        if (now < restoreAt)
            return Decision.Ignored(ReasonCodes.GuardRestoreNotYet,
                $"{serviceName} reached a steady state on its fallback placement (since {Clock(since)}); the preferred placement comes back on the first steady state after {Clock(restoreAt)}");
        var clusterArn = a.ClusterArn ?? observed.Service?.ClusterArn ?? cluster!.Cluster;
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.GuardFallbackRestore,
            Reason = $"{serviceName} is steady on its fallback placement since {Clock(since)}, more than {placement.RestoreAfterSeconds} s: restoring the preferred placement ({Summary(placement.Preferred)})",
            Actions = [ReflexAction.UpdateService(UpdatePlacement(clusterArn, serviceName, placement.Preferred))],
            Writes = [new ServicePlacementWrite(new ServicePlacementRecord { Cluster = cluster!.Name, Service = serviceName, FallbackAppliedAt = null }).AfterAction(0)],
        };
    }

    /// <summary>Placement failures a looser placement may fix: a constraint could not be satisfied (MemberOf, DistinctInstance…).</summary>
    public static bool IsConstraintFailure(string reason) =>
        reason.Contains("constraint", StringComparison.OrdinalIgnoreCase);

    private static string Summary(PlacementSpec p)
    {
        var c = p.Constraints.Select(Describe).ToList();
        var s = p.Strategy.Select(Describe).ToList();
        return $"constraints [{DescribeList(c)}], strategy [{DescribeList(s)}]";
    }
}
