using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace EcsReflex.Aws.State;

/// <summary>
/// The state store on one DynamoDB table (partition key <c>pk</c> and sort key <c>sk</c>, both strings; TTL on
/// <c>expiresAt</c>, seconds since the epoch). The only class that uses the DynamoDB SDK: it implements the
/// primitives of <see cref="PersistentStateStore"/>, which defines every record kind.
/// </summary>
public sealed class DynamoDbStateStore(IAmazonDynamoDB dynamo, string tableName, TimeProvider? time = null) : PersistentStateStore(time)
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

    // "data", "count" and others are DynamoDB reserved words: every expression names attributes through #aliases.
    private static readonly Dictionary<string, string> Names = new()
    {
        ["#pk"] = PartitionKey, ["#kind"] = KindAttribute, ["#ttl"] = TtlAttribute, ["#version"] = VersionAttribute, ["#count"] = CountAttribute,
        ["#token"] = TokenAttribute,
    };

    protected internal override async Task<StoredItem?> GetItemAsync(ItemKey key, CancellationToken ct)
    {
        var r = await dynamo.GetItemAsync(new GetItemRequest { TableName = tableName, Key = Key(key), ConsistentRead = true }, ct).ConfigureAwait(false);
        return r.Item is { Count: > 0 } item ? FromAttributes(item) : null;
    }

    protected internal override Task PutItemAsync(StoredItem item, CancellationToken ct) =>
        dynamo.PutItemAsync(new PutItemRequest { TableName = tableName, Item = ToAttributes(item) }, ct);

    protected internal override Task<bool> PutItemIfAbsentAsync(StoredItem item, DateTimeOffset now, CancellationToken ct)
    {
        return WhenConditionHolds(dynamo.PutItemAsync(new PutItemRequest
        {
            TableName = tableName,
            Item = ToAttributes(item),
            ConditionExpression = "attribute_not_exists(#pk) OR #ttl < :now",
            ExpressionAttributeNames = Pick("#pk", "#ttl"),
            ExpressionAttributeValues = new() { [":now"] = Number(Epoch(now)) },
        }, ct));
    }

    protected internal override Task<bool> PutItemIfVersionAsync(StoredItem item, long? expectedVersion, CancellationToken ct)
    {
        var request = new PutItemRequest { TableName = tableName, Item = ToAttributes(item) };
        if (expectedVersion is { } v)
        {
            request.ConditionExpression = "#version = :expected";
            request.ExpressionAttributeNames = Pick("#version");
            request.ExpressionAttributeValues = new() { [":expected"] = Number(v) };
        }
        else
        {
            request.ConditionExpression = "attribute_not_exists(#pk)";
            request.ExpressionAttributeNames = Pick("#pk");
        }
        return WhenConditionHolds(dynamo.PutItemAsync(request, ct));
    }

    protected internal override Task<bool> PutItemIfTokenAsync(StoredItem item, string token, CancellationToken ct)
    {
        return WhenConditionHolds(dynamo.PutItemAsync(new PutItemRequest
        {
            TableName = tableName,
            Item = ToAttributes(item),
            ConditionExpression = "#token = :token",
            ExpressionAttributeNames = Pick("#token"),
            ExpressionAttributeValues = new() { [":token"] = new AttributeValue { S = token } },
        }, ct));
    }

    protected internal override Task<bool> DeleteItemIfTokenAsync(ItemKey key, string token, CancellationToken ct)
    {
        return WhenConditionHolds(dynamo.DeleteItemAsync(new DeleteItemRequest
        {
            TableName = tableName,
            Key = Key(key),
            ConditionExpression = "#token = :token",
            ExpressionAttributeNames = Pick("#token"),
            ExpressionAttributeValues = new() { [":token"] = new AttributeValue { S = token } },
        }, ct));
    }

    protected internal override Task<bool> PutItemUnlessNewerAsync(StoredItem item, DateTimeOffset now, CancellationToken ct)
    {
        var version = item.Version ?? throw new ArgumentException("the item has no version to compare", nameof(item));
        return WhenConditionHolds(dynamo.PutItemAsync(new PutItemRequest
        {
            TableName = tableName,
            Item = ToAttributes(item),
            ConditionExpression = "attribute_not_exists(#pk) OR attribute_not_exists(#version) OR #version <= :version OR #ttl < :now",
            ExpressionAttributeNames = Pick("#pk", "#version", "#ttl"),
            ExpressionAttributeValues = new() { [":version"] = Number(version), [":now"] = Number(Epoch(now)) },
        }, ct));
    }

    protected internal override Task<bool> IncrementIfBelowAsync(ItemKey key, string kind, long limit, DateTimeOffset expiresAt, CancellationToken ct)
    {
        return WhenConditionHolds(dynamo.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = tableName,
            Key = Key(key),
            UpdateExpression = "SET #count = if_not_exists(#count, :zero) + :one, #kind = :kind, #ttl = :ttl",
            ConditionExpression = "attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames = Pick("#count", "#kind", "#ttl"),
            ExpressionAttributeValues = new()
            {
                [":zero"] = Number(0), [":one"] = Number(1), [":limit"] = Number(limit),
                [":kind"] = new AttributeValue { S = kind }, [":ttl"] = Number(Epoch(expiresAt)),
            },
        }, ct));
    }

    /// <summary>True when the conditional write was applied, false when DynamoDB refused it because its condition did not hold.</summary>
    private static async Task<bool> WhenConditionHolds(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    protected internal override async Task<IReadOnlyList<StoredItem>> QueryAsync(string pk, string sortKeyPrefix, CancellationToken ct)
    {
        var items = new List<StoredItem>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var request = new QueryRequest
            {
                TableName = tableName,
                ConsistentRead = true,
                KeyConditionExpression = sortKeyPrefix.Length == 0 ? "#pk = :pk" : "#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames = sortKeyPrefix.Length == 0 ? Pick("#pk") : new() { ["#pk"] = PartitionKey, ["#sk"] = SortKey },
                ExpressionAttributeValues = sortKeyPrefix.Length == 0
                    ? new() { [":pk"] = new AttributeValue { S = pk } }
                    : new() { [":pk"] = new AttributeValue { S = pk }, [":prefix"] = new AttributeValue { S = sortKeyPrefix } },
                ExclusiveStartKey = start,
            };
            var r = await dynamo.QueryAsync(request, ct).ConfigureAwait(false);
            if (r.Items is not null) items.AddRange(r.Items.Select(FromAttributes));
            start = r.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        } while (start is not null);
        return items;
    }

    /// <summary>
    /// Creates the table (on-demand, <c>pk</c>/<c>sk</c> strings) and waits until it is active: for tests and local
    /// runs. In AWS the CDK stack creates it, with TTL on <see cref="TtlAttribute"/>.
    /// </summary>
    public static async Task CreateTableAsync(IAmazonDynamoDB dynamo, string tableName, CancellationToken ct)
    {
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = tableName,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions =
            [
                new AttributeDefinition { AttributeName = PartitionKey, AttributeType = ScalarAttributeType.S },
                new AttributeDefinition { AttributeName = SortKey, AttributeType = ScalarAttributeType.S },
            ],
            KeySchema =
            [
                new KeySchemaElement { AttributeName = PartitionKey, KeyType = KeyType.HASH },
                new KeySchemaElement { AttributeName = SortKey, KeyType = KeyType.RANGE },
            ],
        }, ct).ConfigureAwait(false);
        for (var i = 0; i < 600; i++)
        {
            var d = await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = tableName }, ct).ConfigureAwait(false);
            if (d.Table.TableStatus == TableStatus.ACTIVE) return;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"table {tableName} did not become ACTIVE");
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
        a[KindAttribute] = new AttributeValue { S = item.Kind };
        if (item.Data is not null) a[DataAttribute] = new AttributeValue { S = item.Data };
        if (item.ExpiresAt is { } e) a[TtlAttribute] = Number(Epoch(e));
        if (item.Version is { } v) a[VersionAttribute] = Number(v);
        if (item.Count is { } c) a[CountAttribute] = Number(c);
        if (item.Token is { } t) a[TokenAttribute] = new AttributeValue { S = t };
        return a;
    }

    private static StoredItem FromAttributes(Dictionary<string, AttributeValue> a) => new()
    {
        Key = new ItemKey(Str(a, PartitionKey) ?? "", Str(a, SortKey) ?? ""),
        Kind = Str(a, KindAttribute) ?? "",
        Data = Str(a, DataAttribute),
        ExpiresAt = Num(a, TtlAttribute) is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null,
        Version = Num(a, VersionAttribute),
        Count = Num(a, CountAttribute),
        Token = Str(a, TokenAttribute),
    };

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
