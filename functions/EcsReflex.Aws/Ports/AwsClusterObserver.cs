using System.Collections.Concurrent;
using EcsReflex.Aws.Ecs;
using EcsReflex.Core;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Ports;

/// <summary>
/// The core's <see cref="IClusterObserver"/> on real ECS. What it reads is cached for the life of the instance:
/// create one per invocation (it is cheap), so one invocation asks ECS at most once per container instance and
/// never decides on something older than itself.
/// </summary>
public sealed class AwsClusterObserver(EcsClient ecs) : IClusterObserver
{
    private readonly ConcurrentDictionary<(string Cluster, string Instance), Task<string?>> _ec2Ids = new();

    /// <summary>How many DescribeContainerInstances calls this instance made (for tests and logs).</summary>
    public int Calls => _calls;
    private int _calls;

    public Task<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        var key = (clusterArn, containerInstanceArn);
        var task = _ec2Ids.GetOrAdd(key, k => FetchAsync(k.Cluster, k.Instance, ct));
        if (task.IsFaulted || task.IsCanceled) _ec2Ids.TryRemove(new KeyValuePair<(string, string), Task<string?>>(key, task)); // failures are not remembered
        return task;
    }

    private async Task<string?> FetchAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        try
        {
            var r = await ecs.DescribeContainerInstancesAsync(new DescribeContainerInstancesRequest
            {
                Cluster = clusterArn,
                ContainerInstances = [containerInstanceArn],
            }, ct).ConfigureAwait(false);
            var id = Arns.ContainerInstanceId(containerInstanceArn);
            return r.ContainerInstances.FirstOrDefault(c => c.ContainerInstanceArn == containerInstanceArn
                                                            || Arns.ContainerInstanceId(c.ContainerInstanceArn) == id)?.Ec2InstanceId;
        }
        catch
        {
            _ec2Ids.TryRemove((clusterArn, containerInstanceArn), out _);
            throw;
        }
    }
}
