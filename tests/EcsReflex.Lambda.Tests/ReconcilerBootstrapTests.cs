using EcsReflex.Engine.Cluster;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// The reconciler through the real bootstrap (on the JIT): the Lambda replay sends each sweep's Scheduled Event to the
/// <c>reconciler</c> process, which reads the stopped tasks through the emulator, decides what it found and logs a line
/// for each; the records are the in-process replay's, line for line.
/// </summary>
public sealed class ReconcilerBootstrapTests
{
    private static BootstrapCommand Jit => BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"));

    private const string Cluster = "arn:aws:ecs:us-west-2:123456789012:cluster/default";
    private const string Lost = "arn:aws:ecs:us-west-2:123456789012:task/default/0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    private const string Other = "arn:aws:ecs:us-west-2:123456789012:task/default/99999999999999999999999999999999";

    private static string Task(string arn, string status, int? exit, string? stoppedAt) => $$"""
      {"clusterArn":"{{Cluster}}","taskArn":"{{arn}}","taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/worker:3",
       "group":"family:worker","startedBy":"cron","lastStatus":"{{status}}","desiredStatus":"{{status}}","launchType":"FARGATE",
       "cpu":"256","memory":"512","version":4,"createdAt":"2026-04-01T09:00:00Z","startedAt":"2026-04-01T09:01:00Z"
       {{(stoppedAt is null ? "" : $",\"stoppedAt\":\"{stoppedAt}\",\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\"")}},
       "containers":[{"name":"app","lastStatus":"{{status}}"{{(exit is { } x ? $",\"exitCode\":{x}" : "")}}}]}
    """.Replace("\n", "");

    private static string Event(string taskArn, string status, string id, string time) => $$"""
    {"version":"0","id":"{{id}}","detail-type":"ECS Task State Change","source":"aws.ecs","account":"123456789012","time":"{{time}}","region":"us-west-2","resources":["{{taskArn}}"],"detail":{{Task(taskArn, status, status == "STOPPED" ? 1 : null, status == "STOPPED" ? "2026-04-01T09:58:00Z" : null)}}}
    """.Replace("\n", "");

