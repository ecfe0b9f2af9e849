using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using EcsReflex.Core.Hosting;
using EcsReflex.Core.Policy;
using static EcsReflex.Infra.Tests.Stacks;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// The reconciler in the stack: its schedule (the policy's <c>reconcile.intervalSeconds</c>), the schedule's target,
/// its alarms and its role (what relaunch-due may do, plus listing the tasks of the swept clusters).
/// </summary>
public class ReconcilerStackTests(TestPolicyStack fixture) : IClassFixture<TestPolicyStack>
{
    private readonly Template template = fixture.Template;
    private readonly JsonNode json = fixture.Json;

    private static string FunctionId(JsonNode json, string handler) =>
        json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::Lambda::Function"
            && (string?)r.Value!["Properties"]!["Handler"] == handler).Key;

    private static string QueueId(JsonNode json, string name) =>
        json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::SQS::Queue"
            && System.Text.RegularExpressions.Regex.IsMatch(r.Key, $"^State{name}[0-9A-F]{{8}}$")).Key;

    /// <summary>The rules with a schedule, by logical id.</summary>
    private static List<KeyValuePair<string, JsonNode?>> ScheduleRules(JsonNode json) =>
        [.. json["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == "AWS::Events::Rule" && r.Value!["Properties"]!["ScheduleExpression"] is not null)];

    private static Dictionary<string, JsonObject> BySid(IEnumerable<JsonObject> statements) =>
        statements.Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);

    private static JsonNode Build(string policy)
    {
        using var dir = new TempDir();
        return Stacks.Json(Template.FromStack(Stacks.Build(dir, PolicyLoader.Load(policy))));
    }

    [Fact]
    public void Schedule_ForThePolicyDefault_RunsEveryFiveMinutesEnabledWithNoPattern()
    {
        var rule = Assert.Single(ScheduleRules(json)).Value!["Properties"]!;

        Assert.Equal("rate(5 minutes)", (string?)rule["ScheduleExpression"]);
        Assert.Equal("ENABLED", (string?)rule["State"]);
        Assert.Null(rule["EventPattern"]);
    }

    [Theory]
    [InlineData(600, "rate(10 minutes)")]
    [InlineData(60, "rate(1 minute)")] // EventBridge refuses "rate(1 minutes)"
    [InlineData(3600, "rate(1 hour)")]
    [InlineData(86400, "rate(1 day)")]
    public void Schedule_FollowsThePolicysReconcileInterval(int seconds, string expression)
    {
        var stack = Build($$"""
            { "clusters": [ { "cluster": "prod", "reschedule": [ { "name": "w", "match": { "group": "family:w" } } ] } ],
              "reconcile": { "intervalSeconds": {{seconds}} } }
            """);

        Assert.Equal(expression, (string?)Assert.Single(ScheduleRules(stack)).Value!["Properties"]!["ScheduleExpression"]);
    }

    [Fact]
    public void Schedule_OfAPolicyBuiltInCodeWithAnIntervalThatIsNotWholeMinutes_IsRefused()
    {
        using var dir = new TempDir();
        var policy = new ReflexPolicy { Clusters = [], Reconcile = new ReconcilePolicy { IntervalSeconds = 90 } };

        var ex = Assert.Throws<ArgumentException>(() => Stacks.Build(dir, policy));

        Assert.Contains("reconcile.intervalSeconds: 90 is not a whole number of minutes", ex.Message);
    }

    [Fact]
    public void ScheduleTarget_IsTheReconcilerWithTheDefaultScheduledEvent_RetriedThenDeadLetteredLikeEveryRuleTarget()
    {
        var (ruleId, rule) = Assert.Single(ScheduleRules(json));

        // ObjectEquals: no Input, so EventBridge sends its own "Scheduled Event" (source aws.events, detail {}).
        template.HasResourceProperties("AWS::Events::Rule", Match.ObjectLike(Obj(
            ("ScheduleExpression", "rate(5 minutes)"),
            ("Targets", new object[]
            {
                Match.ObjectEquals(Obj(
                    ("Id", "Target0"),
                    ("Arn", Obj(("Fn::GetAtt", new[] { FunctionId(json, HandlerNames.Reconciler), "Arn" }))),
                    ("DeadLetterConfig", Obj(("Arn", Obj(("Fn::GetAtt", new[] { QueueId(json, "UndeliveredEvents"), "Arn" }))))),
                    ("RetryPolicy", Obj(("MaximumRetryAttempts", 4), ("MaximumEventAgeInSeconds", 3600))))),
            }))));
        Assert.Single(rule!["Properties"]!["Targets"]!.AsArray());
        template.HasResourceProperties("AWS::Lambda::Permission", Match.ObjectEquals(Obj(
            ("Action", "lambda:InvokeFunction"),
            ("FunctionName", Obj(("Fn::GetAtt", new[] { FunctionId(json, HandlerNames.Reconciler), "Arn" }))),
            ("Principal", "events.amazonaws.com"),
            ("SourceArn", Obj(("Fn::GetAtt", new[] { ruleId, "Arn" }))))));
    }

    [Fact]
    public void Reconciler_HasErrorAndThrottleAlarmsOnItsOwnFunction()
    {
        foreach (var metric in new[] { "Errors", "Throttles" })
            template.HasResourceProperties("AWS::CloudWatch::Alarm", Match.ObjectLike(Obj(
                ("Namespace", "AWS/Lambda"),
                ("MetricName", metric),
                ("Dimensions", new object[] { Obj(("Name", "FunctionName"), ("Value", Obj(("Ref", FunctionId(json, HandlerNames.Reconciler))))) }),
                ("AlarmActions", new[] { TestPolicyStack.Topic }))));
    }

    [Fact]
    public void Reconciler_Iam_CanSendToTheDelayQueue()
    {
        var send = StatementsOf(json, HandlerNames.Reconciler).Where(s => AsList(s["Action"]).Any(a => (string?)a == "sqs:SendMessage"))
            .SelectMany(s => AsList(s["Resource"])).Select(r => (string?)r?["Fn::GetAtt"]?[0]).ToList();

        Assert.Contains(QueueId(json, "DelayQueue"), send);
    }

    [Fact]
    public void Reconciler_Iam_ListsTasksOnlyInTheClustersWithRescheduleRules_AndOtherwiseHasRelaunchDuesStatements()
    {
        var reconciler = BySid(StatementsOf(json, HandlerNames.Reconciler));
        var due = BySid(StatementsOf(json, HandlerNames.RelaunchDue));

        Assert.Equal(["DescribeContainerInstances", "DescribeTasks", "ListTasks", "PassTaskRoles", "RunTaskInCluster0", "RunTaskInCluster1", "TagLaunchedTasks"],
            reconciler.Keys.Order());
        Assert.Equal(
            JsonNode.Parse($$$"""
                {"Action":"ecs:ListTasks","Condition":{"ArnEquals":{"ecs:cluster":["{{{ProdArn}}}",{"Fn::Sub":"{{{StackPrefix}}}cluster/batch"}]}},"Effect":"Allow",
                 "Resource":"*","Sid":"ListTasks"}
                """)!.ToJsonString(),
            reconciler["ListTasks"].ToJsonString());
        Assert.False(due.ContainsKey("ListTasks"), "relaunch-due lists nothing in a policy without drain settings");
        foreach (var (sid, statement) in due)
            Assert.Equal(statement.ToJsonString(), reconciler[sid].ToJsonString());
    }

    [Fact]
    public void Reconciler_Iam_NoMutatingEcsActionOnEveryResource()
    {
        var statements = StatementsOf(json, HandlerNames.Reconciler);
        string[] mutating = ["ecs:RunTask", "ecs:StopTask", "ecs:UpdateService", "ecs:TagResource"];

        var onEverything = statements.Where(s => AsList(s["Resource"]).Any(r => r is JsonValue && (string?)r == "*"))
            .SelectMany(s => AsList(s["Action"]).Select(a => (string)a!)).ToList();

        Assert.Equal(["ecs:ListTasks"], onEverything);
        Assert.All(statements.Where(s => AsList(s["Action"]).Any(a => mutating.Contains((string?)a))),
            s => Assert.NotNull(s["Condition"]?["ArnEquals"]?["ecs:cluster"] ?? s["Condition"]?["StringEquals"]?["ecs:CreateAction"]));
    }

    [Fact]
    public void Reconciler_Iam_ListsTasksInTheRescheduleAndTheDrainClusters_InOneStatement()
    {
        // prod has reschedule rules and no drain settings, batch drain settings and no reschedule rule, idle neither.
        var stack = Build($$$"""
            { "clusters": [
                { "cluster": "{{{ProdArn}}}", "reschedule": [ { "name": "w", "match": { "group": "family:worker" } } ] },
                { "cluster": "batch", "drain": {} },
                { "cluster": "idle" } ] }
            """);
        var reconciler = StatementsOf(stack, HandlerNames.Reconciler);
        var bySid = BySid(reconciler);
        var batch = JsonNode.Parse($$$"""{"Fn::Sub":"{{{StackPrefix}}}cluster/batch"}""")!;

        var listTasks = Assert.Single(reconciler, s => AsList(s["Action"]).Any(a => (string?)a == "ecs:ListTasks"));
        Assert.Equal("*", (string?)listTasks["Resource"]);
        Assert.Equal(new JsonArray(ProdArn, batch.DeepClone()).ToJsonString(), listTasks["Condition"]!["ArnEquals"]!["ecs:cluster"]!.ToJsonString());
        // relaunch-due and the guard list only in the drain cluster.
        foreach (var handler in new[] { HandlerNames.RelaunchDue, HandlerNames.PlacementGuard })
            Assert.Equal(new JsonArray(batch.DeepClone()).ToJsonString(), BySid(StatementsOf(stack, handler))["ListTasks"]["Condition"]!["ArnEquals"]!["ecs:cluster"]!.ToJsonString());
        // The drain cluster's container instances: listed and described, as the guard does.
        Assert.Equal(batch.ToJsonString(), bySid["ListContainerInstances"]["Resource"]!.ToJsonString());
        Assert.Equal(JsonNode.Parse($$$"""["{{{ProdPrefix}}}container-instance/prod/*",{"Fn::Sub":"{{{StackPrefix}}}container-instance/batch/*"}]""")!.ToJsonString(),
            bySid["DescribeContainerInstances"]["Resource"]!.ToJsonString());
        Assert.Equal(JsonNode.Parse($$$"""{"Fn::Sub":"{{{StackPrefix}}}task/batch/*"}""")!.ToJsonString(), bySid["StopAndDescribeTasks"]["Resource"]!.ToJsonString());
        AssertNoMutatingEcsActionOnEveryResource(stack);
    }

    [Fact]
    public void Reconciler_OfAPolicyWithNothingToSweep_GetsNoEcsStatement_ButItsFunctionAndScheduleStay()
    {
        var stack = Build("""{ "clusters": [ { "cluster": "idle" } ] }""");
        var actions = StatementsOf(stack, HandlerNames.Reconciler).SelectMany(s => AsList(s["Action"]).Select(a => (string)a!)).ToList();

        Assert.Contains("dynamodb:PutItem", actions);
        Assert.DoesNotContain(actions, a => a.StartsWith("ecs:") || a.StartsWith("iam:") || a.StartsWith("cloudwatch:") || a.StartsWith("application-autoscaling:"));
        Assert.Null(stack["Resources"]!.AsObject().Single(r => r.Key.StartsWith("ReconcilerRoleDefaultPolicy")).Value!["Metadata"]?["cdk_nag"]);
        Assert.Equal("rate(5 minutes)", (string?)Assert.Single(ScheduleRules(stack)).Value!["Properties"]!["ScheduleExpression"]);
    }
}
