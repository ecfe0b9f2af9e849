using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.TestSupport;

/// <summary>
/// A store (in memory or DynamoDB) except that the first read of the scaling record by each of
/// <paramref name="racers"/> invocations waits until all of them have read: they all decide from the same
/// version and race to write. Shared by the engine's race tests and the DynamoDB concurrency soak.
/// </summary>
public sealed class StartingLineStore(IStateStore inner, int racers, TimeSpan? wait = null) : IStateStore
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

    public async ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        var record = await inner.GetScalingRecordAsync(cluster, service, ct);
        var n = Interlocked.Increment(ref _arrived);
        if (n <= racers)
        {
            if (n == racers) _allRead.SetResult();
            await _allRead.Task.WaitAsync(_wait, ct);
        }
        return record;
    }

    public async ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        if (!_allRead.Task.IsCompleted) Interlocked.Increment(ref _writesBeforeAllRead);
        var ok = await inner.TryPutScalingRecordAsync(record, expectedVersion, ct);
        if (ok) Interlocked.Increment(ref _writes);
        return ok;
    }

    public ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct) => inner.GetClaimAsync(key, ct);
    public ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct) => inner.TryPutClaimAsync(record, condition, ct);
    public ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct) => inner.TryDeleteClaimAsync(key, token, ct);
    public ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct) => inner.GetLineageAsync(cluster, lineage, ct);
    public ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct) => inner.PutLineageAsync(record, ct);
    public ValueTask<long> TakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, CancellationToken ct) => inner.TakeRelaunchSlotAsync(cluster, minute, ct);
    public ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct) => inner.AppendAuditAsync(entry, ct);
    public ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) => inner.GetInstanceSeenAsync(cluster, containerInstanceArn, ct);
    public ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct) => inner.TryPutInstanceSeenAsync(record, ct);
    public ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct) => inner.GetDrainMoveAsync(cluster, lineage, ct);
    public ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct) => inner.PutDrainMoveAsync(record, ct);
    public ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) => inner.GetServicePlacementAsync(cluster, service, ct);
    public ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct) => inner.PutServicePlacementAsync(record, ct);
}
