using System.Globalization;
using System.Text.Json.Nodes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Policy;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.Replay;
using Xunit.Abstractions;

namespace EcsReflex.Engine.Tests;

/// <summary>
/// Reliability soak (issue 8), zone outage: 500 worker tasks on the container instances of us-east-1a fail
/// (EssentialContainerExited, exit 1) within 60 simulated seconds. 450 are first failures (relaunched);
/// 50 are relaunches already at attempt 5 of 5 (given up). The policy's rule avoids the failed zone with a
/// memberOf constraint, so every relaunch must land in us-east-1b or us-east-1c; the cluster has room for
/// all of them there, so no relaunch may end in a capacity failure. A second case gives room for only 182
/// relaunches outside the zone (and room inside it): capacity refusals are retried within the limit and
/// every task ends relaunched, given up, or waiting with its reason, none in the failed zone.
/// </summary>
public class SoakZoneOutageTests(ITestOutputHelper output)
{
    private const string ClusterArn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    private const string FailedZone = "us-east-1a";
    private const int Failures = 500;
    private const int AlreadyAtLastAttempt = 50;
    private const int Limit = 20;
    private static readonly DateTimeOffset Start = new(2026, 5, 4, 3, 0, 0, TimeSpan.Zero);

    private const string Policy = """
        {
          "clusters": [
            {
              "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
              "limits": { "maxRelaunchesPerMinute": 20 },
              "reschedule": [
                {
                  "name": "batch-workers",
                  "match": { "group": "family:worker" },
                  "restart": "OnFailure",
                  "maxAttempts": 5,
                  "backoff": { "initialSeconds": 10, "multiplier": 2, "maxSeconds": 360 },
                  "resetAfterSeconds": 600,
                  "avoidFailedInstance": true,
                  "placement": {
                    "constraints": [ { "type": "memberOf", "expression": "attribute:ecs.availability-zone != us-east-1a" } ],
                    "strategy": [ { "type": "spread", "field": "attribute:ecs.availability-zone" } ]
                  }
                }
              ]
            }
          ]
        }
        """;

    private static string InstanceArn(string zone, int n) => SoakClusters.InstanceArn(zone, n);

