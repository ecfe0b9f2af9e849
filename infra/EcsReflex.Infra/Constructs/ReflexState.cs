using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.SQS;
using Constructs;

namespace EcsReflex.Infra.Constructs;

/// <summary>
/// The DynamoDB table layout the AWS adapters use: string partition key <see cref="PartitionKey"/>, string sort
/// key <see cref="SortKey"/>, and the epoch-seconds attribute <see cref="TimeToLiveAttribute"/> that expires
/// duplicate-event and audit records.
/// </summary>
public sealed record StateTableLayout
{
    public string PartitionKey { get; init; } = "pk";
    public string SortKey { get; init; } = "sk";
    public string TimeToLiveAttribute { get; init; } = "expiresAt";
}

public sealed record ReflexStateProps
{
    public required StateTableLayout Table { get; init; }
    /// <summary>The functions' timeout: the delay queue's visibility timeout is six times it.</summary>
    public required Duration FunctionTimeout { get; init; }
}

/// <summary>
/// Where EcsReflex keeps what it remembers and what failed: the state table, the delay queue (deferred
/// relaunches, consumed by relaunch-due) and the dead-letter queues. Every queue is encrypted (SQS-managed keys,
/// which EventBridge and Lambda can write to), refuses plain HTTP and keeps messages 14 days.
/// </summary>
public sealed class ReflexState : Construct
{
    public const int DelayQueueMaxReceiveCount = 5;

    public Table Table { get; }
    /// <summary>Deferred work (REFLEX_DELAY_QUEUE_URL), consumed by relaunch-due.</summary>
    public Queue DelayQueue { get; }
    /// <summary>Delay queue messages that relaunch-due failed on <see cref="DelayQueueMaxReceiveCount"/> times.</summary>
    public Queue DelayDeadLetters { get; }
    /// <summary>Events EventBridge could not deliver to a function (rule target dead-letter queue).</summary>
    public Queue UndeliveredEvents { get; }
    /// <summary>Asynchronous invocations that failed every retry (the functions' on-failure destination).</summary>
    public Queue FailedInvocations { get; }
    /// <summary>Poison events the handlers rejected, with the reason (REFLEX_DLQ_URL).</summary>
    public Queue PoisonEvents { get; }

    public IReadOnlyList<(string Name, Queue Queue)> DeadLetterQueues =>
        [("DelayDeadLetters", DelayDeadLetters), ("UndeliveredEvents", UndeliveredEvents), ("FailedInvocations", FailedInvocations), ("PoisonEvents", PoisonEvents)];

    public ReflexState(Construct scope, string id, ReflexStateProps props) : base(scope, id)
    {
        Table = new Table(this, "Table", new TableProps
        {
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = props.Table.PartitionKey, Type = AttributeType.STRING },
            SortKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = props.Table.SortKey, Type = AttributeType.STRING },
            TimeToLiveAttribute = props.Table.TimeToLiveAttribute,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            PointInTimeRecovery = true,
            Encryption = TableEncryption.AWS_MANAGED,
            // Lineages and the audit trail outlive the stack; delete the table by hand (docs/deploy.md).
            RemovalPolicy = RemovalPolicy.RETAIN,
        });

        DelayDeadLetters = DeadLetterQueue("DelayDeadLetters", "the delay queue's redrive target");
        UndeliveredEvents = DeadLetterQueue("UndeliveredEvents", "the dead-letter queue of the EventBridge rule targets");
        FailedInvocations = DeadLetterQueue("FailedInvocations", "the on-failure destination of the functions' asynchronous invocations");
        PoisonEvents = DeadLetterQueue("PoisonEvents", "where the handlers put the events they reject (REFLEX_DLQ_URL)");

        DelayQueue = new Queue(this, "DelayQueue", new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
            VisibilityTimeout = Duration.Seconds(props.FunctionTimeout.ToSeconds() * 6),
            DeadLetterQueue = new DeadLetterQueue { Queue = DelayDeadLetters, MaxReceiveCount = DelayQueueMaxReceiveCount },
        });
    }

    private Queue DeadLetterQueue(string id, string role)
    {
        var queue = new Queue(this, id, new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
        });
        Nag.Suppress(queue, new Nag.Suppression("AwsSolutions-SQS3",
            $"this queue is itself a dead-letter queue ({role}); a dead-letter queue of its own would only hide what lands here, and the stack alarms when it is not empty"));
        return queue;
    }
}
