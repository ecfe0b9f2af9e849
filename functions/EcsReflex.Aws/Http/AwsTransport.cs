using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Xml;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime.Signing;
using EcsReflex.Aws.Config;

namespace EcsReflex.Aws.Http;

/// <summary>What every client needs: region, endpoints, clock, retry policy and jitter.</summary>
public sealed record AwsClientOptions
{
    public required string Region { get; init; }
    public required AwsEndpoints Endpoints { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public AwsRetryPolicy Retry { get; init; } = AwsRetryPolicy.Default;
    public IJitter Jitter { get; init; } = new RandomJitter();
}

/// <summary>
/// The wire for the project's own clients: builds AWS JSON 1.1 and AWS Query requests, signs them with
/// AWSSDK.Core's <see cref="SigV4SigningHandler"/>, retries what is worth retrying (throttling, 5xx, resets,
/// attempt timeouts) with capped exponential back-off and full jitter until the attempts run out or the
/// caller's token (the invocation's deadline) ends, and turns every failure into one
/// <see cref="AwsServiceException"/>.
/// </summary>
public sealed class AwsTransport : IDisposable
{
    private static readonly HttpRequestOptionsKey<string> ServiceKey = new(SigV4SigningHandler.ServiceOptionKey);
    private static readonly MediaTypeHeaderValue FormContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-8");

    private readonly HttpClient _http;
    private readonly AwsClientOptions _options;
    private readonly bool _ownsHttp;

    /// <param name="signedHttp">An <see cref="HttpClient"/> whose pipeline signs requests (see <see cref="Create"/>).</param>
    public AwsTransport(HttpClient signedHttp, AwsClientOptions options, bool ownsHttp = false)
    {
        _http = signedHttp;
        _options = options;
        _ownsHttp = ownsHttp;
        _http.Timeout = Timeout.InfiniteTimeSpan; // attempts are timed by the retry policy
    }

    /// <summary>A transport that signs with <paramref name="credentials"/> for <paramref name="options"/>' region.</summary>
    public static AwsTransport Create(IAwsCredentialsSource credentials, AwsClientOptions options, HttpMessageHandler? inner = null)
    {
        var signer = new SigV4SigningHandler(credentials.GetCredentials(), RegionEndpoint.GetBySystemName(options.Region), AwsService.Ecs.SigningName,
            inner ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.None });
        return new AwsTransport(new HttpClient(signer), options, ownsHttp: true);
    }

    public AwsClientOptions Options => _options;

    /// <summary>Sends one AWS JSON request and reads its answer.</summary>
    public Task<TResponse> SendJsonAsync<TRequest, TResponse>(AwsService service, string operation, TRequest request,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        return SendAsync(service, operation, () => BuildJson(service, operation, body),
            bytes => JsonSerializer.Deserialize(bytes.Length == 0 ? "{}"u8 : bytes, responseType)
                     ?? throw new JsonException("the body is the JSON value null"), ParseJsonError, ct);
    }

    /// <summary>Sends one AWS Query request (form-encoded parameters) and reads its XML answer.</summary>
    public Task<XElement> SendQueryAsync(AwsService service, string operation, IEnumerable<KeyValuePair<string, string>> parameters, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.Append("Action=").Append(Uri.EscapeDataString(operation)).Append("&Version=").Append(Uri.EscapeDataString(service.ApiVersion!));
        foreach (var (k, v) in parameters) sb.Append('&').Append(Uri.EscapeDataString(k)).Append('=').Append(Uri.EscapeDataString(v));
        var body = Encoding.UTF8.GetBytes(sb.ToString());
        return SendAsync(service, operation, () => BuildQuery(service, body), ParseXml, ParseQueryError, ct);
    }

