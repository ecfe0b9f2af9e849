using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using EcsReflex.Engine.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EcsReflex.Lambda.Emulator;

/// <summary>How one invocation is handed out.</summary>
public sealed record InvokeOptions
{
    public string? RequestId { get; init; }
    /// <summary>The invocation's timeout: <c>Lambda-Runtime-Deadline-Ms</c> is now plus this.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    public string? TraceId { get; init; }
    public string FunctionArn { get; init; } = "arn:aws:lambda:local:000000000000:function:reflex";
    /// <summary>Local replay only: the simulated time, sent as <c>Reflex-Local-Now</c>.</summary>
    public DateTimeOffset? LocalNow { get; init; }
}

/// <summary>An error as the bootstrap posted it (<c>{"errorType","errorMessage","stackTrace"}</c> and the error-type header).</summary>
public sealed record RuntimeError(string ErrorType, string ErrorMessage, IReadOnlyList<string> StackTrace, string? HeaderErrorType)
{
    public static RuntimeError Parse(byte[] body, string? header)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var r = doc.RootElement;
            var frames = new List<string>();
            if (r.ValueKind == JsonValueKind.Object && r.TryGetProperty("stackTrace", out var st) && st.ValueKind == JsonValueKind.Array)
                foreach (var f in st.EnumerateArray())
                    if (f.ValueKind == JsonValueKind.String) frames.Add(f.GetString()!);
            return new RuntimeError(Str(r, "errorType"), Str(r, "errorMessage"), frames, header);
        }
        catch (JsonException)
        {
            return new RuntimeError("", System.Text.Encoding.UTF8.GetString(body), [], header);
        }
    }

    private static string Str(JsonElement r, string name) =>
        r.ValueKind == JsonValueKind.Object && r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}

/// <summary>What came back for one invocation, with its timings (<see cref="Stopwatch"/> timestamps).</summary>
public sealed record InvocationResult
{
    public required string RequestId { get; init; }
    public required bool IsError { get; init; }
    public required byte[] Body { get; init; }
    public RuntimeError? Error { get; init; }
    public required long HandedOutAt { get; init; }
    public required long CompletedAt { get; init; }
    public TimeSpan Duration => Stopwatch.GetElapsedTime(HandedOutAt, CompletedAt);
}

/// <summary>
/// The project's Lambda Runtime API emulator: Kestrel on 127.0.0.1, port 0. Hands out invocations to
/// <c>GET …/invocation/next</c>, collects responses and errors, records init errors and when the first
/// <c>next</c> arrived. With <see cref="LocalServices"/>, it also serves <see cref="LocalProtocol"/> to a
/// bootstrap in local replay mode. One emulator serves one bootstrap process, as in Lambda.
/// </summary>
public sealed class RuntimeApiEmulator : IAsyncDisposable
{
    private const string Runtime = "/2018-06-01/runtime/";
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly ConcurrentDictionary<string, Pending> _inFlight = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<long> _firstNext = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<RuntimeError> _initError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LocalServices? _local;
    private WebApplication? _app;
    private long _sequence;
    private int _nextRequests;

    private RuntimeApiEmulator(LocalServices? local) => _local = local;

    /// <summary><c>host:port</c>, as <c>AWS_LAMBDA_RUNTIME_API</c> wants it.</summary>
    public string RuntimeApi { get; private set; } = "";

    /// <summary>Completes with the <see cref="Stopwatch"/> timestamp of the first <c>next</c> request.</summary>
    public Task<long> FirstNext => _firstNext.Task;

    /// <summary>Completes when the bootstrap posts <c>/runtime/init/error</c>.</summary>
    public Task<RuntimeError> InitError => _initError.Task;

    public int NextRequests => Volatile.Read(ref _nextRequests);

