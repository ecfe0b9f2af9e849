using System.Text;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

public sealed class HandlerTests
{
    private const string Rescheduler = "task-rescheduler";
    private const string RelaunchDue = "relaunch-due";

    [Fact]
    public async Task TaskRescheduler_WhenTheBackOffDefersTheRelaunch_QueuesTheOriginalEventWithItsDueTime()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-essential-exit-1.json");
        var payload = Repository.Event("ecs-task-stopped-essential-exit-1.json");

        var response = await h.InvokeAsync(Rescheduler, payload);

        Assert.Equal("deferred", response.GetProperty("outcome").GetString());
        var work = Assert.Single(h.Delay.Sent);
        Assert.Equal(Encoding.UTF8.GetString(payload), work.EventJson);
        Assert.Equal(DateTimeOffset.Parse("2026-03-02T09:20:21.482Z"), work.DueAt);
        Assert.Equal("queued", response.GetProperty("delayQueue").GetString());
        Assert.Empty(h.DeadLetters.Sent);
    }

    [Fact]
    public async Task TaskRescheduler_WhenTheDelayQueueFails_FailsTheInvocationAndTheRetryDefersAgain()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-essential-exit-1.json");
        var payload = Repository.Event("ecs-task-stopped-essential-exit-1.json");
        h.Delay.FailWith = new HttpRequestException("SQS is unreachable");

        await Assert.ThrowsAsync<HttpRequestException>(() => h.InvokeAsync(Rescheduler, payload));
        h.Delay.FailWith = null;
        var retry = await h.InvokeAsync(Rescheduler, payload);

        // Not remembered as processed by the failed attempt: the retry is not taken for a duplicate.
        Assert.Equal("deferred", retry.GetProperty("outcome").GetString());
        Assert.Single(h.Delay.Sent);
    }

    [Fact]
    public async Task TaskRescheduler_WhenTheSameEventArrivesTwice_ActsOnce()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json");
        var payload = Repository.Event("ecs-task-stopped-spot-interruption.json");

        var first = await h.InvokeAsync(Rescheduler, payload);
        var second = await h.InvokeAsync(Rescheduler, payload);

        Assert.Equal("acted", first.GetProperty("outcome").GetString());
        Assert.Equal("RunTask", first.GetProperty("actions")[0].GetProperty("operation").GetString());
        Assert.Equal("dry-run", first.GetProperty("actions")[0].GetProperty("status").GetString());
        Assert.Equal("ignored", second.GetProperty("outcome").GetString());
        Assert.StartsWith("duplicate", second.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TaskRescheduler_WhenAnotherInvocationHoldsTheEventsClaim_FailsRetryably_AndTheRetryActsOnceTheClaimLapses()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json");
        var payload = Repository.Event("ecs-task-stopped-spot-interruption.json");
        var envelope = EcsReflex.Core.Events.EventParser.Parse(payload);
        var id = envelope.Id;
        // Another invocation claimed the event (its change's key, the token naming the event) and is still at work (or
        // crashed: its claim lapses at its deadline).
        Assert.True(await h.Store.TryPutClaimAsync(new ClaimRecord
        {
            Key = Assert.Single(EcsReflex.Engine.Reactor.DedupKeys(envelope)), Status = ClaimStatus.InProgress, Token = ClaimRules.Token(id),
            ExpiresAt = h.Now.AddSeconds(32),
        }, ClaimCondition.Free, default));

        var ex = await Assert.ThrowsAsync<InvocationFailedException>(() => h.InvokeAsync(Rescheduler, payload));

        // Failed, so Lambda retries it: not rejected, so not dead-lettered and acknowledged.
        Assert.Equal("Reflex.ClaimInProgress", ex.ErrorType);
        Assert.StartsWith($"in progress: event {id} is being handled by another delivery", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.DeadLetters.Sent);
        Assert.Equal("failed", Assert.Single(h.Reactions).GetProperty("outcome").GetString());
        Assert.Equal(1, Assert.Single(h.Emf).GetProperty("Reactions.Failed").GetInt32());

        h.Now = h.Now.AddMinutes(1); // Lambda's first retry: the claim has lapsed
        var retry = await h.InvokeAsync(Rescheduler, payload);
        Assert.Equal("acted", retry.GetProperty("outcome").GetString());
        Assert.Equal("RunTask", retry.GetProperty("actions")[0].GetProperty("operation").GetString());
    }

    [Fact]
    public async Task RelaunchDue_WhenAnotherInvocationHoldsTheWorksClaim_ListsTheMessageForRedelivery_AndItsRedeliveryIsADuplicate()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        var ecs = new ScriptedEcsApi();
        var h = new HostHarness(due, dryRun: false, ecs: ecs);
        var body = DeferredWorkJson.Write(new DeferredWork(eventJson, due));
        var key = ClaimRules.DueKey(EcsReflex.Core.Events.EventParser.Parse(eventJson).Id, due);
        Assert.True(await h.Store.TryPutClaimAsync(new ClaimRecord
        {
            Key = key, Status = ClaimStatus.InProgress, Token = "other-invocation", ExpiresAt = due.AddSeconds(32),
        }, ClaimCondition.Free, default));

        var first = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", body)));

        Assert.Equal("m-1", Assert.Single(first.GetProperty("batchItemFailures").EnumerateArray()).GetProperty("itemIdentifier").GetString());
        Assert.Empty(ecs.Received.OfType<EcsReflex.Core.Ecs.RunTaskRequest>());
        Assert.Empty(h.DeadLetters.Sent);
        Assert.Equal("failed", Assert.Single(h.Reactions).GetProperty("outcome").GetString());

        // The other invocation completed the work; SQS delivers m-1 again after the visibility timeout.
        Assert.True(await h.Store.TryPutClaimAsync(new ClaimRecord
        {
            Key = key, Status = ClaimStatus.Completed, Token = "other-invocation", ExpiresAt = due.AddHours(24),
        }, ClaimCondition.Holds("other-invocation"), default));
        var again = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", body)));

        Assert.Empty(again.GetProperty("batchItemFailures").EnumerateArray());
        Assert.Equal("ignored", h.Reactions[1].GetProperty("outcome").GetString());
        Assert.Contains("duplicate delivery", h.Reactions[1].GetProperty("reason").GetString());
        Assert.Empty(ecs.Received.OfType<EcsReflex.Core.Ecs.RunTaskRequest>());
    }

    public static TheoryData<string, string, string> PoisonPayloads => new()
    {
        { "not json at all", "invalid-json", "not valid JSON" },
        { "[1,2,3]", "not-an-event", "expected an EventBridge event" },
        { """{"version":"0","id":"e-1","detail-type":"ECS Task State Change","source":"aws.ecs","time":"2026-03-02T09:20:11Z","detail":{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","lastStatus":"STOPPED"}}""", "missing-field", "detail.taskArn: required field is missing" },
        { """{"version":"0","id":"e-2","detail-type":"ECS Task State Change","source":"aws.ecs","time":"2026-03-02T09:20:11Z","detail":{"clusterArn":"c","taskArn":"t","lastStatus":"STOPPED","containers":[{"exitCode":"abc"}]}}""", "wrong-type", "detail.containers[0].exitCode" },
    };

    [Theory]
    [MemberData(nameof(PoisonPayloads))]
    public async Task EventHandler_WhenTheParserRejectsTheEvent_DeadLettersItWithTheReasonThenAcknowledges(string payload, string code, string reasonPart)
    {
        var h = new HostHarness(DateTimeOffset.Parse("2026-03-02T09:20:11Z"));

        var response = await h.InvokeAsync(Rescheduler, Encoding.UTF8.GetBytes(payload));

        var letter = Assert.Single(h.DeadLetters.Sent);
        Assert.Equal(code, letter.Code);
        Assert.Contains(reasonPart, letter.Reason, StringComparison.Ordinal);
        Assert.Equal(payload, letter.Payload);
        Assert.Equal(Rescheduler, letter.Handler);
        Assert.Equal("rejected", response.GetProperty("outcome").GetString());
        Assert.Equal(code, response.GetProperty("rejection").GetString());
        var line = Assert.Single(h.Reactions);
        Assert.Equal("warn", line.GetProperty("level").GetString());
        Assert.Equal(1, Assert.Single(h.Emf).GetProperty("Reactions.Rejected").GetInt32());
    }

    [Fact]
    public async Task EventHandler_WhenTheDeadLetterQueueFails_FailsTheInvocationRatherThanAcknowledging()
    {
        var h = new HostHarness(DateTimeOffset.Parse("2026-03-02T09:20:11Z"));
        h.DeadLetters.FailWith = new HttpRequestException("SQS is unreachable");

        await Assert.ThrowsAsync<HttpRequestException>(() => h.InvokeAsync(Rescheduler, "{oops"u8.ToArray()));

        var emf = Assert.Single(h.Emf);
        Assert.Equal(1, emf.GetProperty("AwsErrors.ServiceUnavailable").GetInt32());
    }

    [Theory]
    [InlineData("cloudwatch-alarm-alarm-web-cpu-high.json", Rescheduler, "belong to the service-scaler handler, not task-rescheduler")]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "placement-guard", "belong to the task-rescheduler handler, not placement-guard")]
    public async Task EventHandler_WhenAnEventIsForAnotherHandler_DeadLettersItAsMisrouted(string sample, string handler, string reasonPart)
    {
        var h = HostHarness.AtTimeOf(sample);

        var response = await h.InvokeAsync(handler, Repository.Event(sample));

        Assert.Equal("rejected", response.GetProperty("outcome").GetString());
        var letter = Assert.Single(h.DeadLetters.Sent);
        Assert.Equal("misrouted", letter.Code);
        Assert.Contains(reasonPart, letter.Reason, StringComparison.Ordinal);
        Assert.Empty(h.Delay.Sent);
    }

    [Fact]
    public async Task TaskRescheduler_WhenTheDecisionRejectsTheEvent_DeadLettersItAndAcknowledges()
    {
        // The Fargate report task needs a network configuration the rule does not give.
        const string policy = """
            { "clusters": [ { "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
              "reschedule": [ { "name": "reports", "match": { "taskDefinitionFamily": "report" }, "maxAttempts": 3,
                                "backoff": { "initialSeconds": 0, "multiplier": 1, "maxSeconds": 0 } } ] } ] }
            """;
        var h = HostHarness.AtTimeOf("ecs-task-stopped-fargate-report-exit-2.json", policy);

        var response = await h.InvokeAsync(Rescheduler, Repository.Event("ecs-task-stopped-fargate-report-exit-2.json"));

        Assert.Equal("rejected", response.GetProperty("outcome").GetString());
        var letter = Assert.Single(h.DeadLetters.Sent);
        Assert.Equal("rejected", letter.Code);
        Assert.Contains(".network", letter.Reason, StringComparison.Ordinal);
        Assert.Equal("queued", response.GetProperty("deadLetter").GetString());
    }

    [Fact]
    public async Task TaskRescheduler_WhenEcsRefusesTheRelaunch_FailsTheInvocationAndCountsTheAwsError()
    {
        var ecs = new ScriptedEcsApi { RunTaskFailure = new Core.State.RunTaskFailure(null, "MISSING", "task definition is inactive") };
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json", dryRun: false, ecs: ecs);

        var ex = await Assert.ThrowsAsync<InvocationFailedException>(() => h.InvokeAsync(Rescheduler, Repository.Event("ecs-task-stopped-spot-interruption.json")));

        Assert.Equal("Reflex.ActionFailed", ex.ErrorType);
        Assert.Contains("MISSING", ex.Message, StringComparison.Ordinal);
        Assert.Equal("failed", Assert.Single(h.Reactions).GetProperty("outcome").GetString());
        var emf = Assert.Single(h.Emf);
        Assert.Equal(1, emf.GetProperty("AwsErrors.MISSING").GetInt32());
        Assert.Equal(1, emf.GetProperty("Reactions.Failed").GetInt32());
    }

    [Fact]
    public async Task TaskRescheduler_WhenEcsIsUnreachable_LetsTheTransientErrorFailTheInvocation()
    {
        var ecs = new ScriptedEcsApi { Throw = new HttpRequestException("connection reset") };
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json", dryRun: false, ecs: ecs);

        await Assert.ThrowsAsync<HttpRequestException>(() => h.InvokeAsync(Rescheduler, Repository.Event("ecs-task-stopped-spot-interruption.json")));

        Assert.Empty(h.DeadLetters.Sent);
        Assert.Equal(1, Assert.Single(h.Emf).GetProperty("AwsErrors.ServiceUnavailable").GetInt32());
    }

    [Fact]
    public async Task ReactionLogLine_CarriesTimeLevelRequestHandlerEventOutcomeReasonActionsAndDuration()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json");

        await h.InvokeAsync(Rescheduler, Repository.Event("ecs-task-stopped-spot-interruption.json"));

        var line = Assert.Single(h.Reactions);
        Assert.True(DateTimeOffset.TryParse(line.GetProperty("time").GetString(), out _));
        Assert.Equal("info", line.GetProperty("level").GetString());
        Assert.Equal("req-1", line.GetProperty("requestId").GetString());
        Assert.Equal(Rescheduler, line.GetProperty("handler").GetString());
        Assert.Equal(Rescheduler, line.GetProperty("decidedBy").GetString());
        Assert.Equal(EcsReflex.Core.Events.EventParser.Parse(Repository.Event("ecs-task-stopped-spot-interruption.json")).Id, line.GetProperty("eventId").GetString());
        Assert.Equal("acted", line.GetProperty("outcome").GetString());
        Assert.Contains("SpotInterruption", line.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var action = Assert.Single(line.GetProperty("actions").EnumerateArray().ToList());
        Assert.Equal("ecs", action.GetProperty("service").GetString());
        Assert.Equal("RunTask", action.GetProperty("operation").GetString());
        Assert.StartsWith("reflex/", action.GetProperty("request").GetProperty("startedBy").GetString(), StringComparison.Ordinal);
        Assert.True(line.GetProperty("durationMs").GetDouble() >= 0);
        Assert.True(line.GetProperty("decisionMs").GetDouble() >= 0);
    }

    [Fact]
    public async Task EmfLine_IsOneDocumentPerInvocationWithTheDeclaredMetricsAndTheirValues()
    {
        var h = HostHarness.AtTimeOf("ecs-task-stopped-spot-interruption.json");

        await h.InvokeAsync(Rescheduler, Repository.Event("ecs-task-stopped-spot-interruption.json"));

        var emf = Assert.Single(h.Emf);
        var directive = Assert.Single(emf.GetProperty("_aws").GetProperty("CloudWatchMetrics").EnumerateArray().ToList());
        Assert.Equal("EcsReflex", directive.GetProperty("Namespace").GetString());
        Assert.Equal(["Handler"], directive.GetProperty("Dimensions")[0].EnumerateArray().Select(d => d.GetString()));
        var declared = directive.GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString()!).ToList();
        foreach (var name in declared) Assert.True(emf.TryGetProperty(name, out _), $"metric {name} is declared but has no value");
        Assert.Contains("DecisionDuration", declared);
        Assert.Equal("Milliseconds", directive.GetProperty("Metrics").EnumerateArray().Single(m => m.GetProperty("Name").GetString() == "DecisionDuration").GetProperty("Unit").GetString());
        Assert.True(emf.GetProperty("_aws").GetProperty("Timestamp").GetInt64() > 0);
        Assert.Equal(Rescheduler, emf.GetProperty("Handler").GetString());
        Assert.Equal(1, emf.GetProperty("Reactions").GetInt32());
        Assert.Equal(1, emf.GetProperty("Reactions.Acted").GetInt32());
        Assert.Equal(0, emf.GetProperty("Reactions.Deferred").GetInt32());
        Assert.Equal(1, emf.GetProperty("Relaunches").GetInt32());
        Assert.Equal(0, emf.GetProperty("GiveUps").GetInt32());
        Assert.Equal(0, emf.GetProperty("AwsErrors").GetInt32());
    }

    [Fact]
    public async Task RelaunchDue_DecidesDueWork_DeadLettersPoisonMessages_AndReportsOnlyFailedOnesForRetry()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        var h = new HostHarness(due);
        var good = DeferredWorkJson.Write(new DeferredWork(eventJson, due));
        var batch = HostHarness.SqsBatch(("m-good", good), ("m-poison", "{\"event\":{},\"dueAt\":\"2026-03-02T09:20:21Z\"}"), ("m-garbage", "not json"));

        var response = await h.InvokeAsync(RelaunchDue, batch);

        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        var reactions = h.Reactions;
        Assert.Equal(["m-good", "m-poison", "m-garbage"], reactions.Select(r => r.GetProperty("messageId").GetString()));
        Assert.Equal("acted", reactions[0].GetProperty("outcome").GetString());
        Assert.Equal(Rescheduler, reactions[0].GetProperty("decidedBy").GetString());
        Assert.Equal(["not-an-event", "invalid-json"], h.DeadLetters.Sent.Select(d => d.Code));
        Assert.Equal(["m-poison", "m-garbage"], h.DeadLetters.Sent.Select(d => d.MessageId));
        var emf = Assert.Single(h.Emf);
        Assert.Equal(3, emf.GetProperty("Reactions").GetInt32());
        Assert.Equal(1, emf.GetProperty("Relaunches").GetInt32());
        Assert.Equal(2, emf.GetProperty("Reactions.Rejected").GetInt32());
    }

    /// <summary>The sample exit-1 stop as another task (another lineage): its id and ARN replaced.</summary>
    private static string AnotherStop(string taskId)
    {
        var e = System.Text.Json.Nodes.JsonNode.Parse(
            Repository.EventText("ecs-task-stopped-essential-exit-1.json").Replace("358146732611a74220cda34501da72fd", taskId, StringComparison.Ordinal))!;
        e["id"] = $"event-{taskId}";
        return e.ToJsonString();
    }

    [Fact]
    public void RelaunchDue_Lanes_OnePerLineageOfTaskWork_TheRestTogether_EachInTheBatchsOrder()
    {
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        string Work(string json) => DeferredWorkJson.Write(new DeferredWork(json, due));
        var instance = Work(Repository.EventText("ecs-container-instance-draining.json"));
        var messages = new List<(string?, string?, string?)>
        {
            ("a", Work(AnotherStop("aaaa0000000000000000000000000001")), null),
            ("b", Work(AnotherStop("bbbb0000000000000000000000000002")), null),
            ("i", instance, null),
            ("a2", Work(AnotherStop("aaaa0000000000000000000000000001")), null),
            ("x", "not json", null),
            (null, null, "Records[5].messageId: required field is missing"),
        };

        var lanes = EcsReflex.Lambda.Handlers.RelaunchDueHandler.Lanes(messages);

        Assert.Equal([[0, 3], [1], [2, 4, 5]], lanes);
    }

    [Fact]
    public async Task RelaunchDue_RelaunchesOfDifferentLineages_AreDecidedConcurrently_AndReportedInTheBatchsOrder()
    {
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        // Each relaunch's first read of the cluster waits until all three have arrived: decided one after another, the
        // first would wait alone until the gate gives up.
        var gate = new GateObserver(new EmbeddedCluster(Replays.Snapshot), racers: 3);
        var h = new HostHarness(due, observer: gate);
        var ids = new[] { "aaaa0000000000000000000000000001", "bbbb0000000000000000000000000002", "cccc0000000000000000000000000003" };
        var batch = HostHarness.SqsBatch([.. ids.Select(id => ($"m-{id[..4]}", DeferredWorkJson.Write(new DeferredWork(AnotherStop(id), due))))]);

        var response = await h.InvokeAsync(RelaunchDue, batch);

        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        Assert.True(gate.AllArrivedTogether);
        Assert.Equal(["m-aaaa", "m-bbbb", "m-cccc"], h.Reactions.Select(r => r.GetProperty("messageId").GetString()));
        Assert.All(h.Reactions, r => Assert.Equal("acted", r.GetProperty("outcome").GetString()));
        Assert.Equal(3, Assert.Single(h.Emf).GetProperty("Relaunches").GetInt32());
    }

    /// <summary>The embedded cluster, except that the first EC2 instance read of each of <paramref name="racers"/> callers waits for the others (at most 10 s).</summary>
    private sealed class GateObserver(EmbeddedCluster inner, int racers) : IClusterObserver
    {
        private int _arrived;
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool AllArrivedTogether => _all.Task.IsCompletedSuccessfully;

        public async ValueTask<string?> GetEc2InstanceIdAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
        {
            var n = Interlocked.Increment(ref _arrived);
            if (n == racers) _all.TrySetResult();
            if (n <= racers) await _all.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            return await inner.GetEc2InstanceIdAsync(clusterArn, containerInstanceArn, ct);
        }

        public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct) => inner.DescribeTaskTagsAsync(clusterArn, taskArn, ct);
        public ValueTask<ServiceScalingView> DescribeServiceScalingAsync(string cluster, string service, CancellationToken ct) => inner.DescribeServiceScalingAsync(cluster, service, ct);
        public ValueTask<AlarmStatesObservation> DescribeAlarmStatesAsync(IReadOnlyList<string> alarmNames, CancellationToken ct) => inner.DescribeAlarmStatesAsync(alarmNames, ct);
        public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.ListTasksOnInstanceAsync(clusterArn, containerInstanceArn, ct);
        public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) => inner.GetServiceAsync(clusterArn, serviceArnOrName, ct);
        public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct) => inner.GetContainerInstanceAsync(clusterArn, containerInstanceArn, ct);
    }

    [Fact]
    public async Task RelaunchDue_TheSameWorkDeliveredTwice_IsDecidedAndSentOnce()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        var ecs = new ScriptedEcsApi();
        var h = new HostHarness(due, dryRun: false, ecs: ecs);
        var body = DeferredWorkJson.Write(new DeferredWork(eventJson, due));

        await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", body)));
        await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1-again", body)));

        Assert.Single(ecs.Received.OfType<EcsReflex.Core.Ecs.RunTaskRequest>());
        Assert.Equal(["acted", "ignored"], h.Reactions.Select(r => r.GetProperty("outcome").GetString()));
        Assert.Contains("duplicate delivery", h.Reactions[1].GetProperty("reason").GetString());
        Assert.Equal([1, 0], h.Emf.Select(m => m.TryGetProperty("Relaunches", out var n) ? n.GetInt32() : 0));
    }

    [Fact]
    public async Task RelaunchDue_WhenAMessageFailsTransiently_ListsItInBatchItemFailuresAndGoesOn()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-spot-interruption.json");
        var now = EcsReflex.Core.Events.EventParser.Parse(eventJson).EffectiveTime!.Value;
        var ecs = new ScriptedEcsApi { Throw = new HttpRequestException("throttled") };
        var h = new HostHarness(now, dryRun: false, ecs: ecs);
        var body = DeferredWorkJson.Write(new DeferredWork(eventJson, now));
        var exit1 = DeferredWorkJson.Write(new DeferredWork(Repository.EventText("ecs-task-stopped-essential-exit-0.json"), now));

        var response = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", body), ("m-2", exit1)));

        var failure = Assert.Single(response.GetProperty("batchItemFailures").EnumerateArray().ToList());
        Assert.Equal("m-1", failure.GetProperty("itemIdentifier").GetString());
        Assert.Equal(["failed", "ignored"], h.Reactions.Select(r => r.GetProperty("outcome").GetString()));
        Assert.Equal(1, Assert.Single(h.Emf).GetProperty("AwsErrors.ServiceUnavailable").GetInt32());
    }

    [Fact]
    public async Task RelaunchDue_WhenWorkComesBeforeItsDueTime_RequeuesItUnchanged()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:40:00Z");
        var h = new HostHarness(due.AddMinutes(-15));

        var response = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", DeferredWorkJson.Write(new DeferredWork(eventJson, due)))));

        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        var requeued = Assert.Single(h.Delay.Sent);
        Assert.Equal(due, requeued.DueAt);
        Assert.Equal(eventJson.Trim(), requeued.EventJson); // the event object exactly, without the file's trailing newline
        Assert.Equal("deferred", Assert.Single(h.Reactions).GetProperty("outcome").GetString());
    }

    /// <summary>
    /// The rate limit's deferral is carried however far ahead it is: the 1000th relaunch of a minute at 20 a minute is
    /// queued for its own minute, 49 minutes on (not clamped to SQS's 15), goes round the queue unchanged while it is
    /// early, and is decided once, at that minute.
    /// </summary>
    [Fact]
    public async Task RelaunchDue_ARelaunchTheRateLimitDefersPastFifteenMinutes_IsQueuedForItsMinute_AndDecidedThere()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z"); // the sample's back-off
        var h = new HostHarness(due);
        for (var i = 0; i < 999; i++) await h.Store.TakeRelaunchSlotAsync("prod", DateTimeOffset.Parse("2026-03-02T09:20:00Z"), default);
        var minute = DateTimeOffset.Parse("2026-03-02T10:09:00Z"); // (1000 - 1) / 20 = 49 minutes on

        await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", DeferredWorkJson.Write(new DeferredWork(eventJson, due)))));
        var deferred = Assert.Single(h.Delay.Sent);
        Assert.Equal(minute, deferred.DueAt);
        var reaction = Assert.Single(h.Reactions);
        Assert.Equal(ReasonCodes.ActuatorRateLimit, reaction.GetProperty("code").GetString());
        Assert.EndsWith("(the 1000th relaunch this minute in prod, over 20 a minute), deferred to 10:09:00", reaction.GetProperty("reason").GetString(), StringComparison.Ordinal);

        h.Now = due.AddMinutes(15); // SQS's longest delay: it surfaces early
        await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-2", DeferredWorkJson.Write(deferred))));
        Assert.Equal(minute, h.Delay.Sent[^1].DueAt);
        Assert.Equal(ReasonCodes.LambdaRequeued, h.Reactions[^1].GetProperty("code").GetString());

        h.Now = minute;
        await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-3", DeferredWorkJson.Write(h.Delay.Sent[^1]))));
        Assert.Equal("acted", h.Reactions[^1].GetProperty("outcome").GetString());
        Assert.Equal(2, h.Delay.Sent.Count);
        Assert.Equal(2, await h.Store.TakeRelaunchSlotAsync("prod", minute, default)); // it was counted once, in its own minute
    }

    [Fact]
    public async Task RelaunchDue_WhenTheDeadlineHasFired_LeavesEveryUnfinishedMessageForRedelivery()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json");
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");
        var h = new HostHarness(due);
        var body = DeferredWorkJson.Write(new DeferredWork(eventJson, due));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var response = Json.Parse((await h.Handler(RelaunchDue).HandleAsync(h.Invocation(HostHarness.SqsBatch(("m-1", body), ("m-2", body))), cancelled.Token)).ToArray());

        Assert.Equal(["m-1", "m-2"], response.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()));
        Assert.Empty(h.Delay.Sent);
    }

    [Fact]
    public async Task RelaunchDue_WhenThePayloadIsNotAnSqsBatch_DeadLettersIt()
    {
        var h = new HostHarness(DateTimeOffset.Parse("2026-03-02T09:20:21Z"));

        var response = await h.InvokeAsync(RelaunchDue, Repository.Event("ecs-task-stopped-essential-exit-1.json"));

        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        var letter = Assert.Single(h.DeadLetters.Sent);
        Assert.Equal("not-an-event", letter.Code);
        Assert.Contains("Records", letter.Reason, StringComparison.Ordinal);
    }

    private const string Guard = "placement-guard";
    private const string Scaler = "service-scaler";

    private static string PolicyWithDrainDeadline(int seconds)
    {
        var path = Replays.PolicyWithDrainDeadline(seconds);
        try
        {
            return File.ReadAllText(path);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task PlacementGuard_WhenADrainHasADeadline_QueuesTheFollowUpAndCountsTheReplacements()
    {
        var h = HostHarness.AtTimeOf("ecs-container-instance-draining.json", PolicyWithDrainDeadline(30));
        var payload = Repository.Event("ecs-container-instance-draining.json");

        var response = await h.InvokeAsync(Guard, payload);

        Assert.Equal("acted", response.GetProperty("outcome").GetString());
        var runs = response.GetProperty("actions").EnumerateArray().Count(a => a.GetProperty("operation").GetString() == "RunTask");
        Assert.True(runs > 0, response.ToString());
        Assert.Equal("2026-03-02T10:44:45.000Z", response.GetProperty("followUpAt").GetString());
        Assert.Equal("queued", response.GetProperty("delayQueue").GetString());
        var followUp = Assert.Single(h.Delay.Sent);
        Assert.Equal(h.Now.AddSeconds(30), followUp.DueAt);
        Assert.Equal(Encoding.UTF8.GetString(payload), followUp.EventJson);
        var emf = Assert.Single(h.Emf);
        Assert.Equal(runs, emf.GetProperty("Replacements").GetInt32());
        Assert.Equal(0, emf.GetProperty("Relaunches").GetInt32());
    }

    [Fact]
    public async Task RelaunchDue_WhenADrainFollowUpComesDueBeforeTheReplacementRuns_StopsTheOriginalAndCountsIt()
    {
        var h = HostHarness.AtTimeOf("ecs-container-instance-draining.json", PolicyWithDrainDeadline(30));
        await h.InvokeAsync(Guard, Repository.Event("ecs-container-instance-draining.json"));
        var followUp = Assert.Single(h.Delay.Sent);
        h.Now = followUp.DueAt;

        var response = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(("m-1", DeferredWorkJson.Write(followUp))));

        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        var reaction = h.Reactions[^1];
        Assert.Equal(Guard, reaction.GetProperty("decidedBy").GetString());
        Assert.Equal("acted", reaction.GetProperty("outcome").GetString());
        var stops = reaction.GetProperty("actions").EnumerateArray().Count(a => a.GetProperty("operation").GetString() == "StopTask");
        Assert.True(stops > 0, reaction.ToString());
        Assert.Equal(stops, h.Emf[^1].GetProperty("TasksStopped").GetInt32());
    }

    [Theory]
    [InlineData("cloudwatch-alarm-alarm-web-cpu-high.json", 5, 1, 0)]
    [InlineData("cloudwatch-alarm-alarm-web-cpu-low.json", 3, 0, 1)]
    public async Task ServiceScaler_WhenAnAlarmChangesTheDesiredCount_CountsTheScaleOutOrIn(string sample, int desired, int outs, int ins)
    {
        var h = HostHarness.AtTimeOf(sample);

        var response = await h.InvokeAsync(Scaler, Repository.Event(sample));

        Assert.Equal("acted", response.GetProperty("outcome").GetString());
        Assert.Equal(outs > 0 ? ReasonCodes.ScalerScaleOut : ReasonCodes.ScalerScaleIn, response.GetProperty("code").GetString());
        var action = Assert.Single(response.GetProperty("actions").EnumerateArray().ToList());
        Assert.Equal("UpdateService", action.GetProperty("operation").GetString());
        Assert.Equal(desired, action.GetProperty("request").GetProperty("desiredCount").GetInt32());
        var emf = Assert.Single(h.Emf);
        Assert.Equal(outs, emf.GetProperty("ScaleOuts").GetInt32());
        Assert.Equal(ins, emf.GetProperty("ScaleIns").GetInt32());
        Assert.Equal(0, emf.GetProperty("PlacementChanges").GetInt32());
    }

    [Fact]
    public async Task PlacementGuard_WhenAServiceDriftedFromThePolicysPlacement_CountsAPlacementChangeNotAScaling()
    {
        var h = HostHarness.AtTimeOf("ecs-deployment-in-progress.json");

        var response = await h.InvokeAsync(Guard, Repository.Event("ecs-deployment-in-progress.json"));

        Assert.Equal(ReasonCodes.GuardDriftRestore, response.GetProperty("code").GetString());
        var action = Assert.Single(response.GetProperty("actions").EnumerateArray().ToList());
        Assert.Equal("UpdateService", action.GetProperty("operation").GetString());
        Assert.False(action.GetProperty("request").TryGetProperty("desiredCount", out _));
        var emf = Assert.Single(h.Emf);
        Assert.Equal(1, emf.GetProperty("PlacementChanges").GetInt32());
        Assert.Equal(0, emf.GetProperty("ScaleOuts").GetInt32() + emf.GetProperty("ScaleIns").GetInt32());
    }

    [Fact]
    public async Task RelaunchDue_WithoutAClusterObserver_FailsPlacementGuardWorkSayingWhyAndDecidesTheRest()
    {
        var guardEvent = Repository.EventText("ecs-container-instance-draining.json");
        var rescheduled = Repository.EventText("ecs-task-stopped-essential-exit-0.json");
        var now = EcsReflex.Core.Events.EventParser.Parse(guardEvent).EffectiveTime!.Value;
        var h = new HostHarness(now, observer: new Local.UnknownClusterObserver());

        var response = await h.InvokeAsync(RelaunchDue, HostHarness.SqsBatch(
            ("m-guard", DeferredWorkJson.Write(new DeferredWork(guardEvent, now))), ("m-task", DeferredWorkJson.Write(new DeferredWork(rescheduled, now)))));

        var failure = Assert.Single(response.GetProperty("batchItemFailures").EnumerateArray().ToList());
        Assert.Equal("m-guard", failure.GetProperty("itemIdentifier").GetString());
        Assert.Contains("no cluster observer", h.Reactions[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("NotSupported", h.Reactions[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("ignored", h.Reactions[1].GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData(4, 5, null, 1)]
    [InlineData(6, 4, null, -1)]
    [InlineData(3, 3, null, 0)]
    [InlineData(9, 7, ReasonCodes.ScalerScaleOut, -1)] // the action's own count wins over the code
    public void ScalingDirection_ReadsTheCountTheActionChangesFrom(int from, int to, string? code, int expected)
    {
        var action = ReflexAction.UpdateService(new UpdateServiceRequest { Cluster = "prod", Service = "web", DesiredCount = to }) with { DesiredFrom = from };
        Assert.Equal(expected, Metrics.InvocationMetrics.ScalingDirection(action, to, code));
    }

    [Theory]
    [InlineData(ReasonCodes.ScalerScaleOut, 1)]
    [InlineData(ReasonCodes.ScalerScaleIn, -1)]
    [InlineData(ReasonCodes.GuardDriftRestore, null)]
    [InlineData(null, null)]
    public void ScalingDirection_WithoutTheFromCount_ReadsTheDecisionsCodeNeverItsSentence(string? code, int? expected)
    {
        var action = ReflexAction.UpdateService(new UpdateServiceRequest { Cluster = "prod", Service = "web", DesiredCount = 5 })
            with { Summary = "web desired 4 → 5" }; // text that says 4 → 5 is not read
        Assert.Equal(expected, Metrics.InvocationMetrics.ScalingDirection(action, 5, code));
    }

    [Theory]
    [InlineData("RESOURCE:MEMORY (no container instance met all of its requirements)", "RESOURCE:MEMORY")]
    [InlineData("MISSING", "MISSING")]
    [InlineData(null, "RunTaskFailure")]
    public void FailureCode_IsTheRunTaskFailureReason(string? detail, string expected) =>
        Assert.Equal(expected, Metrics.InvocationMetrics.FailureCode(detail));

    [Fact]
    public void DeferredWorkJson_RoundTripsTheEventTextAndDueTime()
    {
        var eventJson = Repository.EventText("ecs-task-stopped-essential-exit-1.json").Trim();
        var due = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");

        var body = DeferredWorkJson.Write(new DeferredWork(eventJson, due));
        var back = DeferredWorkJson.Parse(body);

        Assert.Equal(due, back.DueAt);
        Assert.Equal(JsonSerializer.Serialize(Json.Parse(eventJson)), JsonSerializer.Serialize(Json.Parse(back.EventJson)));
        Assert.Equal("2026-03-02T09:20:21.482Z", Json.Parse(body).GetProperty("dueAt").GetString());
    }

    [Theory]
    [InlineData("{\"dueAt\":\"2026-03-02T09:20:21Z\"}", "body.event: required field is missing")]
    [InlineData("{\"event\":{}}", "body.dueAt: required field is missing")]
    [InlineData("{\"event\":{},\"dueAt\":\"soon\"}", "body.dueAt: expected an ISO 8601 timestamp")]
    public void DeferredWorkJson_RejectsABodyNamingTheField(string body, string message)
    {
        var ex = Assert.Throws<EcsReflex.Core.Events.EventRejectedException>(() => DeferredWorkJson.Parse(body));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }
}
