using System.Text;
using EcsReflex.Lambda.Bootstrap;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Configuration;
using EcsReflex.Lambda.Handlers;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

public sealed class LambdaBootstrapTests
{
    private static DateTimeOffset In(TimeSpan t) => DateTimeOffset.UtcNow + t;

    private static (LambdaBootstrap Loop, TestRuntimeApiClient Client, DictionaryEnvironment Env, RecordingLineWriter Out) Loop(
        IInvocationHandler handler, params InvocationRequest[] invocations) => Loop(() => handler, invocations);

    private static (LambdaBootstrap Loop, TestRuntimeApiClient Client, DictionaryEnvironment Env, RecordingLineWriter Out) Loop(
        Func<IInvocationHandler> init, params InvocationRequest[] invocations)
    {
        var client = new TestRuntimeApiClient(invocations);
        var env = new DictionaryEnvironment();
        var output = new RecordingLineWriter();
        return (new LambdaBootstrap(client, init, env, TimeProvider.System, output), client, env, output);
    }

    [Fact]
    public async Task Run_WhenHandlerAnswers_PostsEachResponseUnderItsRequestIdThenAsksForTheNext()
    {
        var handler = new LambdaHandlerStub((inv, _) => Task.FromResult<ReadOnlyMemory<byte>>(Encoding.UTF8.GetBytes($"{{\"echo\":{Encoding.UTF8.GetString(inv.Payload.Span)}}}")));
        var (loop, client, _, _) = Loop(handler,
            TestRuntimeApiClient.Invocation("req-1", "1", In(TimeSpan.FromMinutes(1))),
            TestRuntimeApiClient.Invocation("req-2", "2", In(TimeSpan.FromMinutes(1))));

        var exit = await loop.RunAsync(client.Stop);

        Assert.Equal(0, exit);
        Assert.Equal(["next", "response req-1", "next", "response req-2", "next"], client.Calls);
        Assert.Equal("{\"echo\":2}", Encoding.UTF8.GetString(client.Responses[1].Body));
        Assert.Empty(client.Errors);
    }

    [Fact]
    public async Task Run_WhenHandlerThrows_PostsErrorWithTypeMessageAndStackTrace_AndKeepsServing()
    {
        var handler = new LambdaHandlerStub((inv, _) => inv.RequestId == "bad"
            ? throw new InvalidDataException("the payload is odd")
            : Task.FromResult<ReadOnlyMemory<byte>>("{}"u8.ToArray()));
        var (loop, client, _, output) = Loop(handler,
            TestRuntimeApiClient.Invocation("bad", "{}", In(TimeSpan.FromMinutes(1))),
            TestRuntimeApiClient.Invocation("good", "{}", In(TimeSpan.FromMinutes(1))));

        await loop.RunAsync(client.Stop);

        var (id, error) = Assert.Single(client.Errors);
        Assert.Equal("bad", id);
        Assert.Equal("InvalidDataException", error.ErrorType);
        Assert.Equal("the payload is odd", error.ErrorMessage);
        Assert.Contains(error.StackTrace, f => f.Contains(nameof(LambdaBootstrapTests), StringComparison.Ordinal));
        Assert.Equal("good", Assert.Single(client.Responses).RequestId);
        var logged = Json.Parse(Assert.Single(output.Lines));
        Assert.Equal("error", logged.GetProperty("level").GetString());
        Assert.Equal("bad", logged.GetProperty("requestId").GetString());
        Assert.Equal("InvalidDataException", logged.GetProperty("errorType").GetString());
    }

    [Fact]
    public async Task Run_WhenHandlerFailsTheInvocation_PostsItsChosenErrorType()
    {
        var handler = new LambdaHandlerStub((_, _) => throw new InvocationFailedException("Reflex.ActionFailed", "RunTask failed: MISSING"));
        var (loop, client, _, _) = Loop(handler, TestRuntimeApiClient.Invocation("r", "{}", In(TimeSpan.FromMinutes(1))));

        await loop.RunAsync(client.Stop);

        var error = Assert.Single(client.Errors).Error;
        Assert.Equal("Reflex.ActionFailed", error.ErrorType);
        Assert.Equal("RunTask failed: MISSING", error.ErrorMessage);
    }

    [Fact]
    public async Task Run_WhenInitFails_PostsTheInitErrorAndExitsWithoutAskingForAnEvent()
    {
        var (loop, client, _, output) = Loop(() => throw new InitException(HostInit.UnknownHandler, ["_HANDLER=\"x\" is not a handler: set it to one of a, b"]),
            TestRuntimeApiClient.Invocation("never", "{}", In(TimeSpan.FromMinutes(1))));

        var exit = await loop.RunAsync(client.Stop);

        Assert.Equal(1, exit);
        Assert.Equal(["init-error Reflex.UnknownHandler"], client.Calls);
        Assert.Equal("_HANDLER=\"x\" is not a handler: set it to one of a, b", client.InitErrors[0].ErrorMessage);
        var logged = Json.Parse(Assert.Single(output.Lines));
        Assert.Equal("init failed", logged.GetProperty("message").GetString());
        Assert.Equal("Reflex.UnknownHandler", logged.GetProperty("errorType").GetString());
    }

    [Fact]
    public async Task Invoke_CopiesTheTraceIdToXAmznTraceId_AndClearsItWhenAnInvocationHasNone()
    {
        var seen = new List<string?>();
        DictionaryEnvironment? env = null;
        var handler = new LambdaHandlerStub((_, _) =>
        {
            seen.Add(env!.Get(EnvVars.TraceId));
            return Task.FromResult<ReadOnlyMemory<byte>>("{}"u8.ToArray());
        });
        var (loop, client, e, _) = Loop(handler,
            TestRuntimeApiClient.Invocation("a", "{}", In(TimeSpan.FromMinutes(1)), traceId: "Root=1-67891233-abcdef012345678912345678;Sampled=1"),
            TestRuntimeApiClient.Invocation("b", "{}", In(TimeSpan.FromMinutes(1)), traceId: null));
        env = e;

        await loop.RunAsync(client.Stop);

        Assert.Equal(["Root=1-67891233-abcdef012345678912345678;Sampled=1", null], seen);
    }

