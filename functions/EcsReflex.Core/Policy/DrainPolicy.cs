using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>How standalone tasks are moved off draining or disconnected instances (issue: placement guard).</summary>
public sealed record DrainPolicy
{
    internal static DrainPolicy Read(Reader r, JsonElement e, string path)
    {
        r.Error(path, "drain settings are not supported by this version of EcsReflex yet; remove \"drain\"");
        return new DrainPolicy();
    }
}
