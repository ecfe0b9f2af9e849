namespace EcsReflex.Aws.Config;

/// <summary>How a service is spoken to.</summary>
public enum AwsProtocol { Json, Query }

/// <summary>
/// What EcsReflex needs to know of one AWS service: names for signing and endpoints (as in the official
/// service models' <c>metadata</c>), and the identifier the SDKs use in <c>AWS_ENDPOINT_URL_&lt;ID&gt;</c>.
/// </summary>
public sealed record AwsService(
    string Name,
    string SigningName,
    string EndpointPrefix,
    string EnvironmentId,
    AwsProtocol Protocol,
    string? TargetPrefix = null,
    string? JsonVersion = null,
    string? ApiVersion = null)
{
    public static readonly AwsService Ecs = new("ecs", "ecs", "ecs", "ECS", AwsProtocol.Json,
        TargetPrefix: "AmazonEC2ContainerServiceV20141113", JsonVersion: "1.1", ApiVersion: "2014-11-13");

    public static readonly AwsService ApplicationAutoScaling = new("application-autoscaling", "application-autoscaling",
        "application-autoscaling", "APPLICATION_AUTO_SCALING", AwsProtocol.Json,
        TargetPrefix: "AnyScaleFrontendService", JsonVersion: "1.1", ApiVersion: "2016-02-06");

    public static readonly AwsService CloudWatch = new("cloudwatch", "monitoring", "monitoring", "CLOUDWATCH", AwsProtocol.Query,
        ApiVersion: "2010-08-01");

    public static readonly AwsService Sqs = new("sqs", "sqs", "sqs", "SQS", AwsProtocol.Json, TargetPrefix: "AmazonSQS", JsonVersion: "1.0",
        ApiVersion: "2012-11-05");

    public static readonly AwsService DynamoDb = new("dynamodb", "dynamodb", "dynamodb", "DYNAMODB", AwsProtocol.Json,
        TargetPrefix: "DynamoDB_20120810", JsonVersion: "1.0", ApiVersion: "2012-08-10");
}
