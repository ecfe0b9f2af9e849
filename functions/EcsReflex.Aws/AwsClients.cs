using EcsReflex.Aws.AutoScaling;
using EcsReflex.Aws.CloudWatch;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.DynamoDb;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;
using EcsReflex.Aws.Sqs;

namespace EcsReflex.Aws;

/// <summary>
/// Every AWS client EcsReflex uses, configured one way: region from <c>--region</c> or <c>AWS_REGION</c>,
/// credentials from AWSSDK.Core's default chain (or a profile), endpoints from <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>
/// and <c>AWS_ENDPOINT_URL</c> when set. Every client is the project's own, on one signed transport; only the credential
/// chain and the SigV4 signer come from AWSSDK.Core.
/// </summary>
public sealed class AwsClients : IDisposable
{
    private AwsClients(AwsTransport transport)
    {
        Transport = transport;
        Ecs = new EcsClient(transport);
        AutoScaling = new AutoScalingClient(transport);
        CloudWatch = new CloudWatchClient(transport);
        Sqs = new SqsClient(transport);
        DynamoDb = new DynamoDbClient(transport);
    }

    public AwsTransport Transport { get; }
    public AwsClientOptions Options => Transport.Options;
    public string Region => Options.Region;
    public EcsClient Ecs { get; }
    public AutoScalingClient AutoScaling { get; }
    public CloudWatchClient CloudWatch { get; }
    public SqsClient Sqs { get; }
    public DynamoDbClient DynamoDb { get; }

    /// <summary>Reads the configuration; throws <see cref="AwsConfigurationException"/> saying what to set when it cannot work.</summary>
    public static AwsClients Create(IEnvironment environment, string? region = null, string? profile = null,
        IAwsCredentialsSource? credentials = null, TimeProvider? time = null, AwsRetryPolicy? retry = null, IJitter? jitter = null,
        HttpMessageHandler? innerHandler = null)
    {
        var resolvedRegion = AwsRegions.Resolve(environment, region, profile);
        var options = new AwsClientOptions
        {
            Region = resolvedRegion,
            Endpoints = new AwsEndpoints(environment),
            Time = time ?? TimeProvider.System,
            Retry = retry ?? AwsRetryPolicy.Default,
            Jitter = jitter ?? new RandomJitter(),
        };
        credentials ??= new DefaultCredentialsSource(environment, profile);
        return new AwsClients(AwsTransport.Create(credentials, options, innerHandler));
    }

    public void Dispose() => Transport.Dispose();
}
