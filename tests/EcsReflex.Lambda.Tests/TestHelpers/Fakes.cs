using System.Text.Json;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Handlers;

namespace EcsReflex.Lambda.Tests.TestHelpers;

public sealed class RecordingDelayQueue : IDelayQueue
{
    public List<DeferredWork> Sent { get; } = [];
    public Exception? FailWith { get; set; }

    public Task SendAsync(DeferredWork work, CancellationToken ct)
    {
        if (FailWith is { } ex) throw ex;
        Sent.Add(work);
        return Task.CompletedTask;
    }
}

public sealed class RecordingDeadLetters : IDeadLetterSender
{
    public List<DeadLetter> Sent { get; } = [];
    public Exception? FailWith { get; set; }

    public Task SendAsync(DeadLetter letter, CancellationToken ct)
    {
        if (FailWith is { } ex) throw ex;
        Sent.Add(letter);
        return Task.CompletedTask;
    }
}

/// <summary>An ECS client that answers RunTask with a chosen failure, or throws.</summary>
public sealed class ScriptedEcsApi : IEcsApi
{
    public List<ActionRequest> Received { get; } = [];
    public RunTaskFailure? RunTaskFailure { get; init; }
    public Exception? Throw { get; init; }

    public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct)
    {
        Received.Add(request);
        if (Throw is not null) throw Throw;
        return ValueTask.FromResult(RunTaskFailure is { } f
            ? new RunTaskResponse([], [f])
            : new RunTaskResponse([$"arn:aws:ecs:us-east-1:123456789012:task/prod/{request.ClientToken![^8..]}"], []));
    }

    public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => throw new NotSupportedException();
    public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => throw new NotSupportedException();
}

/// <summary>A fixed decision clock.</summary>
public sealed class FixedClock(DateTimeOffset now) : IDecisionClock
{
    public DateTimeOffset Now(InvocationRequest invocation) => now;
}

/// <summary>A handler whose behaviour the loop tests choose.</summary>
public sealed class LambdaHandlerStub(Func<InvocationRequest, CancellationToken, Task<ReadOnlyMemory<byte>>> handle) : IInvocationHandler
{
    public string Name => "stub";
    public Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, CancellationToken ct) => handle(invocation, ct);
}

public static class Json
{
    public static JsonElement Parse(string s)
    {
        using var doc = JsonDocument.Parse(s);
        return doc.RootElement.Clone();
    }

    public static JsonElement Parse(byte[] s) => Parse(System.Text.Encoding.UTF8.GetString(s));
}
