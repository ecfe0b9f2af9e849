using CsCheck;
using System.Net;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Tests.Support;

namespace EcsReflex.Aws.Tests;

/// <summary>Fault injection on the wire: a loopback ECS that throttles, fails, resets, stalls and garbles.</summary>
public sealed class TransportFaultTests
{
    private static readonly ListTasksRequest Request = new() { Cluster = "prod" };
    private const string Page = """{"taskArns":["arn:aws:ecs:eu-west-3:123456789012:task/prod/abc"]}""";

    private static async Task<(AwsStub Stub, AwsClients Clients)> StartAsync(Func<StubRequest, StubReply> script, TimeProvider? time = null,
        AwsRetryPolicy? retry = null, IJitter? jitter = null)
    {
        var stub = await AwsStub.StartAsync(script);
        return (stub, StubClients.Create(stub, time, retry, jitter));
    }

    public static TheoryData<string, StubReply> RetriedFaults => new()
    {
        { "ThrottlingException", StubReply.Error("ThrottlingException", "Rate exceeded") },
        { "Throttling (Query spelling)", StubReply.Error("Throttling", "Rate exceeded") },
        { "TooManyRequestsException", StubReply.Error("com.amazonaws.ecs#TooManyRequestsException", "slow down") },
        { "HTTP 429 without a code", StubReply.Raw(429, "") },
        { "ServerException", StubReply.Error("ServerException", "internal", status: 500) },
        { "HTTP 503 with an HTML body", StubReply.Raw(503, "<html><body>Service Unavailable</body></html>") },
        { "connection reset", StubReply.Reset },
    };

    [Theory]
    [MemberData(nameof(RetriedFaults))]
    public async Task Send_WhenTheServiceFailsTransientlyThreeTimes_RetriesAndSucceedsOnTheFourth(string fault, StubReply reply)
    {
        var (stub, clients) = await StartAsync(r => r.Index < 3 ? reply : StubReply.Json(Page), retry: StubClients.FastRetry with { MaxAttempts = 5 });
        await using var _ = stub;
        using var __ = clients;

        var result = await clients.Ecs.ListTasksAsync(Request, CancellationToken.None);

        Assert.Single(result.TaskArns);
        Assert.True(stub.For("ListTasks").Count == 4, $"{fault}: expected 4 requests, got {stub.For("ListTasks").Count}");
    }

