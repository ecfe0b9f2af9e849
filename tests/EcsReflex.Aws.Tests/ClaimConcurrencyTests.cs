using System.Text.Json.Nodes;
using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// Claim before acting (issue 14), on the DynamoDB store over dynalite: the same STOPPED failure event delivered 16
/// times at once to 16 reactors (16 Lambda invocations), and the same piece of deferred work delivered 16 times to
/// relaunch-due's path. Exactly one RunTask reaches ECS and the lineage counts one attempt; every other delivery
/// either finds the event processed or fails retryably because the claim is in progress. In the gated runs the
/// winner's RunTask waits until the 15 others have returned, so all of them meet the live claim.
/// </summary>
public sealed class ClaimConcurrencyTests(DynaliteFixture dynalite) : IClassFixture<DynaliteFixture>
{
    private const int Deliveries = 16;
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private static readonly TimeSpan Lease = ClaimRules.LeaseFor(TimeSpan.FromSeconds(30));

    private static ReflexPolicy Policy() => PolicyLoader.Load($$$"""
        {"clusters":[{"cluster":"{{{ClusterArn}}}","limits":{"maxRelaunchesPerMinute":100},
          "reschedule":[{"name":"w","match":{"group":"family:worker"},"restart":"OnFailure","maxAttempts":5,"backoff":{"initialSeconds":0}}]}]}
        """);

    /// <summary>The sample "essential container exited 1", under its own id or (a redelivery) another one.</summary>
    private static EventEnvelope Failure(string? id = null)
    {
        var e = JsonNode.Parse(File.ReadAllBytes(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")))!;
        if (id is not null) e["id"] = id;
        return EventParser.Parse(e.ToJsonString());
    }

    private sealed record Setup(ReflexPolicy Policy, DynamoDbStateStore Store, EmbeddedCluster Cluster, GatedEcs Ecs, DateTimeOffset Now);

    private async Task<Setup> SetUpAsync(bool gated)
    {
        var now = Failure().EffectiveTime!.Value;
        var store = new DynamoDbStateStore(dynalite.Client, await dynalite.NewTableAsync(), new FakeTimeProvider(now));
        var cluster = new EmbeddedCluster(new ClusterSnapshot()) { Now = now };
        return new Setup(Policy(), store, cluster, new GatedEcs(cluster, gated ? Deliveries - 1 : 0), now);
    }

    private static async Task<Reaction[]> DeliverAsync(Setup s, Func<Reactor, int, Task<Reaction>> deliver)
    {
        var reactions = await Task.WhenAll(Enumerable.Range(0, Deliveries).Select(i => Task.Run(async () =>
        {
            var reactor = new Reactor(s.Policy, s.Store, s.Cluster, new Actuator(s.Ecs, s.Store, s.Policy));
            try
            {
                return await deliver(reactor, i);
            }
            finally
            {
                s.Ecs.Returned();
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));
        return reactions;
    }

    private static async Task AssertActedOnceAsync(Setup s, Reaction[] reactions, bool gated)
    {
        Assert.Equal(1, s.Ecs.RunTasks);
        var acted = Assert.Single(reactions, r => r.Outcome == Outcome.Acted);
        Assert.Equal("RunTask", Assert.Single(acted.Actions).Action.Operation);
        var others = reactions.Where(r => r != acted).ToList();
        Assert.All(others, r => Assert.True(
            (r.Outcome == Outcome.Failed && r.Code == ReasonCodes.EngineClaimInProgress && r.Reason.StartsWith("in progress:", StringComparison.Ordinal))
            || (r.Outcome == Outcome.Ignored && r.Reason.StartsWith("duplicate", StringComparison.Ordinal)),
            $"{r.Outcome}: {r.Reason}"));
        if (gated) Assert.All(others, r => Assert.Equal(ReasonCodes.EngineClaimInProgress, r.Code));
        var t = (TaskStateChange)Failure().Detail;
        var lineage = await s.Store.GetLineageAsync(s.Policy.FindCluster(ClusterArn)!.Name, t.TaskId, default);
        Assert.Equal(1, lineage!.Attempt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheSameStoppedEventDeliveredSixteenTimesAtOnce_RelaunchesOnce_AndCountsOneAttempt(bool gated)
    {
        var s = await SetUpAsync(gated);

        // Half under the event's own id, half as redeliveries under other ids (the same task and detail.version).
        var reactions = await DeliverAsync(s, (reactor, i) =>
            reactor.HandleEventAsync(Failure(i % 2 == 0 ? null : $"redelivery-{i}"), s.Now, default, claimFor: Lease).AsTask());

        await AssertActedOnceAsync(s, reactions, gated);
        // What Lambda's retry of a delivery that failed on the claim then sees: the change processed.
        var loser = reactions.Select((r, i) => (r, i)).First(x => x.i % 2 == 1 && x.r.Outcome != Outcome.Acted).i;
        var retry = await new Reactor(s.Policy, s.Store, s.Cluster, new Actuator(s.Ecs, s.Store, s.Policy))
            .HandleEventAsync(Failure($"redelivery-{loser}"), s.Now + TimeSpan.FromMinutes(1), default, claimFor: Lease);
        Assert.Equal(Outcome.Ignored, retry.Outcome);
        Assert.StartsWith("duplicate: the same change", retry.Reason, StringComparison.Ordinal);
        Assert.Equal(1, s.Ecs.RunTasks);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheSameDeferredWorkDeliveredSixteenTimesAtOnce_RelaunchesOnce_AndCountsOneAttempt(bool gated)
    {
        var s = await SetUpAsync(gated);
        var e = Failure();

        var reactions = await DeliverAsync(s, (reactor, _) => reactor.HandleDueAsync(e, s.Now, default, dueAt: s.Now, claimFor: Lease).AsTask());

        await AssertActedOnceAsync(s, reactions, gated);
        var retry = await new Reactor(s.Policy, s.Store, s.Cluster, new Actuator(s.Ecs, s.Store, s.Policy))
            .HandleDueAsync(e, s.Now + TimeSpan.FromMinutes(3), default, dueAt: s.Now, claimFor: Lease);
        Assert.Equal(Outcome.Ignored, retry.Outcome);
        Assert.StartsWith("duplicate delivery", retry.Reason, StringComparison.Ordinal);
        Assert.Equal(1, s.Ecs.RunTasks);
    }

    /// <summary>
    /// The embedded cluster's ECS API, counting RunTask; with a gate, a RunTask waits (10 s at most) until
    /// <c>others</c> deliveries have returned, so they all run while the winner holds its claim.
    /// </summary>
    private sealed class GatedEcs(EmbeddedCluster cluster, int others) : IEcsApi
    {
        private readonly TaskCompletionSource _othersReturned = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _returned;
        private int _runTasks;

        public int RunTasks => Volatile.Read(ref _runTasks);

        public void Returned()
        {
            if (Interlocked.Increment(ref _returned) >= others) _othersReturned.TrySetResult();
        }

        public async ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct)
        {
            if (others > 0)
                await Task.WhenAny(_othersReturned.Task, Task.Delay(TimeSpan.FromSeconds(10), ct));
            Interlocked.Increment(ref _runTasks);
            return await cluster.RunTaskAsync(request, ct);
        }

        public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => cluster.StopTaskAsync(request, ct);
        public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => cluster.UpdateServiceAsync(request, ct);
    }
}
