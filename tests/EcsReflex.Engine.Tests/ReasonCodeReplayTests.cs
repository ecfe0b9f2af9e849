using System.Reflection;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Engine.Tests;

/// <summary>Every record of a replay carries a code from the one registry, beside its sentence, in the JSON lines too.</summary>
public sealed class ReasonCodeReplayTests
{
    private static readonly HashSet<string> Registry =
        typeof(ReasonCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> AllEventFiles() =>
        ReplayInputs.ResolveFiles([Repository.Path("events")]);

    [Fact]
    public async Task EveryRecordOfTheSampleEventsAndScenarios_HasACodeOfTheRegistry()
    {
        var (records, _) = await ReplayHarness.RunAsync(AllEventFiles());
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Contains(r.Code, Registry));
        // The handler's own codes go with its records; the engine's and the actuator's may go with any.
        Assert.All(records.Where(r => r.Handler == "task-rescheduler"), r => Assert.Matches("^(rescheduler|engine|actuator)\\.", r.Code));
        Assert.All(records.Where(r => r.Handler == "service-scaler"), r => Assert.Matches("^(scaler|engine|actuator)\\.", r.Code));
        Assert.All(records.Where(r => r.Handler == "placement-guard"), r => Assert.Matches("^(guard|engine|actuator)\\.", r.Code));
    }

    [Theory]
    [InlineData("ecs-task-stopped-spot-interruption.json", "acted", ReasonCodes.ReschedulerRelaunch)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "deferred", ReasonCodes.ReschedulerBackoff)]
    [InlineData("ecs-task-stopped-user-initiated.json", "ignored", ReasonCodes.ReschedulerNotAFailure)]
    [InlineData("ecs-task-stopped-service-scheduler-initiated.json", "ignored", ReasonCodes.ReschedulerServiceTask)]
    [InlineData("ecs-container-instance-draining.json", "acted", ReasonCodes.GuardDrainReplace)]
    [InlineData("ecs-deployment-in-progress.json", "acted", ReasonCodes.GuardDriftRestore)]
    [InlineData("cloudwatch-alarm-alarm-web-cpu-high.json", "acted", ReasonCodes.ScalerScaleOut)]
    [InlineData("cloudwatch-alarm-alarm-api-cpu-high.json", "ignored", ReasonCodes.ScalerAasOwned)]
    public async Task JsonLines_WriteTheDecisionsCodeAfterTheReason(string sample, string outcome, string code)
    {
        var (records, _) = await ReplayHarness.RunAsync([Repository.Path("events", sample)]);
        var buffer = new MemoryStream();
        using (var writer = new JsonLinesWriter(buffer)) writer.Write(records[0]);
        using var line = JsonDocument.Parse(buffer.ToArray());
        var names = line.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names.IndexOf("reason") + 1, names.IndexOf("code"));
        Assert.Equal((outcome, code), (line.RootElement.GetProperty("outcome").GetString(), line.RootElement.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task ADuplicate_IsTheEnginesCode_AndARejectedInputTheRejectionsKind()
    {
        // A failure delivered twice is the engine's duplicate; a user's stop delivered twice is the same ignore twice (the
        // event alone settles it, so it is neither claimed nor deduplicated: issue 17).
        var failure = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-out-of-memory.json")).ReplaceLineEndings("").Trim();
        var user = File.ReadAllText(Repository.Path("events", "ecs-task-stopped-user-initiated.json")).ReplaceLineEndings("").Trim();
        var path = ReplayHarness.TempJsonl([failure, failure, user, user, "{ not json"]);
        try
        {
            var (records, _) = await ReplayHarness.RunAsync([path]);
            var relaunched = Assert.Single(records, r => r.Actions.Any(a => a.Action.Operation == "RunTask"));
            Assert.Equal(relaunched.EventId, Assert.Single(records, r => r.Code == ReasonCodes.EngineDuplicate).EventId);
            Assert.Equal(2, records.Count(r => r.Code == ReasonCodes.ReschedulerNotAFailure));
            Assert.Single(records, r => r.Code == ReasonCodes.RejectInvalidJson);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