    [Fact]
    public async Task Send_WhenThrottledBeyondTheBudget_ThrowsThrottlingWithTheServiceCodeStatusAndRequestId()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Error("ThrottlingException", "Rate exceeded", requestId: "rid-42"));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.Equal(AwsErrorKind.Throttling, ex.Kind);
        Assert.Equal("ThrottlingException", ex.ErrorCode);
        Assert.Equal("Rate exceeded", ex.ErrorMessage);
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal("rid-42", ex.RequestId);
        Assert.Equal("ecs", ex.Service);
        Assert.Equal("ListTasks", ex.Operation);
        Assert.Equal(StubClients.FastRetry.MaxAttempts, ex.Attempts);
        Assert.Equal(StubClients.FastRetry.MaxAttempts, stub.Requests.Count);
        Assert.True(ex.IsTransient);
    }

    public static TheoryData<string, string, int> ClientErrors => new()
    {
        { "com.amazonaws.ecs#InvalidParameterException", "InvalidParameterException", 400 },
        { "ClientException:http://internal.amazon.com/coral/com.amazonaws.ecs/", "ClientException", 400 },
        { "AccessDeniedException", "AccessDeniedException", 400 },
        { "ClusterNotFoundException", "ClusterNotFoundException", 400 },
        { "UnrecognizedClientException", "UnrecognizedClientException", 403 },
    };

    [Theory]
    [MemberData(nameof(ClientErrors))]
    public async Task Send_WhenTheServiceRejectsTheRequest_ThrowsAClientErrorAfterOneAttempt(string type, string code, int status)
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Error(type, "bad request", status));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.Equal(AwsErrorKind.Client, ex.Kind);
        Assert.Equal(code, ex.ErrorCode);
        Assert.Equal(1, ex.Attempts);
        Assert.Single(stub.Requests);
        Assert.False(ex.IsTransient);
        Assert.Contains($"ecs ListTasks failed: {code} (HTTP {status}): bad request", ex.Message);
    }

    [Fact]
    public async Task Send_WhenTheErrorTypeIsOnlyInTheHeader_ReadsItFromXAmznErrorType()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.ErrorInHeader("AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/"));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.Equal(("AccessDeniedException", AwsErrorKind.Client, "req-h"), (ex.ErrorCode, ex.Kind, ex.RequestId));
    }

    [Fact]
    public async Task Send_WhenAnErrorNamesNoCode_UsesTheHttpStatusAsTheCode()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Raw(400, "{}", "application/x-amz-json-1.1"));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.Equal(("Http400", AwsErrorKind.Client), (ex.ErrorCode, ex.Kind));
    }

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "truncated JSON", """{"taskArns":["arn""" },
        { "HTML", "<html>oops</html>" },
        { "a list where an object belongs", "[1,2,3]" },
        { "null where the model promises a list", """{"taskArns":null}""" },
        { "a number where a string belongs", """{"taskArns":[42]}""" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Send_WhenASuccessBodyIsMalformed_ThrowsMalformedResponseWithoutRetrying(string what, string body)
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Json(body));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.True(ex.Kind == AwsErrorKind.MalformedResponse, $"{what}: got {ex.Kind}");
        Assert.Equal(AwsServiceException.MalformedResponseCode, ex.ErrorCode);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task Send_WhenOneAttemptStallsPastTheAttemptTimeout_RetriesAndSucceeds()
    {
        var retry = StubClients.FastRetry with { AttemptTimeout = TimeSpan.FromMilliseconds(300) };
        var (stub, clients) = await StartAsync(r => r.Index == 0 ? StubReply.Slow(TimeSpan.FromSeconds(30), StubReply.Json(Page)) : StubReply.Json(Page), retry: retry);
        await using var _ = stub;
        using var __ = clients;

        var result = await clients.Ecs.ListTasksAsync(Request, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Single(result.TaskArns);
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task Send_WhenTheAnswerComesAfterTheDeadline_ThrowsDeadlineExceededAndSendsNothingMore()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Slow(TimeSpan.FromSeconds(30), StubReply.Json(Page)));
        await using var _ = stub;
        using var __ = clients;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, deadline.Token).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(AwsErrorKind.Deadline, ex.Kind);
        Assert.Equal(AwsServiceException.DeadlineExceeded, ex.ErrorCode);
        Assert.True(ex.IsTransient);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task Send_WhenTheDeadlineComesDuringBackOff_StopsRetryingAndSendsNoRequestAfterIt()
    {
        var time = new AutoAdvancingTimeProvider { AutoAdvance = false };
        var start = time.GetUtcNow();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3), time);
        time.AutoAdvance = true;
        var sentAt = new List<DateTimeOffset>();
        var retry = new AwsRetryPolicy { MaxAttempts = 50, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(20) };
        var (stub, clients) = await StartAsync(_ =>
        {
            lock (sentAt) sentAt.Add(time.GetUtcNow());
            return StubReply.Error("ThrottlingException", "Rate exceeded");
        }, time, retry, new FixedJitter(0.999));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, deadline.Token).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(AwsErrorKind.Deadline, ex.Kind);
        Assert.Contains("ThrottlingException", ex.ErrorMessage);
        Assert.True(ex.Attempts < retry.MaxAttempts, $"{ex.Attempts} attempts");
        Assert.All(sentAt, t => Assert.True(t < start + TimeSpan.FromSeconds(3), $"a request was sent at +{(t - start).TotalSeconds} s, after the deadline"));
        Assert.Equal(sentAt.Count, ex.Attempts);
    }

    [Fact]
    public async Task Send_BackOff_WaitsWithinTheFullJitterBoundsOfEachRetry()
    {
        var time = new AutoAdvancingTimeProvider();
        var retry = new AwsRetryPolicy { MaxAttempts = 8, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2) };
        var (stub, clients) = await StartAsync(_ => StubReply.Error("ThrottlingException", "Rate exceeded"), time, retry, new FixedJitter(0.999999));
        await using var _ = stub;
        using var __ = clients;

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, CancellationToken.None));

        Assert.Equal(8, ex.Attempts);
        // With jitter at its top, each wait is the ceiling: 100, 200, 400, 800, 1600 ms, then capped at 2 s.
        var expected = new[] { 100, 200, 400, 800, 1600, 2000, 2000 };
        Assert.Equal(expected.Length, time.Waits.Count);
        for (var i = 0; i < expected.Length; i++)
            Assert.InRange(time.Waits[i].TotalMilliseconds, expected[i] * 0.999 - 1, expected[i]); // timers count whole milliseconds
    }

    [Fact]
    public void Delay_ForAnyJitterAndRetry_IsBetweenZeroAndTheCappedCeiling()
    {
        var policy = new AwsRetryPolicy { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromSeconds(5) };
        CsCheck.Gen.Select(CsCheck.Gen.Int[1, 200], CsCheck.Gen.Double[0, 1]).Sample((retry, jitter) =>
        {
            var d = policy.Delay(retry, jitter);
            var ceiling = Math.Min(5000, 50 * Math.Pow(2, Math.Min(retry - 1, 30)));
            return d >= TimeSpan.Zero && d.TotalMilliseconds <= ceiling + 1e-6;
        });
    }

    [Fact]
    public async Task Send_SignsWithSigV4ForTheServiceAndRegion_AndSetsTheJsonProtocolHeaders()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Json(Page));
        await using var _ = stub;
        using var __ = clients;

        await clients.Ecs.ListTasksAsync(Request, CancellationToken.None);

        var r = Assert.Single(stub.Requests);
        Assert.Equal("AmazonEC2ContainerServiceV20141113.ListTasks", r.Target);
        Assert.Equal("application/x-amz-json-1.1", r.ContentType);
        Assert.Matches(@"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-3/ecs/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$", r.Headers["Authorization"]);
        Assert.True(r.Headers.ContainsKey("X-Amz-Date"));
        Assert.Equal("""{"cluster":"prod"}""", r.Body);
    }

    [Fact]
    public async Task Send_WhenTheCallerCancelsBeforeSending_ThrowsDeadlineWithoutARequest()
    {
        var (stub, clients) = await StartAsync(_ => StubReply.Json(Page));
        await using var _ = stub;
        using var __ = clients;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => clients.Ecs.ListTasksAsync(Request, cancelled.Token));

        Assert.Equal(AwsErrorKind.Deadline, ex.Kind);
        Assert.Empty(stub.Requests);
    }
}
