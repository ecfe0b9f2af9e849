using System.Text.Json.Serialization;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Http;

namespace EcsReflex.Aws.DynamoDb;

/// <summary>
/// Amazon DynamoDB over AWS JSON 1.0 (target prefix <c>DynamoDB_20120810</c>): the operations the state store uses, shaped
/// like the official client. Through the same signed transport as the other clients of the project's own (region,
/// credentials, endpoints, retries, the invocation's deadline); throws <see cref="AwsServiceException"/> on failure — a
/// refused condition is <see cref="ConditionalCheckFailed"/>. It replaces the official DynamoDB client, whose runtime
/// pipeline the 6 MiB deployment zip could no longer afford. The SDK's CRC32 check of the answer is not repeated: the
/// answer comes over TLS, and a damaged body fails to parse as JSON.
/// </summary>
public sealed class DynamoDbClient(AwsTransport transport)
{
    /// <summary>The error code of a write whose <c>ConditionExpression</c> did not hold.</summary>
    public const string ConditionalCheckFailed = "ConditionalCheckFailedException";

    private static readonly DynamoDbJsonContext Json = DynamoDbJsonContext.Default;

    public AwsTransport Transport => transport;

    public Task<GetItemResponse> GetItemAsync(GetItemRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "GetItem", request, Json.GetItemRequest, Json.GetItemResponse, ct);

    public Task<WriteItemResponse> PutItemAsync(PutItemRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "PutItem", request, Json.PutItemRequest, Json.WriteItemResponse, ct);

    public Task<WriteItemResponse> DeleteItemAsync(DeleteItemRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "DeleteItem", request, Json.DeleteItemRequest, Json.WriteItemResponse, ct);

    public Task<UpdateItemResponse> UpdateItemAsync(UpdateItemRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "UpdateItem", request, Json.UpdateItemRequest, Json.UpdateItemResponse, ct);

    /// <summary>Up to 25 puts or deletes in one request, none conditional; what DynamoDB did not get to comes back in <c>UnprocessedItems</c>.</summary>
    public Task<BatchWriteItemResponse> BatchWriteItemAsync(BatchWriteItemRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "BatchWriteItem", request, Json.BatchWriteItemRequest, Json.BatchWriteItemResponse, ct);

    public Task<QueryResponse> QueryAsync(QueryRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "Query", request, Json.QueryRequest, Json.QueryResponse, ct);

    public Task<CreateTableResponse> CreateTableAsync(CreateTableRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "CreateTable", request, Json.CreateTableRequest, Json.CreateTableResponse, ct);

    public Task<DescribeTableResponse> DescribeTableAsync(DescribeTableRequest request, CancellationToken ct) =>
        transport.SendJsonAsync(AwsService.DynamoDb, "DescribeTable", request, Json.DescribeTableRequest, Json.DescribeTableResponse, ct);
}

/// <summary>
/// One attribute's value, as DynamoDB's JSON writes it (<c>{"S":"…"}</c>, <c>{"N":"12"}</c>): the string and number
/// forms EcsReflex stores, and the boolean and null forms so that an item another tool wrote still reads.
/// </summary>
public sealed record AttributeValue
{
    [JsonPropertyName("S")] public string? S { get; init; }
    [JsonPropertyName("N")] public string? N { get; init; }
    [JsonPropertyName("BOOL")] public bool? Bool { get; init; }
    [JsonPropertyName("NULL")] public bool? Null { get; init; }
}

public sealed record GetItemRequest
{
    [JsonPropertyName("TableName")] public required string TableName { get; init; }
    [JsonPropertyName("Key")] public required Dictionary<string, AttributeValue> Key { get; init; }
    [JsonPropertyName("ConsistentRead")] public bool? ConsistentRead { get; init; }
}

public sealed record GetItemResponse
{
    [JsonPropertyName("Item")] public Dictionary<string, AttributeValue>? Item { get; init; }
}

/// <summary>The condition members every write shares.</summary>
public abstract record ConditionalWrite
{
    [JsonPropertyName("TableName")] public required string TableName { get; init; }
    [JsonPropertyName("ConditionExpression")] public string? ConditionExpression { get; init; }
    [JsonPropertyName("ExpressionAttributeNames")] public Dictionary<string, string>? ExpressionAttributeNames { get; init; }
    [JsonPropertyName("ExpressionAttributeValues")] public Dictionary<string, AttributeValue>? ExpressionAttributeValues { get; init; }
}

public sealed record PutItemRequest : ConditionalWrite
{
    [JsonPropertyName("Item")] public required Dictionary<string, AttributeValue> Item { get; init; }
    /// <summary><c>ALL_OLD</c>: a refused condition answers with the item that refused it (in the error's <c>Item</c>).</summary>
    [JsonPropertyName("ReturnValuesOnConditionCheckFailure")] public string? ReturnValuesOnConditionCheckFailure { get; init; }
}

/// <summary>A <c>ConditionalCheckFailedException</c>'s body: with <c>ReturnValuesOnConditionCheckFailure: ALL_OLD</c>, the item as it is.</summary>
public sealed record ConditionalCheckFailedBody
{
    [JsonPropertyName("Item")] public Dictionary<string, AttributeValue>? Item { get; init; }
}

public sealed record DeleteItemRequest : ConditionalWrite
{
    [JsonPropertyName("Key")] public required Dictionary<string, AttributeValue> Key { get; init; }
}

