using EcsReflex.Core.Ecs;
using EcsReflex.Core.State;
using EcsReflex.Engine.State;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Handlers;
using EcsReflex.Lambda.Local;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

public sealed class HostInitTests
{
    private static (IInvocationHandler? Handler, InitException? Error, RecordingLineWriter Output) Init(
        Dictionary<string, string?> vars, IAwsAdapters? aws = null, string? baseDirectory = null)
    {
        var output = new RecordingLineWriter();
        try
        {
            return (HostInit.Create(new DictionaryEnvironment(vars), baseDirectory ?? Repository.Root, aws ?? NoAwsAdapters.Instance, output, TimeProvider.System), null, output);
        }
        catch (InitException ex)
        {
            return (null, ex, output);
        }
    }

    private static Dictionary<string, string?> Local(string handler) => new() { [EnvVars.Handler] = handler, [EnvVars.DryRun] = "1" };

    [Theory]
    [InlineData("task-rescheduler", typeof(EventBridgeHandler))]
    [InlineData("placement-guard", typeof(EventBridgeHandler))]
    [InlineData("service-scaler", typeof(EventBridgeHandler))]
    [InlineData("relaunch-due", typeof(RelaunchDueHandler))]
    public void Create_PicksTheHandlerThatHandlerNames(string name, Type type)
    {
        var observer = new Engine.Cluster.EmbeddedCluster(Replays.Snapshot);
        var (handler, error, _) = Init(Local(name), new FakeAdapters { Observer = observer });

        Assert.Null(error);
        Assert.Equal(name, handler!.Name);
        Assert.IsType(type, handler);
    }

    [Theory]
    [InlineData("rescheduler", "_HANDLER=\"rescheduler\" is not a handler: set it to one of task-rescheduler, placement-guard, service-scaler, relaunch-due, reconciler")]
    [InlineData(null, "_HANDLER is not set: set it to one of task-rescheduler, placement-guard, service-scaler, relaunch-due, reconciler")]
    public void Create_WhenTheHandlerIsUnknown_FailsInitSayingWhichNamesExist(string? name, string message)
    {
        var (_, error, _) = Init(new() { [EnvVars.Handler] = name, [EnvVars.DryRun] = "1" });

        Assert.Equal(HostInit.UnknownHandler, error!.ErrorType);
        Assert.Equal(message, Assert.Single(error.Problems));
    }

