using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.DynamoDb;
using EcsReflex.Aws.Http;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.State;

/// <summary>
/// The state store on one DynamoDB table (partition key <c>pk</c> and sort key <c>sk</c>, both strings; TTL on
/// <c>expiresAt</c>, seconds since the epoch): <see cref="StateStore"/>'s record logic over <see cref="DynamoDbStateBackend"/>.
/// </summary>
public sealed class DynamoDbStateStore(DynamoDbClient dynamo, string tableName, TimeProvider? time = null)
    : StateStore(new DynamoDbStateBackend(dynamo, tableName), time)
{
    public const string PartitionKey = "pk";
    public const string SortKey = "sk";
    public const string KindAttribute = "kind";
    public const string DataAttribute = "data";
    public const string TtlAttribute = "expiresAt";
    public const string VersionAttribute = "version";
    public const string CountAttribute = "count";
    public const string TokenAttribute = "token";

    public string TableName => tableName;

    /// <summary>
    /// Creates the table (on-demand, <c>pk</c>/<c>sk</c> strings) and waits until it is active: for tests and local
    /// runs. In AWS the CDK stack creates it, with TTL on <see cref="TtlAttribute"/>.
    /// </summary>
    public static async Task CreateTableAsync(DynamoDbClient dynamo, string tableName, CancellationToken ct)
    {
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = tableName,
            BillingMode = "PAY_PER_REQUEST",
            AttributeDefinitions =
            [
                new AttributeDefinition { AttributeName = PartitionKey, AttributeType = "S" },
                new AttributeDefinition { AttributeName = SortKey, AttributeType = "S" },
            ],
            KeySchema =
            [
                new KeySchemaElement { AttributeName = PartitionKey, KeyType = "HASH" },
                new KeySchemaElement { AttributeName = SortKey, KeyType = "RANGE" },
            ],
        }, ct).ConfigureAwait(false);
        for (var i = 0; i < 600; i++)
        {
            var d = await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = tableName }, ct).ConfigureAwait(false);
            if (d.Table?.TableStatus == "ACTIVE") return;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"table {tableName} did not become ACTIVE");
    }
}

/// <summary>
/// The primitives of <see cref="IStateBackend"/> on one DynamoDB table: the only class that speaks to DynamoDB
/// (<see cref="DynamoDbClient"/>, the project's own).
/// An item's record is stored as JSON in <c>data</c> (<see cref="StateJsonContext"/>, by the key's kind); each
/// <see cref="WriteCondition"/> is a <c>ConditionExpression</c>.
/// </summary>
public sealed class DynamoDbStateBackend(DynamoDbClient dynamo, string tableName) : IStateBackend
{
    private const string PartitionKey = DynamoDbStateStore.PartitionKey, SortKey = DynamoDbStateStore.SortKey;
    private long _appendSequence;

    // "data", "count" and others are DynamoDB reserved words: every expression names attributes through #aliases.
    private static readonly Dictionary<string, string> Names = new()
    {
        ["#pk"] = PartitionKey, ["#kind"] = DynamoDbStateStore.KindAttribute, ["#ttl"] = DynamoDbStateStore.TtlAttribute,
        ["#version"] = DynamoDbStateStore.VersionAttribute, ["#count"] = DynamoDbStateStore.CountAttribute, ["#token"] = DynamoDbStateStore.TokenAttribute,
    };

    public async ValueTask<StoredItem?> GetAsync(ItemKey key, CancellationToken ct)
    {
        var r = await dynamo.GetItemAsync(new GetItemRequest { TableName = tableName, Key = Key(key), ConsistentRead = true }, ct).ConfigureAwait(false);
        return r.Item is { Count: > 0 } item ? FromAttributes(key, item) : null;
    }

    public ValueTask<bool> PutAsync(StoredItem item, WriteCondition condition, CancellationToken ct)
    {
        if (condition.Kind == ConditionKind.None)
            return Unconditional(dynamo.PutItemAsync(new PutItemRequest { TableName = tableName, Item = ToAttributes(item) }, ct));
        return WhenConditionHolds(dynamo.PutItemAsync(ConditionalPut(item, condition), ct));
    }

    private PutItemRequest ConditionalPut(StoredItem item, WriteCondition condition)
    {
        var (expression, names, values) = Expression(condition);
        return new PutItemRequest
        {
            TableName = tableName, Item = ToAttributes(item),
            ConditionExpression = expression, ExpressionAttributeNames = names, ExpressionAttributeValues = values,
        };
    }

