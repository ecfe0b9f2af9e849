using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Handlers;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Bootstrap;

/// <summary>
/// The Runtime API loop: init (or report the init error and stop), then next → handle → response or
/// error, for ever. The deadline becomes a cancellation token with a safety margin; work not done by then
/// fails the invocation so it is retried, never half-acknowledged.
/// </summary>
public sealed class LambdaBootstrap(
    IRuntimeApiClient client,
    Func<IInvocationHandler> init,
    IEnvironment env,
    TimeProvider time,
    ILineWriter output)
{
    public const string DeadlineExceeded = "Reflex.DeadlineExceeded";

    /// <summary>Exit codes: 0 stopped by the token, 1 init failed, 2 a handler ignored its deadline, 3 the Runtime API failed.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        IInvocationHandler handler;
        try
        {
            handler = init();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var report = ex is InitException ie ? ErrorReport.Of(ie.ErrorType, ie.Message) : ErrorReport.FromException(ex);
            new JsonLog(output, time, env.Get(EnvVars.Handler)).Failure("init failed", w =>
            {
                w.WriteString("errorType", report.ErrorType);
                w.WriteString("errorMessage", report.ErrorMessage);
            });
            await client.ReportInitializationErrorAsync(report, ct);
            return 1;
        }

        var log = new JsonLog(output, time, handler.Name);
        while (true)
        {
            InvocationRequest invocation;
            try
            {
                invocation = await client.GetNextInvocationAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 0;
            }
            catch (RuntimeApiException ex)
            {
                return RuntimeApiFailed(log, ex);
            }
            try
            {
                if (!await InvokeAsync(handler, invocation, log, ct)) return 2;
            }
            catch (RuntimeApiException ex)
            {
                return RuntimeApiFailed(log, ex);
            }
        }
    }

    /// <summary>The Runtime API answered something unusable: logged, and the process exits (Lambda starts a new one).</summary>
    private static int RuntimeApiFailed(JsonLog log, RuntimeApiException ex)
    {
        log.Failure("runtime API failed", w => w.WriteString("errorMessage", ex.Message));
        return 3;
    }

    /// <summary>The margin kept between the work's cancellation and Lambda's deadline: a quarter of the time left, at most 500 ms.</summary>
    public static TimeSpan SafetyMargin(TimeSpan remaining) =>
        remaining <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(remaining.Ticks / 4, TimeSpan.FromMilliseconds(500).Ticks));

    /// <summary>Runs one invocation; false when the handler did not stop at its deadline (the process must exit).</summary>
    public async Task<bool> InvokeAsync(IInvocationHandler handler, InvocationRequest invocation, JsonLog log, CancellationToken ct)
    {
        env.Set(EnvVars.TraceId, invocation.TraceId);
        var remaining = invocation.Deadline - time.GetUtcNow();
        var margin = SafetyMargin(remaining);
        var budget = remaining - margin;
        using var deadline = new CancellationTokenSource(budget > TimeSpan.Zero ? budget : TimeSpan.Zero, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);

        var work = Task.Run(() => handler.HandleAsync(invocation, linked.Token), CancellationToken.None);
        var finished = await Task.WhenAny(work, WhenCancelled(linked.Token));
        if (finished != work)
        {
            // The token fired: the handler should stop within half the margin, leaving the rest to report.
            var grace = TimeSpan.FromTicks(margin.Ticks / 2);
            await Task.WhenAny(work, Task.Delay(grace, time));
        }

        if (!work.IsCompleted)
        {
            var message = $"not done {Ms(budget)} into its {Ms(remaining)} (the deadline less a safety margin of {Ms(margin)}), and the handler did not stop: failed so that it is retried; the process exits so the next invocation starts clean";
            log.Failure("invocation failed", w => { w.WriteString("requestId", invocation.RequestId); w.WriteString("errorType", DeadlineExceeded); w.WriteString("errorMessage", message); });
            await client.ReportInvocationErrorAsync(invocation.RequestId, ErrorReport.Of(DeadlineExceeded, message), CancellationToken.None);
            return false;
        }

        ErrorReport error;
        try
        {
            var body = await work;
            await client.SendResponseAsync(invocation.RequestId, body, ct);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            error = ErrorReport.Of(DeadlineExceeded,
                $"not done {Ms(budget)} into its {Ms(remaining)} (the deadline less a safety margin of {Ms(margin)}): failed so that it is retried");
        }
        catch (InvocationFailedException ex)
        {
            error = ErrorReport.Of(ex.ErrorType, ex.Message);
        }
        catch (RuntimeApiException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !(ex is OperationCanceledException && ct.IsCancellationRequested))
        {
            error = ErrorReport.FromException(ex);
        }
        log.Failure("invocation failed", w =>
        {
            w.WriteString("requestId", invocation.RequestId);
            w.WriteString("errorType", error.ErrorType);
            w.WriteString("errorMessage", error.ErrorMessage);
        });
        await client.ReportInvocationErrorAsync(invocation.RequestId, error, ct);
        return true;
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        if (token.IsCancellationRequested) return Task.CompletedTask;
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), tcs);
        return tcs.Task;
    }

    private static string Ms(TimeSpan t) => $"{Math.Max(0, (long)t.TotalMilliseconds)} ms";
}
