using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>A service of a policy cluster: how EcsReflex may scale it and which placement it keeps.</summary>
public sealed record ServicePolicy
{
    /// <summary>As written in the policy: a service name or ARN.</summary>
    public required string Service { get; init; }
    /// <summary>Where the service stands in the policy file (<c>clusters[0].services[1]</c>).</summary>
    public string Path { get; init; } = "";
    public ScalingPolicy? Scaling { get; init; }
    public ServicePlacementPolicy? Placement { get; init; }

    public string Name => Arns.ServiceName(Service);

    public bool Matches(string serviceArnOrName) =>
        Service.StartsWith("arn:", StringComparison.Ordinal)
            ? string.Equals(Service, serviceArnOrName, StringComparison.Ordinal)
            : string.Equals(Name, Arns.ServiceName(serviceArnOrName), StringComparison.Ordinal);
}

internal static class ServicePolicyReader
{
    public static ServicePolicy Read(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "service", "scaling", "placement");
        var service = r.RequiredString(e, path, "service") ?? "";
        return new ServicePolicy
        {
            Service = service,
            Path = path,
            Scaling = r.OptionalObject(e, path, "scaling") is { } s ? ScalingPolicy.Read(r, s, Reader.Join(path, "scaling")) : null,
            Placement = r.OptionalObject(e, path, "placement") is { } p ? ServicePlacementPolicy.Read(r, p, Reader.Join(path, "placement")) : null,
        };
    }
}
