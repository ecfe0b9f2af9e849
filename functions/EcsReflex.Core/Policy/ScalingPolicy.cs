using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>How the service scaler may scale one service (issue: service scaler).</summary>
public sealed record ScalingPolicy
{
    internal static ScalingPolicy Read(Reader r, JsonElement e, string path)
    {
        r.Error(path, "service scaling is not supported by this version of EcsReflex yet; remove \"scaling\"");
        return new ScalingPolicy();
    }
}
