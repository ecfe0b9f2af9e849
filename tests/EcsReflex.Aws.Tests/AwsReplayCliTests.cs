using System.Text;
using System.Text.Json;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Cli;

namespace EcsReflex.Aws.Tests;

/// <summary><c>reflex replay --aws</c> against a loopback ECS, pointed at it the way users would: <c>AWS_ENDPOINT_URL_ECS</c>.</summary>
public sealed class AwsReplayCliTests
{
    private static readonly string Event = Repository.Path("events", "ecs-task-stopped-essential-exit-1.json");

    private static StubReply Ecs(StubRequest r)
    {
        if (r.Operation == "DescribeContainerInstances")
        {
            var arn = JsonDocument.Parse(r.Body).RootElement.GetProperty("containerInstances")[0].GetString();
            return StubReply.Json($$"""{"containerInstances":[{"containerInstanceArn":"{{arn}}","ec2InstanceId":"i-0live0000000000001","status":"ACTIVE"}],"failures":[]}""");
        }
        return r.Operation == "RunTask"
            ? StubReply.Json("""{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"}],"failures":[]}""")
            : StubReply.Error("InvalidAction", $"unexpected {r.Operation}");
    }

    private static DictionaryEnvironment Environment(AwsStub stub, bool region = true) => new(new Dictionary<string, string?>
    {
        ["AWS_ENDPOINT_URL_ECS"] = stub.Url.ToString(),
        ["AWS_REGION"] = region ? "us-east-1" : null,
        ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
        ["AWS_SECRET_ACCESS_KEY"] = "secret",
    });

    private static async Task<(int Exit, string Out, string Err)> RunAsync(IEnvironment env, params string[] args)
    {
        var (exit, stdout, stderr, raw) = await CliRun.RunAsync(env, args);
        return (exit, stdout + raw, stderr);
    }

    [Fact]
    public async Task ReplayAws_ByDefault_ObservesTheAccountAndSendsNoWrite()
    {
        await using var stub = await AwsStub.StartAsync(Ecs);

        var (exit, output, err) = await RunAsync(Environment(stub), "replay", "--aws", "--policy", Repository.Path("reflex.policy.json"), Event);

        Assert.True(exit == 0, err);
        Assert.Contains("dry run: nothing is sent", err);
        Assert.NotEmpty(stub.For("DescribeContainerInstances"));
        Assert.Empty(stub.For("RunTask"));
        Assert.Contains("away from i-0live0000000000001", output);
        var requestLine = output.Split('\n').Single(l => l.TrimStart().StartsWith("ecs RunTask [dry-run", StringComparison.Ordinal));
        using var request = JsonDocument.Parse(requestLine[requestLine.IndexOf('{')..]);
        Assert.Equal("ec2InstanceId != i-0live0000000000001", request.RootElement.GetProperty("placementConstraints")[0].GetProperty("expression").GetString());
        Assert.StartsWith("reflex-", request.RootElement.GetProperty("clientToken").GetString());
    }

    [Fact]
    public async Task ReplayAws_WithExecute_SendsExactlyThePrintedRequest()
    {
        await using var stub = await AwsStub.StartAsync(Ecs);

        var (exit, output, err) = await RunAsync(Environment(stub), "replay", "--aws", "--execute", "--format", "jsonl", "--policy", Repository.Path("reflex.policy.json"), Event);

        Assert.True(exit == 0, err);
        var sent = Assert.Single(stub.For("RunTask"));
        var acted = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("outcome").GetString() == "acted");
        var action = acted.GetProperty("actions")[0];
        Assert.Equal("done", action.GetProperty("status").GetString());
        Assert.Equal(action.GetProperty("request").GetRawText(), sent.Body);
        Assert.Matches("Credential=AKIDEXAMPLE/\\d{8}/us-east-1/ecs/aws4_request", sent.Headers["Authorization"]);
    }

    [Fact]
    public async Task ReplayAws_WithoutARegion_ExitsTwoSayingWhatToSet()
    {
        await using var stub = await AwsStub.StartAsync(Ecs);
        var env = new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_ECS"] = stub.Url.ToString(), ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "secret",
            ["AWS_CONFIG_FILE"] = "/nonexistent", ["AWS_PROFILE"] = "none",
        });

        var (exit, _, err) = await RunAsync(env, "replay", "--aws", "--profile", "reflex-test-no-such-profile", "--policy", Repository.Path("reflex.policy.json"), Event);

        Assert.Equal(2, exit);
        Assert.Contains("no AWS region: set AWS_REGION", err);
        Assert.Empty(stub.Requests);
    }

    [Fact]
    public async Task ReplayAws_WhenTheAccountRefusesAccess_ExitsOneWithTheErrorCode()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Error("AccessDeniedException", "User is not authorized to perform: ecs:DescribeContainerInstances"));

        var (exit, _, err) = await RunAsync(Environment(stub), "replay", "--aws", "--region", "us-east-1", "--policy", Repository.Path("reflex.policy.json"), Event);

        Assert.Equal(1, exit);
        Assert.Contains("AccessDeniedException", err);
        Assert.Contains("ecs:DescribeContainerInstances", err);
    }

    [Fact]
    public async Task Replay_WithExecuteButNotAws_IsAUsageError()
    {
        await using var stub = await AwsStub.StartAsync(Ecs);

        var (exit, _, err) = await RunAsync(Environment(stub), "replay", "--execute", "--policy", Repository.Path("reflex.policy.json"), Event);

        Assert.Equal(2, exit);
        Assert.Contains("add --aws", err);
        Assert.Empty(stub.Requests);
    }
}
