using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EcsReflex.Aws.Deferred;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.State;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests;

/// <summary>The SQS delay queue and dead-letter sender: what goes on the wire through the project's SQS client.</summary>
public sealed class DelayQueueTests
{
    private static readonly string ExitOneEvent = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-essential-exit-1.json"));
    private static readonly DateTimeOffset StoppedAt = DateTimeOffset.Parse("2026-03-02T09:20:11.482Z", System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The sample's first back-off: attempt 1 waits 10 s after the stop.</summary>
    private static readonly DateTimeOffset Due = StoppedAt.AddSeconds(10);
    private const string DelayUrl = "https://sqs.eu-west-3.amazonaws.com/123456789012/reflex-delay";
    private const string DlqUrl = "https://sqs.eu-west-3.amazonaws.com/123456789012/reflex-dlq";

    public static TheoryData<int, int> Delays => new()
    {
        { -5, 0 }, { 0, 0 }, { 1, 1 }, { 899, 899 }, { 900, 900 }, { 901, 900 }, { 7200, 900 },
    };

    [Theory]
    [MemberData(nameof(Delays))]
    public void DelaySeconds_IsTheWaitInWholeSecondsCappedAtFifteenMinutes(int seconds, int expected)
    {
        var now = StoppedAt;
        Assert.Equal(expected, SqsDelayQueue.DelaySecondsFor(now.AddSeconds(seconds), now));
        Assert.Equal(Math.Min(900, Math.Max(0, seconds + 1)), SqsDelayQueue.DelaySecondsFor(now.AddSeconds(seconds + 0.2), now));
    }

    private static StubReply SqsAnswer(StubRequest r)
    {
        using var doc = JsonDocument.Parse(r.Body);
        var body = doc.RootElement.GetProperty("MessageBody").GetString()!;
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
        return new JsonReply(200, $$"""{"MessageId":"m-{{r.Index}}","MD5OfMessageBody":"{{md5}}"}""", "application/x-amz-json-1.0", "sqs-req");
    }

    [Fact]
    public async Task Send_PutsTheHostsMessageFormatAndTheWaitAsDelaySeconds_SignedForSqs()
    {
        await using var stub = await AwsStub.StartAsync(SqsAnswer);
        using var clients = StubClients.Create(stub);
        var sqs = clients.Sqs;
        var queue = new SqsDelayQueue(sqs, DelayUrl, new FakeTimeProvider(StoppedAt));

        await queue.SendAsync(new DeferredWork(ExitOneEvent, Due), default);

        var sent = Assert.Single(stub.For("SendMessage"));
        Assert.Equal("AmazonSQS.SendMessage", sent.Target);
        Assert.Matches("Credential=AKIDEXAMPLE/\\d{8}/eu-west-3/sqs/aws4_request", sent.Headers["Authorization"]);
        using var request = JsonDocument.Parse(sent.Body);
        Assert.Equal(DelayUrl, request.RootElement.GetProperty("QueueUrl").GetString());
        Assert.Equal(10, request.RootElement.GetProperty("DelaySeconds").GetInt32());
        var body = request.RootElement.GetProperty("MessageBody").GetString()!;
        var work = DeferredWorkJson.Parse(body);
        Assert.Equal(Due, work.DueAt);
        Assert.Equal(JsonDocument.Parse(ExitOneEvent).RootElement.GetProperty("id").GetString(), JsonDocument.Parse(work.EventJson).RootElement.GetProperty("id").GetString());
        Assert.Equal(["event", "dueAt"], JsonDocument.Parse(body).RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Send_AQueueThatDoesNotExist_FailsWithSqssCode_NotRetried()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Error("com.amazonaws.sqs#QueueDoesNotExist", "The specified queue does not exist.", 400));
        using var clients = StubClients.Create(stub);
        var queue = new SqsDelayQueue(clients.Sqs, DelayUrl, new FakeTimeProvider(StoppedAt));

        var ex = await Assert.ThrowsAsync<EcsReflex.Aws.Http.AwsServiceException>(() => queue.SendAsync(new DeferredWork(ExitOneEvent, Due), default));

        Assert.Equal(("sqs", "SendMessage", "QueueDoesNotExist"), (ex.Service, ex.Operation, ex.ErrorCode));
        Assert.Contains("The specified queue does not exist.", ex.Message, StringComparison.Ordinal);
        Assert.Single(stub.For("SendMessage"));
    }

    [Fact]
    public async Task Send_AWaitLongerThanSqsAllows_GoesWithTheLongestDelayAndTheDueTimeUnchanged()
    {
        await using var stub = await AwsStub.StartAsync(SqsAnswer);
        using var clients = StubClients.Create(stub);
        var sqs = clients.Sqs;
        var queue = new SqsDelayQueue(sqs, DelayUrl, new FakeTimeProvider(StoppedAt));

        await queue.SendAsync(new DeferredWork(ExitOneEvent, StoppedAt.AddHours(2)), default);

        using var request = JsonDocument.Parse(Assert.Single(stub.For("SendMessage")).Body);
        Assert.Equal(900, request.RootElement.GetProperty("DelaySeconds").GetInt32());
        Assert.Equal(StoppedAt.AddHours(2), DeferredWorkJson.Parse(request.RootElement.GetProperty("MessageBody").GetString()!).DueAt);
    }

    private static DeadLetter Letter(string payload, string reason = "detail.lastStatus: required field is missing; …") => new()
    {
        Handler = "task-rescheduler", Code = "missing-field", Reason = reason, Payload = payload,
        EventId = "55e47226-f6fa-e081-ec19-ae951e98ae6b", RequestId = "req-7", RejectedAt = StoppedAt,
    };

    private static async Task<(string Body, Dictionary<string, string> Attributes)> SendAsync(DeadLetter letter)
    {
        await using var stub = await AwsStub.StartAsync(SqsAnswer);
        using var clients = StubClients.Create(stub);
        var sqs = clients.Sqs;

        await new SqsDeadLetterSender(sqs, DlqUrl).SendAsync(letter, default);

        using var request = JsonDocument.Parse(Assert.Single(stub.For("SendMessage")).Body);
        var root = request.RootElement;
        Assert.Equal(DlqUrl, root.GetProperty("QueueUrl").GetString());
        var attributes = root.TryGetProperty("MessageAttributes", out var a)
            ? a.EnumerateObject().ToDictionary(p => p.Name, p =>
            {
                Assert.Equal("String", p.Value.GetProperty("DataType").GetString());
                return p.Value.GetProperty("StringValue").GetString()!;
            })
            : [];
        return (root.GetProperty("MessageBody").GetString()!, attributes);
    }

    [Fact]
    public async Task DeadLetter_SendsThePayloadUnchangedAndWhyInMessageAttributes()
    {
        var (body, attributes) = await SendAsync(Letter(ExitOneEvent));

        Assert.Equal(ExitOneEvent, body);
        Assert.Equal(new Dictionary<string, string>
        {
            ["reflex.handler"] = "task-rescheduler",
            ["reflex.code"] = "missing-field",
            ["reflex.reason"] = "detail.lastStatus: required field is missing; …",
            ["reflex.rejected-at"] = "2026-03-02T09:20:11.482Z",
            ["reflex.event-id"] = "55e47226-f6fa-e081-ec19-ae951e98ae6b",
            ["reflex.request-id"] = "req-7",
        }, attributes);
    }

    [Fact]
    public async Task DeadLetter_OfABatchMessage_CarriesItsSqsMessageId()
    {
        var (_, attributes) = await SendAsync(Letter("{\"dueAt\":1}") with { MessageId = "m-42", EventId = null, Handler = "relaunch-due" });

        Assert.Equal(("m-42", "relaunch-due"), (attributes["reflex.message-id"], attributes["reflex.handler"]));
        Assert.False(attributes.ContainsKey("reflex.event-id"));
    }

    [Fact]
    public async Task DeadLetter_WithCharactersSqsRefuses_SendsThePayloadInBase64AndSaysSo()
    {
        const string payload = "not json \u0001\u0002 at all";

        var (body, attributes) = await SendAsync(Letter(payload, reason: "bad byte \u0001 here"));

        Assert.Equal("base64", attributes["reflex.body-encoding"]);
        Assert.Equal(payload, Encoding.UTF8.GetString(Convert.FromBase64String(body)));
        Assert.Equal("bad byte \uFFFD here", attributes["reflex.reason"]);
    }

    [Fact]
    public async Task DeadLetter_OfAnEmptyPayload_SaysItWasEmpty()
    {
        var (body, attributes) = await SendAsync(Letter(""));

        Assert.Equal((SqsDeadLetterSender.EmptyBody, "empty"), (body, attributes["reflex.body-encoding"]));
    }

    [Fact]
    public void DeadLetter_LargerThanSqsTakes_KeepsTheStartOfThePayloadWithinTheLimitAndItsFullSize()
    {
        var payload = "{\"blob\":\"" + new string('é', 200_000) + "\"}";

        var request = SqsDeadLetterSender.ToRequest(Letter(payload), DlqUrl);

        var size = Encoding.UTF8.GetByteCount(request.MessageBody)
                   + request.MessageAttributes!.Sum(a => Encoding.UTF8.GetByteCount(a.Key) + Encoding.UTF8.GetByteCount(a.Value.DataType) + Encoding.UTF8.GetByteCount(a.Value.StringValue));
        Assert.InRange(size, SqsDeadLetterSender.MaxMessageBytes - 200, SqsDeadLetterSender.MaxMessageBytes);
        Assert.StartsWith(request.MessageBody, payload, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(payload).ToString(System.Globalization.CultureInfo.InvariantCulture), request.MessageAttributes!["reflex.payload-bytes"].StringValue);
    }

    [Fact]
    public void DeadLetter_InBase64AndTooLarge_StillDecodesToTheStartOfThePayload()
    {
        var payload = "\u0001" + new string('x', 300_000);

        var request = SqsDeadLetterSender.ToRequest(Letter(payload), DlqUrl);

        var start = Encoding.UTF8.GetString(Convert.FromBase64String(request.MessageBody));
        Assert.StartsWith(start, payload, StringComparison.Ordinal);
        Assert.True(start.Length > 150_000, $"{start.Length} characters kept");
    }

    // Built here, not passed as theory data: xunit's serialisation of theory data turns lone surrogates into U+FFFD.
    private static readonly Dictionary<string, string> TextCases = new()
    {
        ["JSON"] = "{\"a\":\"é ✓ 😀\"}",
        ["tab, newline, carriage return"] = "a\tb\nc\r",
        ["a control character"] = "a\u0000b",
        ["U+FFFE"] = "a\uFFFEb",
        ["a lone high surrogate"] = "a\uD83Db",
        ["a lone low surrogate"] = "a\uDE00b",
        ["a high surrogate at the end"] = "ab\uD83D",
    };

    public static TheoryData<string, bool> Texts => new()
    {
        { "JSON", true }, { "tab, newline, carriage return", true }, { "a control character", false }, { "U+FFFE", false },
        { "a lone high surrogate", false }, { "a lone low surrogate", false }, { "a high surrogate at the end", false },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void IsSqsText_AcceptsExactlyTheCharactersSqsAllows(string what, bool expected)
    {
        Assert.True(expected == SqsDeadLetterSender.IsSqsText(TextCases[what]), what);
    }
}
