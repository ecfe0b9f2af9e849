using Amazon.DynamoDBv2.Model;
using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests;

/// <summary>The table layout the CDK stack and docs/aws.md promise: keys, kinds and the TTL attribute, read raw over the protocol.</summary>
public sealed class DynamoDbLayoutTests(DynaliteFixture dynalite) : IClassFixture<DynaliteFixture>
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private async Task<(DynamoDbStateStore Store, string Table, FakeTimeProvider Time)> CreateAsync()
    {
        var table = await dynalite.NewTableAsync();
        var time = new FakeTimeProvider(Start);
        return (new DynamoDbStateStore(dynalite.Client, table, time), table, time);
    }

    private async Task<Dictionary<string, AttributeValue>> RawAsync(string table, string pk, string sk)
    {
        var r = await dynalite.Sdk.GetItemAsync(new GetItemRequest
        {
            TableName = table, ConsistentRead = true,
            Key = new() { ["pk"] = new AttributeValue { S = pk }, ["sk"] = new AttributeValue { S = sk } },
        });
        Assert.True(r.Item is { Count: > 0 }, $"no item {pk} / {sk}");
        return r.Item;
    }

    private static ClaimRecord Claim(string key, ClaimStatus status, DateTimeOffset expiresAt, string token = "tok") =>
        new() { Key = key, Status = status, Token = token, ExpiresAt = expiresAt };

    [Fact]
    public async Task Claim_WritesADedupItemOfKindClaimWithItsTokenAndTheTtlInEpochSeconds_ThenCompletedOfKindEvent()
    {
        var (store, table, _) = await CreateAsync();
        Assert.True(await store.TryPutClaimAsync(Claim("event#abc", ClaimStatus.InProgress, Start.AddMinutes(15)), ClaimCondition.Free, default));

        var claim = await RawAsync(table, "dedup#event#abc", "dedup");
        Assert.Equal(("claim", "tok", Epoch(Start.AddMinutes(15))), (claim["kind"].S, claim["token"].S, claim["expiresAt"].N));

        Assert.True(await store.TryPutClaimAsync(Claim("event#abc", ClaimStatus.Completed, Start.AddHours(24)), ClaimCondition.Holds("tok"), default));
        var processed = await RawAsync(table, "dedup#event#abc", "dedup");
        Assert.Equal(("event", "tok", Epoch(Start.AddHours(24))), (processed["kind"].S, processed["token"].S, processed["expiresAt"].N));
        Assert.False(processed.ContainsKey("data"));
    }

    [Fact]
    public async Task Claim_WithAFractionalExpiry_RoundsTheTtlUpSoItNeverExpiresEarly()
    {
        var (store, table, _) = await CreateAsync();
        await store.TryPutClaimAsync(Claim("event#frac", ClaimStatus.Completed, Start.AddSeconds(10.2)), ClaimCondition.Free, default);

        var item = await RawAsync(table, "dedup#event#frac", "dedup");
        Assert.Equal((Start.ToUnixTimeSeconds() + 11).ToString(System.Globalization.CultureInfo.InvariantCulture), item["expiresAt"].N);
    }

    [Fact]
    public async Task Claim_OfAFreeKeyByConcurrentInvocations_OnlyOneIsWritten()
    {
        var (store, _, _) = await CreateAsync();
        var first = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            store.TryPutClaimAsync(Claim("event#race", ClaimStatus.InProgress, Start.AddMinutes(15), $"t{i}"), ClaimCondition.Free, default).AsTask()));
        Assert.Equal(1, first.Count(x => x));
    }

    [Fact]
    public async Task PutLineage_StoresItUnderTheClusterWithAThirtyDayTtl()
    {
        var (store, table, _) = await CreateAsync();
        await store.PutLineageAsync(new LineageRecord { Cluster = "prod", Lineage = "5f99", Rule = "r", Attempt = 2 }, default);

        var item = await RawAsync(table, "cluster#prod", "lineage#5f99");
        Assert.Equal("lineage", item["kind"].S);
        Assert.Contains("\"attempt\":2", item["data"].S);
        Assert.Equal(Start.AddDays(30).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), item["expiresAt"].N);
    }

    [Fact]
    public async Task TakeRelaunchSlot_KeepsAnAtomicCounterPerClusterMinute_OfEveryRelaunchAskedFor()
    {
        var (store, table, _) = await CreateAsync();
        for (var i = 0; i < 4; i++) await store.TakeRelaunchSlotAsync("prod", Start, default);

        var item = await RawAsync(table, "cluster#prod", "relaunches#2025-03-01T12:00Z");
        Assert.Equal("4", item["count"].N);
        Assert.Equal("relaunches", item["kind"].S);
        Assert.Equal(Start.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), item["expiresAt"].N);
    }

    [Fact]
    public async Task AppendAudit_ExpiresThirtyDaysAfterTheDecision()
    {
        var (store, table, _) = await CreateAsync();
        await store.AppendAuditAsync(new AuditEntry(Start, "ev-9", "task-rescheduler", "done", "r", "RunTask", "{}", null), default);

        var r = await dynalite.Sdk.QueryAsync(new QueryRequest
        {
            TableName = table, KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = new AttributeValue { S = "audit#ev-9" } },
        });
        var item = Assert.Single(r.Items);
        Assert.StartsWith("2025-03-01T12:00:00.0000000Z#", item["sk"].S);
        Assert.Equal(Start.AddDays(30).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), item["expiresAt"].N);
    }

    private static string Epoch(DateTimeOffset t) => t.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task TryPutScalingRecord_StoresItUnderTheServiceWithTheVersionAttributeAndNoTtl()
    {
        var (store, table, _) = await CreateAsync();
        var record = new ServiceScalingRecord { Cluster = "prod", Service = "web", LastTarget = 5, LastDirection = Core.Policy.ScalingDirection.Out };
        await store.TryPutScalingRecordAsync(record, 0, default);
        await store.TryPutScalingRecordAsync(record with { LastTarget = 6 }, 1, default);

        var item = await RawAsync(table, "cluster#prod", "scaling#web");
        Assert.Equal(("scaling", "2"), (item["kind"].S, item["version"].N));
        Assert.Contains("\"lastTarget\":6", item["data"].S);
        Assert.Contains("\"lastDirection\":\"Out\"", item["data"].S);
        Assert.False(item.ContainsKey("expiresAt"), "a service's scaling record never expires");
    }

    [Fact]
    public async Task TryPutInstanceSeen_StoresTheDetailVersionAsTheVersionAttributeWithAThirtyDayTtl()
    {
        var (store, table, _) = await CreateAsync();
        const string arn = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/8b2c";
        await store.TryPutInstanceSeenAsync(new InstanceSeenRecord { Cluster = "prod", ContainerInstanceArn = arn, Version = 41, Status = "DRAINING", SeenAt = Start }, default);

        var item = await RawAsync(table, "cluster#prod", $"instance#{arn}");
        Assert.Equal(("instance", "41", Epoch(Start.AddDays(30))), (item["kind"].S, item["version"].N, item["expiresAt"].N));
    }

    [Fact]
    public async Task TryPutInstanceSeen_WhenTheNewerRecordHasExpired_WritesTheOlderVersion()
    {
        var (store, _, time) = await CreateAsync();
        const string arn = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/8b2c";
        InstanceSeenRecord Seen(long v) => new() { Cluster = "prod", ContainerInstanceArn = arn, Version = v, SeenAt = time.GetUtcNow() };
        await store.TryPutInstanceSeenAsync(Seen(41), default);
        time.Advance(TimeSpan.FromDays(31)); // expired, not yet deleted by DynamoDB's TTL

        Assert.Null(await store.GetInstanceSeenAsync("prod", arn, default));
        Assert.True(await store.TryPutInstanceSeenAsync(Seen(3), default));
        Assert.Equal(3, (await store.GetInstanceSeenAsync("prod", arn, default))!.Version);
    }

    [Fact]
    public async Task PutDrainMove_StoresItUnderTheLineageWithTheReasonByNameAndAThirtyDayTtl()
    {
        var (store, table, _) = await CreateAsync();
        await store.PutDrainMoveAsync(new DrainMoveRecord
        {
            Cluster = "prod", Lineage = "5f99", Rule = "r", OriginalTaskArn = "arn:t", ContainerInstanceArn = "arn:ci", Reason = DrainReason.AgentDisconnected,
            ReplacementStartedBy = "reflex/5f99/1", ReplacementClientToken = "tok", StartedAt = Start,
        }, default);

        var item = await RawAsync(table, "cluster#prod", "drain#5f99");
        Assert.Equal(("drain-move", Epoch(Start.AddDays(30))), (item["kind"].S, item["expiresAt"].N));
        Assert.Contains("\"reason\":\"AgentDisconnected\"", item["data"].S);
        Assert.DoesNotContain("leaveOriginal", item["data"].S);
    }

    [Fact]
    public async Task PutServicePlacement_StoresItUnderTheServiceWithNoTtl()
    {
        var (store, table, _) = await CreateAsync();
        await store.PutServicePlacementAsync(new ServicePlacementRecord { Cluster = "prod", Service = "web", FallbackAppliedAt = Start, FallbackReason = "placement failure" }, default);

        var item = await RawAsync(table, "cluster#prod", "placement#web");
        Assert.Equal("service-placement", item["kind"].S);
        Assert.False(item.ContainsKey("expiresAt"), "a fallback in effect must not be forgotten");
    }

    [Fact]
    public async Task GetLineage_WhenTheDataIsCorrupt_FailsNamingTheItem()
    {
        var (store, table, _) = await CreateAsync();
        await dynalite.Sdk.PutItemAsync(new PutItemRequest
        {
            TableName = table,
            Item = new()
            {
                ["pk"] = new AttributeValue { S = "cluster#prod" }, ["sk"] = new AttributeValue { S = "lineage#bad" },
                ["kind"] = new AttributeValue { S = "lineage" }, ["data"] = new AttributeValue { S = "{not json" },
            },
        });

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => store.GetLineageAsync("prod", "bad", default).AsTask());
        Assert.Contains("cluster#prod / lineage#bad", ex.Message);
    }
}
