namespace EcsReflex.Lambda.Client;

/// <summary>
/// The Lambda Runtime API as the loop sees it. The loop knows only this interface; HTTP lives in
/// <see cref="RuntimeApiClient"/>, and tests drive the loop with a recording fake.
/// </summary>
public interface IRuntimeApiClient
{
    /// <summary><c>GET /2018-06-01/runtime/invocation/next</c>: waits for the next event.</summary>
    Task<InvocationRequest> GetNextInvocationAsync(CancellationToken ct);

    /// <summary><c>POST /2018-06-01/runtime/invocation/{id}/response</c>.</summary>
    Task SendResponseAsync(string requestId, ReadOnlyMemory<byte> body, CancellationToken ct);

    /// <summary><c>POST /2018-06-01/runtime/invocation/{id}/error</c>.</summary>
    Task ReportInvocationErrorAsync(string requestId, ErrorReport error, CancellationToken ct);

    /// <summary><c>POST /2018-06-01/runtime/init/error</c>: initialisation failed; the process exits after this.</summary>
    Task ReportInitializationErrorAsync(ErrorReport error, CancellationToken ct);
}

/// <summary>One invocation as the Runtime API hands it out.</summary>
/// <param name="RequestId"><c>Lambda-Runtime-Aws-Request-Id</c>.</param>
/// <param name="Deadline"><c>Lambda-Runtime-Deadline-Ms</c>, as a time.</param>
/// <param name="InvokedFunctionArn"><c>Lambda-Runtime-Invoked-Function-Arn</c>.</param>
/// <param name="TraceId"><c>Lambda-Runtime-Trace-Id</c>: copied to <c>_X_AMZN_TRACE_ID</c> for the invocation.</param>
/// <param name="Payload">The event, as sent.</param>
public sealed record InvocationRequest(string RequestId, DateTimeOffset Deadline, string? InvokedFunctionArn, string? TraceId, ReadOnlyMemory<byte> Payload)
{
    /// <summary>
    /// Only from the project's Runtime API emulator in local replay mode (header <c>Reflex-Local-Now</c>):
    /// the replay's simulated time. Lambda never sends it, and the host ignores it outside local replay.
    /// </summary>
    public DateTimeOffset? LocalNow { get; init; }
}

/// <summary>Thrown when the Runtime API answers something the loop cannot work with.</summary>
public sealed class RuntimeApiException(string message, Exception? inner = null) : Exception(message, inner);
