using System.Collections.Concurrent;
using System.Text.Json;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Ports;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.State;

namespace EcsReflex.Aws.Tests;

/// <summary>The one write path on the AWS adapters: classified RunTask failures, API errors, dry-run, and no action lost or doubled under faults.</summary>
public sealed class ActuatorOnAwsTests
{
    private const string Cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 20, 21, TimeSpan.Zero);

    private static ReflexPolicy Policy(int perMinute = 20)
    {
        var (policy, errors) = PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes($$$"""
            {"clusters":[{"cluster":"{{{Cluster}}}","limits":{"maxRelaunchesPerMinute":{{{perMinute}}}},
              "reschedule":[{"name":"w","match":{"group":"family:worker"}}]}]}
            """));
        Assert.Empty(errors);
        return policy!;
    }

    private static Decision Relaunch(string stoppedTask) => new()
    {
        Outcome = Outcome.Acted,
        Code = ReasonCodes.ReschedulerRelaunch,
        Reason = $"task {stoppedTask} exited 1; relaunching now",
        Actions = [ReflexAction.RunTask(new RunTaskRequest
        {
            Cluster = Cluster, TaskDefinition = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", Group = "family:worker",
            StartedBy = $"reflex/{stoppedTask}/1", ClientToken = TaskRescheduler.ClientToken(Cluster, $"{Cluster}/task/{stoppedTask}"),
        })],
    };

    private static (Actuator Actuator, InMemoryStateStore Store) Actuator(AwsClients clients, bool dryRun = false, int perMinute = 20)
    {
        var store = new InMemoryStateStore();
        return (new Actuator(new AwsEcsApi(clients.Ecs), store, Policy(perMinute), dryRun), store);
    }

    /// <summary>A decision with the RunTasks of <paramref name="tasks"/> (a drain's replacements: one decision, k RunTasks).</summary>
    private static Decision Replacements(params string[] tasks) => new()
    {
        Outcome = Outcome.Acted, Code = ReasonCodes.GuardDrainReplace, Reason = $"replacing {tasks.Length} tasks",
        Actions = [.. tasks.SelectMany(t => Relaunch(t).Actions)],
    };

    [Fact]
    public async Task ADrainsReplacements_TakeTheirSlotsInOneIncrement_AreSentTogether_AndThoseOverTheLimitAreDeferred()
    {
        var arrivals = new ConcurrentQueue<long>();
        await using var stub = await AwsStub.StartAsync(_ =>
        {
            arrivals.Enqueue(Environment.TickCount64);
            // Each answer takes 2 s: sent one after another, the second would arrive 2 s after the first.
            return StubReply.Slow(TimeSpan.FromSeconds(2),
                StubReply.Json("""{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/new"}],"failures":[]}"""));
        });
        var (actuator, store) = Actuator(StubClients.Create(stub), perMinute: 3);
        await store.TakeRelaunchSlotAsync("prod", EcsReflex.Core.State.RelaunchSlots.MinuteOf(Now), default); // one relaunch already this minute

        var done = await actuator.ExecuteAsync(Replacements("t1", "t2", "t3", "t4"), "e-1", "placement-guard", Now, default);

        // Slots 2 to 5 in one increment: the first two within 3 a minute, sent together; the third (the 4th of the minute) deferred.
        Assert.Equal(2, stub.For("RunTask").Count);
        var at = arrivals.ToArray();
        Assert.True(Math.Abs(at[1] - at[0]) < 1500, $"the two RunTasks arrived {Math.Abs(at[1] - at[0])} ms apart: sent one after another");
        Assert.Equal(Outcome.Deferred, done.Outcome);
        Assert.Equal(ReasonCodes.ActuatorRateLimit, done.Code);
        Assert.Contains("the 4th relaunch this minute in prod, over 3 a minute", done.Reason, StringComparison.Ordinal);
        Assert.Equal(["done", "done"], done.Results.Select(r => r.Status));
        Assert.Equal(6, await store.TakeRelaunchSlotAsync("prod", EcsReflex.Core.State.RelaunchSlots.MinuteOf(Now), default));
    }

    public static TheoryData<string, string, Outcome, string> RunTaskAnswers => new()
    {
        { "a started task", """{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/new1"}],"failures":[]}""", Outcome.Acted, "done" },
        { "no room for the memory (capacity)", """{"tasks":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1","reason":"RESOURCE:MEMORY"}]}""", Outcome.Deferred, "capacity" },
        { "Fargate capacity unavailable", """{"tasks":[],"failures":[{"reason":"Capacity is unavailable at this time. Please try again later or in a different availability zone"}]}""", Outcome.Deferred, "capacity" },
        { "a missing instance (not capacity)", """{"tasks":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/c1","reason":"MISSING"}]}""", Outcome.Failed, "rejected-by-ecs" },
        { "no task and no failure", """{"tasks":[],"failures":[]}""", Outcome.Failed, "rejected-by-ecs" },
    };

    [Theory]
    [MemberData(nameof(RunTaskAnswers))]
    public async Task Execute_ClassifiesTheRunTaskAnswer(string what, string answer, Outcome outcome, string status)
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json(answer));
        using var clients = StubClients.Create(stub);
        var (actuator, store) = Actuator(clients);

        var done = await actuator.ExecuteAsync(Relaunch("t1"), "ev-1", "task-rescheduler", Now, default);

        Assert.True(outcome == done.Outcome, $"{what}: {done.Outcome} ({done.Reason})");
        Assert.Equal(status, Assert.Single(done.Results).Status);
        Assert.Equal(status, Assert.Single(store.Audit).Outcome);
        if (outcome == Outcome.Deferred) Assert.Equal(Now + Engine.Acting.Actuator.CapacityRetryDelay, done.DueAt);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task Execute_WhenEcsRejectsTheRequest_FailsWithTheErrorCodeAndAuditsIt()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Error("InvalidParameterException", "TaskDefinition is inactive"));
        using var clients = StubClients.Create(stub);
        var (actuator, store) = Actuator(clients);

        var done = await actuator.ExecuteAsync(Relaunch("t1"), "ev-1", "task-rescheduler", Now, default);

        Assert.Equal(Outcome.Failed, done.Outcome);
        Assert.Contains("InvalidParameterException: TaskDefinition is inactive", done.Reason);
        var audit = Assert.Single(store.Audit);
        Assert.Equal(("error", "RunTask"), (audit.Outcome, audit.Operation));
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task Execute_WhenThrottledPastTheBudget_AuditsAndThrowsSoTheInvocationIsRetried()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Error("ThrottlingException", "Rate exceeded"));
        using var clients = StubClients.Create(stub);
        var (actuator, store) = Actuator(clients);

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => actuator.ExecuteAsync(Relaunch("t1"), "ev-1", "task-rescheduler", Now, default).AsTask());

        Assert.True(ex.IsTransient);
        Assert.Equal("transient-error", Assert.Single(store.Audit).Outcome);
        Assert.Equal(StubClients.FastRetry.MaxAttempts, stub.Requests.Count);
    }

    [Fact]
    public async Task Execute_InDryRun_SendsNothingAndRecordsTheExactRequest()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json("{}"));
        using var clients = StubClients.Create(stub);
        var (actuator, store) = Actuator(clients, dryRun: true);
        var decision = Relaunch("t1");

        var done = await actuator.ExecuteAsync(decision, "ev-1", "task-rescheduler", Now, default);

        Assert.Equal(Outcome.Acted, done.Outcome);
        Assert.Equal("dry-run", Assert.Single(done.Results).Status);
        Assert.Empty(stub.Requests);
        Assert.Equal(ActionJson.ToJson(decision.Actions[0].Request), Assert.Single(store.Audit).RequestJson);
    }

    /// <summary>
    /// 60 relaunches against an ECS that throttles 30% of calls, answers 500 to 5%, and resets 10% of connections
    /// after it has started the task. Each invocation that fails transiently is retried, as Lambda would: in the end
    /// every relaunch started exactly one task (ECS's clientToken idempotency, which the stub implements) and no other.
    /// </summary>
    [Fact]
    public async Task Execute_UnderThrottlingServerErrorsAndResets_LosesNoRelaunchAndDoublesNone()
    {
        var random = new Random(20260302);
        var started = new ConcurrentDictionary<string, string>(); // clientToken → task ARN
        var startedAfterReset = 0;
        await using var stub = await AwsStub.StartAsync(r =>
        {
            double roll;
            lock (random) roll = random.NextDouble();
            if (roll < 0.30) return StubReply.Error("ThrottlingException", "Rate exceeded");
            if (roll < 0.35) return StubReply.Error("ServerException", "Service unavailable", 500);
            using var doc = JsonDocument.Parse(r.Body);
            var token = doc.RootElement.GetProperty("clientToken").GetString()!;
            var arn = started.GetOrAdd(token, t => $"arn:aws:ecs:us-east-1:123456789012:task/prod/{t[^12..]}");
            if (roll < 0.45)
            {
                Interlocked.Increment(ref startedAfterReset);
                return StubReply.Reset; // started, but the answer is lost
            }
            return StubReply.Json($$"""{"tasks":[{"taskArn":"{{arn}}"}],"failures":[]}""");
        });
        using var clients = StubClients.Create(stub, retry: StubClients.FastRetry with { MaxAttempts = 3 });
        var (actuator, _) = Actuator(clients, perMinute: 10_000);

        var invocations = 0;
        var outcomes = new List<Outcome>();
        for (var i = 0; i < 60; i++)
        {
            for (var attempt = 1; ; attempt++)
            {
                invocations++;
                try
                {
                    outcomes.Add((await actuator.ExecuteAsync(Relaunch($"t{i}"), $"ev-{i}", "task-rescheduler", Now, default)).Outcome);
                    break;
                }
                catch (AwsServiceException ex) when (ex.IsTransient && attempt < 20)
                {
                    // Lambda retries the invocation.
                }
            }
        }

        Assert.All(outcomes, o => Assert.Equal(Outcome.Acted, o));
        Assert.Equal(60, outcomes.Count);
        Assert.Equal(60, started.Count);
        var tokens = stub.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("clientToken").GetString()).Distinct().Count();
        Assert.Equal(60, tokens);
        Assert.True(startedAfterReset > 0, "the seed produced no lost answer: the test would not exercise idempotency");
        Assert.True(stub.Requests.Count > 60, "the seed produced no fault");
    }
}
