using System.Collections.Concurrent;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;

namespace EcsReflex.Lambda.Emulator;

/// <summary>A message the bootstrap put on the emulator's delay queue: the body exactly as sent, and the work it carries.</summary>
public sealed record QueuedWork(string Body, DeferredWork Work);

/// <summary>
/// The world a bootstrap in local replay mode works against, shared by every handler process of one
/// replay (as deployed functions share the table): the in-memory state store, the embedded cluster, the
/// delay queue and the dead-letter queue, and the replay's simulated clock.
/// </summary>
public sealed class LocalServices(InMemoryStateStore store, EmbeddedCluster cluster)
{
    private readonly ConcurrentQueue<QueuedWork> _deferred = new();
    private readonly ConcurrentQueue<DeadLetter> _deadLetters = new();

    public InMemoryStateStore Store => store;
    public EmbeddedCluster Cluster => cluster;

    /// <summary>The simulated "now": sent with each invocation, and used for the store's expiry.</summary>
    public DateTimeOffset? Now
    {
        get => store.Now;
        set
        {
            store.Now = value;
            if (value is { } v) cluster.Now = v;
        }
    }

    public IReadOnlyCollection<DeadLetter> DeadLetters => _deadLetters;

    public void Enqueue(QueuedWork work) => _deferred.Enqueue(work);
    public void DeadLetter(DeadLetter letter) => _deadLetters.Enqueue(letter);

    /// <summary>Takes the deferred work queued so far, in the order it was sent.</summary>
    public IReadOnlyList<QueuedWork> DrainDeferred()
    {
        var list = new List<QueuedWork>();
        while (_deferred.TryDequeue(out var w)) list.Add(w);
        return list;
    }
}
