namespace EcsReflex.Core.State;

/// <summary>
/// A call to a cloud API that did not succeed, classified so that the one write path can tell what to do:
/// a transient failure (throttling, server error, network, deadline) is worth retrying the whole invocation
/// for; any other is reported and audited, never retried. Adapters throw subclasses; the core only reads them.
/// </summary>
public abstract class ApiCallException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The service, as in an action (<c>ecs</c>, <c>application-autoscaling</c>...).</summary>
    public abstract string Service { get; }
    public abstract string Operation { get; }
    /// <summary>The service's error code (<c>InvalidParameterException</c>), or the adapter's own for failures with no answer.</summary>
    public abstract string ErrorCode { get; }
    /// <summary>The service's message, without the decorations of <see cref="Exception.Message"/>.</summary>
    public abstract string ErrorMessage { get; }
    /// <summary>True when trying again later may succeed.</summary>
    public abstract bool IsTransient { get; }
}