    [Fact]
    public async Task Invoke_WhenWorkIsNotDoneByTheDeadlineLessTheMargin_FailsTheInvocationAsDeadlineExceeded()
    {
        var tokenSeen = new TaskCompletionSource<CancellationToken>();
        var handler = new LambdaHandlerStub(async (_, ct) =>
        {
            tokenSeen.SetResult(ct);
            // Stops the moment the token fires, on the thread that fires it: on a loaded machine (the whole suite on two
            // cores) a continuation scheduled on the thread pool could miss the bootstrap's grace of half the margin,
            // and the test would see a handler that did not stop, which is another test's case.
            var cancelled = new TaskCompletionSource();
            using (ct.Register(() => cancelled.TrySetCanceled(ct)))
                await cancelled.Task;
            return "{}"u8.ToArray();
        });
        var (loop, client, _, _) = Loop(handler, TestRuntimeApiClient.Invocation("slow", "{}", In(TimeSpan.FromSeconds(2))));

        var exit = await loop.RunAsync(client.Stop);

        Assert.Equal(0, exit);
        Assert.True((await tokenSeen.Task).IsCancellationRequested);
        var error = Assert.Single(client.Errors).Error;
        Assert.Equal(LambdaBootstrap.DeadlineExceeded, error.ErrorType);
        Assert.Contains("failed so that it is retried", error.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(client.Responses);
    }

    [Fact]
    public async Task Invoke_WhenTheHandlerIgnoresItsDeadline_ReportsTheErrorAndAsksTheProcessToExit()
    {
        var release = new TaskCompletionSource();
        var handler = new LambdaHandlerStub(async (_, _) =>
        {
            await release.Task; // ignores the token
            return "{}"u8.ToArray();
        });
        var (loop, client, _, _) = Loop(handler, TestRuntimeApiClient.Invocation("stuck", "{}", In(TimeSpan.FromMilliseconds(300))),
            TestRuntimeApiClient.Invocation("never", "{}", In(TimeSpan.FromMinutes(1))));

        var exit = await loop.RunAsync(client.Stop);
        release.SetResult();

        Assert.Equal(2, exit);
        Assert.Equal(["next", $"error stuck {LambdaBootstrap.DeadlineExceeded}"], client.Calls);
        Assert.Contains("the process exits", client.Errors[0].Error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_WhenTheDeadlineHasAlreadyPassed_FailsWithoutAResponse()
    {
        var handler = new LambdaHandlerStub(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return "{}"u8.ToArray();
        });
        var (loop, client, _, _) = Loop(handler, TestRuntimeApiClient.Invocation("late", "{}", In(TimeSpan.FromSeconds(-1))));

        await loop.RunAsync(client.Stop);

        Assert.Equal(LambdaBootstrap.DeadlineExceeded, Assert.Single(client.Errors).Error.ErrorType);
    }

    [Fact]
    public async Task Run_WhenTheRuntimeApiRefusesAResponse_LogsItAndExitsForANewSandbox()
    {
        var client = new RefusingClient();
        var output = new RecordingLineWriter();
        var loop = new LambdaBootstrap(client, () => new LambdaHandlerStub((_, _) => Task.FromResult<ReadOnlyMemory<byte>>("{}"u8.ToArray())),
            new DictionaryEnvironment(), TimeProvider.System, output);

        var exit = await loop.RunAsync(CancellationToken.None);

        Assert.Equal(3, exit);
        var line = Json.Parse(Assert.Single(output.Lines));
        Assert.Equal("runtime API failed", line.GetProperty("message").GetString());
        Assert.Contains("413", line.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    private sealed class RefusingClient : IRuntimeApiClient
    {
        public Task<InvocationRequest> GetNextInvocationAsync(CancellationToken ct) =>
            Task.FromResult(TestRuntimeApiClient.Invocation("big", "{}", DateTimeOffset.UtcNow.AddMinutes(1)));
        public Task SendResponseAsync(string requestId, ReadOnlyMemory<byte> body, CancellationToken ct) =>
            throw new RuntimeApiException("the Runtime API refused the invocation response: 413 Payload Too Large");
        public Task ReportInvocationErrorAsync(string requestId, ErrorReport error, CancellationToken ct) => Task.CompletedTask;
        public Task ReportInitializationErrorAsync(ErrorReport error, CancellationToken ct) => Task.CompletedTask;
    }

    [Theory]
    [InlineData(60_000, 500)]
    [InlineData(2_000, 500)]
    [InlineData(1_000, 250)]
    [InlineData(100, 25)]
    [InlineData(0, 0)]
    [InlineData(-5, 0)]
    public void SafetyMargin_IsAQuarterOfTheTimeLeft_AtMost500Ms(int remainingMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), LambdaBootstrap.SafetyMargin(TimeSpan.FromMilliseconds(remainingMs)));

    [Fact]
    public void ErrorReport_IsTheRuntimeApiShape()
    {
        var json = Json.Parse(new ErrorReport("Reflex.X", "went wrong", ["at A", "at B"]).ToJson());
        Assert.Equal("Reflex.X", json.GetProperty("errorType").GetString());
        Assert.Equal("went wrong", json.GetProperty("errorMessage").GetString());
        Assert.Equal(["at A", "at B"], json.GetProperty("stackTrace").EnumerateArray().Select(e => e.GetString()));
    }
}
