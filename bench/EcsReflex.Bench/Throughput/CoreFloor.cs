using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using EcsReflex.Engine.State;

namespace EcsReflex.Bench.Throughput;

/// <summary>
/// The pure core's share of a replay, over the stream: every line parsed, then the decision the engine would
/// make for it (<see cref="CoreDecisions.Decide"/>), and nothing else: no deduplication, no state store, no
/// actuator, no simulated ECS, no timers, no emitted events. What the decision reads is what the engine would
/// observe on first sight (an empty store, the snapshot's cluster): gathered through the engine's observe steps
/// once per thing observed (a container instance, a service, an alarm) and reused, so the observing costs next
/// to nothing. Any replay runs at least this work for every event, so its speed bounds the replay's from above.
/// </summary>
public sealed class CoreFloor(ReflexPolicy policy, ClusterSnapshot snapshot)
{
    private readonly Dictionary<(int Kind, string? A, string? B), Observations> _seen = [];
    private readonly EmbeddedCluster _cluster = new(snapshot);

    /// <summary>Decisions made (events the engine has a handler for).</summary>
    public long Decisions { get; private set; }

    /// <summary>Events parsed.</summary>
    public long Run(string file)
    {
        var pool = new StringPool(); // one per stream, as ReplayInputs.Read has
        long events = 0;
        foreach (var (_, bytes) in ReplayInputs.Lines(file))
        {
            var e = EventParser.Parse(bytes, pool);
            events++;
            var now = e.EffectiveTime ?? DateTimeOffset.UnixEpoch;
            if (CoreDecisions.Decide(e, policy, Observed(e, now), now) is not null) Decisions++;
        }
        return events;
    }

    private Observations Observed(EventEnvelope e, DateTimeOffset now)
    {
        var key = e.Detail switch
        {
            TaskStateChange t when EcsReflex.Core.Decisions.PlacementGuard.WatchesTask(t) => (5, t.ClusterArn, t.ContainerInstanceArn),
            TaskStateChange t => (1, t.ClusterArn, t.ContainerInstanceArn),
            ContainerInstanceStateChange i => (2, i.ClusterArn, i.ContainerInstanceArn),
            DeploymentStateChange d => (3, d.ClusterArn, d.ServiceArn),
            ServiceAction a => (3, a.ClusterArn, a.ServiceArn),
            AlarmStateChange a => (4, a.AlarmName, null),
            _ => (0, null, null),
        };
        if (_seen.TryGetValue(key, out var o)) return o;
        _cluster.Now = now;
        o = Observations.GatherAsync(e, policy, _cluster, new InMemoryStateStore()).GetAwaiter().GetResult();
        _seen[key] = o;
        return o;
    }
}
