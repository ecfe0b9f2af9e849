using System.Collections.Concurrent;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.State;

/// <summary>
/// The state store in memory: the replay's store, and the Lambda host's when no table is configured.
/// Thread-safe; expiry is judged against the time the caller passes (the replay's simulated clock).
/// </summary>
public sealed class InMemoryStateStore(TimeProvider? time = null) : IStateStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _events = new();
    private readonly ConcurrentDictionary<(string, string), LineageRecord> _lineages = new();
    private readonly ConcurrentDictionary<(string, DateTimeOffset), int> _slots = new();
    private readonly ConcurrentQueue<AuditEntry> _audit = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The simulated "now" used for expiry; when unset, the time provider's.</summary>
    public DateTimeOffset? Now { get; set; }

    private DateTimeOffset Current => Now ?? _time.GetUtcNow();

    public IReadOnlyCollection<AuditEntry> Audit => _audit;

    public Task<bool> HasEventAsync(string key, CancellationToken ct) =>
        Task.FromResult(_events.TryGetValue(key, out var expires) && expires > Current);

    public Task RecordEventAsync(string key, DateTimeOffset expiresAt, CancellationToken ct)
    {
        _events[key] = expiresAt;
        return Task.CompletedTask;
    }

    public Task<LineageRecord?> GetLineageAsync(string cluster, string lineage, CancellationToken ct) =>
        Task.FromResult(_lineages.TryGetValue((cluster, lineage), out var r) ? r : null);

    public Task PutLineageAsync(LineageRecord record, CancellationToken ct)
    {
        _lineages[(record.Cluster, record.Lineage)] = record;
        return Task.CompletedTask;
    }

    public IReadOnlyCollection<LineageRecord> Lineages => _lineages.Values.ToList();

    public Task<bool> TryTakeRelaunchSlotAsync(string cluster, DateTimeOffset minute, int limit, CancellationToken ct)
    {
        var taken = false;
        _slots.AddOrUpdate((cluster, minute), _ => { taken = limit > 0; return taken ? 1 : 0; },
            (_, n) => { taken = n < limit; return taken ? n + 1 : n; });
        return Task.FromResult(taken);
    }

    public Task AppendAuditAsync(AuditEntry entry, CancellationToken ct)
    {
        _audit.Enqueue(entry);
        return Task.CompletedTask;
    }

    private readonly Dictionary<(string, string), ServiceScalingRecord> _scaling = new();
    private readonly Lock _scalingGate = new();

    public Task<ServiceScalingRecord?> GetScalingRecordAsync(string cluster, string service, CancellationToken ct)
    {
        lock (_scalingGate) return Task.FromResult(_scaling.TryGetValue((cluster, service), out var r) ? r : null);
    }

    /// <summary>Conditional on the stored version, like DynamoDB's <c>ConditionExpression</c>: the compare and the write are one step.</summary>
    public Task<bool> TryPutScalingRecordAsync(ServiceScalingRecord record, long expectedVersion, CancellationToken ct)
    {
        lock (_scalingGate)
        {
            var key = (record.Cluster, record.Service);
            var stored = _scaling.TryGetValue(key, out var r) ? r.Version : 0;
            if (stored != expectedVersion) return Task.FromResult(false);
            _scaling[key] = record with { Version = expectedVersion + 1 };
            return Task.FromResult(true);
        }
    }

    public IReadOnlyCollection<ServiceScalingRecord> ScalingRecords { get { lock (_scalingGate) return [.. _scaling.Values]; } }
    // ---- placement guard

    private readonly ConcurrentDictionary<(string, string), InstanceSeenRecord> _instances = new();
    private readonly ConcurrentDictionary<(string, string), DrainMoveRecord> _moves = new();
    private readonly ConcurrentDictionary<(string, string), ServicePlacementRecord> _servicePlacements = new();

    public Task<InstanceSeenRecord?> GetInstanceSeenAsync(string cluster, string containerInstanceArn, CancellationToken ct) =>
        Task.FromResult(_instances.TryGetValue((cluster, containerInstanceArn), out var r) ? r : null);

    public Task<bool> TryPutInstanceSeenAsync(InstanceSeenRecord record, CancellationToken ct)
    {
        var written = false;
        _instances.AddOrUpdate((record.Cluster, record.ContainerInstanceArn),
            _ => { written = true; return record; },
            (_, old) =>
            {
                written = old.Version is not { } ov || record.Version is not { } nv || nv >= ov;
                return written ? record : old;
            });
        return Task.FromResult(written);
    }

    public Task<DrainMoveRecord?> GetDrainMoveAsync(string cluster, string lineage, CancellationToken ct) =>
        Task.FromResult(_moves.TryGetValue((cluster, lineage), out var r) ? r : null);

    public Task PutDrainMoveAsync(DrainMoveRecord record, CancellationToken ct)
    {
        _moves[(record.Cluster, record.Lineage)] = record;
        return Task.CompletedTask;
    }

    public IReadOnlyCollection<DrainMoveRecord> DrainMoves => _moves.Values.ToList();

    public Task<ServicePlacementRecord?> GetServicePlacementAsync(string cluster, string service, CancellationToken ct) =>
        Task.FromResult(_servicePlacements.TryGetValue((cluster, service), out var r) ? r : null);

    public Task PutServicePlacementAsync(ServicePlacementRecord record, CancellationToken ct)
    {
        _servicePlacements[(record.Cluster, record.Service)] = record;
        return Task.CompletedTask;
    }
}
