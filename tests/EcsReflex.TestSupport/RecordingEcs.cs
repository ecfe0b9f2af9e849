using System.Collections.Concurrent;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;

namespace EcsReflex.TestSupport;

/// <summary>The ECS API of the embedded cluster, recording every UpdateService it is sent (optionally refusing them).</summary>
public sealed class RecordingEcs(EmbeddedCluster cluster, Exception? failUpdates = null) : IEcsApi
{
    public ConcurrentQueue<UpdateServiceRequest> Updates { get; } = new();

    public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) => cluster.RunTaskAsync(request, ct);
    public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => cluster.StopTaskAsync(request, ct);

    public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct)
    {
        if (failUpdates is not null) throw failUpdates;
        Updates.Enqueue(request);
        return cluster.UpdateServiceAsync(request, ct);
    }
}
