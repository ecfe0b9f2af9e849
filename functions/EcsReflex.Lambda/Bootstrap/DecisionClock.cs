using EcsReflex.Lambda.Client;

namespace EcsReflex.Lambda.Bootstrap;

/// <summary>The "now" a decision is taken at.</summary>
public interface IDecisionClock
{
    DateTimeOffset Now(InvocationRequest invocation);
}

/// <summary>In Lambda: the time provider's clock.</summary>
public sealed class SystemDecisionClock(TimeProvider time) : IDecisionClock
{
    public DateTimeOffset Now(InvocationRequest invocation) => time.GetUtcNow();
}

/// <summary>
/// In local replay: the replay's simulated clock, which the emulator sends with each invocation, so the
/// real binary decides at the same times as the in-process replay.
/// </summary>
public sealed class LocalReplayClock : IDecisionClock
{
    public DateTimeOffset Now(InvocationRequest invocation) =>
        invocation.LocalNow ?? throw new InvocationFailedException("Reflex.LocalReplay",
            "local replay mode (REFLEX_LOCAL_REPLAY=1) needs the emulator's Reflex-Local-Now header, and this invocation has none: run the bootstrap through `reflex replay --lambda`, or unset REFLEX_LOCAL_REPLAY");
}

/// <summary>Fails the invocation with a chosen error type: Lambda retries it, then routes it to the on-failure destination.</summary>
public sealed class InvocationFailedException(string errorType, string message, Exception? inner = null) : Exception(message, inner)
{
    public string ErrorType { get; } = errorType;
}

/// <summary>Initialisation failed: reported to <c>/runtime/init/error</c>, then the process exits.</summary>
public sealed class InitException(string errorType, IReadOnlyList<string> problems)
    : Exception(problems.Count == 1 ? problems[0] : $"{problems.Count} problems: " + string.Join(" | ", problems))
{
    public string ErrorType { get; } = errorType;
    public IReadOnlyList<string> Problems { get; } = problems;
}
