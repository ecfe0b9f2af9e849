using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EcsReflex.Bench.HotPath;

/// <summary>
/// The bootstrap's AWS, on one loopback endpoint (Kestrel on 127.0.0.1, port 0), every <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>
/// pointing at it. Dispatched as AWS dispatches: by <c>X-Amz-Target</c> (DynamoDB, ECS, Application Auto Scaling, SQS: AWS
/// JSON) or by the form's <c>Action</c> (CloudWatch: AWS Query). DynamoDB is forwarded to dynalite, unchanged both ways; the
/// others are answered by <see cref="StubAws"/>. Every call gets its service's fixed latency before its answer, and is recorded
/// (operation, arrival, end of the answer) for the invocation the harness has in flight.
/// </summary>
public sealed class LoopbackAws : IAsyncDisposable
{
    private static readonly string[] Forwarded = ["X-Amz-Target", "X-Amz-Date", "Authorization", "X-Amz-Security-Token", "X-Amz-Content-Sha256"];
    private static readonly string[] Returned = ["x-amzn-RequestId", "x-amz-crc32", "x-amzn-ErrorType"];

    private readonly WebApplication _app;
    private readonly HttpClient _dynalite;
    private readonly Uri _dynaliteUrl;
    private readonly Latencies _latencies;
    private readonly CallRecorder _recorder;
    private readonly StubAws _stub;

    private LoopbackAws(WebApplication app, Uri dynalite, Latencies latencies, CallRecorder recorder, StubAws stub)
    {
        _app = app;
        _dynaliteUrl = dynalite;
        _dynalite = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        _latencies = latencies;
        _recorder = recorder;
        _stub = stub;
    }

    public Uri Url { get; private set; } = null!;

    public static async Task<LoopbackAws> StartAsync(Uri dynalite, Latencies latencies, CallRecorder recorder, StubAws stub)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var loopback = new LoopbackAws(app, dynalite, latencies, recorder, stub);
        app.Run(loopback.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        loopback.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return loopback;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var started = Stopwatch.GetTimestamp();
        var invocation = _recorder.Invocation;
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
        var body = ms.ToArray();
        var target = ctx.Request.Headers["X-Amz-Target"].FirstOrDefault();
        var (service, operation) = Identify(target, body);

        int status;
        if (service == Services.DynamoDb)
            status = await ForwardAsync(ctx, body);
        else
        {
            var reply = _stub.Answer(service, operation, body);
            await Task.Delay(_latencies.For(service), ctx.RequestAborted);
            status = reply.Status;
            ctx.Response.StatusCode = reply.Status;
            ctx.Response.ContentType = reply.ContentType;
            ctx.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            var bytes = Encoding.UTF8.GetBytes(reply.Body);
            ctx.Response.ContentLength = bytes.Length;
            await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
        }
        await ctx.Response.CompleteAsync();
        _recorder.Add(new AwsCall(invocation, service, operation, started, Stopwatch.GetTimestamp(), _latencies.For(service), status));
    }

    /// <summary>The service and operation of a request, as AWS routes it.</summary>
    public static (string Service, string Operation) Identify(string? target, byte[] body)
    {
        if (target is not null)
        {
            var dot = target.LastIndexOf('.');
            var prefix = dot > 0 ? target[..dot] : target;
            var op = target[(dot + 1)..];
            return (prefix switch
            {
                "DynamoDB_20120810" => Services.DynamoDb,
                "AmazonEC2ContainerServiceV20141113" => Services.Ecs,
                "AnyScaleFrontendService" => Services.AutoScaling,
                "AmazonSQS" => Services.Sqs,
                _ => prefix,
            }, op);
        }
        var form = StubAws.Form(Encoding.UTF8.GetString(body));
        return (form.TryGetValue("Version", out var v) && v == "2012-11-05" ? Services.Sqs : Services.CloudWatch,
            form.GetValueOrDefault("Action") ?? "?");
    }

    private async Task<int> ForwardAsync(HttpContext ctx, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _dynaliteUrl) { Content = new ByteArrayContent(body) };
        if (ctx.Request.ContentType is { } type) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        foreach (var h in Forwarded)
            if (ctx.Request.Headers.TryGetValue(h, out var value)) request.Headers.TryAddWithoutValidation(h, value.ToString());
        using var response = await _dynalite.SendAsync(request, ctx.RequestAborted);
        var answer = await response.Content.ReadAsByteArrayAsync(ctx.RequestAborted);
        if ((int)response.StatusCode == 400) answer = await WithRefusingItemAsync(ctx, body, answer);
        await Task.Delay(_latencies.For(Services.DynamoDb), ctx.RequestAborted);
        ctx.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } ct) ctx.Response.ContentType = ct.ToString();
        foreach (var h in Returned)
            if (response.Headers.TryGetValues(h, out var values)) ctx.Response.Headers[h] = values.First();
        ctx.Response.ContentLength = answer.Length;
        await ctx.Response.Body.WriteAsync(answer, ctx.RequestAborted);
        return (int)response.StatusCode;
    }

    /// <summary>
    /// What DynamoDB does and dynalite does not: a PutItem refused by its condition, asked for
    /// <c>ReturnValuesOnConditionCheckFailure: ALL_OLD</c>, answers with the refusing item in the error. The proxy reads the
    /// item from dynalite and adds it, within the same call (it models one DynamoDB request, so it is counted once).
    /// </summary>
    private async Task<byte[]> WithRefusingItemAsync(HttpContext ctx, byte[] body, byte[] answer)
    {
        if (ctx.Request.Headers["X-Amz-Target"].ToString() != "DynamoDB_20120810.PutItem") return answer;
        var put = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        if (put["ReturnValuesOnConditionCheckFailure"]?.GetValue<string>() != "ALL_OLD") return answer;
        var error = System.Text.Json.Nodes.JsonNode.Parse(answer)?.AsObject();
        if (error is null || error["__type"]?.GetValue<string>()?.EndsWith("ConditionalCheckFailedException", StringComparison.Ordinal) != true) return answer;
        var item = put["Item"]!.AsObject();
        var get = new System.Text.Json.Nodes.JsonObject
        {
            ["TableName"] = put["TableName"]!.DeepClone(), ["ConsistentRead"] = true,
            ["Key"] = new System.Text.Json.Nodes.JsonObject { ["pk"] = item["pk"]!.DeepClone(), ["sk"] = item["sk"]!.DeepClone() },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, _dynaliteUrl) { Content = new StringContent(get.ToJsonString()) };
        request.Content.Headers.ContentType = new("application/x-amz-json-1.0");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "DynamoDB_20120810.GetItem");
        if (ctx.Request.Headers.TryGetValue("Authorization", out var auth)) request.Headers.TryAddWithoutValidation("Authorization", auth.ToString());
        if (ctx.Request.Headers.TryGetValue("X-Amz-Date", out var date)) request.Headers.TryAddWithoutValidation("X-Amz-Date", date.ToString());
        using var response = await _dynalite.SendAsync(request, ctx.RequestAborted);
        if (System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsByteArrayAsync(ctx.RequestAborted))?["Item"] is { } old)
            error["Item"] = old.DeepClone();
        return Encoding.UTF8.GetBytes(error.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        _dynalite.Dispose();
    }
}
