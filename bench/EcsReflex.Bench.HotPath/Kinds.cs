using System.Text.Json.Nodes;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.State;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Bench.HotPath;

/// <summary>
/// The reaction kinds of issue 17's table, from the sample events (events/), each measured from a known state: a fresh
/// table, fresh bootstraps, and the cluster the stubs describe set up by <see cref="Kind.Arrange"/>. Events are moved to
/// the present (as a prompt delivery) unless said otherwise.
/// </summary>
public sealed class Kinds(SampleEvents samples)
{
    private const string Instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/eee5ec7b4db846c31a728415e4a8e902";
    /// <summary>The container instance the sample exit-1 stop ran on.</summary>
    private const string FailedInstance = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/424b1fee9709931505d95954058b4714";
    private static readonly string WorkerDefinition = $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:task-definition/worker:7";
    private static readonly string WebDefinition = $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:task-definition/web:12";

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    /// <summary>An event moved so that it happened <paramref name="ago"/> before the moment it is delivered.</summary>
    private Func<StubWorld, Task<byte[]>> Fresh(string file, TimeSpan ago = default) =>
        _ => Task.FromResult(SampleEvents.Bytes(SampleEvents.ShiftTo(samples.Load(file), Now - ago)));

    private static Func<StubWorld, Task<byte[]>> Fresh(JsonObject e, TimeSpan ago = default) =>
        _ => Task.FromResult(SampleEvents.Bytes(SampleEvents.ShiftTo((JsonObject)e.DeepClone(), Now - ago)));

    /// <summary>How late a relaunched stop is delivered: past its first back-off (10 s), so that it is relaunched at once.</summary>
    public static readonly TimeSpan PastBackoff = TimeSpan.FromSeconds(30);

