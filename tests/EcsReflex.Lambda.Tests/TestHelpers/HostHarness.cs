using System.Text.Json;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Handlers;
using EcsReflex.Lambda.Logging;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>A handler wired to in-memory ports and recording queues, with its log and metric lines.</summary>
public sealed class HostHarness
{
    public HostHarness(DateTimeOffset now, string? policyJson = null, bool dryRun = true, IEcsApi? ecs = null, IClusterObserver? observer = null)
    {
        Store = new InMemoryStateStore { Now = now };
        Cluster = new EmbeddedCluster(SnapshotReader.Parse(File.ReadAllBytes(Repository.Snapshot))) { Now = now };
        Now = now;
        Policy = policyJson is null ? PolicyLoader.Load(File.ReadAllBytes(Repository.Policy)) : PolicyLoader.Load(policyJson);
        Services = new HostServices
        {
            Policy = Policy, Store = Store, Observer = observer ?? Cluster, Ecs = ecs ?? Cluster,
            DelayQueue = Delay, DelayQueueMode = "queued", DeadLetters = DeadLetters, DeadLetterMode = "queued",
            Clock = new HarnessClock(this), DryRun = dryRun,
            AwsErrorCode = ex => ex is HttpRequestException ? "ServiceUnavailable" : null,
        };
    }

    public static HostHarness AtTimeOf(string sampleEvent, string? policyJson = null, bool dryRun = true, IEcsApi? ecs = null, IClusterObserver? observer = null) =>
        new(EventParser.Parse(Repository.Event(sampleEvent)).EffectiveTime!.Value, policyJson, dryRun, ecs, observer);

    /// <summary>The decision clock, the store's and the cluster's: set it to move the harness in time.</summary>
    public DateTimeOffset Now
    {
        get;
        set
        {
            field = value;
            Store.Now = value;
            Cluster.Now = value;
        }
    }

    private sealed class HarnessClock(HostHarness h) : Bootstrap.IDecisionClock
    {
        public DateTimeOffset Now(InvocationRequest invocation) => h.Now;
    }
    public InMemoryStateStore Store { get; }
    public EmbeddedCluster Cluster { get; }
    public ReflexPolicy Policy { get; }
    public RecordingDelayQueue Delay { get; } = new();
    public RecordingDeadLetters DeadLetters { get; } = new();
    public RecordingLineWriter Output { get; } = new();
    public HostServices Services { get; }

    public IInvocationHandler Handler(string name) =>
        name == HandlerNames.RelaunchDue
            ? new RelaunchDueHandler(Services, Log(name), TimeProvider.System)
            : new EventBridgeHandler(name, Services, Log(name), TimeProvider.System);

    private JsonLog Log(string name) => new(Output, TimeProvider.System, name);

    private int _requests;

    public async Task<JsonElement> InvokeAsync(string handler, byte[] payload, CancellationToken ct = default)
    {
        var body = await Handler(handler).HandleAsync(Invocation(payload), ct);
        return Json.Parse(body.ToArray());
    }

    public InvocationRequest Invocation(byte[] payload) =>
        new($"req-{++_requests}", DateTimeOffset.UtcNow.AddMinutes(1), "arn:aws:lambda:us-east-1:123456789012:function:reflex", null, payload);

    public IReadOnlyList<JsonElement> Lines => Output.Lines.Select(Json.Parse).ToList();
    public IReadOnlyList<JsonElement> Reactions => Lines.Where(l => l.TryGetProperty("message", out var m) && m.GetString() == "reaction").ToList();
    public IReadOnlyList<JsonElement> Emf => Lines.Where(l => l.TryGetProperty("_aws", out _)).ToList();

    /// <summary>The delay-queue message for <paramref name="eventJson"/>, due at <paramref name="due"/>, as an SQS batch.</summary>
    public static byte[] SqsBatch(params (string Id, string Body)[] messages) =>
        Emulator.SqsEvents.Batch(messages, DateTimeOffset.UtcNow);
}
