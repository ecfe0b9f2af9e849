using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Ports;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;
using EcsReflex.Engine;
using EcsReflex.Engine.Acting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using Xunit.Abstractions;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// Reliability soak (issue 8), throttling: a stream of task failures through the whole rescheduler path (parser,
/// Reactor, Actuator, the real AwsEcsApi client with its retries, SigV4 and wire format) against the loopback ECS stub
/// that throttles 30% of calls and answers 500 to 5% (after it has started the task: the worst case). Each event is
/// an asynchronous Lambda invocation: tried 3 times (AsyncRetryAttempts = 2), then its original payload goes to
/// the failed-invocations queue. Every relaunch is eventually done or dead-lettered (and done when the dead letters
/// are redriven), none lost, none doubled: counted per stopped task and per clientToken at the stub, which honours
/// clientToken as ECS does. Builds on <see cref="ActuatorOnAwsTests"/>' 60 relaunches, which drive the actuator alone.
/// </summary>
public sealed class SoakThrottlingTests(ITestOutputHelper output)
{
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const int Events = 400;
    private const int InvocationAttempts = 3; // Lambda's asynchronous invocation: the first try and AsyncRetryAttempts = 2
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 20, 11, TimeSpan.Zero);

    private static ReflexPolicy Policy() => PolicyLoader.Load($$$"""
        {"clusters":[{"cluster":"{{{ClusterArn}}}","limits":{"maxRelaunchesPerMinute":10000},
          "reschedule":[{"name":"w","match":{"group":"family:worker"},"restart":"OnFailure","maxAttempts":5,"backoff":{"initialSeconds":0}}]}]}
        """);

    /// <summary>The sample "essential container exited 1" event, as task <paramref name="n"/> with its own event id.</summary>
    private static byte[] TaskFailure(JsonNode sample, int n)
    {
        var e = sample.DeepClone();
        var taskId = $"{n:x8}{"0123456789abcdef0123456789abcdef"[..24]}";
        var taskArn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{taskId}";
        e["id"] = $"soak-{n:D5}-0000-0000-0000-000000000000";
        e["time"] = (T0 + TimeSpan.FromMilliseconds(100 * n)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        e["resources"] = new JsonArray(taskArn);
        e["detail"]!["taskArn"] = taskArn;
        foreach (var c in e["detail"]!["containers"]!.AsArray()) c!["taskArn"] = taskArn;
        return Encoding.UTF8.GetBytes(e.ToJsonString());
    }

    private sealed record Started(string TaskArn, string StartedBy);

    /// <summary>
    /// With the production budget (6 attempts per call) no invocation of this seed exhausts its retries (0.35^6 per
    /// call): nothing is dead-lettered. With one attempt per call, every fault fails the invocation, Lambda's retries
    /// are all there is, and some events exhaust them: the dead-letter path and the redrive are exercised.
    /// </summary>
    [Theory]
    [InlineData(6, false)]
    [InlineData(1, true)]
    public async Task TaskFailuresAgainstAThrottlingEcs_AreEachRelaunchedExactlyOnceOrDeadLetteredWithTheirOriginalEvent(int attemptsPerCall, bool deadLettersExpected)
    {
        var sample = JsonNode.Parse(File.ReadAllBytes(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")))!;
        var payloads = Enumerable.Range(0, Events).Select(n => TaskFailure(sample, n)).ToList();

        var random = new Random(20260302);
        var faults = true;
        var started = new ConcurrentDictionary<string, Started>(); // clientToken → the task ECS started for it
        var runTasksPerToken = new ConcurrentDictionary<string, int>();
        var (throttled, serverErrors) = (0, 0);
        await using var stub = await AwsStub.StartAsync(r =>
        {
            if (r.Operation != "RunTask") return StubReply.Error("InvalidAction", $"the soak expects only RunTask, got {r.Operation}");
            double roll;
            lock (random) roll = random.NextDouble();
            if (faults && roll < 0.30)
            {
                Interlocked.Increment(ref throttled);
                return StubReply.Error("ThrottlingException", "Rate exceeded");
            }
            using var doc = JsonDocument.Parse(r.Body);
            var token = doc.RootElement.GetProperty("clientToken").GetString()!;
            var startedBy = doc.RootElement.GetProperty("startedBy").GetString()!;
            runTasksPerToken.AddOrUpdate(token, 1, (_, n) => n + 1);
            // ECS idempotency: the same clientToken returns the task it already started, never a second one.
            var task = started.GetOrAdd(token, t => new Started($"arn:aws:ecs:us-east-1:123456789012:task/prod/{t[^24..]}", startedBy));
            if (faults && roll < 0.35)
            {
                Interlocked.Increment(ref serverErrors);
                return StubReply.Error("ServerException", "Service unavailable", 500); // started, but the answer is an error
            }
            return StubReply.Json($$"""{"tasks":[{"taskArn":"{{task.TaskArn}}"}],"failures":[]}""");
        });
        using var clients = StubClients.Create(stub, retry: StubClients.FastRetry with { MaxAttempts = attemptsPerCall });
        var policy = Policy();
        var store = new InMemoryStateStore();
        var reactor = new Reactor(policy, store, new EmbeddedCluster(new ClusterSnapshot()), new Actuator(new AwsEcsApi(clients.Ecs), store, policy));

        var done = new Dictionary<string, Reaction>();       // event id → the reaction that relaunched its task
        var deadLetters = new List<(byte[] Payload, string Reason)>();
        var invocations = 0;

        async Task InvokeAsync(byte[] payload)
        {
            for (var attempt = 1; ; attempt++)
            {
                invocations++;
                try
                {
                    var e = EventParser.Parse(payload);
                    var reaction = await reactor.HandleEventAsync(e, e.EffectiveTime!.Value, CancellationToken.None);
                    Assert.True(reaction.Outcome == Outcome.Acted, $"{e.Id}: {reaction.Outcome}: {reaction.Reason}");
                    done.Add(e.Id, reaction);
                    return;
                }
                catch (AwsServiceException ex) when (ex.IsTransient)
                {
                    if (attempt < InvocationAttempts) continue; // Lambda retries the asynchronous invocation
                    deadLetters.Add((payload, ex.Message));     // the on-failure destination receives the request payload
                    return;
                }
            }
        }

        foreach (var payload in payloads) await InvokeAsync(payload);
        var doneFirstPass = done.Count;
        var letters = deadLetters.ToList();

        // Nothing lost on the first pass: each event was relaunched or is in the dead letters, byte for byte.
        Assert.Equal(Events, doneFirstPass + letters.Count);
        if (deadLettersExpected) Assert.True(letters.Count > 0, "the seed dead-lettered nothing: the test would not exercise the dead-letter path");
        else Assert.Empty(letters);
        Assert.True(serverErrors > 0 && throttled > 0, "the seed produced no fault");
        foreach (var (payload, _) in letters)
        {
            var id = EventParser.Parse(payload).Id;
            Assert.False(done.ContainsKey(id), $"{id} was both relaunched and dead-lettered");
            Assert.Contains(payloads, p => p.AsSpan().SequenceEqual(payload));
        }

        // Redrive the dead letters once ECS has recovered: each is relaunched, on the task already started if any.
        faults = false;
        deadLetters.Clear();
        foreach (var (payload, _) in letters) await InvokeAsync(payload);
        Assert.Empty(deadLetters);
        Assert.Equal(Events, done.Count);

        // None doubled: one started task per stopped task, one clientToken per stopped task, each event's reaction naming it.
        Assert.Equal(Events, started.Count);
        var lineages = started.Values.Select(s => s.StartedBy.Split('/')[1]).ToList();
        Assert.Equal(Events, lineages.Distinct().Count());
        foreach (var (id, reaction) in done)
        {
            var action = Assert.Single(reaction.Actions);
            Assert.Equal("done", action.Status);
            var run = Assert.IsType<EcsReflex.Core.Ecs.RunTaskRequest>(action.Action.Request);
            Assert.Equal(started[run.ClientToken!].StartedBy, run.StartedBy);
        }
        Assert.True(runTasksPerToken.Values.Any(n => n > 1), "no RunTask was repeated: the seed would not exercise ECS idempotency");
        output.WriteLine($"{attemptsPerCall} attempts per call: {Events} events, {invocations} invocations, {stub.Requests.Count} RunTask requests " +
            $"({throttled} throttled, {serverErrors} answered 500 after starting), {runTasksPerToken.Values.Count(n => n > 1)} tokens sent more than once, " +
            $"{doneFirstPass} relaunched on the first pass, {letters.Count} dead-lettered then relaunched on redrive, {started.Count} tasks started");
    }
}
