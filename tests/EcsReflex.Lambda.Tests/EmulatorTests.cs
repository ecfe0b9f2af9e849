using System.Text;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;
using EcsReflex.Engine.Cluster;
using EcsReflex.Engine.State;
using EcsReflex.Lambda.Client;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Local;

namespace EcsReflex.Lambda.Tests;

public sealed class EmulatorTests
{
    [Fact]
    public async Task Emulator_HandsOutAnInvocationWithTheRuntimeApiHeaders_AndCollectsTheResponse()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        using var client = new RuntimeApiClient(emulator.RuntimeApi);
        var localNow = DateTimeOffset.Parse("2026-03-02T09:20:21.482Z");

        var result = emulator.InvokeAsync("{\"hello\":1}"u8.ToArray(), new InvokeOptions
        {
            RequestId = "req-42", TraceId = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            FunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:reflex-task-rescheduler",
            Timeout = TimeSpan.FromSeconds(30), LocalNow = localNow,
        });
        var before = DateTimeOffset.UtcNow;
        var invocation = await client.GetNextInvocationAsync(CancellationToken.None);
        await client.SendResponseAsync(invocation.RequestId, "{\"ok\":true}"u8.ToArray(), CancellationToken.None);
        var done = await result;

        Assert.Equal("req-42", invocation.RequestId);
        Assert.Equal("{\"hello\":1}", Encoding.UTF8.GetString(invocation.Payload.Span));
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", invocation.TraceId);
        Assert.Equal("arn:aws:lambda:us-east-1:123456789012:function:reflex-task-rescheduler", invocation.InvokedFunctionArn);
        Assert.InRange(invocation.Deadline - before, TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(40));
        Assert.Equal(localNow, invocation.LocalNow);
        Assert.False(done.IsError);
        Assert.Equal("{\"ok\":true}", Encoding.UTF8.GetString(done.Body));
        Assert.True(done.Duration >= TimeSpan.Zero);
        Assert.True(emulator.FirstNext.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Emulator_CollectsAnInvocationErrorWithItsTypeHeader()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        using var client = new RuntimeApiClient(emulator.RuntimeApi);

        var result = emulator.InvokeAsync("{}"u8.ToArray());
        var invocation = await client.GetNextInvocationAsync(CancellationToken.None);
        await client.ReportInvocationErrorAsync(invocation.RequestId, new ErrorReport("Reflex.ActionFailed", "RunTask failed", ["at X"]), CancellationToken.None);
        var done = await result;

        Assert.True(done.IsError);
        Assert.Equal("Reflex.ActionFailed", done.Error!.ErrorType);
        Assert.Equal("Reflex.ActionFailed", done.Error.HeaderErrorType);
        Assert.Equal("RunTask failed", done.Error.ErrorMessage);
        Assert.Equal(["at X"], done.Error.StackTrace);
    }

    [Fact]
    public async Task Emulator_RecordsAnInitError_AndRefusesResultsForUnknownRequests()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        using var client = new RuntimeApiClient(emulator.RuntimeApi);

        await client.ReportInitializationErrorAsync(ErrorReport.Of("Reflex.InvalidPolicy", "policy p: clusters: required"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<RuntimeApiException>(() => client.SendResponseAsync("no-such-request", "{}"u8.ToArray(), CancellationToken.None));

        var init = await emulator.InitError;
        Assert.Equal("Reflex.InvalidPolicy", init.ErrorType);
        Assert.Equal("policy p: clusters: required", init.ErrorMessage);
        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
        Assert.False(emulator.FirstNext.IsCompleted);
    }

    [Fact]
    public async Task LocalServices_ServeTheSharedStoreClusterAndQueuesToTheBootstrapsClient()
    {
        var local = new LocalServices(new InMemoryStateStore { Now = DateTimeOffset.Parse("2026-03-02T09:00:00Z") },
            new EmbeddedCluster(SnapshotReader.Parse(File.ReadAllBytes(Repository.Snapshot))));
        await using var emulator = await RuntimeApiEmulator.StartAsync(local);
        using var client = new EmulatorServicesClient(emulator.RuntimeApi);
        var ct = CancellationToken.None;
        var lineage = new LineageRecord { Cluster = "prod", Lineage = "abc", Rule = "batch-workers", Attempt = 2, LastFailureAt = DateTimeOffset.Parse("2026-03-02T08:59:00Z") };

        var processed = new ClaimRecord { Key = "event#1", Status = ClaimStatus.Completed, Token = "t", ExpiresAt = DateTimeOffset.Parse("2026-03-03T09:00:00Z") };
        Assert.True(await client.TryPutClaimAsync(processed, ClaimCondition.Free, ct));
        await client.PutLineageAsync(lineage, ct);
        await ((IDelayQueue)client).SendAsync(new DeferredWork("{\"id\":\"e\"}", DateTimeOffset.Parse("2026-03-02T09:00:10Z")), ct);
        await ((IDeadLetterSender)client).SendAsync(new DeadLetter { Handler = "h", Code = "invalid-json", Reason = "r", Payload = "x", RejectedAt = DateTimeOffset.UnixEpoch }, ct);
        var slots = new List<long>();
        for (var i = 0; i < 3; i++) slots.Add(await client.TakeRelaunchSlotAsync("prod", DateTimeOffset.Parse("2026-03-02T09:00:00Z"), ct));

        Assert.Equal(processed, await client.GetClaimAsync("event#1", ct));
        Assert.Null(await client.GetClaimAsync("event#2", ct));
        Assert.Equal(lineage, await client.GetLineageAsync("prod", "abc", ct));
        Assert.Null(await client.GetLineageAsync("prod", "other", ct));
        Assert.Equal(lineage, Assert.Single(local.Store.Lineages));
        Assert.Equal([1, 2, 3], slots);
        var queued = Assert.Single(local.DrainDeferred());
        Assert.Equal(DateTimeOffset.Parse("2026-03-02T09:00:10Z"), queued.Work.DueAt);
        Assert.Equal("invalid-json", Assert.Single(local.DeadLetters).Code);
        var instance = local.Cluster.ContainerInstances.First(c => c.Ec2InstanceId is not null);
        Assert.Equal(instance.Ec2InstanceId, await client.GetEc2InstanceIdAsync("arn:aws:ecs:us-east-1:123456789012:cluster/prod", instance.ContainerInstanceArn, ct));
    }
}
