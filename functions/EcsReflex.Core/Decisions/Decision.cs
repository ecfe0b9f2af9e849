using EcsReflex.Core.Ecs;

namespace EcsReflex.Core.Decisions;

/// <summary>What became of an event. Names are pinned: they appear in the JSON lines output.</summary>
public enum Outcome { Acted, Ignored, Deferred, Rejected, Failed }

public static class OutcomeNames
{
    public static string Name(this Outcome o) => o switch
    {
        Outcome.Acted => "acted",
        Outcome.Ignored => "ignored",
        Outcome.Deferred => "deferred",
        Outcome.Rejected => "rejected",
        _ => "failed",
    };
}

/// <summary>One thing to do: <c>service</c> (<c>ecs</c>, <c>reflex</c>…), <c>operation</c> and the exact request.</summary>
public sealed record ReflexAction(string Service, string Operation, ActionRequest Request)
{
    /// <summary>A few words for the table when the request alone cannot say it (<c>web desired 4 → 5</c>); not sent.</summary>
    public string? Summary { get; init; }

    /// <summary>For an UpdateService that changes the desired count: the count it changes it from (the request says only the new one); not sent.</summary>
    public int? DesiredFrom { get; init; }

    public static ReflexAction RunTask(RunTaskRequest r) => new("ecs", "RunTask", r);
    public static ReflexAction StopTask(StopTaskRequest r) => new("ecs", "StopTask", r);
    public static ReflexAction UpdateService(UpdateServiceRequest r) => new("ecs", "UpdateService", r);
    public static ReflexAction GiveUp(GiveUpRequest r) => new("reflex", "GiveUp", r);
}

/// <summary>
/// The state a decision wants recorded once its actions succeeded: the task lineage (attempt count,
/// last failure, given-up flag). Declared by a decision (<see cref="LineageWrite"/>), committed by the actuator.
/// </summary>
public sealed record LineageRecord
{
    public required string Cluster { get; init; }
    public required string Lineage { get; init; }
    public required string Rule { get; init; }
    public int Attempt { get; init; }
    public string? OriginalStartedBy { get; init; }
    public string? LastFailure { get; init; }
    public DateTimeOffset? LastFailureAt { get; init; }
    public bool GivenUp { get; init; }
    public string? LastTaskArn { get; init; }
}

/// <summary>
/// The result of a pure decision: an outcome, a stable code (<see cref="ReasonCodes"/>) with a sentence a person can
/// read, the actions, and the state it wants written, declared as data (<see cref="Writes"/>). The one committer (the
/// engine's actuator) sends the actions and commits the writes; no decision, and no other code, writes state.
/// </summary>
public sealed record Decision
{
    public required Outcome Outcome { get; init; }
    /// <summary>What the reason says, as data: one of <see cref="ReasonCodes"/>. Stable; the sentence is not.</summary>
    public required string Code { get; init; }
    public required string Reason { get; init; }
    public IReadOnlyList<ReflexAction> Actions { get; init; } = [];
    /// <summary>For <see cref="Outcome.Deferred"/>: when to decide again.</summary>
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>The state to write, each with when it is committed (<see cref="StateWrite.When"/>), in this order.</summary>
    public IReadOnlyList<StateWrite> Writes { get; init; } = [];
    /// <summary>When to decide again on the same event although this decision acts (a drain's stopOriginalAfterSeconds); only once it acted.</summary>
    public DateTimeOffset? FollowUpAt { get; init; }
    /// <summary>
    /// When to decide again on the same event whatever this decision's outcome (short of failing): a sustained alarm's next
    /// evaluation. Periodic work: the replay runs it only up to its <c>--until</c> time.
    /// </summary>
    public DateTimeOffset? RedecideAt { get; init; }
    /// <summary>
    /// Events the decision found that no delivery brought (the reconciler's sweep: a STOPPED task whose event was lost):
    /// the engine decides each as if it had arrived, under the same deduplication keys, so that whichever of it and a
    /// late delivery comes first acts and the other is a duplicate.
    /// </summary>
    public IReadOnlyList<Events.EventEnvelope> Found { get; init; } = [];
    /// <summary>
    /// Deferred work the decision found lost (the sweep: a sustained alarm's re-decision that did not come): the engine
    /// decides each as that work come due, at its due time, so the scaler's record (which schedules one re-decision
    /// per alarm) makes a late original and the re-armed one act once.
    /// </summary>
    public IReadOnlyList<FoundDue> FoundDue { get; init; } = [];