    /// <summary>
    /// PutItem with <c>ReturnValuesOnConditionCheckFailure: ALL_OLD</c>: a refusal comes with the item that refused it, so a
    /// duplicate delivery is one request. A DynamoDB that answers without it (an older emulator) is asked with a GetItem.
    /// </summary>
    public async ValueTask<(bool Written, StoredItem? Refusing)> PutOrReadAsync(StoredItem item, WriteCondition condition, CancellationToken ct)
    {
        try
        {
            await dynamo.PutItemAsync(ConditionalPut(item, condition) with { ReturnValuesOnConditionCheckFailure = "ALL_OLD" }, ct).ConfigureAwait(false);
            return (true, null);
        }
        catch (AwsServiceException ex) when (ex.ErrorCode == DynamoDbClient.ConditionalCheckFailed)
        {
            if (RefusingItem(ex) is { Count: > 0 } old) return (false, FromAttributes(item.Key, old));
            return (false, await GetAsync(item.Key, ct).ConfigureAwait(false));
        }
    }

    private static Dictionary<string, AttributeValue>? RefusingItem(AwsServiceException ex)
    {
        if (ex.ErrorBody is not { } body) return null;
        try
        {
            return JsonSerializer.Deserialize(body, DynamoDbJsonContext.Default.ConditionalCheckFailedBody)?.Item;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public ValueTask<bool> DeleteAsync(ItemKey key, WriteCondition condition, CancellationToken ct)
    {
        if (condition.Kind == ConditionKind.None)
            return WhenConditionHolds(dynamo.DeleteItemAsync(new DeleteItemRequest { TableName = tableName, Key = Key(key) }, ct));
        var (expression, names, values) = Expression(condition);
        return WhenConditionHolds(dynamo.DeleteItemAsync(new DeleteItemRequest
        {
            TableName = tableName, Key = Key(key),
            ConditionExpression = expression, ExpressionAttributeNames = names, ExpressionAttributeValues = values,
        }, ct));
    }

    /// <summary>The condition as DynamoDB checks it: expiry against <c>expiresAt</c> in whole seconds (<see cref="Epoch"/>).</summary>
    private static (string, Dictionary<string, string>, Dictionary<string, AttributeValue>?) Expression(WriteCondition c) => c.Kind switch
    {
        ConditionKind.Absent => ("attribute_not_exists(#pk) OR #ttl < :now", Pick("#pk", "#ttl"), new() { [":now"] = Number(Epoch(c.Now)) }),
        ConditionKind.VersionIs when c.Version is { } v => ("#version = :expected", Pick("#version"), new() { [":expected"] = Number(v) }),
        ConditionKind.VersionIs => ("attribute_not_exists(#pk)", Pick("#pk"), null),
        ConditionKind.HeldBy => ("#token = :token", Pick("#token"), new() { [":token"] = new AttributeValue { S = c.Token } }),
        ConditionKind.NotNewer => ("attribute_not_exists(#pk) OR attribute_not_exists(#version) OR #version <= :version OR #ttl < :now",
            Pick("#pk", "#version", "#ttl"), new() { [":version"] = Number(c.Version ?? 0), [":now"] = Number(Epoch(c.Now)) }),
        _ => throw new ArgumentOutOfRangeException(nameof(c), c.Kind, "no such condition"),
    };

    /// <summary>One <c>UpdateItem</c>: <c>ADD</c> (atomic; an absent attribute counts 0), the new count read back with <c>UPDATED_NEW</c>.</summary>
    public async ValueTask<long> IncrementAsync(ItemKey key, string kind, DateTimeOffset expiresAt, CancellationToken ct, long by = 1)
    {
        var r = await dynamo.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = tableName,
            Key = Key(key),
            UpdateExpression = "ADD #count :one SET #kind = :kind, #ttl = :ttl",
            ExpressionAttributeNames = Pick("#count", "#kind", "#ttl"),
            ExpressionAttributeValues = new()
            {
                [":one"] = Number(by), [":kind"] = new AttributeValue { S = kind }, [":ttl"] = Number(Epoch(expiresAt)),
            },
            ReturnValues = "UPDATED_NEW",
        }, ct).ConfigureAwait(false);
        return r.Attributes is { } a && Num(a, DynamoDbStateStore.CountAttribute) is { } n
            ? n
            : throw new InvalidOperationException($"UpdateItem of {key} answered without the new {DynamoDbStateStore.CountAttribute} (ReturnValues UPDATED_NEW)");
    }

    /// <summary>An appended item's sort key: its time, then a sequence and a random part, so concurrent writers never collide.</summary>
    public async ValueTask AppendAsync(StoredItem item, DateTimeOffset at, CancellationToken ct) =>
        await dynamo.PutItemAsync(new PutItemRequest { TableName = tableName, Item = ToAttributes(Placed(item, at)) }, ct).ConfigureAwait(false);

