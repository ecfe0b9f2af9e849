using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using EcsReflex.Core.Policy;
using static EcsReflex.Infra.Tests.Stacks;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra.Tests;

/// <summary>The stack of <see cref="Stacks.TestPolicy"/>, synthesized once for the tests of this class.</summary>
public sealed class TestPolicyStack : IDisposable
{
    private readonly TempDir dir = new();
    public const string TaskRole = "arn:aws:iam::111122223333:role/report-task";
    public const string ExecutionRole = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole";
    public const string Topic = "arn:aws:sns:eu-west-1:111122223333:oncall";

    public ReflexStack Stack { get; }
    public Template Template { get; }
    public JsonNode Json { get; }

    public TestPolicyStack()
    {
        Stack = Build(dir, PolicyLoader.Load(TestPolicy), p => new ReflexStackProps
        {
            Policy = p.Policy, Code = p.Code, PassRoles = [TaskRole, ExecutionRole], AlarmTopicArn = Topic,
        });
        Template = Template.FromStack(Stack);
        Json = Stacks.Json(Template);
    }

    public void Dispose() => dir.Dispose();
}

public class ReflexStackTests(TestPolicyStack fixture) : IClassFixture<TestPolicyStack>
{
    private readonly Template template = fixture.Template;
    private readonly JsonNode json = fixture.Json;

