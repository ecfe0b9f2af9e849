using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>One request as the stub saw it.</summary>
public sealed record StubRequest(string? Target, string Operation, string Body, string ContentType, IReadOnlyDictionary<string, string> Headers, int Index)
{
    /// <summary>The AWS Query parameters of a form-encoded body.</summary>
    public IReadOnlyDictionary<string, string> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
}

/// <summary>What the stub does with a request.</summary>
public abstract record StubReply
{
    public static StubReply Json(string body, int status = 200, string? requestId = null) => new JsonReply(status, body, "application/x-amz-json-1.1", requestId);
    public static StubReply Xml(string body, int status = 200) => new JsonReply(status, body, "text/xml", null);
    public static StubReply Error(string type, string message, int status = 400, string? requestId = "req-1") =>
        new JsonReply(status, $$"""{"__type":"{{type}}","message":"{{message}}"}""", "application/x-amz-json-1.1", requestId);
    public static StubReply Raw(int status, string body, string contentType = "text/html") => new JsonReply(status, body, contentType, null);
    /// <summary>An error whose code is only in the <c>x-amzn-ErrorType</c> header, as some services send it.</summary>
    public static StubReply ErrorInHeader(string type, int status = 400) =>
        new JsonReply(status, "{}", "application/x-amz-json-1.1", "req-h") { ErrorTypeHeader = type };
    /// <summary>Closes the connection without an answer (a reset).</summary>
    public static readonly StubReply Reset = new ResetReply();
    /// <summary>Answers after <paramref name="delay"/> of real time (or never, when the client gives up first).</summary>
    public static StubReply Slow(TimeSpan delay, StubReply then) => new SlowReply(delay, then);
}

public sealed record JsonReply(int Status, string Body, string ContentType, string? RequestId) : StubReply
{
    public string? ErrorTypeHeader { get; init; }
}
public sealed record ResetReply : StubReply;
public sealed record SlowReply(TimeSpan Delay, StubReply Then) : StubReply;

/// <summary>
/// A loopback AWS endpoint (Kestrel on 127.0.0.1, port 0) for fault injection: records every request and answers
/// through a script — throttling, 5xx, resets, slow and malformed answers. Speaks AWS JSON (by X-Amz-Target) and AWS
/// Query (by the Action parameter).
/// </summary>
public sealed class AwsStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<StubRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private int _index;

    private AwsStub(WebApplication app, Func<StubRequest, StubReply> handler)
    {
        _app = app;
        Handler = handler;
    }

    public Func<StubRequest, StubReply> Handler { get; set; }
    public Uri Url { get; private set; } = null!;
    public IReadOnlyList<StubRequest> Requests => _requests.ToList();
    public IReadOnlyList<StubRequest> For(string operation) => _requests.Where(r => r.Operation == operation).ToList();

    public static async Task<AwsStub> StartAsync(Func<StubRequest, StubReply> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var stub = new AwsStub(app, handler);
        app.Run(stub.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        stub.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return stub;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var target = context.Request.Headers["X-Amz-Target"].FirstOrDefault();
        var contentType = context.Request.ContentType ?? "";
        var operation = target is not null ? target[(target.LastIndexOf('.') + 1)..]
            : body.Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == "Action") is { Length: 2 } a ? a[1] : "?";
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new StubRequest(target, operation, body, contentType, headers, _counts.AddOrUpdate(operation, 0, (_, n) => n + 1));
        Interlocked.Increment(ref _index);
        _requests.Enqueue(request);
        await ReplyAsync(context, Handler(request));
    }

    private static async Task ReplyAsync(HttpContext context, StubReply reply)
    {
        switch (reply)
        {
            case ResetReply:
                context.Abort();
                return;
            case SlowReply slow:
                try
                {
                    await Task.Delay(slow.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                await ReplyAsync(context, slow.Then);
                return;
            case JsonReply r:
                context.Response.StatusCode = r.Status;
                context.Response.ContentType = r.ContentType;
                if (r.RequestId is not null) context.Response.Headers["x-amzn-RequestId"] = r.RequestId;
                if (r.ErrorTypeHeader is not null) context.Response.Headers["x-amzn-ErrorType"] = r.ErrorTypeHeader;
                await context.Response.WriteAsync(r.Body);
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