public sealed record UpdateItemRequest : ConditionalWrite
{
    [JsonPropertyName("Key")] public required Dictionary<string, AttributeValue> Key { get; init; }
    [JsonPropertyName("UpdateExpression")] public required string UpdateExpression { get; init; }
    /// <summary><c>UPDATED_NEW</c>: the answer carries the attributes the update changed, as they are after it.</summary>
    [JsonPropertyName("ReturnValues")] public string? ReturnValues { get; init; }
}

/// <summary>PutItem and DeleteItem answer with nothing EcsReflex asks for (no <c>ReturnValues</c>).</summary>
public sealed record WriteItemResponse;

/// <summary>UpdateItem's answer: with <c>ReturnValues</c>, the attributes it names.</summary>
public sealed record UpdateItemResponse
{
    [JsonPropertyName("Attributes")] public Dictionary<string, AttributeValue>? Attributes { get; init; }
}

public sealed record QueryRequest
{
    [JsonPropertyName("TableName")] public required string TableName { get; init; }
    [JsonPropertyName("ConsistentRead")] public bool? ConsistentRead { get; init; }
    [JsonPropertyName("KeyConditionExpression")] public required string KeyConditionExpression { get; init; }
    [JsonPropertyName("ExpressionAttributeNames")] public Dictionary<string, string>? ExpressionAttributeNames { get; init; }
    [JsonPropertyName("ExpressionAttributeValues")] public Dictionary<string, AttributeValue>? ExpressionAttributeValues { get; init; }
    [JsonPropertyName("ExclusiveStartKey")] public Dictionary<string, AttributeValue>? ExclusiveStartKey { get; init; }
}

public sealed record QueryResponse
{
    [JsonPropertyName("Items")] public IReadOnlyList<Dictionary<string, AttributeValue>>? Items { get; init; }
    [JsonPropertyName("LastEvaluatedKey")] public Dictionary<string, AttributeValue>? LastEvaluatedKey { get; init; }
}

/// <summary>BatchWriteItem's request: per table, its puts (deletes are not used).</summary>
public sealed record BatchWriteItemRequest
{
    [JsonPropertyName("RequestItems")] public required Dictionary<string, List<WriteRequest>> RequestItems { get; init; }
}

public sealed record WriteRequest
{
    [JsonPropertyName("PutRequest")] public PutRequest? PutRequest { get; init; }
}

public sealed record PutRequest
{
    [JsonPropertyName("Item")] public required Dictionary<string, AttributeValue> Item { get; init; }
}

public sealed record BatchWriteItemResponse
{
    /// <summary>Per table, the writes DynamoDB did not apply (throughput), to be sent again.</summary>
    [JsonPropertyName("UnprocessedItems")] public Dictionary<string, List<WriteRequest>>? UnprocessedItems { get; init; }
}

public sealed record AttributeDefinition
{
    [JsonPropertyName("AttributeName")] public required string AttributeName { get; init; }
    [JsonPropertyName("AttributeType")] public required string AttributeType { get; init; }
}

public sealed record KeySchemaElement
{
    [JsonPropertyName("AttributeName")] public required string AttributeName { get; init; }
    [JsonPropertyName("KeyType")] public required string KeyType { get; init; }
}

public sealed record CreateTableRequest
{
    [JsonPropertyName("TableName")] public required string TableName { get; init; }
    [JsonPropertyName("BillingMode")] public string? BillingMode { get; init; }
    [JsonPropertyName("AttributeDefinitions")] public required IReadOnlyList<AttributeDefinition> AttributeDefinitions { get; init; }
    [JsonPropertyName("KeySchema")] public required IReadOnlyList<KeySchemaElement> KeySchema { get; init; }
}

public sealed record DescribeTableRequest
{
    [JsonPropertyName("TableName")] public required string TableName { get; init; }
}

public sealed record TableDescription
{
    [JsonPropertyName("TableName")] public string? TableName { get; init; }
    [JsonPropertyName("TableStatus")] public string? TableStatus { get; init; }
}

public sealed record CreateTableResponse
{
    [JsonPropertyName("TableDescription")] public TableDescription? TableDescription { get; init; }
}

public sealed record DescribeTableResponse
{
    [JsonPropertyName("Table")] public TableDescription? Table { get; init; }
}

/// <summary>Source-generated (AOT-safe) serialisation of the DynamoDB shapes; nulls are not written.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetItemRequest))]
[JsonSerializable(typeof(GetItemResponse))]
[JsonSerializable(typeof(PutItemRequest))]
[JsonSerializable(typeof(DeleteItemRequest))]
[JsonSerializable(typeof(UpdateItemRequest))]
[JsonSerializable(typeof(WriteItemResponse))]
[JsonSerializable(typeof(ConditionalCheckFailedBody))]
[JsonSerializable(typeof(BatchWriteItemRequest))]
[JsonSerializable(typeof(BatchWriteItemResponse))]
[JsonSerializable(typeof(UpdateItemResponse))]
[JsonSerializable(typeof(QueryRequest))]
[JsonSerializable(typeof(QueryResponse))]
[JsonSerializable(typeof(CreateTableRequest))]
[JsonSerializable(typeof(DescribeTableRequest))]
[JsonSerializable(typeof(CreateTableResponse))]
[JsonSerializable(typeof(DescribeTableResponse))]
public sealed partial class DynamoDbJsonContext : JsonSerializerContext;