    [Theory]
    [InlineData(0)]   // relaunched by the sweep's own invocation
    [InlineData(600)] // deferred by the back-off (10 min after the stop at 09:58): the found STOPPED event goes to the delay queue and relaunch-due relaunches it
    public async Task ALostStop_IsFoundAndDecidedByTheReconcilerBootstrap_AsTheInProcessReplayDecidesIt(int backoffSeconds)
    {
        var dir = Directory.CreateTempSubdirectory("reflex-sweep-");
        try
        {
            var policy = Path.Combine(dir.FullName, "policy.json");
            File.WriteAllText(policy, $$$"""
            {"clusters":[{"cluster":"default","reschedule":[
              {"name":"jobs","match":{"taskDefinitionFamily":"worker"},"backoff":{"initialSeconds":{{{backoffSeconds}}},"maxSeconds":900},"network":{"subnets":["subnet-070982705451dad82"]}}
            ]}],"reconcile":{"intervalSeconds":300}}
            """);
            var events = Path.Combine(dir.FullName, "events.jsonl");
            File.WriteAllLines(events,
            [
                Event(Other, "RUNNING", "t-1", "2026-04-01T10:00:00Z"),
                Event(Other, "RUNNING", "t-2", "2026-04-01T10:11:00Z"),
                Event(Lost, "STOPPED", "late", "2026-04-01T10:12:00Z"),
            ]);
            var snapshot = SnapshotReader.Parse(System.Text.Encoding.UTF8.GetBytes(
                $$"""{"tasks":[{{Task(Lost, "STOPPED", 1, "2026-04-01T09:58:00Z")}},{{Task(Other, "RUNNING", null, null)}}]}"""));
            var c = new ReplayCase(events) { Policy = policy, Snapshot = snapshot };

            var expected = await Replays.InProcessAsync(c);
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, c);
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                Assert.Contains("reconciler", replay.Functions.Keys);
                var sweep = Assert.Single(actual, l => l.Contains("\"handler\":\"reconciler\"", StringComparison.Ordinal));
                Assert.Contains("\"trigger\":\"sweep\"", sweep, StringComparison.Ordinal);
                Assert.Contains("1 decided now", sweep, StringComparison.Ordinal);
                var relaunch = Assert.Single(actual, l => l.Contains("\"operation\":\"RunTask\"", StringComparison.Ordinal));
                Assert.Contains(backoffSeconds == 0 ? "\"trigger\":\"sweep\"" : "\"trigger\":\"timer\"", relaunch, StringComparison.Ordinal);
                Assert.Contains(actual, l => l.Contains("\"eventId\":\"late\"", StringComparison.Ordinal) && l.Contains("duplicate", StringComparison.Ordinal));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ALostDrain_IsFoundAndMovedByTheReconcilerBootstrap_AsTheInProcessReplayMovesIt()
    {
        var c = new ReplayCase(Repository.Path("events", "scenarios", "drain-make-before-break.jsonl"))
        {
            Until = new DateTimeOffset(2026, 3, 8, 9, 40, 0, TimeSpan.Zero),
            Undelivered = e => e.Detail is Core.Events.ContainerInstanceStateChange { Status: "DRAINING" },
        };
        var expected = await Replays.InProcessAsync(c);
        var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, c);
        await using (replay)
        {
            Replays.AssertSame(expected, actual);
            // The first sweep restores web's placement (drifted in the repository's snapshot); a later one finds the drain.
            var guard = actual.Where(l => l.Contains("\"trigger\":\"sweep\"", StringComparison.Ordinal) && l.Contains("\"handler\":\"placement-guard\"", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, guard.Count);
            Assert.Contains("\"operation\":\"UpdateService\"", guard[0], StringComparison.Ordinal);
            Assert.Contains("\"operation\":\"RunTask\"", guard[1], StringComparison.Ordinal);
            Assert.Contains(actual, l => l.Contains("\"operation\":\"StopTask\"", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ALostReDecision_IsReArmedByTheReconcilerBootstrap_AsTheInProcessReplayReArmsIt()
    {
        // web-cpu-high goes to ALARM at 10:00:04 and back to OK at 10:20:04; the delay queue loses its first re-decision.
        var dir = Directory.CreateTempSubdirectory("reflex-rearm-");
        try
        {
            var alarm = File.ReadLines(Repository.Path("events", "scenarios", "scaling.jsonl")).First();
            var ok = alarm.Replace("c9b430ab-4e93-5fce-a24a-0dd5e4aa0f3f", "c9b430ab-0000-0000-0000-00000000000b", StringComparison.Ordinal)
                .Replace("\"time\":\"2026-03-07T10:00:04Z\"", "\"time\":\"2026-03-07T10:20:04Z\"", StringComparison.Ordinal)
                .Replace("\"state\":{\"value\":\"ALARM\"", "\"state\":{\"value\":\"OK\"", StringComparison.Ordinal)
                .Replace("\"timestamp\":\"2026-03-07T10:00:04.517+0000\"", "\"timestamp\":\"2026-03-07T10:20:04.517+0000\"", StringComparison.Ordinal);
            var events = Path.Combine(dir.FullName, "sustained.jsonl");
            File.WriteAllLines(events, [alarm, ok]);
            ReplayCase Case()
            {
                var lost = false;
                return new ReplayCase(events)
                {
                    LostWork = (e, _) => e.Detail is Core.Events.AlarmStateChange && !lost && (lost = true),
                };
            }

            var expected = await Replays.InProcessAsync(Case());
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, Case());
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                Assert.Single(actual, l => l.Contains("\"code\":\"engine.ignored.undelivered\"", StringComparison.Ordinal));
                var rearmed = Assert.Single(actual, l => l.Contains("re-armed by the sweep", StringComparison.Ordinal));
                Assert.Contains("\"handler\":\"service-scaler\"", rearmed, StringComparison.Ordinal);
                Assert.Contains("\"operation\":\"UpdateService\"", rearmed, StringComparison.Ordinal);
                // The chain the re-armed re-decision scheduled went through the delay queue to relaunch-due.
                Assert.Contains(actual, l => l.Contains("\"trigger\":\"timer\"", StringComparison.Ordinal) && l.Contains("\"handler\":\"service-scaler\"", StringComparison.Ordinal)
                    && l.Contains("\"time\":\"2026-03-07T10:06", StringComparison.Ordinal));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
