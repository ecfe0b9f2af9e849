using System.Diagnostics;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Hosting;
using EcsReflex.Engine.Cluster;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Bench.HotPath;

/// <summary>What the burst cost, through the emulator's local replay.</summary>
public sealed record BurstResult(
    int Inputs, int Relaunched, int RescheduleDecisions, int Deferred, int OtherRecords, int Calls, int RescheduleCalls,
    IReadOnlyDictionary<string, int> CallsByKind, TimeSpan Simulated, TimeSpan Took);

/// <summary>
/// The 100-failure burst (events/scenarios/burst-100.jsonl: 100 worker failures within a minute, 20 relaunches a minute
/// allowed) until every failure is relaunched. Its deferred work spans minutes, so it runs through the emulator's local
/// replay (<see cref="LambdaReplay"/>): the same published bootstrap, one process per handler, on a simulated clock, against
/// the emulator's local services (in-memory table, embedded cluster, delay queue), which count every call; each stands for
/// one AWS call in Lambda (a list-then-describe of ECS counts as one).
/// </summary>
public static class Burst
{
    public const string Scenario = "events/scenarios/burst-100.jsonl";

    public static async Task<BurstResult> RunAsync(string root, string bootstrap, string policy)
    {
        var snapshot = SnapshotReader.Load(Path.Combine(root, "events", "cluster.snapshot.json")).Snapshot;
        var file = Path.Combine(root, Scenario);
        await using var replay = new LambdaReplay(new LambdaReplayOptions
        {
            Bootstrap = BootstrapCommand.Native(bootstrap), PolicyPath = policy, Snapshot = snapshot,
        });
        var inputs = RawInputs.Merge([RawInputs.Read(file, Scenario)]);
        var started = Stopwatch.GetTimestamp();
        int relaunched = 0, decisions = 0, deferred = 0, other = 0, rescheduleCalls = 0, counted = 0;
        DateTimeOffset? first = null, last = null;
        await foreach (var r in replay.RunAsync(inputs))
        {
            if (r.Time is { } t)
            {
                first ??= t;
                last = t;
            }
            // A record comes once its invocation is over: the calls since the record before are its own.
            var sum = replay.Local.Calls.Values.Sum();
            var own = sum - counted;
            counted = sum;
            if (r.Handler == HandlerNames.TaskRescheduler)
            {
                decisions++;
                rescheduleCalls += own;
                if (r.Outcome == Outcome.Deferred) deferred++;
            }
            else other++;
            relaunched += r.Actions.Count(a => a.Action.Operation == "RunTask");
        }
        var byKind = replay.Local.Calls
            .GroupBy(kv => Kind(kv.Key), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
        return new BurstResult(File.ReadLines(file).Count(l => l.Trim().Length > 0), relaunched, decisions, deferred, other,
            replay.Local.Calls.Values.Sum(), rescheduleCalls, byKind, (last - first) ?? TimeSpan.Zero, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The AWS service a local call stands for.</summary>
    private static string Kind(string path) =>
        path.Contains("/state/", StringComparison.Ordinal) ? Services.DynamoDb
        : path.Contains("queue", StringComparison.Ordinal) || path.Contains("dead-letters", StringComparison.Ordinal) ? Services.Sqs
        : path.Contains("alarm", StringComparison.Ordinal) ? Services.CloudWatch
        : Services.Ecs;
}
