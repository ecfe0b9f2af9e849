using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.SNS;
using Constructs;
using EcsReflex.Core.Metrics;
using EcsReflex.Core.Policy;
using EcsReflex.Infra.Constructs;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra;

public sealed class ReflexStackProps : StackProps
{
    /// <summary>The validated policy: the rules, IAM and alarms are derived from it.</summary>
    public required ReflexPolicy Policy { get; init; }
    /// <summary>The function code: a folder with <c>bootstrap</c> and <c>reflex.policy.json</c> (see <see cref="FunctionAsset"/>).</summary>
    public required Code Code { get; init; }
    public FunctionSettings Functions { get; init; } = new();
    public StateTableLayout Table { get; init; } = new();
    /// <summary>Task and execution roles the relaunching handlers may pass to ECS.</summary>
    public IReadOnlyList<string> PassRoles { get; init; } = [];
    public string? AlarmTopicArn { get; init; }
    public bool DryRun { get; init; }
}

/// <summary>
/// EcsReflex in one stack, built from the policy: one function per handler from the one asset, EventBridge
/// rules that match only what the policy covers, the reconciler's schedule, least-privilege roles, the state table, the delay queue,
/// dead-letter queues and alarms. Environment-agnostic: it synthesizes with no AWS account.
/// </summary>
public sealed class ReflexStack : Stack
{
    /// <summary>EventBridge's retries of a delivery to a function, and how long it keeps trying.</summary>
    public const int RuleTargetRetryAttempts = 4;
    public static readonly Duration RuleTargetMaxEventAge = Duration.Hours(1);
    /// <summary>Delay queue messages relaunch-due takes at once; failures are reported per message.</summary>
    public const int DelayQueueBatchSize = 10;

    public const string WarningRuleWithoutFamily = "ecsreflex:ruleWithoutFamily";
    public const string WarningNoPassRoles = "ecsreflex:noPassRoles";

    public PolicyScope Scope { get; }
    public ReflexState State { get; }
    public IReadOnlyDictionary<string, ReflexFunction> Functions { get; }
    public IReadOnlyList<RuleSpec> RuleSpecs { get; }
    public IReadOnlyList<Alarm> Alarms { get; }
    /// <summary>The schedule rule of the reconciler, every <c>reconcile.intervalSeconds</c> of the policy.</summary>
    public Rule ReconcileSchedule { get; }

    public const string ReconcileScheduleId = "ReconcileSchedule";

    public ReflexStack(Construct scope, string id, ReflexStackProps props) : base(scope, id, props)
    {
        Scope = PolicyScope.From(props.Policy);
        State = new ReflexState(this, "State", new ReflexStateProps
        {
            Table = props.Table,
            FunctionTimeout = Duration.Seconds(props.Functions.TimeoutSeconds),
        });

        var functions = new Dictionary<string, ReflexFunction>();
        foreach (var handler in HandlerNames.All)
            functions[handler] = CreateFunction(handler, props);
        Functions = functions;

        functions[HandlerNames.RelaunchDue].Function.AddEventSource(new SqsEventSource(State.DelayQueue, new SqsEventSourceProps
        {
            BatchSize = DelayQueueBatchSize,
            ReportBatchItemFailures = true,
        }));

        RuleSpecs = EventPatterns.For(Scope);
        foreach (var spec in RuleSpecs)
        {
            var rule = new Rule(this, spec.Id, new RuleProps
            {
                Description = spec.Description,
                // Replaced below by the exact pattern: the typed pattern cannot hold content filters in "resources".
                EventPattern = new EventPattern { Source = [(string)((object[])spec.Pattern["source"])[0]] },
            });
            ((Amazon.CDK.AWS.Events.CfnRule)rule.Node.DefaultChild!).AddPropertyOverride("EventPattern", spec.Pattern);
            rule.AddTarget(RuleTarget(functions[spec.Handler]));
        }

        // The sweep runs whatever the events said: it is there for the events that were lost. Its target gets
        // EventBridge's own "Scheduled Event" (no Input), the payload the reconciler accepts.
        var seconds = props.Policy.Reconcile.IntervalSeconds;
        // The loader refuses any other interval; a policy built in code is held to the same.
        if (seconds % 60 != 0 || seconds < ReconcilePolicy.MinIntervalSeconds || seconds > ReconcilePolicy.MaxIntervalSeconds)
            throw new ArgumentException($"reconcile.intervalSeconds: {seconds} is not a whole number of minutes from 60 to 86400", nameof(props));
        var minutes = seconds / 60;
        ReconcileSchedule = new Rule(this, ReconcileScheduleId, new RuleProps
        {
            Description = $"Every {minutes} minute{(minutes == 1 ? "" : "s")} (policy reconcile.intervalSeconds), the reconciler's sweep for what no event said",
            Schedule = Schedule.Rate(Duration.Minutes(minutes)),
        });
        ReconcileSchedule.AddTarget(RuleTarget(functions[HandlerNames.Reconciler]));

        Alarms = [.. functions.Values.SelectMany(f => f.Alarms), .. StackAlarms()];
        if (props.AlarmTopicArn is { } topicArn)
        {
            var action = new SnsAction(Topic.FromTopicArn(this, "AlarmTopic", topicArn));
            foreach (var alarm in Alarms) alarm.AddAlarmAction(action);
        }

        Warn(props);
        Outputs();
    }

