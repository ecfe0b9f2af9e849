using System.Text;
using System.Text.Json;
using EcsReflex.Cli;

namespace EcsReflex.Engine.Tests;

/// <summary><c>reflex replay --snapshot</c> with the AWS CLI's outputs as a user saves them (written here, in the shapes the CLI prints).</summary>
public sealed class SnapshotCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reflex-snapshot-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err, string Raw)> Run(params string[] args) => CliRun.RunAsync(args);

    private static string Policy => Repository.Path("reflex.policy.json");

    private string Write(string name, string json)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    private const string DescribeServicesApi = """
        {
            "services": [
                {
                    "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
                    "serviceName": "api",
                    "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                    "status": "ACTIVE",
                    "desiredCount": 3,
                    "runningCount": 3,
                    "pendingCount": 0,
                    "launchType": "EC2"
                }
            ],
            "failures": []
        }
        """;

    private const string DescribeScalableTargetsApi = """
        {
            "ScalableTargets": [
                {
                    "ServiceNamespace": "ecs",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ResourceId": "service/prod/api",
                    "MinCapacity": 2,
                    "MaxCapacity": 10,
                    "CreationTime": 1462558906.199,
                    "SuspendedState": { "DynamicScalingOutSuspended": false, "ScheduledScalingSuspended": false, "DynamicScalingInSuspended": false }
                }
            ]
        }
        """;

    private static string ApiAlarm => Repository.Path("events", "cloudwatch-alarm-alarm-api-cpu-high.json");

    [Fact]
    public async Task Replay_OnAFolderOfCliOutputs_LeavesAServiceApplicationAutoScalingScalesAlone()
    {
        Write("snapshot/services.json", DescribeServicesApi);
        Write("snapshot/scalable-targets.json", DescribeScalableTargetsApi);
        var (code, stdout, _, _) = await Run("replay", "--policy", Policy, "--snapshot", Path.Combine(_dir, "snapshot"), ApiAlarm);
        Assert.Equal(0, code);
        Assert.Contains("Application Auto Scaling also scales api (scalable target service/prod/api, min 2, max 10): leaving it alone", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("UpdateService", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_OnAFolderWithoutTheScalableTarget_ScalesTheService()
    {
        // The counterpart of the test above: what the scaler did when the reader dropped ScalableTargets.
        Write("snapshot/services.json", DescribeServicesApi);
        var (code, stdout, _, _) = await Run("replay", "--policy", Policy, "--snapshot", Path.Combine(_dir, "snapshot"), ApiAlarm);
        Assert.Equal(0, code);
        Assert.Contains("UpdateService api desired 3 →", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_OnAJqSlurpedArrayOfOutputs_ReadsThemAll()
    {
        var s = Write("snapshot.json", $"[{DescribeServicesApi}, {DescribeScalableTargetsApi}]");
        var (code, stdout, _, _) = await Run("replay", "--policy", Policy, "--snapshot", s, ApiAlarm);
        Assert.Equal(0, code);
        Assert.Contains("Application Auto Scaling also scales api", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_OnASnapshotWithAnUnknownKey_Exits2NamingTheKeyAndTheFile()
    {
        Write("snapshot/services.json", DescribeServicesApi);
        Write("snapshot/policies.json", """{"ScalingPolicies":[]}""");
        var (code, _, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", Path.Combine(_dir, "snapshot"), ApiAlarm);
        Assert.Equal(2, code);
        Assert.Contains("policies.json: ScalingPolicies: unknown key", stderr, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ no container instances: placement not simulated

    private static string Stop => Repository.Path("events", "ecs-task-stopped-essential-exit-1.json");

    [Fact]
    public async Task Replay_WithoutContainerInstances_WarnsOnceAndMarksEveryTaskStartUnplaced()
    {
        var s = Write("no-instances.json", DescribeServicesApi);
        var (code, stdout, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", s, Stop, Repository.Path("events", "ecs-task-stopped-spot-interruption.json"));
        Assert.Equal(0, code);
        Assert.Single(stderr.Split('\n'), l => l.Contains("placement cannot be simulated", StringComparison.Ordinal));
        Assert.StartsWith($"{s}: warning: no container instances", stderr, StringComparison.Ordinal);
        var starts = stdout.Split('\n').Where(l => l.Contains(" RunTask ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, starts.Count);
        Assert.All(starts, l => Assert.Contains("RunTask worker:7 unplaced as reflex/", l, StringComparison.Ordinal));

        var (_, _, _, raw) = await Run("replay", "--policy", Policy, "--snapshot", s, "--format", "jsonl", Stop);
        var actions = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .SelectMany(r => r.GetProperty("actions").EnumerateArray()).Where(a => a.GetProperty("operation").GetString() == "RunTask").ToList();
        Assert.Equal("unplaced", Assert.Single(actions).GetProperty("placement").GetString());
    }

    [Fact]
    public async Task Replay_WithContainerInstances_NeitherWarnsNorMarksAnything()
    {
        var snapshot = Repository.Path("events", "cluster.snapshot.json");
        var (code, stdout, stderr, _) = await Run("replay", "--policy", Policy, "--snapshot", snapshot, Stop);
        Assert.Equal(0, code);
        Assert.DoesNotContain("warning", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unplaced", stdout, StringComparison.Ordinal);
        var (_, _, _, raw) = await Run("replay", "--policy", Policy, "--snapshot", snapshot, "--format", "jsonl", Stop);
        Assert.DoesNotContain("\"placement\"", raw, StringComparison.Ordinal);
    }
}
