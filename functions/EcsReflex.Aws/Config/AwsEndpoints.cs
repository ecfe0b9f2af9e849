namespace EcsReflex.Aws.Config;

/// <summary>
/// Endpoints, overridable the way the AWS SDKs and CLI do it: <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c> (for example
/// <c>AWS_ENDPOINT_URL_ECS</c>), then <c>AWS_ENDPOINT_URL</c> for every service, unless
/// <c>AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true</c>; otherwise the service's public regional endpoint.
/// </summary>
public sealed class AwsEndpoints(IEnvironment environment)
{
    public const string GlobalVariable = "AWS_ENDPOINT_URL";
    public const string IgnoreVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    public static string VariableFor(AwsService service) => $"{GlobalVariable}_{service.EnvironmentId}";

    /// <summary>The configured override for <paramref name="service"/>, or null when none is set.</summary>
    public Uri? Configured(AwsService service)
    {
        if (string.Equals(environment.Get(IgnoreVariable), "true", StringComparison.OrdinalIgnoreCase)) return null;
        var name = VariableFor(service);
        var value = environment.Get(name);
        if (value is null)
        {
            name = GlobalVariable;
            value = environment.Get(name);
        }
        if (value is null) return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new AwsConfigurationException($"{name}={value} is not an http(s) URL: set it to an endpoint such as http://127.0.0.1:4566 or unset it");
        return uri;
    }

    /// <summary>Where requests to <paramref name="service"/> in <paramref name="region"/> go.</summary>
    public Uri Resolve(AwsService service, string region) => Configured(service) ?? Default(service, region);

    public static Uri Default(AwsService service, string region)
    {
        var suffix = region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return new Uri($"https://{service.EndpointPrefix}.{region}.{suffix}/");
    }
}

/// <summary>Configuration that cannot work (no region, a malformed endpoint, an unknown profile): the message says what to set.</summary>
public sealed class AwsConfigurationException(string message) : Exception(message);