    private JsonObject Function(string handler) =>
        json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::Lambda::Function"
            && (string?)r.Value!["Properties"]!["Handler"] == handler).Value!["Properties"]!.AsObject();

    private string LogicalId(string type, Func<JsonNode, bool> where) =>
        json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == type && where(r.Value!)).Key;

    /// <summary>The logical id of queue <paramref name="name"/> of the State construct (State + name + hash).</summary>
    private string QueueId(string name) =>
        json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::SQS::Queue"
            && System.Text.RegularExpressions.Regex.IsMatch(r.Key, $"^State{name}[0-9A-F]{{8}}$")).Key;

    public static TheoryData<string> AllHandlers => [.. HandlerNames.All];

    [Theory]
    [MemberData(nameof(AllHandlers))]
    public void Function_ForEachHandler_RunsTheBootstrapOnProvidedAl2023X86WithItsHandlerAndDefaults(string handler)
    {
        template.HasResourceProperties("AWS::Lambda::Function", Match.ObjectLike(Obj(
            ("Handler", handler),
            ("Runtime", "provided.al2023"),
            ("Architectures", new[] { "x86_64" }),
            ("MemorySize", 128),
            ("Timeout", 30))));
    }

    [Theory]
    [MemberData(nameof(AllHandlers))]
    public void Function_ForEachHandler_GetsThePolicyBesideTheBootstrapTheTableAndThePoisonQueue(string handler)
    {
        var env = Function(handler)["Environment"]!["Variables"]!.AsObject();

        Assert.Equal("/var/task/reflex.policy.json", (string?)env["REFLEX_POLICY"]);
        Assert.Equal(LogicalId("AWS::DynamoDB::Table", _ => true), (string?)env["REFLEX_TABLE"]!["Ref"]);
        Assert.Equal(QueueId("PoisonEvents"), (string?)env["REFLEX_DLQ_URL"]!["Ref"]);
        Assert.False(env.ContainsKey("_HANDLER"), "_HANDLER is reserved: Lambda sets it from the Handler setting");
        Assert.False(env.ContainsKey("REFLEX_DRY_RUN"), "not a dry run unless asked");
    }

    [Theory]
    [InlineData(HandlerNames.TaskRescheduler, true)]
    [InlineData(HandlerNames.RelaunchDue, true)]
    [InlineData(HandlerNames.PlacementGuard, true)]
    [InlineData(HandlerNames.ServiceScaler, true)]
    [InlineData(HandlerNames.Reconciler, true)]
    public void Function_GetsTheDelayQueueUrlOnlyWhenItsHandlerDefersWork(string handler, bool defers)
    {
        var env = Function(handler)["Environment"]!["Variables"]!.AsObject();

        Assert.Equal(defers, env.ContainsKey("REFLEX_DELAY_QUEUE_URL"));
        if (defers) Assert.Equal(QueueId("DelayQueue"), (string?)env["REFLEX_DELAY_QUEUE_URL"]!["Ref"]);
    }

    [Fact]
    public void Functions_EachLogToTheirOwnLogGroupWithRetention()
    {
        var groups = HandlerNames.All.Select(h => (string?)Function(h)["LoggingConfig"]!["LogGroup"]!["Ref"]).ToList();

        Assert.Equal(5, groups.Distinct().Count());
        template.ResourceCountIs("AWS::Logs::LogGroup", 5);
        template.AllResourcesProperties("AWS::Logs::LogGroup", Match.ObjectLike(Obj(("RetentionInDays", 30))));
    }

    [Fact]
    public void Functions_EachHaveTheirOwnRoleWithNoManagedPolicy()
    {
        var roles = HandlerNames.All.Select(h => (string?)Function(h)["Role"]!["Fn::GetAtt"]![0]).ToList();

        Assert.Equal(5, roles.Distinct().Count());
        template.AllResourcesProperties("AWS::IAM::Role", Match.ObjectLike(Obj(("ManagedPolicyArns", Match.Absent()))));
    }

    [Theory]
    [InlineData(HandlerNames.TaskRescheduler)]
    [InlineData(HandlerNames.PlacementGuard)]
    [InlineData(HandlerNames.ServiceScaler)]
    [InlineData(HandlerNames.Reconciler)]
    public void EventDrivenFunction_RetriesAsyncInvocationsThenSendsThemToTheFailedInvocationsQueue(string handler)
    {
        var function = LogicalId("AWS::Lambda::Function", r => (string?)r["Properties"]!["Handler"] == handler);
        template.HasResourceProperties("AWS::Lambda::EventInvokeConfig", Match.ObjectEquals(Obj(
            ("FunctionName", Obj(("Ref", function))),
            ("Qualifier", "$LATEST"),
            ("MaximumRetryAttempts", 2),
            ("MaximumEventAgeInSeconds", 3600),
            ("DestinationConfig", Obj(("OnFailure", Obj(("Destination", Obj(("Fn::GetAtt", new[] { QueueId("FailedInvocations"), "Arn" }))))))))));
    }

    [Fact]
    public void RelaunchDue_ConsumesTheDelayQueueReportingBatchItemFailures_AndHasNoAsyncConfig()
    {
        var function = LogicalId("AWS::Lambda::Function", r => (string?)r["Properties"]!["Handler"] == HandlerNames.RelaunchDue);
        template.HasResourceProperties("AWS::Lambda::EventSourceMapping", Match.ObjectLike(Obj(
            ("FunctionName", Obj(("Ref", function))),
            ("EventSourceArn", Obj(("Fn::GetAtt", new[] { QueueId("DelayQueue"), "Arn" }))),
            ("BatchSize", 10),
            ("FunctionResponseTypes", new[] { "ReportBatchItemFailures" }))));
        template.ResourceCountIs("AWS::Lambda::EventInvokeConfig", 4);
    }

    [Fact]
    public void DelayQueue_HidesMessagesSixTimesTheTimeoutAndRedrivesToItsDeadLetterQueue()
    {
        template.HasResourceProperties("AWS::SQS::Queue", Match.ObjectLike(Obj(
            ("VisibilityTimeout", 180),
            ("RedrivePolicy", Obj(
                ("deadLetterTargetArn", Obj(("Fn::GetAtt", new[] { QueueId("DelayDeadLetters"), "Arn" }))),
                ("maxReceiveCount", 5))))));
    }

    [Fact]
    public void Queues_AreAllEncryptedKeptFourteenDaysAndRefusePlainHttp()
    {
        template.ResourceCountIs("AWS::SQS::Queue", 5);
        template.AllResourcesProperties("AWS::SQS::Queue", Match.ObjectLike(Obj(("SqsManagedSseEnabled", true), ("MessageRetentionPeriod", 1_209_600))));
        template.ResourcePropertiesCountIs("AWS::SQS::QueuePolicy", Match.ObjectLike(Obj(("PolicyDocument", Obj(("Statement", Match.ArrayWith([
            Match.ObjectLike(Obj(("Effect", "Deny"), ("Condition", Obj(("Bool", Obj(("aws:SecureTransport", "false"))))))),
        ])))))), 5);
    }

    [Fact]
    public void Rescheduler_Rule_MatchesStoppedTasksOfThePolicyClustersWithRulesExactly()
    {
        template.ResourceCountIs("AWS::Events::Rule", 2); // this one and the reconciler's schedule
        template.HasResourceProperties("AWS::Events::Rule", Match.ObjectLike(Obj(("EventPattern", Match.ObjectEquals(Obj(
            ("source", new[] { "aws.ecs" }),
            ("detail-type", new[] { "ECS Task State Change" }),
            ("detail", Obj(
                ("clusterArn", new object[] { ProdArn, Obj(("suffix", ":cluster/batch")) }),
                ("lastStatus", new[] { "STOPPED" }),
                // Not a service's task, and a stop code under which a stop may be a failure; each kept when missing.
                ("group", new object[] { Obj(("anything-but", Obj(("prefix", "service:")))), Obj(("exists", false)) }),
                ("startedBy", new object[] { Obj(("anything-but", Obj(("prefix", "ecs-svc/")))), Obj(("exists", false)) }),
                ("stopCode", new object[] { "EssentialContainerExited", "TaskFailedToStart", "SpotInterruption", "TerminationNotice", Obj(("exists", false)) })))))))));
    }

    [Fact]
    public void Rescheduler_RuleTarget_RetriesAndDeadLettersToTheUndeliveredEventsQueue()
    {
        var function = LogicalId("AWS::Lambda::Function", r => (string?)r["Properties"]!["Handler"] == HandlerNames.TaskRescheduler);
        template.HasResourceProperties("AWS::Events::Rule", Match.ObjectLike(Obj(("Targets", new object[]
        {
            Match.ObjectEquals(Obj(
                ("Id", "Target0"),
                ("Arn", Obj(("Fn::GetAtt", new[] { function, "Arn" }))),
                ("DeadLetterConfig", Obj(("Arn", Obj(("Fn::GetAtt", new[] { QueueId("UndeliveredEvents"), "Arn" }))))),
                ("RetryPolicy", Obj(("MaximumRetryAttempts", 4), ("MaximumEventAgeInSeconds", 3600))))),
        }))));
        template.HasResourceProperties("AWS::SQS::QueuePolicy", Match.ObjectLike(Obj(("PolicyDocument", Obj(("Statement", Match.ArrayWith([
            Match.ObjectLike(Obj(("Action", "sqs:SendMessage"), ("Principal", Obj(("Service", "events.amazonaws.com"))))),
        ])))))));
    }

    [Fact]
    public void Table_IsOnDemandWithTheAdaptersKeysTtlPointInTimeRecoveryAndEncryption()
    {
        template.HasResource("AWS::DynamoDB::Table", Match.ObjectLike(Obj(
            ("DeletionPolicy", "Retain"),
            ("Properties", Match.ObjectEquals(Obj(
                ("BillingMode", "PAY_PER_REQUEST"),
                ("KeySchema", new object[] { Obj(("AttributeName", "pk"), ("KeyType", "HASH")), Obj(("AttributeName", "sk"), ("KeyType", "RANGE")) }),
                ("AttributeDefinitions", new object[] { Obj(("AttributeName", "pk"), ("AttributeType", "S")), Obj(("AttributeName", "sk"), ("AttributeType", "S")) }),
                ("TimeToLiveSpecification", Obj(("AttributeName", "expiresAt"), ("Enabled", true))),
                ("PointInTimeRecoverySpecification", Obj(("PointInTimeRecoveryEnabled", true))),
                ("SSESpecification", Obj(("SSEEnabled", true)))))))));
    }

    [Fact]
    public void Iam_NoStatementAllowsAMutatingEcsActionOnEveryResource() => AssertNoMutatingEcsActionOnEveryResource(json);

    [Theory]
    [InlineData(HandlerNames.TaskRescheduler)]
    [InlineData(HandlerNames.RelaunchDue)]
    [InlineData(HandlerNames.Reconciler)]
    public void Iam_RunTask_IsAllowedPerClusterOnlyOnItsFamiliesAndOnlyInThatCluster(string handler)
    {
        var runTask = StatementsOf(json, handler).Where(s => AsList(s["Action"]).Any(a => (string?)a == "ecs:RunTask")).ToList();

        Assert.Equal(2, runTask.Count);
        Assert.Equal(
            JsonNode.Parse($$$"""
                {"Action":"ecs:RunTask","Condition":{"ArnEquals":{"ecs:cluster":["{{{ProdArn}}}"]}},"Effect":"Allow",
                 "Resource":["{{{ProdPrefix}}}task-definition/report:*","{{{ProdPrefix}}}task-definition/worker:*"],"Sid":"RunTaskInCluster0"}
                """)!.ToJsonString(),
            runTask[0].ToJsonString());
        // The airflow rule matches by startedBy prefix only: every family, but only in cluster batch.
        Assert.Equal(
            JsonNode.Parse($$$"""
                {"Action":"ecs:RunTask","Condition":{"ArnEquals":{"ecs:cluster":[{"Fn::Sub":"{{{StackPrefix}}}cluster/batch"}]}},"Effect":"Allow",
                 "Resource":{"Fn::Sub":"{{{StackPrefix}}}task-definition/*"},"Sid":"RunTaskInCluster1"}
                """)!.ToJsonString(),
            runTask[1].ToJsonString());
    }

    [Theory]
    [InlineData(HandlerNames.TaskRescheduler)]
    [InlineData(HandlerNames.RelaunchDue)]
    [InlineData(HandlerNames.Reconciler)]
    public void Iam_PassRole_IsOnlyOnTheNamedRolesAndOnlyToEcsTasks(string handler)
    {
        var passRole = Assert.Single(StatementsOf(json, handler), s => AsList(s["Action"]).Any(a => (string?)a == "iam:PassRole"));

        Assert.Equal(
            JsonNode.Parse($$$"""
                {"Action":"iam:PassRole","Condition":{"StringEquals":{"iam:PassedToService":["ecs-tasks.amazonaws.com"]}},"Effect":"Allow",
                 "Resource":["{{{TestPolicyStack.TaskRole}}}","{{{TestPolicyStack.ExecutionRole}}}"],"Sid":"PassTaskRoles"}
                """)!.ToJsonString(),
            passRole.ToJsonString());
        Assert.All(Statements(json).Where(s => AsList(s.Statement["Action"]).Any(a => (string?)a == "iam:PassRole")),
            s => Assert.NotNull(s.Statement["Condition"]?["StringEquals"]?["iam:PassedToService"]));
    }

    [Theory]
    [InlineData(HandlerNames.TaskRescheduler)]
    [InlineData(HandlerNames.RelaunchDue)]
    public void Iam_TagsAndReadsOfTheRelaunchers_AreLimitedToThePolicyClusters(string handler)
    {
        var statements = StatementsOf(json, handler).Where(s => s["Sid"] is not null).ToDictionary(s => (string)s["Sid"]!);
        var prodTasks = ProdPrefix + "task/prod/*";
        var clusters = new JsonArray(ProdArn, JsonNode.Parse($$$"""{"Fn::Sub":"{{{StackPrefix}}}cluster/batch"}"""));

        Assert.Equal(["DescribeContainerInstances", "DescribeTasks", "PassTaskRoles", "RunTaskInCluster0", "RunTaskInCluster1", "TagLaunchedTasks"],
            statements.Keys.Order());
        Assert.Equal("RunTask", (string?)statements["TagLaunchedTasks"]["Condition"]!["StringEquals"]!["ecs:CreateAction"]![0]);
        Assert.Equal(prodTasks, (string?)statements["TagLaunchedTasks"]["Resource"]![0]);
        Assert.Equal(StackPrefix + "task/batch/*", (string?)statements["TagLaunchedTasks"]["Resource"]![1]!["Fn::Sub"]);
        Assert.Equal(clusters.ToJsonString(), statements["DescribeTasks"]["Condition"]!["ArnEquals"]!["ecs:cluster"]!.ToJsonString());
        Assert.Equal(clusters.ToJsonString(), statements["DescribeContainerInstances"]["Condition"]!["ArnEquals"]!["ecs:cluster"]!.ToJsonString());
    }

    [Theory]
    [InlineData(HandlerNames.PlacementGuard)]
    [InlineData(HandlerNames.ServiceScaler)]
    public void Iam_HandlersTheTestPolicyGivesNothingToDo_GetNoEcsCloudWatchOrPassRoleStatement(string handler)
    {
        var actions = StatementsOf(json, handler).SelectMany(s => AsList(s["Action"]).Select(a => (string)a!)).ToList();

        Assert.NotEmpty(actions);
        Assert.DoesNotContain(actions, a => a.StartsWith("ecs:") || a.StartsWith("iam:") || a.StartsWith("cloudwatch:") || a.StartsWith("application-autoscaling:"));
        Assert.Contains("dynamodb:PutItem", actions);
    }

    [Theory]
    [MemberData(nameof(AllHandlers))]
    public void Iam_EachFunction_UsesOnlyTheStacksOwnTableAndQueues(string handler)
    {
        var statements = StatementsOf(json, handler);
        var ownIds = json["Resources"]!.AsObject()
            .Where(r => (string?)r.Value!["Type"] is "AWS::SQS::Queue" or "AWS::DynamoDB::Table" or "AWS::Logs::LogGroup").Select(r => r.Key).ToHashSet();

        foreach (var s in statements.Where(s => AsList(s["Action"]).Any(a => ((string)a!).StartsWith("sqs:") || ((string)a!).StartsWith("dynamodb:") || ((string)a!).StartsWith("logs:"))))
            foreach (var resource in AsList(s["Resource"]))
            {
                if (resource?["Ref"] is { } r && (string?)r == "AWS::NoValue") continue;
                Assert.Contains((string?)resource?["Fn::GetAtt"]?[0] ?? "(not a resource of the stack)", ownIds);
            }
    }

    [Fact]
    public void Alarms_CoverEachDeadLetterQueueEachFunctionsErrorsAndThrottlesAndGiveUps_AndNotifyTheTopic()
    {
        template.ResourceCountIs("AWS::CloudWatch::Alarm", 4 + 5 * 2 + 1);
        template.AllResourcesProperties("AWS::CloudWatch::Alarm", Match.ObjectLike(Obj(
            ("AlarmActions", new[] { TestPolicyStack.Topic }),
            ("TreatMissingData", "notBreaching"),
            ("Threshold", 1))));
        foreach (var queue in new[] { "DelayDeadLetters", "UndeliveredEvents", "FailedInvocations", "PoisonEvents" })
            template.HasResourceProperties("AWS::CloudWatch::Alarm", Match.ObjectLike(Obj(
                ("MetricName", "ApproximateNumberOfMessagesVisible"),
                ("Dimensions", new object[] { Obj(("Name", "QueueName"), ("Value", Obj(("Fn::GetAtt", new[] { QueueId(queue), "QueueName" })))) }))));
        template.ResourcePropertiesCountIs("AWS::CloudWatch::Alarm", Match.ObjectLike(Obj(("MetricName", "Errors"), ("Namespace", "AWS/Lambda"))), 5);
        template.ResourcePropertiesCountIs("AWS::CloudWatch::Alarm", Match.ObjectLike(Obj(("MetricName", "Throttles"), ("Namespace", "AWS/Lambda"))), 5);
    }

    [Fact]
    public void GiveUpAlarm_SumsTheHostsGiveUpsMetricOfEveryHandler()
    {
        var alarm = json["Resources"]!.AsObject().Single(r => r.Key.StartsWith("GiveUps")).Value!["Properties"]!;
        var metrics = alarm["Metrics"]!.AsArray().Where(m => m!["MetricStat"] is not null).Select(m => m!["MetricStat"]!["Metric"]!).ToList();

        Assert.Equal("FILL(m0, 0) + FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0) + FILL(m4, 0)", (string?)alarm["Metrics"]![0]!["Expression"]);
        Assert.All(metrics, m => Assert.Equal(("EcsReflex", "GiveUps", "Handler"), ((string?)m["Namespace"], (string?)m["MetricName"], (string?)m["Dimensions"]![0]!["Name"])));
        Assert.Equal(["task-rescheduler", "placement-guard", "service-scaler", "relaunch-due", "reconciler"], metrics.Select(m => (string?)m["Dimensions"]![0]!["Value"]));
    }

    [Fact]
    public void Synth_WarnsAboutTheRuleThatAllowsEveryFamily()
    {
        Annotations.FromStack(fixture.Stack).HasWarning("/EcsReflex", Match.StringLikeRegexp("clusters\\[1\\]\\.reschedule: rule \"airflow\" names no task definition family"));
        Annotations.FromStack(fixture.Stack).HasNoWarning("/EcsReflex", Match.StringLikeRegexp("passRoles"));
    }

    [Fact]
    public void Nag_WildcardJustifications_ArePutOnTheRolesThatHaveThoseWildcards()
    {
        string[] Suppressed(string handler) => [.. json["Resources"]!.AsObject()
            .Where(r => r.Key.StartsWith(ReflexStack.Pascal(handler) + "RoleDefaultPolicy"))
            .SelectMany(r => r.Value!["Metadata"]?["cdk_nag"]?["rules_to_suppress"]?.AsArray() ?? [])
            .Select(s => (string)s!["reason"]!)];

        Assert.Equal(2, Suppressed(HandlerNames.TaskRescheduler).Length); // per-cluster wildcards, and the any-family rule
        Assert.Equal(3, Suppressed(HandlerNames.Reconciler).Length); // and ListTasks on "*"
        Assert.Empty(Suppressed(HandlerNames.ServiceScaler));
        Assert.All(Suppressed(HandlerNames.TaskRescheduler), r => Assert.True(r.Length > 40));
    }
}
