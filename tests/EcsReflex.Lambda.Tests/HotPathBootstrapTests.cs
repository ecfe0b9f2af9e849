using System.Text.Json.Nodes;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// The hot path (issue 17), through the real bootstrap on the JIT: a stop the event alone settles costs no call at all. The
/// emulator counts every call the bootstrap makes to its local services (the table, ECS, CloudWatch, the queues), each
/// standing for one AWS call in Lambda.
/// </summary>
public sealed class HotPathBootstrapTests
{
    private static BootstrapCommand Jit => BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "bootstrap.dll"));

    /// <summary>A sample event at one shared time (so that no sweep runs between them), as one line.</summary>
    private static string At(string file, string time, int copy)
    {
        var e = JsonNode.Parse(File.ReadAllText(Repository.Path("events", file)))!;
        e["time"] = time;
        e["id"] = $"{e["id"]!.GetValue<string>()[..^2]}{copy:D2}";
        return e.ToJsonString();
    }

    /// <summary>The calls the bootstrap made, each path and how many times, as one line (the emulator's counts).</summary>
    private static string Calls(LambdaReplay replay) =>
        string.Join(", ", replay.Local.Calls.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key[EcsReflex.Engine.Local.LocalProtocol.Prefix.Length..]} ×{kv.Value}"));

    /// <summary>
    /// The events (one line each) replayed in process and through the bootstrap, whose lines must be the same; then
    /// <paramref name="check"/> on the bootstrap's lines and its replay (for the emulator's counts).
    /// </summary>
    private static async Task ThroughBothAsync(string[] lines, Action<List<string>, LambdaReplay> check)
    {
        var dir = Directory.CreateTempSubdirectory("reflex-hot-");
        try
        {
            var events = Path.Combine(dir.FullName, "events.jsonl");
            File.WriteAllLines(events, lines);
            var c = new ReplayCase(events);
            var expected = await Replays.InProcessAsync(c);
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Jit, c);
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                check(actual, replay);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public Task ARelaunch_ClaimsOnce_ReadsTogether_AndCommitsItsWritesAndItsCompletionInOneBatch() =>
        ThroughBothAsync([At("ecs-task-stopped-essential-exit-1.json", "2026-03-02T10:00:00Z", 1)], (actual, replay) =>
        {
            Assert.Equal(2, actual.Count);
            Assert.Contains("\"code\":\"rescheduler.relaunch\"", actual[0], StringComparison.Ordinal);
            Assert.Contains("\"code\":\"guard.ignored.no-move\"", actual[1], StringComparison.Ordinal); // the relaunched task's RUNNING
            // The relaunch: one claim (the change's key alone); beside it the lineage, the drain move, the container instance's
            // record and the stopped task's tags (the rule carries them); the EC2 id from ECS (the record has none: no instance
            // event came); the relaunch slot; RunTask; one batch (the lineage, the audit entries and the processed record).
            // Before issue 17 the claim and the completion were two writes each, the audit and the lineage one each, and the
            // reads one after another. The RUNNING of the relaunched task: one claim, the EC2 instance and the drain move, one batch.
            Assert.Equal("cluster/describe-task-tags ×1, cluster/ec2-instance-id ×2, ecs/run-task ×1, state/count-relaunch ×1, state/get-drain-move ×2, "
                         + "state/get-instance-seen ×1, state/get-lineage ×1, state/put-claim ×2, state/write-batch ×2", Calls(replay));
        });

    [Fact]
    public Task StopsTheEventAloneSettles_CostNoCall_EvenDeliveredTwice()
    {
        const string Time = "2026-03-02T10:00:00Z";
        // A user's stop, a service's task stopped by its scheduler, a success under OnFailure; the user's stop twice.
        return ThroughBothAsync(
        [
            At("ecs-task-stopped-user-initiated.json", Time, 1),
            At("ecs-task-stopped-service-scheduler-initiated.json", Time, 2),
            At("ecs-task-stopped-essential-exit-0.json", Time, 3),
            At("ecs-task-stopped-user-initiated.json", Time, 4),
        ], (actual, replay) =>
        {
            Assert.Equal(4, actual.Count);
            Assert.All(actual, l => Assert.Contains("\"outcome\":\"ignored\"", l, StringComparison.Ordinal));
            Assert.Equal(2, actual.Count(l => l.Contains("\"code\":\"rescheduler.ignored.not-a-failure\"", StringComparison.Ordinal)));
            Assert.Contains(actual, l => l.Contains("\"code\":\"rescheduler.ignored.service-task\"", StringComparison.Ordinal));
            Assert.Contains(actual, l => l.Contains("\"code\":\"rescheduler.ignored.success\"", StringComparison.Ordinal));
            // No claim, no lineage, no instance, no drain move, no audit: nothing asked of the table or of ECS.
            var calls = replay.Local.Calls.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} ×{kv.Value}").ToList();
            Assert.True(calls.Count == 0, $"the bootstrap called: {string.Join(", ", calls)}");
        });
    }
}
