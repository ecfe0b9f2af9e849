using EcsReflex.Lambda.Client;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>
/// A recording fake of the Runtime API: hands out the queued invocations, records every call, and stops
/// the loop (cancels) once the queue is empty.
/// </summary>
public sealed class TestRuntimeApiClient : IRuntimeApiClient
{
    private readonly Queue<InvocationRequest> _invocations;
    private readonly CancellationTokenSource _stop = new();

    public TestRuntimeApiClient(params InvocationRequest[] invocations) => _invocations = new(invocations);

    public CancellationToken Stop => _stop.Token;
    public List<string> Calls { get; } = [];
    public List<(string RequestId, byte[] Body)> Responses { get; } = [];
    public List<(string RequestId, ErrorReport Error)> Errors { get; } = [];
    public List<ErrorReport> InitErrors { get; } = [];
    public int NextCalls { get; private set; }

    public Task<InvocationRequest> GetNextInvocationAsync(CancellationToken ct)
    {
        NextCalls++;
        Calls.Add("next");
        if (_invocations.TryDequeue(out var next)) return Task.FromResult(next);
        _stop.Cancel();
        return Task.FromCanceled<InvocationRequest>(_stop.Token);
    }

    public Task SendResponseAsync(string requestId, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        Calls.Add($"response {requestId}");
        Responses.Add((requestId, body.ToArray()));
        return Task.CompletedTask;
    }

    public Task ReportInvocationErrorAsync(string requestId, ErrorReport error, CancellationToken ct)
    {
        Calls.Add($"error {requestId} {error.ErrorType}");
        Errors.Add((requestId, error));
        return Task.CompletedTask;
    }

    public Task ReportInitializationErrorAsync(ErrorReport error, CancellationToken ct)
    {
        Calls.Add($"init-error {error.ErrorType}");
        InitErrors.Add(error);
        return Task.CompletedTask;
    }

    public static InvocationRequest Invocation(string id, string payload, DateTimeOffset deadline, string? traceId = null) =>
        new(id, deadline, $"arn:aws:lambda:us-east-1:123456789012:function:reflex", traceId, System.Text.Encoding.UTF8.GetBytes(payload));
}
