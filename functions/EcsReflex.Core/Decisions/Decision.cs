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
/// last failure, given-up flag). Written by the engine, after the actuator, never by the core.
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
/// read, and the actions. The code is required: every place that writes a reason says which one it is.
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
    /// <summary>State to record after the actions succeed.</summary>
    public LineageRecord? Lineage { get; init; }

    public static Decision Ignored(string code, string reason) => new() { Outcome = Outcome.Ignored, Code = code, Reason = reason };
    public static Decision Rejected(string code, string reason) => new() { Outcome = Outcome.Rejected, Code = code, Reason = reason };
}