    private StoredItem Placed(StoredItem item, DateTimeOffset at)
    {
        var sequence = Interlocked.Increment(ref _appendSequence);
        var place = string.Create(CultureInfo.InvariantCulture, $"{at.ToUniversalTime():yyyy-MM-ddTHH:mm:ss.fffffffZ}#{sequence:D10}#{Random.Shared.Next():x8}");
        return new StoredItem
        {
            Key = item.Key with { Name = place }, Kind = item.Kind, Record = item.Record, ExpiresAt = item.ExpiresAt,
            Version = item.Version, Count = item.Count, Token = item.Token,
        };
    }

    /// <summary>BatchWriteItem's most items a request.</summary>
    public const int MaxBatchWrite = 25;

    /// <summary>How many times the items DynamoDB left unprocessed are sent again before the batch fails (back-off 25 ms, doubling).</summary>
    public const int UnprocessedAttempts = 6;

    /// <summary>
    /// <c>BatchWriteItem</c>, 25 items a request, the requests sent together; what DynamoDB leaves unprocessed (throughput) is
    /// sent again with a back-off, and still left after <see cref="UnprocessedAttempts"/> fails the batch (the reaction is
    /// then retried). BatchWriteItem refuses two items under one key in a request: the later one is kept.
    /// </summary>
    public async ValueTask PutManyAsync(IReadOnlyList<BatchItem> items, CancellationToken ct)
    {
        if (items.Count == 0) return;
        var byKey = new Dictionary<(string, string), int>();
        var puts = new List<WriteRequest>(items.Count);
        foreach (var b in items)
        {
            var item = b.AppendAt is { } at ? Placed(b.Item, at) : b.Item;
            var put = new WriteRequest { PutRequest = new PutRequest { Item = ToAttributes(item) } };
            if (byKey.TryGetValue((item.Key.Pk, item.Key.Sk), out var i)) puts[i] = put;
            else
            {
                byKey[(item.Key.Pk, item.Key.Sk)] = puts.Count;
                puts.Add(put);
            }
        }
        var requests = new List<Task>((puts.Count + MaxBatchWrite - 1) / MaxBatchWrite);
        for (var start = 0; start < puts.Count; start += MaxBatchWrite)
            requests.Add(WriteAllAsync(puts.GetRange(start, Math.Min(MaxBatchWrite, puts.Count - start)), ct));
        await Task.WhenAll(requests).ConfigureAwait(false);
    }

