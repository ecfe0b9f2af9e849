using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.TestSupport;

/// <summary>
/// A store (in memory or DynamoDB) except that the first read of the scaling record by each of
/// <paramref name="racers"/> invocations waits until all of them have read: they all decide from the same
/// version and race to write. Shared by the engine's race tests and the DynamoDB concurrency soak.
/// </summary>
public sealed class StartingLineStore(IStateStore inner, int racers, TimeSpan? wait = null) : DelegatingStateStore(inner)
{
    private readonly TimeSpan _wait = wait ?? TimeSpan.FromSeconds(30);
    private int _arrived;
    private int _writes;
    private int _writesBeforeAllRead;
    private readonly TaskCompletionSource _allRead = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Scaling record writes that the store accepted.</summary>
    public int SuccessfulWrites => Volatile.Read(ref _writes);

    /// <summary>Every racer read the record before any of them wrote.</summary>
    public bool AllStartedTogether => Volatile.Read(ref _arrived) >= racers && Volatile.Read(ref _writesBeforeAllRead) == 0;

    public override async ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        var record = await Inner.GetScalingRecordAsync(cluster, service, ct);
        var n = Interlocked.Increment(ref _arrived);
        if (n <= racers)
        {
            if (n == racers) _allRead.SetResult();
            await _allRead.Task.WaitAsync(_wait, ct);
        }
        return record;
    }

    public override async ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        if (!_allRead.Task.IsCompleted) Interlocked.Increment(ref _writesBeforeAllRead);
        var ok = await Inner.TryPutScalingRecordAsync(record, expectedVersion, ct);
        if (ok) Interlocked.Increment(ref _writes);
        return ok;
    }
}
