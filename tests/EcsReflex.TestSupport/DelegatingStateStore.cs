using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.TestSupport;

/// <summary>
/// A store that passes every member of <see cref="IStateStore"/> to <paramref name="inner"/>: the base of the tests' stores
/// that change one or two members (a starting line, a gate). The members with a default body in the interface
/// (<see cref="IStateStore.PutClaimAsync"/>, <see cref="IStateStore.TakeRelaunchSlotsAsync"/>, <see cref="IStateStore.WriteAsync"/>)
/// keep it, so they go through this store's members; a derived store that changes one of them re-implements the interface.
/// </summary>
public abstract class DelegatingStateStore(IStateStore inner) : IStateStore
{
    /// <summary>The store every member goes to.</summary>
    protected IStateStore Inner => inner;

    public virtual ValueTask<ClaimRecord?> GetClaimAsync(string key, CancellationToken ct) => inner.GetClaimAsync(key, ct);
    public virtual ValueTask<bool> TryPutClaimAsync(ClaimRecord record, ClaimCondition condition, CancellationToken ct) => inner.TryPutClaimAsync(record, condition, ct);
    public virtual ValueTask<bool> TryDeleteClaimAsync(string key, string token, CancellationToken ct) => inner.TryDeleteClaimAsync(key, token, ct);
    public virtual ValueTask<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct) => inner.GetLineageAsync(cluster, lineage, ct);
    public virtual ValueTask PutLineageAsync(LineageRecord record, CancellationToken ct) => inner.PutLineageAsync(record, ct);
    public virtual ValueTask<long> TakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, CancellationToken ct) => inner.TakeRelaunchSlotAsync(cluster, minute, ct);
    public virtual ValueTask AppendAuditAsync(AuditEntry entry, CancellationToken ct) => inner.AppendAuditAsync(entry, ct);
    public virtual ValueTask<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct) => inner.GetScalingRecordAsync(cluster, service, ct);
    public virtual ValueTask<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct) => inner.TryPutScalingRecordAsync(record, expectedVersion, ct);
    public virtual ValueTask<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) => inner.GetInstanceSeenAsync(cluster, containerInstanceArn, ct);
    public virtual ValueTask<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct) => inner.TryPutInstanceSeenAsync(record, ct);
    public virtual ValueTask<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct) => inner.GetDrainMoveAsync(cluster, lineage, ct);
    public virtual ValueTask PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct) => inner.PutDrainMoveAsync(record, ct);
    public virtual ValueTask<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) => inner.GetServicePlacementAsync(cluster, service, ct);
    public virtual ValueTask PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct) => inner.PutServicePlacementAsync(record, ct);
}
