using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;

namespace EcsReflex.Aws.Config;

/// <summary>Where credentials come from. The default is AWSSDK.Core's chain; tests pass fixed ones.</summary>
public interface IAwsCredentialsSource
{
    AWSCredentials GetCredentials();
}

/// <summary>
/// AWSSDK.Core's default credential chain (environment variables, the shared config and credentials files
/// including SSO, web identity, container and instance roles), or one named profile when given.
/// Static keys in the <see cref="IEnvironment"/> (<c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>,
/// <c>AWS_SESSION_TOKEN</c>) come first, as in the chain, so that callers passing their own environment are obeyed.
/// </summary>
public sealed class DefaultCredentialsSource(IEnvironment environment, string? profile = null) : IAwsCredentialsSource
{
    private AWSCredentials? _resolved;

    public AWSCredentials GetCredentials() => _resolved ??= Resolve();

    private AWSCredentials Resolve()
    {
        if (profile is not null)
        {
            var chain = new CredentialProfileStoreChain();
            if (chain.TryGetAWSCredentials(profile, out var fromProfile)) return fromProfile;
            throw new AwsConfigurationException($"profile '{profile}' was not found in the shared AWS config or credentials files: check --profile, or run `aws configure --profile {profile}`");
        }
        if (environment.Get("AWS_ACCESS_KEY_ID") is { } key && environment.Get("AWS_SECRET_ACCESS_KEY") is { } secret)
            return environment.Get("AWS_SESSION_TOKEN") is { } token
                ? new SessionAWSCredentials(key, secret, token)
                : new BasicAWSCredentials(key, secret);
        try
        {
            return new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(null);
        }
        catch (AmazonClientException ex)
        {
            throw new AwsConfigurationException($"no AWS credentials found ({ex.Message}): set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is available");
        }
    }
}

/// <summary>Fixed credentials (tests, loopback stubs).</summary>
public sealed class StaticCredentialsSource(AWSCredentials credentials) : IAwsCredentialsSource
{
    public AWSCredentials GetCredentials() => credentials;
}

public static class AwsRegions
{
    /// <summary>
    /// The region: <paramref name="explicitRegion"/> (<c>--region</c>), then <c>AWS_REGION</c>, then
    /// <c>AWS_DEFAULT_REGION</c>, then the profile's <c>region</c> setting.
    /// </summary>
    public static string Resolve(IEnvironment environment, string? explicitRegion = null, string? profile = null)
    {
        var region = explicitRegion ?? environment.Get("AWS_REGION") ?? environment.Get("AWS_DEFAULT_REGION");
        if (region is null)
        {
            var name = profile ?? environment.Get("AWS_PROFILE") ?? "default";
            try
            {
                if (new CredentialProfileStoreChain().TryGetProfile(name, out var p) && p.Region is { } r) region = r.SystemName;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or AmazonClientException)
            {
                // An unreadable config file is reported as "no region" below.
            }
        }
        if (region is null)
            throw new AwsConfigurationException("no AWS region: set AWS_REGION (or pass --region, or set region in the profile)");
        if (region.Length > 32 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            throw new AwsConfigurationException($"'{region}' is not a region name (such as us-east-1): check AWS_REGION or --region");
        return region;
    }
}