    public static async Task<RuntimeApiEmulator> StartAsync(LocalServices? local = null, CancellationToken ct = default)
    {
        var emulator = new RuntimeApiEmulator(local);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.AddServerHeader = false;
            o.Limits.MaxRequestBodySize = 32 * 1024 * 1024;
        });
        var app = builder.Build();
        app.Run(emulator.HandleAsync);
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.RuntimeApi = new Uri(address).Authority;
        emulator._app = app;
        return emulator;
    }

    /// <summary>Queues one invocation and waits for its response or error.</summary>
    public Task<InvocationResult> InvokeAsync(ReadOnlyMemory<byte> payload, InvokeOptions? options = null, CancellationToken ct = default)
    {
        options ??= new InvokeOptions();
        var id = options.RequestId ?? $"{Interlocked.Increment(ref _sequence):D8}-{Guid.NewGuid():N}"[..36];
        var pending = new Pending(id, payload.ToArray(), options);
        if (!_inFlight.TryAdd(id, pending)) throw new InvalidOperationException($"request id {id} is already in flight");
        _queue.Writer.TryWrite(pending);
        if (ct.CanBeCanceled)
            ct.Register(() => pending.Result.TrySetCanceled(ct));
        return pending.Result.Task;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        var post = HttpMethods.IsPost(ctx.Request.Method);
        try
        {
            if (path == Runtime + "invocation/next" && HttpMethods.IsGet(ctx.Request.Method)) await NextAsync(ctx);
            else if (post && path == Runtime + "init/error") await InitErrorAsync(ctx);
            else if (post && path.StartsWith(Runtime + "invocation/", StringComparison.Ordinal)) await ResultAsync(ctx, path[(Runtime.Length + "invocation/".Length)..]);
            else if (post && _local is not null && path.StartsWith(LocalProtocol.Prefix, StringComparison.Ordinal)) await LocalAsync(ctx, path);
            else await Answer(ctx, 404, "NotFound", $"the emulator serves no {ctx.Request.Method} {path}");
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The bootstrap went away while waiting for next: nothing to answer.
        }
    }

    private async Task NextAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _nextRequests);
        _firstNext.TrySetResult(Stopwatch.GetTimestamp());
        var p = await _queue.Reader.ReadAsync(ctx.RequestAborted);
        var o = p.Options;
        var h = ctx.Response.Headers;
        h["Lambda-Runtime-Aws-Request-Id"] = p.RequestId;
        h["Lambda-Runtime-Deadline-Ms"] = (DateTimeOffset.UtcNow + o.Timeout).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        h["Lambda-Runtime-Invoked-Function-Arn"] = o.FunctionArn;
        h["Lambda-Runtime-Trace-Id"] = o.TraceId ?? $"Root=1-{DateTimeOffset.UtcNow.ToUnixTimeSeconds():x8}-{p.RequestId.Replace("-", "", StringComparison.Ordinal)[..24]};Parent=0000000000000001;Sampled=0";
        if (o.LocalNow is { } now) h[LocalProtocol.NowHeader] = now.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = p.Payload.Length;
        p.HandedOutAt = Stopwatch.GetTimestamp();
        await ctx.Response.Body.WriteAsync(p.Payload, ctx.RequestAborted);
    }

    private async Task ResultAsync(HttpContext ctx, string rest)
    {
        var slash = rest.LastIndexOf('/');
        var id = slash > 0 ? Uri.UnescapeDataString(rest[..slash]) : "";
        var kind = slash > 0 ? rest[(slash + 1)..] : "";
        if (kind is not ("response" or "error"))
        {
            await Answer(ctx, 404, "NotFound", $"unknown invocation path {rest}");
            return;
        }
        if (!_inFlight.TryRemove(id, out var p))
        {
            await Answer(ctx, 400, "InvalidRequestID", $"no invocation {id} is in flight");
            return;
        }
        var body = await ReadBodyAsync(ctx);
        var completed = Stopwatch.GetTimestamp();
        var isError = kind == "error";
        p.Result.TrySetResult(new InvocationResult
        {
            RequestId = id, IsError = isError, Body = body,
            Error = isError ? RuntimeError.Parse(body, ctx.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault()) : null,
            HandedOutAt = p.HandedOutAt == 0 ? completed : p.HandedOutAt, CompletedAt = completed,
        });
        await Answer(ctx, 202, null, null);
    }

    private async Task InitErrorAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx);
        _initError.TrySetResult(RuntimeError.Parse(body, ctx.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault()));
        await Answer(ctx, 202, null, null);
    }

    private async Task LocalAsync(HttpContext ctx, string path)
    {
        var ct = ctx.RequestAborted;
        var body = await ReadBodyAsync(ctx);
        byte[]? answer;
        try
        {
            answer = await _local!.ServeAsync(path, body, ct);
        }
        catch (Exception ex) when (ex is JsonException or EcsReflex.Core.Events.EventRejectedException)
        {
            await Answer(ctx, 400, "InvalidRequest", $"{path}: the body cannot be read: {ex.Message}");
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The bootstrap's invocation fails with this message (as it would on an AWS error): the replay shows it.
            await Answer(ctx, 500, ex.GetType().Name, $"{path}: {ex.Message}");
            return;
        }
        if (answer is null)
        {
            await Answer(ctx, 404, "NotFound", $"no local service {path}");
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = answer.Length;
        await ctx.Response.Body.WriteAsync(answer, ct);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
        return ms.ToArray();
    }

    private static async Task Answer(HttpContext ctx, int status, string? errorType, string? message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        var bytes = errorType is null
            ? "{\"status\":\"OK\"}"u8.ToArray()
            : JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["errorType"] = errorType, ["errorMessage"] = message ?? "" }, EmulatorJsonContext.Default.DictionaryStringString);
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        foreach (var p in _inFlight.Values) p.Result.TrySetException(new ObjectDisposedException(nameof(RuntimeApiEmulator), "the emulator stopped before the invocation completed"));
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await _app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
            await _app.DisposeAsync();
        }
    }

    private sealed class Pending(string requestId, byte[] payload, InvokeOptions options)
    {
        public string RequestId { get; } = requestId;
        public byte[] Payload { get; } = payload;
        public InvokeOptions Options { get; } = options;
        public long HandedOutAt { get; set; }
        public TaskCompletionSource<InvocationResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class EmulatorJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