    [Fact]
    public void Create_WhenThePolicyIsInvalid_FailsInitWithEveryProblemAndItsPath()
    {
        var dir = Directory.CreateTempSubdirectory("reflex-policy-");
        try
        {
            var path = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(path, """{ "clusters": [ { "cluster": "prod", "reschedule": [ { "name": "x", "match": {}, "maxAttempts": "five" } ], "limits": { "maxRelaunchesPerMinute": -1 } } ] }""");
            var (_, error, _) = Init(new() { [EnvVars.Handler] = "task-rescheduler", [EnvVars.DryRun] = "1", [EnvVars.Policy] = path });

            Assert.Equal(HostInit.InvalidPolicy, error!.ErrorType);
            Assert.True(error.Problems.Count >= 2, string.Join("\n", error.Problems));
            Assert.All(error.Problems, p => Assert.StartsWith($"policy {path}: clusters[0].", p, StringComparison.Ordinal));
            Assert.Contains(error.Problems, p => p.Contains("maxAttempts", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Create_WhenThePolicyFileIsMissing_SaysToSetReflexPolicyOrDeployItBesideTheBinary()
    {
        var (_, error, _) = Init(Local("task-rescheduler"), baseDirectory: Path.Combine(Repository.Root, "no-such-folder"));

        Assert.Equal(HostInit.InvalidPolicy, error!.ErrorType);
        var problem = Assert.Single(error.Problems);
        Assert.Contains("set REFLEX_POLICY to the policy file, or deploy reflex.policy.json beside the bootstrap", problem, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> AwsSettings => new()
    {
        { EnvVars.Table, "reflex-state", "REFLEX_TABLE=reflex-state asks for the DynamoDB state store, but no AWS adapters in this test" },
        { EnvVars.DelayQueueUrl, "https://sqs.us-east-1.amazonaws.com/123456789012/reflex-delay", "REFLEX_DELAY_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/reflex-delay asks for the SQS delay queue, but no AWS adapters in this test" },
        { EnvVars.DeadLetterQueueUrl, "https://sqs.us-east-1.amazonaws.com/123456789012/reflex-dlq", "REFLEX_DLQ_URL=https://sqs.us-east-1.amazonaws.com/123456789012/reflex-dlq asks for the SQS dead-letter queue, but no AWS adapters in this test" },
    };

    [Theory]
    [MemberData(nameof(AwsSettings))]
    public void Create_WhenAwsIsConfiguredButTheAdaptersCannotMakeIt_FailsInitRatherThanPretending(string name, string value, string message)
    {
        var vars = Local("task-rescheduler");
        vars[name] = value;

        var (_, error, _) = Init(vars);

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        Assert.StartsWith(message, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WithoutDryRunAndWithoutAnEcsClient_FailsInitSayingHowToRunInDryRun()
    {
        var (_, error, _) = Init(new() { [EnvVars.Handler] = "task-rescheduler" });

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        Assert.Contains("no ECS client", error.Message, StringComparison.Ordinal);
        Assert.Contains("set REFLEX_DRY_RUN=1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WhenDryRunIsNotAFlag_SaysWhichValuesItTakes()
    {
        var (_, error, _) = Init(new() { [EnvVars.Handler] = "task-rescheduler", [EnvVars.DryRun] = "yes" });

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        Assert.Equal("REFLEX_DRY_RUN=\"yes\" is not a flag: set it to 1 or true (or 0, false, or leave it unset)", Assert.Single(error.Problems));
    }

    [Fact]
    public void Create_ReportsEveryKindOfProblemAtOnce()
    {
        var (_, error, _) = Init(new() { [EnvVars.Handler] = "nope", [EnvVars.DryRun] = "maybe", [EnvVars.Policy] = "/no/such/policy.json" });

        Assert.Equal(HostInit.UnknownHandler, error!.ErrorType);
        Assert.Equal(3, error.Problems.Count);
    }

    [Fact]
    public void Create_Locally_AnnouncesTheInMemoryStoreOnceAndWarnsThatQueuesAreLogged()
    {
        var (_, error, output) = Init(Local("task-rescheduler"));

        Assert.Null(error);
        var lines = output.Lines.Select(Json.Parse).ToList();
        var init = Assert.Single(lines, l => l.GetProperty("message").GetString() == "init");
        Assert.Equal("in memory", init.GetProperty("store").GetString());
        Assert.True(init.GetProperty("dryRun").GetBoolean());
        Assert.Single(lines, l => l.GetProperty("message").GetString()!.StartsWith("state store: in memory, because REFLEX_TABLE is not set", StringComparison.Ordinal));
        Assert.Single(lines, l => l.GetProperty("level").GetString() == "warn" && l.GetProperty("message").GetString()!.StartsWith("REFLEX_DELAY_QUEUE_URL is not set", StringComparison.Ordinal));
        Assert.Single(lines, l => l.GetProperty("level").GetString() == "warn" && l.GetProperty("message").GetString()!.StartsWith("REFLEX_DLQ_URL is not set", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Equal("task-rescheduler", l.GetProperty("handler").GetString()));
    }

    [Fact]
    public async Task Create_Locally_LogsDeferredWorkWithAWarningInsteadOfQueueingIt()
    {
        var output = new RecordingLineWriter();
        var handler = HostInit.Create(new DictionaryEnvironment(Local("task-rescheduler")), Repository.Root, NoAwsAdapters.Instance, output, TimeProvider.System);
        // Decided on the real clock, long after the sample's stop: due at once, so use a stop whose back-off is far in the future.
        var payload = Repository.EventText("ecs-task-stopped-essential-exit-1.json")
            .Replace("2026-03-02T09:20:11", $"{DateTimeOffset.UtcNow.AddMinutes(1):yyyy-MM-ddTHH:mm:ss}", StringComparison.Ordinal);

        await handler.HandleAsync(new Client.InvocationRequest("r-1", DateTimeOffset.UtcNow.AddMinutes(1), null, null, System.Text.Encoding.UTF8.GetBytes(payload)), CancellationToken.None);

        var lines = output.Lines.Select(Json.Parse).Where(l => l.TryGetProperty("message", out _)).ToList();
        var logged = Assert.Single(lines, l => l.GetProperty("message").GetString()!.StartsWith("deferred work not queued", StringComparison.Ordinal));
        Assert.Equal("warn", logged.GetProperty("level").GetString());
        Assert.True(logged.GetProperty("delayQueueMessage").TryGetProperty("event", out _));
        var reaction = Assert.Single(lines, l => l.GetProperty("message").GetString() == "reaction");
        Assert.Equal("deferred", reaction.GetProperty("outcome").GetString());
        Assert.Equal("logged", reaction.GetProperty("delayQueue").GetString());
    }

    [Fact]
    public void Create_WithPluggedAdapters_UsesThemForEveryConfiguredPort()
    {
        var aws = new FakeAdapters();
        var (handler, error, output) = Init(new()
        {
            [EnvVars.Handler] = "task-rescheduler", [EnvVars.Table] = "t",
            [EnvVars.DelayQueueUrl] = "https://q/delay", [EnvVars.DeadLetterQueueUrl] = "https://q/dlq",
        }, aws);

        Assert.Null(error);
        Assert.NotNull(handler);
        Assert.Equal(["store t", "delay https://q/delay", "dlq https://q/dlq", "ecs", "observer"], aws.Created);
        var lines = output.Lines.Select(Json.Parse).ToList();
        Assert.DoesNotContain(lines, l => l.GetProperty("level").GetString() == "warn");
        Assert.Equal("DynamoDB table t", Assert.Single(lines).GetProperty("store").GetString());
    }

    [Theory]
    [InlineData("placement-guard", "the tasks on a container instance")]
    [InlineData("service-scaler", "a service's desired count")]
    public void Create_WhenAHandlerThatObservesTheClusterHasNoObserver_FailsInitSayingHowToGetOne(string name, string needs)
    {
        var (_, error, _) = Init(Local(name));

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"{name} decides from", problem, StringComparison.Ordinal);
        Assert.Contains(needs, problem, StringComparison.Ordinal);
        Assert.Contains("has no cluster observer (no AWS adapters in this test)", problem, StringComparison.Ordinal);
        Assert.Contains("a bootstrap built with the AWS adapters, with a region and credentials), or run it through `reflex replay --lambda`", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WhenThePluggedAdaptersGiveNoObserver_SaysWhyInTheirWords()
    {
        var (_, error, _) = Init(Local("service-scaler"), new FakeAdapters());

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        Assert.Contains("has no cluster observer (fake)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("task-rescheduler")]
    [InlineData("relaunch-due")]
    public void Create_WhenAHandlerCanDoWithoutAnObserver_StartsAndWarnsWhatItCannotKnow(string name)
    {
        var (handler, error, output) = Init(Local(name));

        Assert.Null(error);
        Assert.NotNull(handler);
        Assert.Contains(output.Lines.Select(Json.Parse), l => l.GetProperty("level").GetString() == "warn"
            && l.GetProperty("message").GetString()!.StartsWith("no cluster observer", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("0", false)]
    [InlineData("1", true)]
    public void Create_InLocalReplay_UsesTheEmulatorsClusterForEveryHandlerAndSendsUnlessDryRun(string? dryRun, bool expected)
    {
        foreach (var name in HandlerNames.All)
        {
            var (handler, error, output) = Init(new()
            {
                [EnvVars.Handler] = name, [EnvVars.LocalReplay] = "1", [EnvVars.RuntimeApi] = "127.0.0.1:9", [EnvVars.DryRun] = dryRun,
            });

            Assert.Null(error);
            Assert.Equal(name, handler!.Name);
            var init = Assert.Single(output.Lines.Select(Json.Parse), l => l.GetProperty("message").GetString() == "init");
            Assert.Equal(expected, init.GetProperty("dryRun").GetBoolean());
            Assert.StartsWith("the emulator's embedded cluster", init.GetProperty("cluster").GetString(), StringComparison.Ordinal);
            Assert.Equal("none: local replay", init.GetProperty("aws").GetString());
        }
    }

    [Fact]
    public async Task UnknownClusterObserver_AnswersWhatItCanAndRefusesToGuessTheRest()
    {
        var o = new UnknownClusterObserver();
        var ct = CancellationToken.None;

        Assert.Null(await o.GetEc2InstanceIdAsync("c", "ci", ct));
        var alarms = await o.DescribeAlarmStatesAsync(["web-cpu-high"], ct);
        Assert.Empty(alarms.States);
        Assert.Contains("no cluster observer", alarms.Unavailable, StringComparison.Ordinal);
        foreach (var call in new Func<Task>[]
        {
            () => o.DescribeServiceScalingAsync("prod", "web", ct).AsTask(),
            () => o.ListTasksOnInstanceAsync("c", "ci", ct).AsTask(),
            () => o.GetServiceAsync("c", "web", ct).AsTask(),
            () => o.GetContainerInstanceAsync("c", "ci", ct).AsTask(),
        })
        {
            var ex = await Assert.ThrowsAsync<ObserverUnavailableException>(call);
            Assert.Contains("no cluster observer", ex.Message, StringComparison.Ordinal);
            Assert.Contains("a bootstrap built with the AWS adapters", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Create_InLocalReplayWithAwsSettings_RefusesTheMix()
    {
        var (_, error, _) = Init(new() { [EnvVars.Handler] = "task-rescheduler", [EnvVars.LocalReplay] = "1", [EnvVars.RuntimeApi] = "127.0.0.1:9001", [EnvVars.Table] = "t" });

        Assert.Equal(HostInit.InvalidConfiguration, error!.ErrorType);
        Assert.Contains("REFLEX_TABLE cannot be combined with it", error.Message, StringComparison.Ordinal);
    }

    private sealed class FakeAdapters : IAwsAdapters
    {
        public List<string> Created { get; } = [];
        public string Name => "fake";
        public IStateStore? CreateStateStore(string tableName) { Created.Add($"store {tableName}"); return new InMemoryStateStore(); }
        public IDelayQueue? CreateDelayQueue(string queueUrl) { Created.Add($"delay {queueUrl}"); return new RecordingDelayQueue(); }
        public IDeadLetterSender? CreateDeadLetterSender(string queueUrl) { Created.Add($"dlq {queueUrl}"); return new RecordingDeadLetters(); }
        public IEcsApi? CreateEcsApi() { Created.Add("ecs"); return new ScriptedEcsApi(); }
        public IClusterObserver? Observer { get; init; }
        public IClusterObserver? CreateClusterObserver() { Created.Add("observer"); return Observer ?? new UnknownClusterObserver(); }
        public string? ErrorCodeOf(Exception exception) => null;
    }
}

/// <summary>Adapters that can make nothing, as when the region or credentials are missing: every AWS configuration is refused at init.</summary>
internal sealed class NoAwsAdapters : IAwsAdapters
{
    public static readonly NoAwsAdapters Instance = new();
    public string Name => "no AWS adapters in this test";
    public IStateStore? CreateStateStore(string tableName) => null;
    public IDelayQueue? CreateDelayQueue(string queueUrl) => null;
    public IDeadLetterSender? CreateDeadLetterSender(string queueUrl) => null;
    public IEcsApi? CreateEcsApi() => null;
    public IClusterObserver? CreateClusterObserver() => null;
    public string? ErrorCodeOf(Exception exception) => null;
}
