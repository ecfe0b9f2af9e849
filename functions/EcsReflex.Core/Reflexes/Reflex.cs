using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;

namespace EcsReflex.Core.Reflexes;

/// <summary>
/// What a reflex reads through: the policy, the stored state (read only: what a decision wants written it declares in
/// <see cref="Decision.Writes"/>, and the engine's actuator commits) and the cluster.
/// </summary>
public sealed record ReflexContext(ReflexPolicy Policy, IStateReader State, IClusterObserver Observer);

/// <summary>
/// One event to decide on, at <see cref="Now"/>; <see cref="Due"/> when it is deferred work that came due, not a delivery,
/// and then <see cref="DueAt"/> the time it was due (the delay queue message's; <see cref="Now"/> in the replay).
/// </summary>
public readonly record struct ReflexInput(EventEnvelope Event, DateTimeOffset Now, bool Due = false, DateTimeOffset? DueAt = null);

/// <summary>
/// The one contract of every reflex (after kubernetes-sigs/descheduler's plugins): a name, the events it takes, what it
/// observes for one of them (through the ports of <see cref="ReflexContext"/>, reading only), and a pure decision (in
/// <c>Core/Decisions</c>) that says everything else as data: the outcome, the code and the sentence, the typed actions,
/// the state writes and when they are committed, any due or follow-up time. The engine's reactor picks the one reflex
/// that takes an event; its actuator, the one committer, carries the decision out. A new reflex is a class implementing
/// this and a line in <see cref="Reflexes.All"/>.
/// </summary>
public interface IReflex
{
    /// <summary>The handler's name (<see cref="Hosting.HandlerNames"/>): the output's <c>handler</c>, the <c>_HANDLER</c> value.</summary>
    string Name { get; }

    /// <summary>True for the events this reflex decides on. No two reflexes take the same event.</summary>
    bool Takes(EventDetail detail);

    /// <summary>Observes what the decision on <paramref name="input"/> needs, then decides (pure).</summary>
    ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct);

    /// <summary>
    /// The decision the delivered event settles on its own, with nothing observed and nothing remembered (issue 17): an
    /// ignore that no state in the table or in AWS could change (a user's stop, a service's task, a success under
    /// <c>OnFailure</c>). The engine then reads nothing, claims nothing and writes nothing: a reaction that does nothing
    /// costs no AWS call, and a second delivery of it is decided the same. Null (the default) when the decision needs to
    /// observe; never an action.
    /// </summary>
    Decision? SettledByTheEvent(EventEnvelope e, ReflexPolicy policy, DateTimeOffset now) => null;

    /// <summary>
    /// True when the engine may observe and decide while it claims the event, not after (issue 17: one round trip less),
    /// and throw the decision away if the claim is refused. Only for a reflex whose reads are cheap (a duplicate pays for
    /// them) and whose actions are safe to decide from state read just before the claim: a delivery that held the claim,
    /// acted and then failed is repeated harmlessly (RunTask's client token, a scaling record's version). False by default.
    /// </summary>
    bool ObservesBesideTheClaim => false;

    /// <summary>
    /// The decision when what this reflex's decisions claim before acting (<see cref="CommitPoint.Claim"/>) was claimed
    /// first by another invocation <paramref name="attempts"/> times in a row, although it observed and decided again each time.
    /// </summary>
    Decision ClaimsLost(ReflexInput input, int attempts) => new()
    {
        Outcome = Outcome.Failed, Code = ReasonCodes.EngineClaimsLost,
        Reason = $"{Name}: another invocation claimed the state this decision needs {attempts} times in a row; failed so that it is delivered again",
    };
}

/// <summary>The registration of every reflex, and the routing of an event to the one that takes it.</summary>
public static class Reflexes
{
    /// <summary>Every reflex, in one place. The placement guard takes the RUNNING tasks EcsReflex started, the rescheduler the other task events.</summary>
    public static readonly IReadOnlyList<IReflex> All =
    [
        new TaskReschedulerReflex(),
        new PlacementGuardReflex(),
        new ServiceScalerReflex(),
        new ReconcilerReflex(),
    ];

    /// <summary>The reflex that takes <paramref name="detail"/>, or null when EcsReflex has none for it.</summary>
    public static IReflex? For(EventDetail detail)
    {
        foreach (var reflex in All)
            if (reflex.Takes(detail)) return reflex;
        return null;
    }
}
