using System.Text.Json.Nodes;
using EcsReflex.Engine.Cluster;

namespace EcsReflex.Engine.Tests;

/// <summary>Embedded clusters for the soak tests: the repository's snapshot with room added.</summary>
internal static class SoakClusters
{
    public static string InstanceArn(string zone, int n) =>
        $"arn:aws:ecs:us-east-1:123456789012:container-instance/prod/{zone[^1]}{n:D31}";

    /// <summary>
    /// The repository's snapshot (its services, tasks and three m5.large instances) plus three large
    /// m5.large-typed instances in each of us-east-1a, b and c, each with 40960 CPU units and 163840 MiB
    /// free: room for 80 worker tasks (512 CPU, 2048 MiB) each (<paramref name="workerTasksEach"/>).
    /// </summary>
    public static EmbeddedCluster RepoSnapshotWithLargeInstances(int workerTasksEach = 80)
    {
        var snapshot = JsonNode.Parse(File.ReadAllText(Repository.Path("events", "cluster.snapshot.json")))!;
        var instances = snapshot["containerInstances"]!.AsArray();
        var template = instances[0]!;
        foreach (var zone in new[] { "us-east-1a", "us-east-1b", "us-east-1c" })
            for (var n = 1; n <= 3; n++)
            {
                var i = template.DeepClone();
                i["containerInstanceArn"] = InstanceArn(zone, n);
                i["ec2InstanceId"] = $"i-0{zone[^1]}{n:D15}";
                foreach (var key in new[] { "remainingResources", "registeredResources" })
                    foreach (var r in i[key]!.AsArray())
                        r!["integerValue"] = r["name"]!.GetValue<string>() switch { "CPU" => 512 * workerTasksEach, "MEMORY" => 2048 * workerTasksEach, _ => r["integerValue"]!.GetValue<int>() };
                i["runningTasksCount"] = 0;
                foreach (var a in i["attributes"]!.AsArray())
                    if (a!["name"]!.GetValue<string>() == "ecs.availability-zone") a["value"] = zone;
                instances.Add(i);
            }
        return new EmbeddedCluster(SnapshotReader.Parse(System.Text.Encoding.UTF8.GetBytes(snapshot.ToJsonString())));
    }
}
