using System.Text;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Policy;
using EcsReflex.Core.Reflexes;
using EcsReflex.Engine;
using EcsReflex.Engine.Replay;

namespace EcsReflex.Infra.Tests;

/// <summary>The stack of the repository's own policy (reflex.policy.json), the one the sample events are written for.</summary>
public sealed class RepositoryPolicyStack : IDisposable
{
    private readonly TempDir dir = new();
    public ReflexPolicy Policy { get; } = PolicyLoader.Load(File.ReadAllBytes(Repository.Policy));
    public JsonNode Json { get; }
    /// <summary>Each EventBridge rule with a pattern, as synthesized: its id, the handler of its one target, its pattern.</summary>
    public IReadOnlyList<(string Id, string Handler, JsonObject Pattern)> Rules { get; }

    public RepositoryPolicyStack()
    {
        Json = Stacks.Json(Template.FromStack(Stacks.Build(dir, Policy)));
        var resources = Json["Resources"]!.AsObject();
        Rules = [.. resources
            .Where(r => (string?)r.Value!["Type"] == "AWS::Events::Rule" && r.Value!["Properties"]!["EventPattern"] is JsonObject)
            .Select(r =>
            {
                var target = Assert.Single(r.Value!["Properties"]!["Targets"]!.AsArray());
                var function = (string)target!["Arn"]!["Fn::GetAtt"]![0]!;
                return (r.Key, (string)resources[function]!["Properties"]!["Handler"]!, r.Value!["Properties"]!["EventPattern"]!.AsObject());
            })];
    }

    /// <summary>The handlers whose rules match <paramref name="event"/> (one entry per matching rule).</summary>
    public List<string> DeliveredTo(JsonNode @event) => [.. Rules.Where(r => EventPatternMatcher.Matches(r.Pattern, @event)).Select(r => r.Handler)];

    public void Dispose() => dir.Dispose();
}

/// <summary>
/// The stack's synthesized EventBridge patterns against every sample event (events/*.json, each line of
/// events/scenarios/*.jsonl), through <see cref="EventPatternMatcher"/>: nothing a handler would act on is filtered out,
/// and what is filtered out is what the handler ignores from the event alone.
/// </summary>
public class SampleEventDeliveryTests(RepositoryPolicyStack stack) : IClassFixture<RepositoryPolicyStack>
{
    /// <summary>A sample event as the files hold it: the replay's input label (<c>crash-loop.jsonl:3</c>), its JSON, the parsed envelope.</summary>
    private sealed record Sample(string Label, JsonNode Json, EventEnvelope Envelope);