    /// <summary>
    /// The repository's snapshot plus three large instances in each zone: 6 × 80 worker tasks (512 CPU,
    /// 2048 MiB) fit outside the failed zone, more than the 450 relaunches.
    /// </summary>
    private static EmbeddedCluster OutageCluster() => SoakClusters.RepoSnapshotWithLargeInstances();

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>The 500 stops, in time order, 118 ms apart (the last at 58.9 s), on the four us-east-1a instances.</summary>
    private static List<(string TaskArn, string? Lineage, string Json)> OutageEvents()
    {
        var template = JsonNode.Parse(File.ReadAllText(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json")))!;
        var zoneA = new[] { "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/424b1fee9709931505d95954058b4714" }
            .Concat(Enumerable.Range(1, 3).Select(n => InstanceArn(FailedZone, n))).ToArray();
        var list = new List<(string, string?, string)>();
        for (var k = 0; k < Failures; k++)
        {
            var e = template.DeepClone();
            var id = $"a0{k:D30}";
            var arn = $"arn:aws:ecs:us-east-1:123456789012:task/prod/{id}";
            var stopped = Start.AddMilliseconds(118 * k);
            e["id"] = $"00000000-0000-4000-8000-{k:D12}";
            e["time"] = stopped.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            e["resources"] = new JsonArray(arn);
            var d = e["detail"]!;
            d["taskArn"] = arn;
            foreach (var c in d["containers"]!.AsArray()) c!["taskArn"] = arn;
            d["containerInstanceArn"] = zoneA[k % zoneA.Length];
            d["availabilityZone"] = FailedZone;
            foreach (var key in new[] { "createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "connectivityAt" }) d[key] = Iso(stopped.AddSeconds(-300));
            foreach (var key in new[] { "stoppingAt", "executionStoppedAt", "stoppedAt", "updatedAt" }) d[key] = Iso(stopped);
            string? lineage = null;
            if (k % (Failures / AlreadyAtLastAttempt) == 0)
            {
                // A task EcsReflex relaunched for the fifth time: this failure exhausts its attempts.
                lineage = $"b0{k:D30}";
                d["startedBy"] = $"reflex/{lineage}/5";
            }
            list.Add((arn, lineage, e.ToJsonString()));
        }
        return list;
    }

    [Fact]
    public async Task ZoneOutage_500FailuresIn60s_HeldToTheLimit_EachRelaunchedOrGivenUp_NoneOnTheFailedZone()
    {
        var policy = PolicyLoader.Load(Policy);
        Assert.Equal(Limit, policy.Clusters[0].Limits.MaxRelaunchesPerMinute);
        var events = OutageEvents();
        Assert.True(events.Select(e => JsonNode.Parse(e.Json)!["detail"]!["stoppedAt"]!.GetValue<string>()).Max()!
                    .CompareTo(Iso(Start.AddSeconds(60))) < 0, "all failures within 60 simulated seconds");
        var cluster = OutageCluster();
        var file = ReplayHarness.TempJsonl(events.Select(e => e.Json));
        List<ReplayRecord> records;
        try { (records, _) = await ReplayHarness.RunAsync([file], policy, cluster); }
        finally { File.Delete(file); }

        var results = records.SelectMany(r => r.Actions.Select(a => (Record: r, Result: a))).ToList();
        var runs = results.Where(x => x.Result.Action.Operation == "RunTask").ToList();
        var giveUps = results.Where(x => x.Result.Action.Operation == "GiveUp").ToList();

        // Held to the per-minute limit: every RunTask sent (whatever its result) took a slot of its minute.
        var perMinute = runs.GroupBy(x => x.Record.Time!.Value.ToString("HH:mm", CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.All(perMinute, m => Assert.True(m.Value <= Limit, $"{m.Value} relaunches in minute {m.Key}, limit {Limit}"));
        Assert.Equal(Limit, perMinute.Values.Max());
        Assert.Equal(23, perMinute.Count); // 450 relaunches at 20 a minute: 22 full minutes and 10 more
        Assert.Equal(Failures - AlreadyAtLastAttempt, runs.Count);
        Assert.All(runs, x => Assert.Equal("done", x.Result.Status)); // room enough: no capacity failure to retry
        Assert.Contains(records, r => r.Outcome == Outcome.Deferred && r.Code == ReasonCodes.ActuatorRateLimit);

        // Every failed task has exactly one outcome: relaunched (attempt 1 of its own lineage) or given up with a reason.
        var runByStartedBy = runs.ToDictionary(x => ((RunTaskRequest)x.Result.Action.Request).StartedBy!, x => x);
        var giveUpByTask = giveUps.ToDictionary(x => ((GiveUpRequest)x.Result.Action.Request).TaskArn, x => x);
        Assert.Equal(AlreadyAtLastAttempt, giveUps.Count);
        foreach (var (taskArn, lineage, _) in events)
        {
            var id = taskArn[(taskArn.LastIndexOf('/') + 1)..];
            if (lineage is null)
            {
                Assert.True(runByStartedBy.ContainsKey($"reflex/{id}/1"), $"{id} was not relaunched");
                Assert.False(giveUpByTask.ContainsKey(taskArn), $"{id} was relaunched and given up");
            }
            else
            {
                var g = giveUpByTask[taskArn];
                var request = (GiveUpRequest)g.Result.Action.Request;
                Assert.Equal((lineage, 5, 5), (request.Lineage, request.Attempt, request.MaxAttempts));
                Assert.Contains("exit", request.Reason, StringComparison.OrdinalIgnoreCase);
                Assert.Contains($"giving up on lineage {lineage}", g.Record.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain(runByStartedBy.Keys, k => k.StartsWith($"reflex/{lineage}/", StringComparison.Ordinal));
            }
        }
        // Nothing left waiting at the end.
        Assert.DoesNotContain(records, r => r.Input == "replay");

        // Where the embedded cluster placed each relaunch: never in the failed zone; every one RUNNING by the end.
        var zoneOf = cluster.ContainerInstances.ToDictionary(i => i.ContainerInstanceArn, i => i.Attribute("ecs.availability-zone"));
        // (The failed tasks that were themselves relaunches are listed too, STOPPED, as ECS lists a stopped task for an hour.)
        var started = cluster.Tasks.Where(t => t.StartedBy?.StartsWith("reflex/", StringComparison.Ordinal) == true && t.LastStatus != "STOPPED").ToList();
        Assert.Equal(Failures - AlreadyAtLastAttempt, started.Count);
        Assert.All(started, t =>
        {
            Assert.NotNull(t.ContainerInstanceArn);
            Assert.NotEqual(FailedZone, zoneOf[t.ContainerInstanceArn!]);
            Assert.NotEqual(FailedZone, t.AvailabilityZone);
            Assert.Equal("RUNNING", t.LastStatus);
        });
        // The spread strategy shares them between the two zones left.
        var byZone = started.GroupBy(t => t.AvailabilityZone!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["us-east-1b", "us-east-1c"], byZone.Keys.Order());
        Assert.InRange(byZone["us-east-1b"] - byZone["us-east-1c"], -1, 1);

        var limited = records.Count(r => r.Outcome == Outcome.Deferred && r.Code == ReasonCodes.ActuatorRateLimit);
        output.WriteLine($"stops {events.Count}, records {records.Count}, RunTask {runs.Count} (all done), GiveUp {giveUps.Count}, rate-limit deferrals {limited}, " +
                         $"minutes with relaunches {perMinute.Count} (max {perMinute.Values.Max()}), last relaunch {runs.Max(x => x.Record.Time):HH:mm:ss}, " +
                         $"placed us-east-1b {byZone["us-east-1b"]} / us-east-1c {byZone["us-east-1c"]} / {FailedZone} 0");
    }

    [Fact]
    public async Task ZoneOutage_WithoutRoomOutsideTheZone_RetriesCapacityFailuresWithinTheLimit_AndNeverUsesTheFailedZone()
    {
        // Each added instance takes 30 workers: 6 × 30 outside us-east-1a, plus one on each of the snapshot's
        // us-east-1b and us-east-1c instances (1024 CPU, 3584 MiB free) = 182 places for 450 relaunches, while
        // us-east-1a has room (its 3 added instances, and what the failed tasks gave back) that the policy forbids.
        const int room = 6 * 30 + 2;
        var policy = PolicyLoader.Load(Policy);
        var events = OutageEvents();
        var cluster = SoakClusters.RepoSnapshotWithLargeInstances(workerTasksEach: 30);
        var file = ReplayHarness.TempJsonl(events.Select(e => e.Json));
        List<ReplayRecord> records;
        try { (records, _) = await ReplayHarness.RunAsync([file], policy, cluster); }
        finally { File.Delete(file); }

        var runs = records.SelectMany(r => r.Actions.Where(a => a.Action.Operation == "RunTask").Select(a => (Record: r, Result: a))).ToList();
        var perMinute = runs.GroupBy(x => x.Record.Time!.Value.ToString("HH:mm", CultureInfo.InvariantCulture)).Select(g => g.Count()).ToList();
        Assert.All(perMinute, n => Assert.True(n <= Limit, $"{n} RunTask calls in one minute, limit {Limit}"));
        var done = runs.Where(x => x.Result.Status == "done").ToList();
        var capacity = runs.Where(x => x.Result.Status == "capacity").ToList();
        Assert.Equal(runs.Count, done.Count + capacity.Count);
        Assert.Equal(room, done.Count);
        Assert.All(capacity, x => Assert.StartsWith("RESOURCE:", x.Result.Detail, StringComparison.Ordinal));
        Assert.All(capacity, x => Assert.Contains("ECS could not place it", x.Record.Reason, StringComparison.Ordinal));

        // Each failed task: relaunched, given up, or still waiting for capacity (tried, refused for resources, retried).
        var doneBy = done.Select(x => ((RunTaskRequest)x.Result.Action.Request).StartedBy!).ToHashSet();
        Assert.Equal(done.Count, doneBy.Count); // none relaunched twice
        var refusedBy = capacity.GroupBy(x => ((RunTaskRequest)x.Result.Action.Request).StartedBy!).ToDictionary(g => g.Key, g => g.Count());
        var givenUp = records.SelectMany(r => r.Actions).Select(a => a.Action.Request).OfType<GiveUpRequest>().Select(g => g.TaskArn).ToHashSet();
        var waiting = 0;
        var neverTried = 0;
        var lastWord = records.Where(r => r.EventId is not null && r.Input != ReplayEngine.EmittedInput).GroupBy(r => r.EventId!).ToDictionary(g => g.Key, g => g.Last());
        foreach (var (taskArn, lineage, _) in events)
        {
            var startedBy = $"reflex/{taskArn[(taskArn.LastIndexOf('/') + 1)..]}/1";
            if (lineage is not null) Assert.Contains(taskArn, givenUp);
            else if (!doneBy.Contains(startedBy))
            {
                waiting++;
                if (refusedBy.GetValueOrDefault(startedBy) == 0) neverTried++;
                var last = lastWord.Values.Single(r => r.Event!.Resources.Contains(taskArn));
                Assert.Equal(Outcome.Deferred, last.Outcome);
                Assert.True(last.Reason.Contains("ECS could not place it", StringComparison.Ordinal) || last.Reason.Contains("held by the rate limit", StringComparison.Ordinal), last.Reason);
            }
        }
        Assert.Equal(Failures - AlreadyAtLastAttempt - room, waiting);
        var end = Assert.Single(records, r => r.Input == "replay");
        Assert.StartsWith($"the replay stops here: {waiting} deferred decisions still wait, for capacity", end.Reason, StringComparison.Ordinal);

        var started = cluster.Tasks.Where(t => t.StartedBy?.StartsWith("reflex/", StringComparison.Ordinal) == true && t.LastStatus != "STOPPED").ToList();
        Assert.Equal(room, started.Count);
        Assert.DoesNotContain(started, t => t.AvailabilityZone == FailedZone);
        output.WriteLine($"RunTask calls {runs.Count} (done {done.Count}, refused for capacity {capacity.Count}), given up {givenUp.Count}, still waiting for capacity {waiting} (of which never tried, held by the rate limit behind the retries {neverTried}), max per minute {perMinute.Max()}, minutes {perMinute.Count}");
    }
}