    public IReadOnlyDictionary<string, byte[]> WarmUps()
    {
        var stop = SampleEvents.Foreign(SampleEvents.ShiftTo(samples.Load("ecs-task-stopped-essential-exit-1.json"), Now - PastBackoff));
        var work = DeferredWorkJson.Write(new DeferredWork(stop.ToJsonString(), Now.AddSeconds(-5)));
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [HandlerNames.TaskRescheduler] = SampleEvents.Bytes(stop),
            [HandlerNames.PlacementGuard] = SampleEvents.Bytes(SampleEvents.Foreign(SampleEvents.ShiftTo(samples.Load("ecs-container-instance-active.json"), Now))),
            [HandlerNames.ServiceScaler] = SampleEvents.Bytes(SampleEvents.Foreign(SampleEvents.ShiftTo(samples.Load("cloudwatch-alarm-alarm-web-cpu-high.json"), Now))),
            [HandlerNames.RelaunchDue] = SqsEvents.Batch([("bench-warm-up", work)], Now),
        };
    }

    public IEnumerable<Kind> All()
    {
        const string R = HandlerNames.TaskRescheduler, G = HandlerNames.PlacementGuard, S = HandlerNames.ServiceScaler;
        yield return new Kind("relaunch: STOPPED exit 1, a rule covers it (delivered 30 s after the stop: back-off over)",
            [Step.Measure(R, Fresh("ecs-task-stopped-essential-exit-1.json", PastBackoff))]);
        // The failed task's container instance already known: an ACTIVE event of it came first (its record keeps the EC2 id).
        var known = samples.Load("ecs-container-instance-active.json");
        known["detail"]!["containerInstanceArn"] = FailedInstance;
        known["detail"]!["ec2InstanceId"] = "i-0aaa0e242d1d87a6e";
        yield return new Kind("relaunch: the same, its container instance known from an instance event",
            [Step.Before(G, SampleEvents.Bytes(SampleEvents.ShiftTo(known, Now - TimeSpan.FromMinutes(5)))),
             Step.Measure(R, Fresh("ecs-task-stopped-essential-exit-1.json", PastBackoff))]);
        yield return new Kind("relaunch: the same, the sample's own times (stopped months ago)",
            [Step.Measure(R, SampleEvents.Bytes(samples.Load("ecs-task-stopped-essential-exit-1.json")))]);
        yield return new Kind("STOPPED exit 1 delivered at once (deferred by the 10 s back-off)",
            [Step.Measure(R, Fresh("ecs-task-stopped-essential-exit-1.json"))]);
        yield return new Kind("ignored whatever the state: user-initiated stop", [Step.Measure(R, Fresh("ecs-task-stopped-user-initiated.json"))]);
        yield return new Kind("ignored whatever the state: service task (scheduler-initiated)", [Step.Measure(R, Fresh("ecs-task-stopped-service-scheduler-initiated.json"))]);
        yield return new Kind("ignored whatever the state: exit 0 under OnFailure", [Step.Measure(R, Fresh("ecs-task-stopped-essential-exit-0.json"))]);

        var relaunch = SampleEvents.Bytes(SampleEvents.ShiftTo(samples.Load("ecs-task-stopped-essential-exit-1.json"), Now - PastBackoff));
        yield return new Kind("duplicate delivery of the relaunch event (the second delivery)", [Step.Before(R, relaunch), Step.Measure(R, relaunch)]);

        yield return new Kind("scale-out: web-cpu-high to ALARM",
            [Step.Measure(S, Fresh("cloudwatch-alarm-alarm-web-cpu-high.json"))])
        { Arrange = w => w.Alarms["web-cpu-high"] = ("ALARM", Now) };
        yield return new Kind("alarm to OK: web-cpu-low", [Step.Measure(S, Fresh("cloudwatch-alarm-ok-web-cpu-low.json"))]);
        yield return new Kind("alarm to INSUFFICIENT_DATA: web-cpu-high",
            [Step.Measure(S, Fresh("cloudwatch-alarm-insufficient-data-web-cpu-high.json"))])
        { Arrange = w => w.Alarms["web-cpu-high"] = ("INSUFFICIENT_DATA", Now) };

        foreach (var t in new[] { 3, 20 })
            yield return new Kind($"container instance ACTIVE, nothing to move, T = {t} (service tasks)",
                [Step.Measure(G, Fresh("ecs-container-instance-active.json"))])
            { Arrange = w => w.TasksOnInstance[Instance] = TasksOnInstance(t, 0) };
        foreach (var (t, k) in new[] { (3, 1), (20, 5) })
            yield return new Kind($"container instance DRAINING, T = {t}, k = {k} replacements",
                [Step.Measure(G, Fresh("ecs-container-instance-draining.json"))])
            { Arrange = w => w.TasksOnInstance[Instance] = TasksOnInstance(t, k) };

        foreach (var n in new[] { 3, 10 })
            yield return Batch(n);
    }

    /// <summary>
    /// <paramref name="n"/> stops of different lineages delivered at once (each deferred by its back-off and sent to the delay
    /// queue: not counted), then, once due, the <c>relaunch-due</c> batch of exactly the messages the bootstrap sent (counted).
    /// </summary>
    private Kind Batch(int n)
    {
        var stop = samples.Load("ecs-task-stopped-essential-exit-1.json");
        var steps = new List<Step>();
        for (var i = 0; i < n; i++)
            steps.Add(new Step(HandlerNames.TaskRescheduler, Fresh(SampleEvents.AnotherTask(stop)), Measured: false));
        steps.Add(Step.Measure(HandlerNames.RelaunchDue, async w =>
        {
            var bodies = w.Sent.Where(s => s.QueueUrl == Harness.DelayQueueUrl).Select(s => s.Body).ToList();
            if (bodies.Count != n)
                throw new InvalidOperationException($"expected {n} deferred relaunches on the delay queue, the bootstrap sent {bodies.Count}");
            var due = bodies.Max(b => DeferredWorkJson.Parse(b).DueAt);
            var wait = due - Now + TimeSpan.FromSeconds(1.5);
            if (wait > TimeSpan.Zero)
            {
                Console.Error.WriteLine($"  waiting {wait.TotalSeconds:F0} s for the {n} deferred relaunches to come due...");
                await Task.Delay(wait);
            }
            return SqsEvents.Batch(bodies.Select((b, i) => ($"bench-{n}-{i:D2}", b)).ToList(), Now);
        }));
        return new Kind($"relaunch-due batch of {n} deferred relaunches (different lineages)", steps);
    }

    /// <summary><paramref name="t"/> RUNNING tasks on the instance: <paramref name="k"/> standalone workers a rule covers, the rest a service's.</summary>
    private static List<JsonObject> TasksOnInstance(int t, int k) =>
        Enumerable.Range(0, t).Select(i => i < k
            ? StubWorld.Task(StubWorld.TaskArn(StubWorld.NewTaskId()), Instance, "family:worker", "scheduler/nightly", WorkerDefinition, "RUNNING", Now.AddMinutes(-20))
            : StubWorld.Task(StubWorld.TaskArn(StubWorld.NewTaskId()), Instance, "service:web", "ecs-svc/9223370564341623665", WebDefinition, "RUNNING", Now.AddHours(-2)))
        .ToList();
}
