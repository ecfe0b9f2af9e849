using EcsReflex.Lambda.Client;

namespace EcsReflex.Lambda.Handlers;

/// <summary>
/// One handler, chosen by <c>_HANDLER</c>. Returns the response body; throws
/// <see cref="Bootstrap.InvocationFailedException"/> (or any exception) to fail the invocation, and
/// <see cref="OperationCanceledException"/> when the deadline token fired.
/// </summary>
public interface IInvocationHandler
{
    string Name { get; }
    Task<ReadOnlyMemory<byte>> HandleAsync(InvocationRequest invocation, CancellationToken ct);
}
