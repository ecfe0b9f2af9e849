using EcsReflex.Core.State;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// The claim a reaction holds (EcsReflex.Core's <see cref="ClaimRules"/>) against the deployed timings: it outlives
/// the function's timeout, so it never lapses while its invocation can still act, and it lapses before a retry
/// comes (Lambda's first asynchronous retry after a minute; the delay queue's redelivery after its visibility
/// timeout), so a claim left by a crashed invocation does not fail the retry too.
/// </summary>
public sealed class ClaimLeaseTests(TestPolicyStack fixture) : IClassFixture<TestPolicyStack>
{
    private static readonly TimeSpan FirstAsyncRetry = TimeSpan.FromMinutes(1);

    private static TimeSpan Seconds(System.Text.Json.Nodes.JsonNode n) =>
        TimeSpan.FromSeconds(double.Parse(n.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void ClaimLease_OutlivesTheFunctionTimeout_AndLapsesBeforeTheRetries()
    {
        var resources = fixture.Json["Resources"]!.AsObject();
        var timeouts = resources.Where(r => (string?)r.Value!["Type"] == "AWS::Lambda::Function")
            .Select(r => Seconds(r.Value!["Properties"]!["Timeout"]!)).Distinct().ToList();
        var visibility = Seconds(resources.Single(r => r.Key.StartsWith("StateDelayQueue", StringComparison.Ordinal)
            && (string?)r.Value!["Type"] == "AWS::SQS::Queue").Value!["Properties"]!["VisibilityTimeout"]!);

        var timeout = Assert.Single(timeouts);
        var lease = ClaimRules.LeaseFor(timeout); // what an invocation that has all its time left claims for

        Assert.True(lease > timeout, $"a claim of {lease} lapses before the {timeout} timeout of the invocation holding it");
        Assert.True(lease < FirstAsyncRetry, $"a claim of {lease} is still held when Lambda retries after {FirstAsyncRetry}");
        Assert.True(lease < visibility, $"a claim of {lease} is still held when the delay queue redelivers after {visibility}");
        Assert.True(ClaimRules.DefaultLease > TimeSpan.FromSeconds(FunctionSettings.MaxTimeoutSeconds));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(FunctionSettings.MaxTimeoutSeconds)]
    public void ClaimLease_AtAnyAllowedTimeout_LapsesBeforeTheDelayQueueRedelivers(int timeoutSeconds)
    {
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);

        Assert.InRange(ClaimRules.LeaseFor(timeout), timeout + TimeSpan.FromTicks(1), timeout * 6);
    }
}
