using System.Net;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Http;

/// <summary>How a failed call is classified.</summary>
public enum AwsErrorKind
{
    /// <summary>The service asked to slow down (<c>ThrottlingException</c>, <c>Throttling</c>, <c>TooManyRequestsException</c>, HTTP 429).</summary>
    Throttling,
    /// <summary>A server error (HTTP 5xx, <c>ServerException</c>).</summary>
    Server,
    /// <summary>The request was wrong or not allowed (HTTP 4xx other than throttling): not retried.</summary>
    Client,
    /// <summary>No answer: the connection failed or was reset.</summary>
    Network,
    /// <summary>One attempt took longer than the attempt timeout.</summary>
    Timeout,
    /// <summary>The invocation's deadline (its cancellation token) ended the call.</summary>
    Deadline,
    /// <summary>A success status with a body that could not be read.</summary>
    MalformedResponse,
}

/// <summary>
/// The one exception the project's AWS clients throw: service, operation, the service's error code
/// (from <c>__type</c>, <c>x-amzn-ErrorType</c> or the XML <c>Code</c>), its message, the HTTP status,
/// the request id and how many attempts were made.
/// </summary>
public sealed class AwsServiceException : ApiCallException
{
    public AwsServiceException(string service, string operation, AwsErrorKind kind, string errorCode, string errorMessage,
        HttpStatusCode? statusCode, string? requestId, int attempts, Exception? inner = null)
        : base(Format(service, operation, errorCode, errorMessage, statusCode, requestId, attempts), inner)
    {
        Service = service;
        Operation = operation;
        Kind = kind;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        StatusCode = statusCode;
        RequestId = requestId;
        Attempts = attempts;
    }

    public override string Service { get; }
    public override string Operation { get; }
    public AwsErrorKind Kind { get; }
    public override string ErrorCode { get; }
    public override string ErrorMessage { get; }
    public HttpStatusCode? StatusCode { get; }
    public string? RequestId { get; }
    /// <summary>How many requests were sent (or tried) before giving up.</summary>
    public int Attempts { get; }

    /// <summary>
    /// The error answer's body, when the service sent one that was JSON (at most 64 KiB): what an error carries beyond its
    /// code and message, such as the item DynamoDB returns with a refused condition (<c>ReturnValuesOnConditionCheckFailure</c>).
    /// </summary>
    public byte[]? ErrorBody { get; init; }

    /// <summary>Worth another attempt within this invocation's retry budget.</summary>
    public bool IsRetryable => Kind is AwsErrorKind.Throttling or AwsErrorKind.Server or AwsErrorKind.Network or AwsErrorKind.Timeout;

    /// <summary>Worth retrying the invocation later: retryable kinds, and the deadline.</summary>
    public override bool IsTransient => IsRetryable || Kind == AwsErrorKind.Deadline;

    internal AwsServiceException WithAttempts(int attempts, AwsErrorKind? kind = null, string? prefix = null, Exception? inner = null) =>
        new(Service, Operation, kind ?? Kind, kind is null ? ErrorCode : KindCode(kind.Value, ErrorCode),
            prefix is null ? ErrorMessage : $"{prefix}; last error: {ErrorCode}: {ErrorMessage}", StatusCode, RequestId, attempts, inner ?? InnerException)
        { ErrorBody = ErrorBody };

    private static string KindCode(AwsErrorKind kind, string fallback) => kind == AwsErrorKind.Deadline ? DeadlineExceeded : fallback;

    public const string DeadlineExceeded = "DeadlineExceeded";
    public const string NetworkError = "NetworkError";
    public const string RequestTimeout = "RequestTimeout";
    public const string MalformedResponseCode = "MalformedResponse";

    private static string Format(string service, string operation, string code, string message, HttpStatusCode? status, string? requestId, int attempts)
    {
        var s = $"{service} {operation} failed: {code}";
        if (status is { } st) s += $" (HTTP {(int)st})";
        s += $": {message}";
        if (requestId is not null) s += $" [request id {requestId}]";
        if (attempts > 1) s += $" after {attempts} attempts";
        return s;
    }
}
