using System.Collections.Concurrent;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Reflexes;
using EcsReflex.Core.State;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// The one reflex contract: routing picks exactly one reflex per event, a fourth reflex is a class and a registration,
/// and the actuator is the one committer of what a decision declares.
/// </summary>
public class ReflexContractTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string Task = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef";

    [Fact]
    public void EverySampleAndScenarioEvent_IsTakenByExactlyOneReflex_AndEveryReflexTakesSome()
    {
        var files = Directory.EnumerateFiles(Repository.Events, "*.json").Where(f => !f.EndsWith("cluster.snapshot.json", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .Concat(Directory.EnumerateFiles(Path.Combine(Repository.Events, "scenarios"), "*.jsonl").SelectMany(File.ReadAllLines).Where(l => l.TrimStart().StartsWith('{')));
        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        var events = 0;
        foreach (var json in files)
        {
            EventEnvelope e;
            try { e = EventParser.Parse(json); }
            catch (EventRejectedException) { continue; } // the scenarios hold rejected lines on purpose
            events++;
            var takers = Reflexes.All.Where(r => r.Takes(e.Detail)).Select(r => r.Name).ToList();
            Assert.True(takers.Count <= 1, $"{e.DetailType} {e.Id} is taken by {string.Join(", ", takers)}");
            if (e.Detail is UnsupportedDetail) Assert.Empty(takers);
            else Assert.Single(takers);
            foreach (var t in takers) taken[t] = taken.GetValueOrDefault(t) + 1;
            Assert.Equal(takers.SingleOrDefault(), Handlers.For(e.Detail));
        }
        Assert.True(events > 100, $"only {events} events were read");
        Assert.Equal([HandlerNames.TaskRescheduler, HandlerNames.PlacementGuard, HandlerNames.ServiceScaler, HandlerNames.Reconciler], Reflexes.All.Select(r => r.Name));
        // The reconciler takes EventBridge's Scheduled Event (as a rate() rule sends it), which no sample holds: the replay makes its own.
        var scheduled = EventParser.Parse("""
            {"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
             "time":"2026-03-02T12:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/reflex-reconcile"],"detail":{}}
            """);
        Assert.Equal(["arn:aws:events:us-east-1:123456789012:rule/reflex-reconcile"], Assert.IsType<ScheduledEvent>(scheduled.Detail).Rules);
        Assert.Equal(HandlerNames.Reconciler, Assert.Single(Reflexes.All, r => r.Takes(scheduled.Detail)).Name);
        taken[HandlerNames.Reconciler] = taken.GetValueOrDefault(HandlerNames.Reconciler) + 1;
        Assert.All(Reflexes.All, r => Assert.True(taken.GetValueOrDefault(r.Name) > 0, $"no event is taken by {r.Name}"));
    }

    [Fact]
    public async Task AFourthReflex_IsAClassAndARegistration_ItsActionsAreSentAndItsWritesCommitted()
    {
        var (reactor, ecs, store) = Build(new NightlyReflex());
        var e = Scheduled("nightly-1");

        var reaction = await reactor.HandleEventAsync(e, Now, CancellationToken.None);

        Assert.Equal(("nightly", Outcome.Acted, "nightly.stop"), (reaction.Handler, reaction.Outcome, reaction.Code));
        var stop = Assert.Single(ecs.Stops);
        Assert.Equal(Task, stop.Task);
        Assert.Equal(ActionStatus.Done, Assert.Single(reaction.Actions).State);
        var lineage = await store.GetLineageAsync("prod", "0123456789abcdef", CancellationToken.None);
        Assert.Equal((1, "nightly"), (lineage!.Attempt, lineage.Rule));
        // The engine's claims cover the new reflex too: the same event again is a duplicate, and nothing is sent twice.
        var again = await reactor.HandleEventAsync(e, Now.AddSeconds(5), CancellationToken.None);
        Assert.Equal((Outcome.Ignored, ReasonCodes.EngineDuplicate), (again.Outcome, again.Code));
        Assert.Single(ecs.Stops);
        // Registered for this reactor only: the product's routing does not know it.
        Assert.Null(Handlers.For(e.Detail));
    }

    [Fact]
    public async Task TheCommitter_WhenTheActionIsRefused_CommitsOnlyWhatDoesNotNeedIt()
    {
        var (reactor, ecs, store) = Build(new NightlyReflex());
        ecs.Refuse = true;

        var reaction = await reactor.HandleEventAsync(Scheduled("nightly-2"), Now, CancellationToken.None);

        Assert.Equal((Outcome.Failed, ReasonCodes.ActuatorActionFailed), (reaction.Outcome, reaction.Code));
        Assert.Equal(ActionStatus.Error, Assert.Single(reaction.Actions).State);
        // After action 0 and Acted: not committed. Always (an action was tried): committed. Unless failed: not.
        Assert.Null(await store.GetLineageAsync("prod", "0123456789abcdef", CancellationToken.None));
        Assert.NotNull(await store.GetServicePlacementAsync("prod", "always", CancellationToken.None));
        Assert.Null(await store.GetServicePlacementAsync("prod", "unless-failed", CancellationToken.None));
        Assert.Null(await store.GetDrainMoveAsync("prod", "0123456789abcdef", CancellationToken.None));
    }

    [Fact]
    public async Task TheCommitter_WhenTheClaimIsLostEveryTime_DecidesAgainMaxClaimsTimes_ThenFailsWithTheReflexsCode()
    {
        ClaimingReflex.Decisions = 0;
        var (reactor, ecs, store) = Build(new ClaimingReflex());
        // Someone else holds version 3 of the record the reflex keeps claiming at version 0.
        Assert.True(await store.TryPutScalingRecordAsync(new ServiceScalingRecord { Cluster = "prod", Service = "web" }, 0, CancellationToken.None));
        Assert.True(await store.TryPutScalingRecordAsync(new ServiceScalingRecord { Cluster = "prod", Service = "web" }, 1, CancellationToken.None));

        var reaction = await reactor.HandleEventAsync(Scheduled("claim-1"), Now, CancellationToken.None);

        Assert.Equal((Outcome.Failed, ReasonCodes.EngineClaimsLost), (reaction.Outcome, reaction.Code));
        Assert.Contains($"{Reactor.MaxClaims} times in a row", reaction.Reason);
        Assert.Equal(Reactor.MaxClaims, ClaimingReflex.Decisions);
        Assert.Empty(ecs.Stops); // nothing is sent for a decision whose claim was lost
    }

    private static (Reactor, RecordingEcsApi, InMemoryStateStore) Build(IReflex extra)
    {
        var policy = PolicyLoader.Load(File.ReadAllBytes(Repository.Policy));
        // The store's clock is the tests' Now: on the system clock, the claims of a fixed past Now expire once a day has gone by.
        var store = new InMemoryStateStore(new FakeTimeProvider(Now));
        var ecs = new RecordingEcsApi();
        var observer = new EmbeddedCluster(new ClusterSnapshot());
        return (new Reactor(policy, store, observer, new Actuator(ecs, store, policy), [.. Reflexes.All, extra]), ecs, store);
    }

    private static EventEnvelope Scheduled(string id) => new()
    {
        Version = "0", Id = id, DetailType = "Scheduled Event", Source = "aws.events", Time = Now,
        Detail = new UnsupportedDetail("aws.events", "Scheduled Event"),
    };

    /// <summary>A reflex the product does not have: the whole of it is this class and the registration in <see cref="Build"/>.</summary>
    private sealed class NightlyReflex : IReflex
    {
        public string Name => "nightly";
        public bool Takes(EventDetail detail) => detail is UnsupportedDetail { DetailType: "Scheduled Event" };

        public async ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct)
        {
            var before = await context.State.GetLineageAsync("prod", "0123456789abcdef", ct);
            var stop = ReflexAction.StopTask(new StopTaskRequest { Cluster = Cluster, Task = Task, Reason = "nightly" });
            return new Decision
            {
                Outcome = Outcome.Acted, Code = "nightly.stop", Reason = "a nightly stop", Actions = [stop],
                Writes =
                [
                    new LineageWrite(new LineageRecord { Cluster = "prod", Lineage = "0123456789abcdef", Rule = "nightly", Attempt = (before?.Attempt ?? 0) + 1 }).AfterAction(0),
                    new ServicePlacementWrite(new ServicePlacementRecord { Cluster = "prod", Service = "always" }),
                    new ServicePlacementWrite(new ServicePlacementRecord { Cluster = "prod", Service = "unless-failed" }).At(CommitPoint.UnlessFailed),
                    new DrainMoveWrite(new DrainMoveRecord
                    {
                        Cluster = "prod", Lineage = "0123456789abcdef", Rule = "nightly", OriginalTaskArn = Task, ContainerInstanceArn = "ci",
                        ReplacementStartedBy = "reflex/x/1", ReplacementClientToken = "t",
                    }).At(CommitPoint.Acted),
                ],
            };
        }
    }

    /// <summary>A reflex whose decision claims a record at a version that never holds.</summary>
    private sealed class ClaimingReflex : IReflex
    {
        public static int Decisions;
        public string Name => "claiming";
        public bool Takes(EventDetail detail) => detail is UnsupportedDetail { DetailType: "Scheduled Event" };

        public ValueTask<Decision> DecideAsync(ReflexContext context, ReflexInput input, CancellationToken ct)
        {
            Interlocked.Increment(ref Decisions);
            return ValueTask.FromResult(new Decision
            {
                Outcome = Outcome.Acted, Code = "claiming.stop", Reason = "stop under a claim",
                Actions = [ReflexAction.StopTask(new StopTaskRequest { Cluster = Cluster, Task = Task })],
                Writes = [new ScalingRecordWrite(new ServiceScalingRecord { Cluster = "prod", Service = "web" }, 0) { When = CommitPoint.Claim }],
            });
        }
    }

    private sealed class RecordingEcsApi : IEcsApi
    {
        public bool Refuse { get; set; }
        public ConcurrentQueue<StopTaskRequest> Stops { get; } = new();

        public ValueTask<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) => throw new NotSupportedException();
        public ValueTask<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => throw new NotSupportedException();

        public ValueTask<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct)
        {
            if (Refuse) throw new Refused();
            Stops.Enqueue(request);
            return ValueTask.FromResult(new StopTaskResponse(request.Task, "STOPPED"));
        }
    }

    private sealed class Refused() : ApiCallException("refused")
    {
        public override string Service => "ecs";
        public override string Operation => "StopTask";
        public override string ErrorCode => "InvalidParameterException";
        public override string ErrorMessage => "refused";
        public override bool IsTransient => false;
    }
}