    private static List<Sample> Samples()
    {
        var samples = new List<Sample>();
        foreach (var file in Repository.SampleEventFiles())
            samples.Add(Read(Path.GetFileName(file), File.ReadAllText(file)));
        foreach (var file in Directory.EnumerateFiles(Repository.Path("events", "scenarios"), "*.jsonl").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                if (lines[i].Trim().Length > 0) samples.Add(Read($"{Path.GetFileName(file)}:{i + 1}", lines[i]));
        }
        return samples;

        static Sample Read(string label, string text) => new(label, JsonNode.Parse(text)!, EventParser.Parse(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// The ignores a rule's pattern made before issue 17 that are not the rescheduler's: a deployment or service action of
    /// another kind (detail.eventName), a service or an alarm the policy does not name (resources, detail.alarmName), a
    /// cluster the policy does not name (detail.clusterArn). The guard and the scaler declare no <c>SettledByTheEvent</c>,
    /// so for these the replay's decision stands witness: each is one of these ignores.
    /// </summary>
    private static readonly HashSet<string> IgnoresOfTheEventsFields =
    [
        ReasonCodes.GuardNotADeploymentCheck, ReasonCodes.GuardOtherServiceAction, ReasonCodes.GuardServiceNotInPolicy,
        ReasonCodes.GuardNoPlacementPolicy, ReasonCodes.GuardClusterNotInPolicy, ReasonCodes.ScalerNoService,
    ];

    private Decision? Settled(EventEnvelope e) =>
        Reflexes.For(e.Detail)?.SettledByTheEvent(e, stack.Policy, e.EffectiveTime ?? DateTimeOffset.UnixEpoch) is { Outcome: Outcome.Ignored } d ? d : null;

    /// <summary>
    /// A task state change the embedded cluster sent during the replay (a relaunch or a replacement reaching RUNNING, its
    /// STOPPED), written as ECS writes one, with the fields the task rules read (an absent field left out, as ECS does).
    /// </summary>
    private static JsonNode Render(EventEnvelope e, TaskStateChange t)
    {
        var detail = new JsonObject { ["clusterArn"] = t.ClusterArn, ["taskArn"] = t.TaskArn, ["lastStatus"] = t.LastStatus };
        if (t.Group is { } group) detail["group"] = group;
        if (t.StartedBy is { } startedBy) detail["startedBy"] = startedBy;
        if (t.StopCode is { } stopCode) detail["stopCode"] = stopCode;
        return new JsonObject
        {
            ["id"] = e.Id, ["source"] = e.Source, ["detail-type"] = e.DetailType,
            ["resources"] = new JsonArray([.. e.Resources.Select(r => (JsonNode)r)]), ["detail"] = detail,
        };
    }

    [Fact]
    public async Task EverySampleEvent_IsDeliveredToTheHandlerThatTakesIt_UnlessItsEventAloneSaysItIsIgnored()
    {
        // Every sample decided in process, as `reflex replay` decides events/ (the scenarios and the samples, merged in time order).
        var (records, _) = await ReplayHarness.RunAsync([Repository.Events], stack.Policy);
        var byInput = records.Where(r => r.Trigger == "event").ToLookup(r => r.Input);
        var cases = Samples().Select(s => (s.Label, s.Json, s.Envelope, Decided: byInput[s.Label].ToList())).ToList();
        // And what the embedded cluster itself reported during the replay, as EventBridge would pass it on.
        cases.AddRange(records.Where(r => r.Trigger == "event" && r.Input == "embedded-cluster" && r.Event?.Detail is TaskStateChange)
            .Select(r => ($"embedded-cluster {r.EventId}", Render(r.Event!, (TaskStateChange)r.Event!.Detail), r.Event!, new List<ReplayRecord> { r })));
        var problems = new List<string>();
        int delivered = 0, settledAway = 0, fieldsAway = 0;
        foreach (var (label, json, envelope, decided) in cases)
        {
            var handler = Handlers.For(envelope.Detail);
            var to = stack.DeliveredTo(json);
            if (decided.Count == 0) problems.Add($"{label}: the replay has no record of it");
            if (to.Count > 1) problems.Add($"{label}: delivered {to.Count} times ({string.Join(", ", to)})");
            if (to.Count > 0 && to[0] != handler) problems.Add($"{label}: delivered to {to[0]}, but {handler ?? "no handler"} takes it");
            if (to.Count > 0) { delivered++; continue; }

            // Not delivered: so nothing the handler does with it may be lost.
            if (decided.FirstOrDefault(r => r.Outcome != Outcome.Ignored) is { } acted)
                problems.Add($"{label}: not delivered, yet {acted.Handler} decides {acted.Outcome} ({acted.Code})");
            if (handler is null) continue;
            if (Settled(envelope) is not null) { settledAway++; continue; }
            if (envelope.Detail is not TaskStateChange && decided.Count > 0 && decided.All(r => IgnoresOfTheEventsFields.Contains(r.Code))) { fieldsAway++; continue; }
            problems.Add($"{label}: not delivered to {handler}, which does not settle it from the event alone ({string.Join(", ", decided.Select(r => r.Code))})");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The samples exercise every rule, and both kinds of narrowing.
        Assert.Equal(stack.Rules.Select(r => r.Id).Order(), stack.Rules.Where(r => cases.Any(c => EventPatternMatcher.Matches(r.Pattern, c.Json))).Select(r => r.Id).Order());
        Assert.True(delivered > 0 && settledAway > 0 && fieldsAway > 0, $"delivered {delivered}, settled away {settledAway}, filtered by other fields {fieldsAway}");
    }

    [Theory]
    [InlineData("ecs-task-stopped-user-initiated.json")]
    [InlineData("ecs-task-stopped-service-scheduler-initiated.json")]
    [InlineData("ecs-task-running-worker.json")]
    public void TheStoppedTasksRule_LeavesOutSampleStopsTheRescheduler_IgnoresFromTheEventAlone(string file)
    {
        var s = Samples().Single(x => x.Label == file);

        Assert.Empty(stack.DeliveredTo(s.Json));
        Assert.Equal(HandlerNames.TaskRescheduler, Handlers.For(s.Envelope.Detail));
        Assert.NotNull(Settled(s.Envelope));
    }

    /// <summary>
    /// A stop the rescheduler acts on (exit 1 of a rule's task), with a narrowed field missing (a task started from the
    /// console has no startedBy) or of another value: what is left out is settled by its event alone, and what is not
    /// settled is delivered.
    /// </summary>
    [Theory]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "startedBy", null, true)]
    [InlineData("ecs-task-stopped-fargate-report-exit-2.json", "group", null, true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", null, true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "startedBy", "\"reflex/2b6d3c1e9f0a4b5c8d7e6f5a4b3c2d1e/2\"", true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"TaskFailedToStart\"", true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"SpotInterruption\"", true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"TerminationNotice\"", true)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "group", "\"service:web\"", false)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "startedBy", "\"ecs-svc/1234567890123456789\"", false)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"UserInitiated\"", false)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"ServiceSchedulerInitiated\"", false)]
    [InlineData("ecs-task-stopped-essential-exit-1.json", "stopCode", "\"SomeCodeEcsAddsLater\"", false)]
    public void AFailedStop_WithANarrowedFieldMissingOrChanged_IsDeliveredUnlessItsEventAloneSettlesIt(string file, string field, string? json, bool deliveredExpected)
    {
        var e = JsonNode.Parse(Repository.EventText(file))!;
        var detail = e["detail"]!.AsObject();
        if (json is null) detail.Remove(field);
        else detail[field] = JsonNode.Parse(json);
        var settled = Settled(EventParser.Parse(e.ToJsonString()));

        var to = stack.DeliveredTo(e);

        string[] expected = deliveredExpected ? [HandlerNames.TaskRescheduler] : [];
        Assert.Equal(expected, to);
        if (deliveredExpected) Assert.Null(settled); // the variant is still a stop the rescheduler acts on
        else Assert.NotNull(settled);
    }

    /// <summary>
    /// The one gap, pinned so it is seen: a JSON null in a narrowed field is left out, although the rescheduler reads a null
    /// as a missing field and would act. The CDK cannot write null into a pattern (jsii passes .NET null as undefined, which
    /// it drops), and ECS leaves an absent field out of its events rather than writing null.
    /// </summary>
    [Theory]
    [InlineData("startedBy")]
    [InlineData("stopCode")]
    public void AFailedStop_WithANarrowedFieldNull_IsLeftOut_ThePatternsCannotNameNull(string field)
    {
        var e = JsonNode.Parse(Repository.EventText("ecs-task-stopped-essential-exit-1.json"))!;
        e["detail"]![field] = null;

        Assert.Empty(stack.DeliveredTo(e));
        Assert.Null(Settled(EventParser.Parse(e.ToJsonString())));
        Assert.DoesNotContain(stack.Rules, r => r.Pattern.ToJsonString().Contains("null", StringComparison.Ordinal));
    }

    /// <summary>The same stop a second time, with both the stop code and the startedBy of a relaunch: a user's stop of a task EcsReflex started is settled too.</summary>
    [Fact]
    public void AUsersStopOfATaskEcsReflexStarted_IsLeftOut_AndSettledByItsEvent()
    {
        var e = JsonNode.Parse(Repository.EventText("ecs-task-stopped-user-initiated.json"))!;
        e["detail"]!["startedBy"] = "reflex/2b6d3c1e9f0a4b5c8d7e6f5a4b3c2d1e/2";

        Assert.Empty(stack.DeliveredTo(e));
        Assert.NotNull(Settled(EventParser.Parse(e.ToJsonString())));
    }
}
