using System.Text.Json.Nodes;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Tests;

/// <summary>The committer's batch on DynamoDB (<c>BatchWriteItem</c>): the requests it sends, and what DynamoDB leaves unprocessed.</summary>
public sealed class BatchWriteTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static StateBatch Lineages(int n) => new(
        [.. Enumerable.Range(0, n).Select(i => new LineageRecord { Cluster = "prod", Lineage = $"l{i}", Rule = "r", Attempt = 1, LastFailureAt = T0 })], [], [], [], []);

    private static JsonArray Puts(StubRequest r) => JsonNode.Parse(r.Body)!["RequestItems"]!["reflex"]!.AsArray();

    [Fact]
    public async Task FiftyRecords_AreTwoRequestsOfAtMost25Puts()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json("""{"UnprocessedItems":{}}"""));
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        await store.WriteAsync(Lineages(50), default);

        var requests = stub.For("BatchWriteItem");
        Assert.Equal([25, 25], requests.Select(r => Puts(r).Count).Order());
        Assert.Equal(50, requests.SelectMany(r => Puts(r)).Select(p => p!["PutRequest"]!["Item"]!["sk"]!["S"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task WhatDynamoDbLeavesUnprocessed_IsSentAgain_AndOnlyThat()
    {
        var first = true;
        await using var stub = await AwsStub.StartAsync(r =>
        {
            if (!first) return StubReply.Json("{}");
            first = false;
            // The first request's second put comes back unprocessed, as DynamoDB answers when the table's throughput runs out.
            var left = Puts(r)[1]!.ToJsonString();
            return StubReply.Json("{\"UnprocessedItems\":{\"reflex\":[" + left + "]}}");
        });
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        await store.WriteAsync(Lineages(3), default);

        var requests = stub.For("BatchWriteItem");
        Assert.Equal(2, requests.Count);
        Assert.Equal(3, Puts(requests[0]).Count);
        Assert.Equal("lineage#l1", Assert.Single(Puts(requests[1]))!["PutRequest"]!["Item"]!["sk"]!["S"]!.GetValue<string>());
    }

    [Fact]
    public async Task ItemsStillUnprocessedAfterEveryAttempt_FailTheBatch_AsTransient()
    {
        await using var stub = await AwsStub.StartAsync(r => StubReply.Json("{\"UnprocessedItems\":{\"reflex\":" + Puts(r).ToJsonString() + "}}"));
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => store.WriteAsync(Lineages(2), default).AsTask());

        Assert.True(ex.IsTransient);
        Assert.Equal("UnprocessedItems", ex.ErrorCode);
        Assert.Equal(DynamoDbStateBackend.UnprocessedAttempts, stub.For("BatchWriteItem").Count);
    }
}
