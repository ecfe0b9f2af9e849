using EcsReflex.Aws.Sqs;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Deferred;

/// <summary>
/// The core's <see cref="IDelayQueue"/> on SQS. The body is <see cref="DeferredWorkJson"/>
/// (<c>{"event": {…the original event…}, "dueAt": "…"}</c>), the format the host's <c>relaunch-due</c> handler reads;
/// <c>DelaySeconds</c> is the remaining wait, at most 900 (SQS's limit). A longer wait surfaces early and the handler
/// sends it round again, unchanged, until it is due.
/// </summary>
public sealed class SqsDelayQueue(SqsClient sqs, string queueUrl, TimeProvider? time = null) : IDelayQueue
{
    /// <summary>The longest delay SQS allows on one message.</summary>
    public const int MaxDelaySeconds = 900;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string QueueUrl => queueUrl;

    /// <summary>The wait in whole seconds, rounded up (a message never surfaces before its due time), between 0 and 900.</summary>
    public static int DelaySecondsFor(DateTimeOffset dueAt, DateTimeOffset now)
    {
        var seconds = Math.Ceiling((dueAt - now).TotalSeconds);
        return seconds <= 0 ? 0 : seconds >= MaxDelaySeconds ? MaxDelaySeconds : (int)seconds;
    }

    public async Task SendAsync(DeferredWork work, CancellationToken ct)
    {
        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = queueUrl,
            MessageBody = DeferredWorkJson.Write(work),
            DelaySeconds = DelaySecondsFor(work.DueAt, _time.GetUtcNow()),
        }, ct).ConfigureAwait(false);
    }
}