    /// <summary>Every rule's target: EventBridge retries, then puts what it could not deliver in the UndeliveredEvents queue.</summary>
    private LambdaFunction RuleTarget(ReflexFunction function) => new(function.Function, new LambdaFunctionProps
    {
        DeadLetterQueue = State.UndeliveredEvents,
        RetryAttempts = RuleTargetRetryAttempts,
        MaxEventAge = RuleTargetMaxEventAge,
    });

    private ReflexFunction CreateFunction(string handler, ReflexStackProps props)
    {
        var environment = new Dictionary<string, string>
        {
            [EnvVars.Policy] = HostLayout.DeployedPolicyPath,
            [EnvVars.Table] = State.Table.TableName,
            [EnvVars.DeadLetterQueueUrl] = State.PoisonEvents.QueueUrl,
        };
        var defers = HandlerNames.Defers.Contains(handler);
        if (defers) environment[EnvVars.DelayQueueUrl] = State.DelayQueue.QueueUrl;
        if (props.DryRun) environment[EnvVars.DryRun] = "1";

        var permissions = EcsPermissions.For(handler, Scope, props.PassRoles);
        var function = new ReflexFunction(this, Pascal(handler), new ReflexFunctionProps
        {
            Handler = handler,
            Code = props.Code,
            Settings = props.Functions,
            Environment = environment,
            Statements = permissions.Statements,
            OnFailure = HandlerNames.EventDriven.Contains(handler) ? State.FailedInvocations : null,
        });
        State.Table.GrantReadWriteData(function.Function);
        State.PoisonEvents.GrantSendMessages(function.Function);
        if (defers) State.DelayQueue.GrantSendMessages(function.Function);

        if (permissions.Justifications.Count > 0)
            Nag.Suppress(function.Role.Node.FindChild("DefaultPolicy"), [.. permissions.Justifications]);
        return function;
    }

    /// <summary>Alarms of the stack itself: a dead-letter queue that is not empty, and tasks given up on.</summary>
    private List<Alarm> StackAlarms()
    {
        var alarms = new List<Alarm>();
        foreach (var (name, queue) in State.DeadLetterQueues)
            alarms.Add(new Alarm(this, $"{name}NotEmpty", new AlarmProps
            {
                AlarmDescription = $"EcsReflex: messages in the {name} dead-letter queue; read them, fix the cause, then redrive or purge",
                Metric = queue.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(1), Statistic = "Maximum" }),
                Threshold = 1,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
            }));

        var giveUps = new Dictionary<string, IMetric>();
        for (var i = 0; i < HandlerNames.All.Count; i++)
            giveUps[$"m{i}"] = new Metric(new MetricProps
            {
                Namespace = ReflexMetrics.Namespace,
                MetricName = ReflexMetrics.GiveUps,
                DimensionsMap = new Dictionary<string, string> { [ReflexMetrics.HandlerDimension] = HandlerNames.All[i] },
                Statistic = "Sum",
                Period = Duration.Minutes(5),
            });
        alarms.Add(new Alarm(this, "GiveUps", new AlarmProps
        {
            AlarmDescription = "EcsReflex gave up relaunching a task lineage after its rule's maxAttempts; the decision log says which and why",
            Metric = new MathExpression(new MathExpressionProps
            {
                Expression = string.Join(" + ", giveUps.Keys.Select(k => $"FILL({k}, 0)")),
                UsingMetrics = giveUps,
                Label = ReflexMetrics.GiveUps,
                Period = Duration.Minutes(5),
            }),
            Threshold = 1,
            EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        }));
        return alarms;
    }

    private void Warn(ReflexStackProps props)
    {
        foreach (var rule in Scope.RulesWithoutFamily)
            Annotations.Of(this).AddWarningV2(WarningRuleWithoutFamily,
                $"{rule} names no task definition family, so RunTask is allowed on every task definition in its cluster; add match.taskDefinitionFamily (or a group \"family:NAME\") to narrow it");
        if (props.PassRoles.Count == 0 && Scope.RescheduleClusters.Count > 0)
            Annotations.Of(this).AddWarningV2(WarningNoPassRoles,
                $"no -c {ReflexSettings.Keys.PassRoles}: relaunching a task whose task definition has a task role or an execution role fails with AccessDenied; list those role ARNs, separated by commas");
    }

    private void Outputs()
    {
        _ = new CfnOutput(this, "TableName", new CfnOutputProps { Value = State.Table.TableName, Description = "State table (dedupe, lineages, audit trail)" });
        _ = new CfnOutput(this, "DelayQueueUrl", new CfnOutputProps { Value = State.DelayQueue.QueueUrl, Description = "Deferred relaunches, consumed by relaunch-due" });
        foreach (var (name, queue) in State.DeadLetterQueues)
            _ = new CfnOutput(this, $"{name}QueueUrl", new CfnOutputProps { Value = queue.QueueUrl, Description = $"Dead-letter queue {name}" });
        foreach (var (handler, function) in Functions)
        {
            _ = new CfnOutput(this, $"{Pascal(handler)}FunctionName", new CfnOutputProps { Value = function.Function.FunctionName, Description = $"The {handler} function" });
            _ = new CfnOutput(this, $"{Pascal(handler)}LogGroup", new CfnOutputProps { Value = function.LogGroup.LogGroupName, Description = $"Decision log of {handler} (one JSON object per line)" });
        }
    }

    /// <summary><c>task-rescheduler</c> → <c>TaskRescheduler</c>, for construct ids.</summary>
    public static string Pascal(string handler) =>
        string.Concat(handler.Split('-').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}
