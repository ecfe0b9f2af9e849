using EcsReflex.Aws.State;
using EcsReflex.Infra.Constructs;

namespace EcsReflex.Infra.Tests;

/// <summary>The table the stack creates is the table the DynamoDB store reads and writes.</summary>
public class TableLayoutAgreementTests
{
    [Fact]
    public void StackTableLayout_MatchesTheStoresKeysAndTtlAttribute()
    {
        var layout = new StateTableLayout();
        Assert.Equal(DynamoDbStateStore.PartitionKey, layout.PartitionKey);
        Assert.Equal(DynamoDbStateStore.SortKey, layout.SortKey);
        Assert.Equal(DynamoDbStateStore.TtlAttribute, layout.TimeToLiveAttribute);
    }
}