    /// <summary>The lineage record this decision writes, if any (the first declared).</summary>
    public LineageRecord? Lineage => Write<LineageWrite>()?.Record;

    /// <summary>The first declared write of kind <typeparamref name="T"/>, or null.</summary>
    public T? Write<T>() where T : StateWrite
    {
        foreach (var w in Writes)
            if (w is T t) return t;
        return null;
    }

    public static Decision Ignored(string code, string reason) => new() { Outcome = Outcome.Ignored, Code = code, Reason = reason };
    public static Decision Rejected(string code, string reason) => new() { Outcome = Outcome.Rejected, Code = code, Reason = reason };
}

/// <summary>When the committer commits a declared write (<see cref="StateWrite.When"/>).</summary>
public enum CommitPoint
{
    /// <summary>Unless the reaction failed before any action was carried out: whatever the outcome otherwise.</summary>
    Always,
    /// <summary>Before any action, on the write's condition (a claim). When the condition fails, nothing is done and the reflex decides again.</summary>
    Claim,
    /// <summary>Once the action at <see cref="StateWrite.ActionIndex"/> was carried out (done, dry run or recorded).</summary>
    AfterAction,
    /// <summary>Once the reaction acted: every action carried out.</summary>
    Acted,
    /// <summary>Unless the reaction failed.</summary>
    UnlessFailed,
    /// <summary>
    /// When not every action was sent and accepted (a dry run, a refusal, a deferral, an exception): undoes what a
    /// <see cref="Claim"/> recorded for a change that did not happen.
    /// </summary>
    Undo,
}

/// <summary>One piece of state a decision wants written, and when (<see cref="When"/>). The kinds are below; the committer knows each.</summary>
public abstract record StateWrite
{
    public CommitPoint When { get; init; } = CommitPoint.Always;
    /// <summary>For <see cref="CommitPoint.AfterAction"/>: the index of the action in <see cref="Decision.Actions"/>.</summary>
    public int ActionIndex { get; init; } = -1;

    /// <summary>This write, committed once action <paramref name="index"/> was carried out.</summary>
    public StateWrite AfterAction(int index) => this with { When = CommitPoint.AfterAction, ActionIndex = index };
    /// <summary>This write, committed at <paramref name="when"/>.</summary>
    public StateWrite At(CommitPoint when) => this with { When = when };
}

/// <summary>A task lineage: attempt count, last failure, given up.</summary>
public sealed record LineageWrite(LineageRecord Record) : StateWrite;

/// <summary>A drain move, by lineage.</summary>
public sealed record DrainMoveWrite(DrainMoveRecord Record) : StateWrite;

/// <summary>A service's placement state (its fallback).</summary>
public sealed record ServicePlacementWrite(ServicePlacementRecord Record) : StateWrite;

/// <summary>The last state seen of a container instance, written only when no newer version is recorded (a late delivery never rolls it back).</summary>
public sealed record InstanceSeenWrite(InstanceSeenRecord Record) : StateWrite;

/// <summary>The scaler's record of a service, written only while the stored version is still <paramref name="ExpectedVersion"/> (0: none yet).</summary>
public sealed record ScalingRecordWrite(ServiceScalingRecord Record, long ExpectedVersion) : StateWrite;

/// <summary>
/// Takes back the change <paramref name="Claimed"/> recorded (back to <paramref name="Before"/>'s), keeping the alarm
/// memory, unless a newer change superseded it: cooldowns must not count a change that never happened.
/// </summary>
public sealed record ScalingUndoWrite(ServiceScalingRecord Claimed, ServiceScalingRecord? Before) : StateWrite;

/// <summary>Deferred work found lost: <paramref name="Event"/> as it would have come due at <paramref name="DueAt"/>.</summary>
public sealed record FoundDue(Events.EventEnvelope Event, DateTimeOffset DueAt);
