using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EcsReflex.Aws.Deferred;
using IDelayQueue = EcsReflex.Aws.Deferred.IDelayQueue;
using DeferredWork = EcsReflex.Aws.Deferred.DeferredWork;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Core.State;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests;

/// <summary>Deferred relaunches through SQS and the relaunch-due consumer.</summary>
public sealed class DelayQueueTests
{
    private static readonly string ExitOneEvent = File.ReadAllText(RepoPaths.At("events", "ecs-task-stopped-essential-exit-1.json"));
    private static readonly DateTimeOffset StoppedAt = DateTimeOffset.Parse("2026-03-02T09:20:11.482Z", System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The sample's first back-off: attempt 1 waits 10 s after the stop.</summary>
    private static readonly DateTimeOffset Due = StoppedAt.AddSeconds(10);

    private static JsonElement Event(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static TheoryData<int, int> Delays => new()
    {
        { -5, 0 }, { 0, 0 }, { 1, 1 }, { 899, 899 }, { 900, 900 }, { 901, 900 }, { 7200, 900 },
    };

    [Theory]
    [MemberData(nameof(Delays))]
    public void DelaySeconds_IsTheWaitInWholeSecondsCappedAtFifteenMinutes(int seconds, int expected)
    {
        var now = StoppedAt;
        Assert.Equal(expected, SqsDelayQueue.DelaySecondsFor(now.AddSeconds(seconds), now));
        Assert.Equal(Math.Min(900, Math.Max(0, seconds + 1)), SqsDelayQueue.DelaySecondsFor(now.AddSeconds(seconds + 0.2), now));
    }

    private static StubReply SqsAnswer(StubRequest r)
    {
        using var doc = JsonDocument.Parse(r.Body);
        var body = doc.RootElement.GetProperty("MessageBody").GetString()!;
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
        return new JsonReply(200, $$"""{"MessageId":"m-{{r.Index}}","MD5OfMessageBody":"{{md5}}"}""", "application/x-amz-json-1.0", "sqs-req");
    }

    [Fact]
    public async Task Enqueue_SendsTheOriginalEventAndDueTimeWithDelaySecondsThroughTheSdk()
    {
        await using var stub = await AwsStub.StartAsync(SqsAnswer);
        using var clients = StubClients.Create(stub);
        using var sqs = clients.CreateSqs();
        var queue = new SqsDelayQueue(sqs, "https://sqs.eu-west-3.amazonaws.com/123456789012/reflex-delay");

        await queue.EnqueueAsync(new DeferredWork(Event(ExitOneEvent), "55e47226", Handlers.TaskRescheduler, Due, "back-off"), StoppedAt, default);
        await queue.EnqueueAsync(new DeferredWork(Event(ExitOneEvent), "55e47226", Handlers.TaskRescheduler, StoppedAt.AddHours(2), "rate limit"), StoppedAt, default);

        var sent = stub.For("SendMessage");
        Assert.Equal(2, sent.Count);
        Assert.Equal("AmazonSQS.SendMessage", sent[0].Target);
        using var first = JsonDocument.Parse(sent[0].Body);
        Assert.Equal("https://sqs.eu-west-3.amazonaws.com/123456789012/reflex-delay", first.RootElement.GetProperty("QueueUrl").GetString());
        Assert.Equal(10, first.RootElement.GetProperty("DelaySeconds").GetInt32());
        var message = RelaunchDueConsumer.TryRead(first.RootElement.GetProperty("MessageBody").GetString(), out var problem);
        Assert.True(message is not null, problem);
        Assert.Equal((DueMessage.CurrentFormat, "55e47226", Due, "back-off"), (message.Format, message.EventId, message.DueAt, message.Reason));
        Assert.Equal("55e47226-f6fa-e081-ec19-ae951e98ae6b", message.Event.GetProperty("id").GetString());
        Assert.Equal(900, JsonDocument.Parse(sent[1].Body).RootElement.GetProperty("DelaySeconds").GetInt32());
        Assert.Matches("Credential=AKIDEXAMPLE/\\d{8}/eu-west-3/sqs/aws4_request", sent[0].Headers["Authorization"]);
    }

    private sealed class RecordingQueue : IDelayQueue
    {
        public List<(DeferredWork Work, DateTimeOffset Now)> Sent { get; } = [];

        public Task EnqueueAsync(DeferredWork work, DateTimeOffset now, CancellationToken ct)
        {
            Sent.Add((work, now));
            return Task.CompletedTask;
        }
    }

    private sealed class ThrottledEcs : IEcsApi
    {
        private static AwsServiceException Throttled(string op) =>
            new("ecs", op, AwsErrorKind.Throttling, "ThrottlingException", "Rate exceeded", System.Net.HttpStatusCode.BadRequest, "r", 6);

        public Task<RunTaskResponse> RunTaskAsync(RunTaskRequest request, CancellationToken ct) => throw Throttled("RunTask");
        public Task<StopTaskResponse> StopTaskAsync(StopTaskRequest request, CancellationToken ct) => throw Throttled("StopTask");
        public Task<UpdateServiceResponse> UpdateServiceAsync(UpdateServiceRequest request, CancellationToken ct) => throw Throttled("UpdateService");
    }

    private sealed class Harness
    {
        public Harness(int perMinute = 20, IEcsApi? ecs = null)
        {
            var (policy, errors) = PolicyLoader.TryLoad(File.ReadAllBytes(RepoPaths.At("reflex.policy.json")));
            Assert.Empty(errors);
            policy = policy! with { Clusters = [policy.Clusters[0] with { Limits = new ClusterLimits { MaxRelaunchesPerMinute = perMinute } }] };
            Cluster = new EmbeddedCluster(SnapshotReader.Parse(File.ReadAllBytes(RepoPaths.At("events", "cluster.snapshot.json"))));
            Store = new InMemoryStateStore(Time);
            var reactor = new Reactor(policy, Store, Cluster, new Actuator(ecs ?? Cluster, Store, policy));
            Consumer = new RelaunchDueConsumer(reactor, Queue, Store, Time);
        }

        public FakeTimeProvider Time { get; } = new(Due);
        public EmbeddedCluster Cluster { get; }
        public InMemoryStateStore Store { get; }
        public RecordingQueue Queue { get; } = new();
        public RelaunchDueConsumer Consumer { get; }
    }

    private static SqsMessage Message(string id, string eventJson, DateTimeOffset due, string? eventId = null) => new()
    {
        MessageId = id,
        Body = JsonSerializer.Serialize(DueMessage.From(new DeferredWork(Event(eventJson), eventId ?? Event(eventJson).GetProperty("id").GetString()!,
            Handlers.TaskRescheduler, due, "back-off"), StoppedAt), DeferredJsonContext.Default.DueMessage),
    };

    private static string OtherTask(string json, string suffix) =>
        json.Replace("358146732611a74220cda34501da72fd", $"3581467326{suffix}", StringComparison.Ordinal)
            .Replace("55e47226-f6fa-e081-ec19-ae951e98ae6b", $"55e47226-f6fa-e081-ec19-{suffix}", StringComparison.Ordinal);

    [Fact]
    public async Task Handle_WhenTheWorkIsDue_RelaunchesThroughTheDecisionPath()
    {
        var h = new Harness();

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, Due)] }, default);

        var r = Assert.Single(result.Records);
        Assert.True(r.Status == "acted", r.Reason);
        Assert.Equal(1, h.Cluster.TasksStarted);
        Assert.Equal("reflex/358146732611a74220cda34501da72fd/1", h.Cluster.Tasks.Single(t => t.StartedBy?.StartsWith("reflex/") == true).StartedBy);
        Assert.Empty(result.Response.BatchItemFailures);
        Assert.Empty(h.Queue.Sent);
    }

    [Fact]
    public async Task Handle_TheSameMessageTwice_RelaunchesOnce()
    {
        var h = new Harness();
        var message = Message("m1", ExitOneEvent, Due);

        var first = await h.Consumer.HandleAsync(new SqsEvent { Records = [message] }, default);
        var second = await h.Consumer.HandleAsync(new SqsEvent { Records = [message] }, default);

        Assert.Equal("acted", first.Records[0].Status);
        Assert.Equal("duplicate", second.Records[0].Status);
        Assert.Equal(1, h.Cluster.TasksStarted);
        Assert.Empty(second.Response.BatchItemFailures);
    }

    [Fact]
    public async Task Handle_WhenTheWaitIsLongerThanSqsAllows_PutsItBackForTheRest()
    {
        var h = new Harness();
        var due = Due.AddHours(2);

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, due)] }, default);

        Assert.Equal("requeued", result.Records[0].Status);
        var (work, now) = Assert.Single(h.Queue.Sent);
        Assert.Equal((due, 1), (work.DueAt, work.Hops));
        Assert.Equal(900, SqsDelayQueue.DelaySecondsFor(work.DueAt, now));
        Assert.Equal(0, h.Cluster.TasksStarted);
        Assert.Empty(result.Response.BatchItemFailures);
    }

    [Fact]
    public async Task Handle_WhenTheLineageWasGivenUpMeanwhile_DoesNotRelaunch()
    {
        var h = new Harness();
        await h.Store.PutLineageAsync(new LineageRecord
        {
            Cluster = "prod", Lineage = "358146732611a74220cda34501da72fd", Rule = "batch-workers", Attempt = 5, GivenUp = true,
        }, default);

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, Due)] }, default);

        Assert.Equal("ignored", result.Records[0].Status);
        Assert.Contains("given up", result.Records[0].Reason);
        Assert.Equal(0, h.Cluster.TasksStarted);
    }

    [Fact]
    public async Task Handle_WhenTheRateLimitHoldsARelaunch_PutsItBackForTheNextMinute()
    {
        var h = new Harness(perMinute: 1);
        var other = OtherTask(ExitOneEvent, "aaaaaaaaaaaaaaaaaaaaaa");

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, Due), Message("m2", other, Due)] }, default);

        Assert.Equal(["acted", "deferred"], result.Records.Select(r => r.Status));
        Assert.Equal(1, h.Cluster.TasksStarted);
        var (work, _) = Assert.Single(h.Queue.Sent);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 9, 21, 0, TimeSpan.Zero), work.DueAt);
        Assert.Equal("55e47226-f6fa-e081-ec19-aaaaaaaaaaaaaaaaaaaaaa", work.Event.GetProperty("id").GetString());
        Assert.Empty(result.Response.BatchItemFailures);
    }

    [Fact]
    public async Task Handle_WhenEcsStaysThrottled_ReportsThatMessageForRedeliveryAndHandlesTheOthers()
    {
        var h = new Harness(ecs: new ThrottledEcs());

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, Due), Message("m2", ExitOneEvent, Due.AddHours(1))] }, default);

        Assert.Equal(["retry", "requeued"], result.Records.Select(r => r.Status));
        Assert.Equal(["m1"], result.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
        Assert.Contains("ThrottlingException", result.Records[0].Reason);
    }

    public static TheoryData<string, string?> UnreadableBodies => new()
    {
        { "empty", "" },
        { "not JSON", "relaunch please" },
        { "another format", """{"format":"other/2","eventId":"e","handler":"h","dueAt":"2026-03-02T09:20:21Z","event":{}}""" },
        { "no event", """{"format":"ecsreflex.due/1","eventId":"e","handler":"h","dueAt":"2026-03-02T09:20:21Z"}""" },
        { "an event that is not an event", """{"format":"ecsreflex.due/1","eventId":"e","handler":"h","dueAt":"2026-03-02T09:20:21Z","event":{"id":1}}""" },
    };

    [Theory]
    [MemberData(nameof(UnreadableBodies))]
    public async Task Handle_AnUnreadableMessage_IsReportedSoTheRedrivePolicyDeadLettersIt(string what, string? body)
    {
        var h = new Harness();

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [new SqsMessage { MessageId = "bad", Body = body }, Message("m1", ExitOneEvent, Due)] }, default);

        Assert.True(result.Records[0].Status == "unreadable", $"{what}: {result.Records[0].Status}");
        Assert.Equal(["bad"], result.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
        Assert.Equal("acted", result.Records[1].Status);
    }

    [Fact]
    public async Task Handle_WhenTheDeadlineHasCome_LeavesEveryMessageForRedelivery()
    {
        var h = new Harness();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var result = await h.Consumer.HandleAsync(new SqsEvent { Records = [Message("m1", ExitOneEvent, Due), Message("m2", ExitOneEvent, Due)] }, cancelled.Token);

        Assert.Equal(["m1", "m2"], result.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
        Assert.Equal(0, h.Cluster.TasksStarted);
    }

    [Fact]
    public void BatchResponse_SerialisesAsLambdaExpects()
    {
        var json = JsonSerializer.Serialize(new SqsBatchResponse { BatchItemFailures = [new BatchItemFailure("m1")] }, DeferredJsonContext.Default.SqsBatchResponse);
        Assert.Equal("""{"batchItemFailures":[{"itemIdentifier":"m1"}]}""", json);
        var batch = JsonSerializer.Deserialize("""{"Records":[{"messageId":"m1","receiptHandle":"h","body":"{}","attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"md5OfBody":"x","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q","awsRegion":"us-east-1"}]}""",
            DeferredJsonContext.Default.SqsEvent)!;
        Assert.Equal("m1", Assert.Single(batch.Records).MessageId);
    }
}