    private async Task WriteAllAsync(List<WriteRequest> puts, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(25);
        for (var attempt = 0; ; attempt++)
        {
            var r = await dynamo.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = new() { [tableName] = puts } }, ct).ConfigureAwait(false);
            if (r.UnprocessedItems is null || !r.UnprocessedItems.TryGetValue(tableName, out var left) || left.Count == 0) return;
            if (attempt + 1 >= UnprocessedAttempts)
                throw new AwsServiceException(AwsService.DynamoDb.Name, "BatchWriteItem", AwsErrorKind.Throttling, "UnprocessedItems",
                    $"{left.Count} of {puts.Count} items were still unprocessed after {UnprocessedAttempts} requests", null, null, UnprocessedAttempts);
            puts = left;
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }

    public async ValueTask<IReadOnlyList<StoredItem>> QueryAsync(ItemKey trail, CancellationToken ct)
    {
        var pk = trail.Pk;
        var items = new List<StoredItem>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var r = await dynamo.QueryAsync(new QueryRequest
            {
                TableName = tableName,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :pk",
                ExpressionAttributeNames = Pick("#pk"),
                ExpressionAttributeValues = new() { [":pk"] = new AttributeValue { S = pk } },
                ExclusiveStartKey = start,
            }, ct).ConfigureAwait(false);
            if (r.Items is not null)
                foreach (var a in r.Items)
                    items.Add(FromAttributes(trail with { Name = Str(a, SortKey) ?? "" }, a));
            start = r.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        } while (start is not null);
        return items;
    }

    /// <summary>True when the conditional write was applied, false when DynamoDB refused it because its condition did not hold.</summary>
    private static async ValueTask<bool> WhenConditionHolds(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
            return true;
        }
        catch (AwsServiceException ex) when (ex.ErrorCode == DynamoDbClient.ConditionalCheckFailed)
        {
            return false;
        }
    }

    private static async ValueTask<bool> Unconditional(Task write)
    {
        await write.ConfigureAwait(false);
        return true;
    }

    private static Dictionary<string, string> Pick(params string[] aliases) => aliases.ToDictionary(a => a, a => Names[a]);

    private static Dictionary<string, AttributeValue> Key(ItemKey key) => new()
    {
        [PartitionKey] = new AttributeValue { S = key.Pk },
        [SortKey] = new AttributeValue { S = key.Sk },
    };

    private static Dictionary<string, AttributeValue> ToAttributes(StoredItem item)
    {
        var a = Key(item.Key);
        a[DynamoDbStateStore.KindAttribute] = new AttributeValue { S = item.Kind };
        if (Serialize(item.Record) is { } data) a[DynamoDbStateStore.DataAttribute] = new AttributeValue { S = data };
        if (item.ExpiresAt is { } e) a[DynamoDbStateStore.TtlAttribute] = Number(Epoch(e));
        if (item.Version is { } v) a[DynamoDbStateStore.VersionAttribute] = Number(v);
        if (item.Count is { } c) a[DynamoDbStateStore.CountAttribute] = Number(c);
        if (item.Token is { } t) a[DynamoDbStateStore.TokenAttribute] = new AttributeValue { S = t };
        return a;
    }

    private static StoredItem FromAttributes(ItemKey key, Dictionary<string, AttributeValue> a)
    {
        var kind = Str(a, DynamoDbStateStore.KindAttribute) ?? "";
        return new StoredItem
        {
            Key = key,
            Kind = kind,
            Record = Str(a, DynamoDbStateStore.DataAttribute) is { } data ? Deserialize(key, kind, data) : null,
            ExpiresAt = Num(a, DynamoDbStateStore.TtlAttribute) is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null,
            Version = Num(a, DynamoDbStateStore.VersionAttribute),
            Count = Num(a, DynamoDbStateStore.CountAttribute),
            Token = Str(a, DynamoDbStateStore.TokenAttribute),
        };
    }

    private static StateJsonContext J => StateJsonContext.Default;

    private static string? Serialize(object? record) => record switch
    {
        null => null,
        LineageRecord r => JsonSerializer.Serialize(r, J.LineageRecord),
        AuditEntry r => JsonSerializer.Serialize(r, J.AuditEntry),
        ServiceScalingRecord r => JsonSerializer.Serialize(r, J.ServiceScalingRecord),
        InstanceSeenRecord r => JsonSerializer.Serialize(r, J.InstanceSeenRecord),
        DrainMoveRecord r => JsonSerializer.Serialize(r, J.DrainMoveRecord),
        ServicePlacementRecord r => JsonSerializer.Serialize(r, J.ServicePlacementRecord),
        _ => throw new ArgumentException($"no stored form for a {record.GetType().Name}", nameof(record)),
    };

    /// <summary>The record in <c>data</c>, read as its key's kind holds it.</summary>
    private static object Deserialize(ItemKey key, string kind, string data)
    {
        try
        {
            return key.Kind switch
            {
                ItemKind.Lineage => Read(data, J.LineageRecord),
                ItemKind.Audit => Read(data, J.AuditEntry),
                ItemKind.Scaling => Read(data, J.ServiceScalingRecord),
                ItemKind.InstanceSeen => Read(data, J.InstanceSeenRecord),
                ItemKind.DrainMove => Read(data, J.DrainMoveRecord),
                ItemKind.ServicePlacement => Read(data, J.ServicePlacementRecord),
                _ => throw new JsonException($"a {key.Kind} item has no data"),
            };
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"state item {key} ({kind}) holds data that cannot be read: {ex.Message}", ex);
        }
    }

    private static T Read<T>(string data, JsonTypeInfo<T> type) where T : class => JsonSerializer.Deserialize(data, type) ?? throw new JsonException("null");

    private static string? Str(Dictionary<string, AttributeValue> a, string name) => a.TryGetValue(name, out var v) ? v.S : null;

    private static long? Num(Dictionary<string, AttributeValue> a, string name) =>
        a.TryGetValue(name, out var v) && v.N is { } n ? long.Parse(n, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

    private static AttributeValue Number(long n) => new() { N = n.ToString(CultureInfo.InvariantCulture) };

    /// <summary>TTL is whole seconds; an expiry is rounded up so an item never expires early.</summary>
    private static long Epoch(DateTimeOffset t)
    {
        var s = t.ToUnixTimeSeconds();
        return DateTimeOffset.FromUnixTimeSeconds(s) < t ? s + 1 : s;
    }
}

/// <summary>
/// The records as stored in <c>data</c>: camelCase, nulls left out, enums by name (<c>"Out"</c>, <c>"Draining"</c>) so the
/// table reads well and a new enum member never shifts the old ones; computed properties are not stored.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    IgnoreReadOnlyProperties = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(LineageRecord))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(ServiceScalingRecord))]
[JsonSerializable(typeof(InstanceSeenRecord))]
[JsonSerializable(typeof(DrainMoveRecord))]
[JsonSerializable(typeof(ServicePlacementRecord))]
public sealed partial class StateJsonContext : JsonSerializerContext;
