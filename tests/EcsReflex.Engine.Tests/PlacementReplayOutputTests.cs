using System.Text.Json;
using EcsReflex.Engine.Replay;
using static EcsReflex.Engine.Tests.PlacementTestSupport;

namespace EcsReflex.Engine.Tests;

public class PlacementReplayOutputTests
{
    [Fact]
    public async Task JsonLines_OfTheDrainReplay_WritesOneObjectPerRecordWithTheExactRequests()
    {
        var records = await ReplayRepoAsync("ecs-container-instance-draining.json");
        using var stream = new MemoryStream();
        using (var w = new JsonLinesWriter(stream))
            foreach (var r in records) w.Write(r);
        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal("ecs-container-instance-draining.json", docs[0].GetProperty("input").GetString());
        Assert.Equal("RunTask", docs[0].GetProperty("actions")[0].GetProperty("operation").GetString());
        Assert.Equal("ec2InstanceId != i-0bbbb4609287edcaa",
            docs[0].GetProperty("actions")[0].GetProperty("request").GetProperty("placementConstraints")[0].GetProperty("expression").GetString());

        Assert.Equal(ReplayEngine.EmittedInput, docs[1].GetProperty("input").GetString());
        Assert.Equal("placement-guard", docs[1].GetProperty("handler").GetString());
        var stop = docs[1].GetProperty("actions")[0].GetProperty("request");
        Assert.Equal(WorkerOnB, stop.GetProperty("task").GetString());
        Assert.StartsWith("EcsReflex: moved off draining container instance", stop.GetProperty("reason").GetString());

        Assert.Equal(("ECS Task State Change", "ignored"), (docs[2].GetProperty("detailType").GetString(), docs[2].GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task Table_ShowsWhyAReplacementCouldNotBePlaced()
    {
        var policy = Core.Policy.PolicyLoader.Load(File.ReadAllText(Path.Combine(Repository.Root, "reflex.policy.json"))
            .Replace("\"placement\": {\n            \"constraints\": [],", "\"placement\": {\n            \"constraints\": [ { \"type\": \"memberOf\", \"expression\": \"ec2InstanceId == i-0aaa0e242d1d87a6e\" } ],", StringComparison.Ordinal));
        var records = await ReplayAsync(policy, SnapshotCluster(), Events("ecs-container-instance-draining.json"));
        var text = new StringWriter();
        var table = new TableWriter(text);
        table.Write(records[0]);
        var row = text.ToString().Split('\n')[1];
        Assert.Contains("deferred", row);
        Assert.Contains("ECS could not place it (RESOURCE:CPU (i-0aaa0e242d1d87a6e: 256 CPU units free, the task needs 512)), retrying at 10:45:15", row);
    }
}
