using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>The placement a service keeps, and its fallback (issue: placement guard).</summary>
public sealed record ServicePlacementPolicy
{
    internal static ServicePlacementPolicy Read(Reader r, JsonElement e, string path)
    {
        r.Error(path, "service placement is not supported by this version of EcsReflex yet; remove \"placement\"");
        return new ServicePlacementPolicy();
    }
}
