using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>
/// How standalone tasks are moved off container instances that are draining or whose agent disconnected
/// (the placement guard). A cluster without <c>"drain"</c> uses <see cref="Default"/>.
/// </summary>
public sealed record DrainPolicy
{
    public const int DefaultAgentDisconnectedGraceSeconds = 300;
    public const int MaxSeconds = 86_400;

    public static readonly DrainPolicy Default = new();

    /// <summary>
    /// Seconds after starting a replacement to stop the original even if the replacement is not RUNNING
    /// yet. Null (the default): the original is stopped only once its replacement is RUNNING.
    /// </summary>
    public int? StopOriginalAfterSeconds { get; init; }

    /// <summary>Seconds an agent may stay disconnected before its instance's standalone tasks are replaced. Default 300.</summary>
    public int AgentDisconnectedGraceSeconds { get; init; } = DefaultAgentDisconnectedGraceSeconds;

    internal static DrainPolicy Read(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "stopOriginalAfterSeconds", "agentDisconnectedGraceSeconds");
        int? stopAfter = null;
        if (e.TryGetProperty("stopOriginalAfterSeconds", out var s) && s.ValueKind != JsonValueKind.Null)
            stopAfter = r.Int(e, path, "stopOriginalAfterSeconds", -1, min: 0, max: MaxSeconds) is var v and >= 0 ? v : null;
        return new DrainPolicy
        {
            StopOriginalAfterSeconds = stopAfter,
            AgentDisconnectedGraceSeconds = r.Int(e, path, "agentDisconnectedGraceSeconds", DefaultAgentDisconnectedGraceSeconds, min: 0, max: MaxSeconds),
        };
    }
}
