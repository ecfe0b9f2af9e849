using System.Text.Json.Serialization;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Http;

namespace EcsReflex.Aws.Sqs;

/// <summary>
/// Amazon SQS over AWS JSON 1.0 (target prefix <c>AmazonSQS</c>): the one operation EcsReflex uses, <c>SendMessage</c>,
/// shaped like the official client. Through the same signed transport as the other clients of the project's own (region,
/// credentials, endpoints, retries); throws <see cref="AwsServiceException"/> on failure. It replaces the official SQS
/// client, whose share of the Native AOT bootstrap the 6 MiB deployment zip could no longer afford.
/// </summary>
public sealed class SqsClient(AwsTransport transport)
{
    private static readonly SqsJsonContext Json = SqsJsonContext.Default;

    public AwsTransport Transport => transport;

    public Task<SendMessageResponse> SendMessageAsync(SendMessageRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.Sqs, "SendMessage", request, Json.SendMessageRequest, Json.SendMessageResponse, ct);
}

/// <summary>SendMessage's request (the official model's members EcsReflex sends).</summary>
public sealed record SendMessageRequest
{
    [JsonPropertyName("QueueUrl")] public required string QueueUrl { get; init; }
    [JsonPropertyName("MessageBody")] public required string MessageBody { get; init; }
    [JsonPropertyName("DelaySeconds")] public int? DelaySeconds { get; init; }
    [JsonPropertyName("MessageAttributes")] public Dictionary<string, MessageAttributeValue>? MessageAttributes { get; init; }
}

/// <summary>A message attribute: EcsReflex sends strings only.</summary>
public sealed record MessageAttributeValue
{
    [JsonPropertyName("DataType")] public required string DataType { get; init; }
    [JsonPropertyName("StringValue")] public required string StringValue { get; init; }
}

public sealed record SendMessageResponse
{
    [JsonPropertyName("MessageId")] public string? MessageId { get; init; }
    [JsonPropertyName("MD5OfMessageBody")] public string? Md5OfMessageBody { get; init; }
}

/// <summary>Source-generated (AOT-safe) serialisation of the SQS shapes; nulls are not written.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(SendMessageResponse))]
public sealed partial class SqsJsonContext : JsonSerializerContext;