    private HttpRequestMessage BuildJson(AwsService service, string operation, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoints.Resolve(service, _options.Region));
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue($"application/x-amz-json-{service.JsonVersion}");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", $"{service.TargetPrefix}.{operation}");
        request.Options.Set(ServiceKey, service.SigningName);
        return request;
    }

    private HttpRequestMessage BuildQuery(AwsService service, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoints.Resolve(service, _options.Region));
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = FormContentType;
        request.Options.Set(ServiceKey, service.SigningName);
        return request;
    }

    private delegate AwsServiceException ErrorParser(AwsService service, string operation, HttpResponseMessage response, byte[] body, int attempt);

    private async Task<T> SendAsync<T>(AwsService service, string operation, Func<HttpRequestMessage> build, Func<byte[], T> parse,
        ErrorParser parseError, CancellationToken ct)
    {
        var retry = _options.Retry;
        AwsServiceException? last = null;
        for (var attempt = 1; ; attempt++)
        {
            if (last is not null)
            {
                var delay = retry.Delay(attempt - 1, _options.Jitter.Next());
                try
                {
                    if (delay > TimeSpan.Zero) await Task.Delay(delay, _options.Time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
                {
                    throw last.WithAttempts(attempt - 1, AwsErrorKind.Deadline, $"the deadline came while waiting {delay.TotalMilliseconds:0} ms to retry", ex);
                }
            }
            if (ct.IsCancellationRequested)
                throw last is null
                    ? new AwsServiceException(service.Name, operation, AwsErrorKind.Deadline, AwsServiceException.DeadlineExceeded,
                        "the deadline had passed before the request was sent", null, null, 0)
                    : last.WithAttempts(attempt - 1, AwsErrorKind.Deadline, "the deadline came before the next attempt");

            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attemptCts.CancelAfter(retry.AttemptTimeout);
            HttpResponseMessage? response = null;
            try
            {
                using var request = build();
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, attemptCts.Token).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(attemptCts.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    try
                    {
                        return parse(bytes);
                    }
                    catch (Exception ex) when (ex is JsonException or XmlException or FormatException or InvalidOperationException or NotSupportedException)
                    {
                        throw new AwsServiceException(service.Name, operation, AwsErrorKind.MalformedResponse, AwsServiceException.MalformedResponseCode,
                            $"the answer could not be read: {ex.Message}", response.StatusCode, RequestId(response, null), attempt, ex);
                    }
                }
                last = parseError(service, operation, response, bytes, attempt);
            }
            catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
            {
                throw new AwsServiceException(service.Name, operation, AwsErrorKind.Deadline, AwsServiceException.DeadlineExceeded,
                    "the deadline came before the answer" + (last is null ? "" : $"; last error: {last.ErrorCode}: {last.ErrorMessage}"),
                    null, null, attempt, ex);
            }
            catch (OperationCanceledException ex)
            {
                last = new AwsServiceException(service.Name, operation, AwsErrorKind.Timeout, AwsServiceException.RequestTimeout,
                    $"no answer within {retry.AttemptTimeout.TotalSeconds:0.###} s", null, null, attempt, ex);
            }
            catch (HttpRequestException ex)
            {
                last = new AwsServiceException(service.Name, operation, AwsErrorKind.Network, AwsServiceException.NetworkError,
                    ex.Message, null, null, attempt, ex);
            }
            catch (IOException ex)
            {
                last = new AwsServiceException(service.Name, operation, AwsErrorKind.Network, AwsServiceException.NetworkError,
                    ex.Message, null, null, attempt, ex);
            }
            finally
            {
                response?.Dispose();
            }
            if (!last.IsRetryable || attempt >= retry.MaxAttempts) throw last.WithAttempts(attempt);
        }
    }

    private static XElement ParseXml(byte[] bytes)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
        using var reader = XmlReader.Create(new MemoryStream(bytes), settings);
        return XElement.Load(reader);
    }

    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "TooManyRequestsException", "ThrottledException", "RequestThrottledException",
        "RequestLimitExceeded", "RequestThrottled", "SlowDown", "ProvisionedThroughputExceededException", "BandwidthLimitExceeded",
        "EC2ThrottledException",
    };

    private static readonly HashSet<string> ServerCodes = new(StringComparer.Ordinal)
    {
        "ServerException", "InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
        "RequestTimeout", "RequestTimeoutException",
    };

    /// <summary>Throttling, server or client, from the error code and the HTTP status.</summary>
    public static AwsErrorKind Classify(string code, HttpStatusCode status)
    {
        if (ThrottlingCodes.Contains(code) || status == HttpStatusCode.TooManyRequests) return AwsErrorKind.Throttling;
        if (ServerCodes.Contains(code) || (int)status >= 500) return AwsErrorKind.Server;
        return AwsErrorKind.Client;
    }

    /// <summary><c>com.amazonaws.ecs#ClientException</c> and <c>ThrottlingException:http://…</c> both give the bare code.</summary>
    public static string NormalizeCode(string raw)
    {
        var s = raw.Trim();
        var colon = s.IndexOf(':');
        if (colon >= 0) s = s[..colon];
        var hash = s.LastIndexOf('#');
        if (hash >= 0) s = s[(hash + 1)..];
        return s;
    }

    private static string? RequestId(HttpResponseMessage response, string? fromBody)
    {
        foreach (var name in (ReadOnlySpan<string>)["x-amzn-RequestId", "x-amz-request-id", "x-amzn-request-id"])
            if (response.Headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } v) return v;
        return fromBody;
    }

    private static AwsServiceException ParseJsonError(AwsService service, string operation, HttpResponseMessage response, byte[] body, int attempt)
    {
        string? code = null, message = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (body.Length > 0 && JsonDocument.TryParseValue(ref reader, out var doc))
                using (doc)
                {
                    if (doc.RootElement.ValueKind == JsonValueKind.Object)
                        foreach (var p in doc.RootElement.EnumerateObject())
                        {
                            if (p.Value.ValueKind != JsonValueKind.String) continue;
                            if (p.NameEquals("__type") || p.NameEquals("code") || p.NameEquals("Code")) code ??= p.Value.GetString();
                            else if (p.Name.Equals("message", StringComparison.OrdinalIgnoreCase) || p.NameEquals("errorMessage")) message ??= p.Value.GetString();
                        }
                }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, a truncated body): the status and the raw text say what is known.
        }
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var types) && types.FirstOrDefault() is { Length: > 0 } header) code ??= header;
        // A JSON error's body is kept (within 64 KiB) for what it carries beyond code and message (DynamoDB's refusing item).
        return Error(service, operation, response, code, message, body, attempt, null, keepBody: code is not null && body.Length is > 0 and <= 64 * 1024);
    }

    private static AwsServiceException ParseQueryError(AwsService service, string operation, HttpResponseMessage response, byte[] body, int attempt)
    {
        string? code = null, message = null, requestId = null;
        try
        {
            var root = ParseXml(body);
            var error = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value;
            message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value;
            requestId = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;
        }
        catch (XmlException)
        {
            // Not XML: see ParseJsonError.
        }
        return Error(service, operation, response, code, message, body, attempt, requestId);
    }

    private static AwsServiceException Error(AwsService service, string operation, HttpResponseMessage response, string? rawCode, string? message,
        byte[] body, int attempt, string? requestId, bool keepBody = false)
    {
        var status = response.StatusCode;
        var code = rawCode is null ? $"Http{(int)status}" : NormalizeCode(rawCode);
        if (code.Length == 0) code = $"Http{(int)status}";
        message ??= body.Length == 0 ? $"HTTP {(int)status} {response.ReasonPhrase} with an empty body" : Snippet(body);
        return new AwsServiceException(service.Name, operation, Classify(code, status), code, message, status, RequestId(response, requestId), attempt)
        {
            ErrorBody = keepBody ? body : null,
        };
    }

    private static string Snippet(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)).ReplaceLineEndings(" ");
        return body.Length > 200 ? text + "…" : text;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
