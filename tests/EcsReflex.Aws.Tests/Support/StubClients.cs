using Amazon.Runtime;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Http;

namespace EcsReflex.Aws.Tests.Support;

public sealed class FixedJitter(double value) : IJitter
{
    public double Next() => value;
}

public static class StubClients
{
    public const string Region = "eu-west-3";
    public static readonly BasicAWSCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

    /// <summary>Fast retries for tests that run on real time (the fake clock tests pass their own).</summary>
    public static readonly AwsRetryPolicy FastRetry = new()
    {
        MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), AttemptTimeout = TimeSpan.FromSeconds(10),
    };

    public static DictionaryEnvironment Environment(AwsStub stub, string variable = "AWS_ENDPOINT_URL") =>
        new(new Dictionary<string, string?> { [variable] = stub.Url.ToString(), ["AWS_REGION"] = Region });

    public static AwsClients Create(AwsStub stub, TimeProvider? time = null, AwsRetryPolicy? retry = null, IJitter? jitter = null) =>
        AwsClients.Create(Environment(stub), credentials: new StaticCredentialsSource(Credentials), time: time,
            retry: retry ?? FastRetry, jitter: jitter ?? new FixedJitter(0.5));
}
