using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using EcsReflex.Engine.Local;

namespace EcsReflex.Lambda.Client;

/// <summary>
/// The Runtime API over HTTP (<c>AWS_LAMBDA_RUNTIME_API</c> gives <c>host:port</c>). No timeout on
/// <c>next</c>: Lambda holds it until an event arrives, or freezes the sandbox meanwhile.
/// </summary>
public sealed class RuntimeApiClient : IRuntimeApiClient, IDisposable
{
    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";
    public const string DeadlineHeader = "Lambda-Runtime-Deadline-Ms";
    public const string FunctionArnHeader = "Lambda-Runtime-Invoked-Function-Arn";
    public const string TraceIdHeader = "Lambda-Runtime-Trace-Id";

    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;

    public RuntimeApiClient(string runtimeApi, HttpMessageHandler? handler = null)
    {
        _http = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false }, disposeHandler: true)
        {
            BaseAddress = new Uri($"http://{runtimeApi}/2018-06-01/runtime/"),
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
        };
    }

    public async Task<InvocationRequest> GetNextInvocationAsync(CancellationToken ct)
    {
        using var response = await _http.GetAsync("invocation/next", HttpCompletionOption.ResponseContentRead, ct);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new RuntimeApiException($"GET invocation/next answered {(int)response.StatusCode} {response.ReasonPhrase}: {await response.Content.ReadAsStringAsync(ct)}");
        var id = Header(response, RequestIdHeader)
                 ?? throw new RuntimeApiException($"GET invocation/next answered without the {RequestIdHeader} header");
        var deadlineText = Header(response, DeadlineHeader);
        if (!long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs))
            throw new RuntimeApiException($"GET invocation/next answered {DeadlineHeader}: \"{deadlineText}\", not epoch milliseconds");
        DateTimeOffset? localNow = null;
        if (Header(response, LocalProtocol.NowHeader) is { } now
            && DateTimeOffset.TryParse(now, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            localNow = parsed;
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        return new InvocationRequest(id, DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs),
            Header(response, FunctionArnHeader), Header(response, TraceIdHeader), body) { LocalNow = localNow };
    }

    public async Task SendResponseAsync(string requestId, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        using var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync($"invocation/{Uri.EscapeDataString(requestId)}/response", content, ct);
        await EnsureAcceptedAsync(response, "invocation response", ct);
    }

    public async Task ReportInvocationErrorAsync(string requestId, ErrorReport error, CancellationToken ct)
    {
        using var request = ErrorRequest($"invocation/{Uri.EscapeDataString(requestId)}/error", error);
        using var response = await _http.SendAsync(request, ct);
        await EnsureAcceptedAsync(response, "invocation error", ct);
    }

    public async Task ReportInitializationErrorAsync(ErrorReport error, CancellationToken ct)
    {
        using var request = ErrorRequest("init/error", error);
        using var response = await _http.SendAsync(request, ct);
        await EnsureAcceptedAsync(response, "init error", ct);
    }

    private static HttpRequestMessage ErrorRequest(string path, ErrorReport error)
    {
        var content = new ByteArrayContent(error.ToJson());
        content.Headers.ContentType = Json;
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation(ErrorReport.ErrorTypeHeader, error.ErrorType);
        return request;
    }

    private static async Task EnsureAcceptedAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if ((int)response.StatusCode is >= 200 and < 300) return;
        throw new RuntimeApiException($"the Runtime API refused the {what}: {(int)response.StatusCode} {response.ReasonPhrase}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public void Dispose() => _http.Dispose();
}
