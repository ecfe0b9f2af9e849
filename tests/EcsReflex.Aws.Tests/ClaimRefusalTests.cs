using System.Text.Json.Nodes;
using EcsReflex.Aws.State;
using EcsReflex.Aws.Tests.Support;
using EcsReflex.Core.State;
using EcsReflex.Engine;

namespace EcsReflex.Aws.Tests;

/// <summary>
/// A refused claim on DynamoDB (issue 17, "a duplicate delivery: 1 round trip"): the PutItem asks for the refusing item
/// (<c>ReturnValuesOnConditionCheckFailure: ALL_OLD</c>), and DynamoDB's answer says whether the key was processed or is
/// held, with no GetItem. Without the item in the answer (dynalite does not return it), the item is read.
/// </summary>
public sealed class ClaimRefusalTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;

    private static string Item(string kind, string token) =>
        "{\"pk\":{\"S\":\"dedup#task#arn:t#3\"},\"sk\":{\"S\":\"dedup\"},\"kind\":{\"S\":\"" + kind + "\"},\"token\":{\"S\":\"" + token
        + "\"},\"expiresAt\":{\"N\":\"" + T0.AddHours(1).ToUnixTimeSeconds() + "\"}}";

    private static string Refusal(string kind, string token) =>
        "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\",\"message\":\"The conditional request failed\",\"Item\":" + Item(kind, token) + "}";

    [Fact]
    public async Task ADuplicateDelivery_IsOneRequest_TheRefusalCarriesTheProcessedRecordAndItsEvent()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json(Refusal("event", "ev-1#abc"), status: 400));
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        var result = await new EventClaims(store).ClaimAsync(["task#arn:t#3"], T0, TimeSpan.FromMinutes(1), default, "ev-2");

        Assert.Equal((ClaimVerdict.Processed, "ev-1"), (result.Verdict, result.By));
        var put = Assert.Single(stub.Requests);
        Assert.Equal("PutItem", put.Operation);
        Assert.Equal("ALL_OLD", JsonNode.Parse(put.Body)!["ReturnValuesOnConditionCheckFailure"]!.GetValue<string>());
    }

    [Fact]
    public async Task AClaimHeldByAnotherDelivery_IsOneRequest_InProgressUntilItsLease()
    {
        await using var stub = await AwsStub.StartAsync(_ => StubReply.Json(Refusal("claim", "ev-1#abc"), status: 400));
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        var result = await new EventClaims(store).ClaimAsync(["task#arn:t#3"], T0, TimeSpan.FromMinutes(1), default, "ev-1");

        Assert.Equal(ClaimVerdict.InProgress, result.Verdict);
        Assert.Equal(T0.AddHours(1).ToUnixTimeSeconds(), result.HeldUntil!.Value.ToUnixTimeSeconds());
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task ARefusalWithoutTheItem_IsFollowedByARead()
    {
        await using var stub = await AwsStub.StartAsync(r => r.Operation == "PutItem"
            ? StubReply.Error("ConditionalCheckFailedException", "The conditional request failed")
            : StubReply.Json("{\"Item\":" + Item("event", "ev-1#abc") + "}"));
        var store = new DynamoDbStateStore(StubClients.Create(stub).DynamoDb, "reflex");

        var result = await new EventClaims(store).ClaimAsync(["task#arn:t#3"], T0, TimeSpan.FromMinutes(1), default, "ev-1");

        Assert.Equal((ClaimVerdict.Processed, "ev-1"), (result.Verdict, result.By));
        Assert.Equal(["PutItem", "GetItem"], stub.Requests.Select(r => r.Operation));
    }
}
