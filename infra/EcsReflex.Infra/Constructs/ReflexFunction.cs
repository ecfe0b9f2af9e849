using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Lambda.Destinations;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SQS;
using Constructs;

namespace EcsReflex.Infra.Constructs;

public sealed record ReflexFunctionProps
{
    /// <summary>The <c>_HANDLER</c> value (<see cref="Handlers"/>): the function's handler setting.</summary>
    public required string Handler { get; init; }
    /// <summary>The asset holding <c>bootstrap</c> and <c>reflex.policy.json</c>.</summary>
    public required Code Code { get; init; }
    public required FunctionSettings Settings { get; init; }
    public required IReadOnlyDictionary<string, string> Environment { get; init; }
    public required IReadOnlyList<PolicyStatement> Statements { get; init; }
    /// <summary>Where asynchronous invocations go after their last retry; null for a function fed by SQS.</summary>
    public IQueue? OnFailure { get; init; }
}

/// <summary>
/// One handler of the bootstrap as a function: provided.al2023 on x86_64, its own role (nothing but what its
/// handler needs; no managed policy), its own log group with retention, and alarms on its errors and throttles.
/// </summary>
public sealed class ReflexFunction : Construct
{
    /// <summary>Lambda's asynchronous retries of a failed event before it goes to the on-failure destination.</summary>
    public const int AsyncRetryAttempts = 2;
    /// <summary>An event older than this is not worth acting on: it goes to the on-failure destination.</summary>
    public static readonly Duration MaxEventAge = Duration.Hours(1);

    public Function Function { get; }
    public Role Role { get; }
    public LogGroup LogGroup { get; }
    public IReadOnlyList<Alarm> Alarms { get; }

    public ReflexFunction(Construct scope, string id, ReflexFunctionProps props) : base(scope, id)
    {
        LogGroup = new LogGroup(this, "Logs", new LogGroupProps
        {
            Retention = props.Settings.LogRetention,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });

        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = $"EcsReflex {props.Handler}: only what this handler needs, derived from the policy",
        });
        LogGroup.GrantWrite(Role);
        foreach (var statement in props.Statements) Role.AddToPrincipalPolicy(statement);

        var functionProps = new FunctionProps
        {
            Description = $"EcsReflex {props.Handler}",
            Runtime = Runtime.PROVIDED_AL2023,
            Architecture = Architecture.X86_64,
            Handler = props.Handler,
            Code = props.Code,
            MemorySize = props.Settings.MemoryMb,
            Timeout = Duration.Seconds(props.Settings.TimeoutSeconds),
            Environment = props.Environment.ToDictionary(kv => kv.Key, kv => kv.Value),
            LogGroup = LogGroup,
            Role = Role,
        };
        if (props.OnFailure is { } failures)
        {
            functionProps.RetryAttempts = AsyncRetryAttempts;
            functionProps.MaxEventAge = MaxEventAge;
            functionProps.OnFailure = new SqsDestination(failures);
        }
        Function = new Function(this, "Function", functionProps);

        Alarms =
        [
            new Alarm(this, "Errors", new AlarmProps
            {
                AlarmDescription = $"EcsReflex {props.Handler}: invocations failed; see its log group, failed events end in the dead-letter queues",
                Metric = Function.MetricErrors(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" }),
                Threshold = 1,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
            }),
            new Alarm(this, "Throttles", new AlarmProps
            {
                AlarmDescription = $"EcsReflex {props.Handler}: invocations throttled; raise the account's concurrency or look for an event storm",
                Metric = Function.MetricThrottles(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" }),
                Threshold = 1,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
            }),
        ];
    }
}
