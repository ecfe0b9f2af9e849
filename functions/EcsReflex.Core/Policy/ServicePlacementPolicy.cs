using System.Text.Json;

namespace EcsReflex.Core.Policy;

/// <summary>
/// The placement a service keeps (the placement guard): its constraints and strategies, whether EcsReflex
/// enforces them after deployments, and a fallback applied after a placement failure caused by the
/// constraints, restored on the first steady state <see cref="RestoreAfterSeconds"/> later.
/// </summary>
public sealed record ServicePlacementPolicy
{
    public const int DefaultRestoreAfterSeconds = 900;
    public const int MaxRestoreAfterSeconds = 604_800;

    /// <summary>The preferred placement: what the service should have.</summary>
    public PlacementSpec Preferred { get; init; } = PlacementSpec.Empty;
    /// <summary>When true, a deployment that leaves the service with another placement gets it restored.</summary>
    public bool Enforce { get; init; }
    /// <summary>The placement to switch to after a placement failure caused by the constraints; null: none.</summary>
    public PlacementSpec? Fallback { get; init; }
    /// <summary>Seconds the fallback stays at least before the preferred placement is restored.</summary>
    public int RestoreAfterSeconds { get; init; } = DefaultRestoreAfterSeconds;

    public IReadOnlyList<PlacementConstraintSpec> Constraints => Preferred.Constraints;
    public IReadOnlyList<PlacementStrategySpec> Strategy => Preferred.Strategy;

    internal static ServicePlacementPolicy Read(Reader r, JsonElement e, string path)
    {
        var preferred = PolicyLoader.ReadPlacement(r, e, path, "enforce", "fallback", "restoreAfterSeconds");
        var fallback = r.OptionalObject(e, path, "fallback") is { } f ? PolicyLoader.ReadPlacement(r, f, Reader.Join(path, "fallback")) : null;
        var hasRestore = e.ValueKind == JsonValueKind.Object && e.TryGetProperty("restoreAfterSeconds", out var rs) && rs.ValueKind != JsonValueKind.Null;
        var restore = r.Int(e, path, "restoreAfterSeconds", DefaultRestoreAfterSeconds, min: 0, max: MaxRestoreAfterSeconds);
        if (hasRestore && fallback is null)
            r.Error(Reader.Join(path, "restoreAfterSeconds"), "says when to leave the fallback placement, but there is no \"fallback\"; add one or remove restoreAfterSeconds");
        return new ServicePlacementPolicy
        {
            Preferred = preferred,
            Enforce = r.Bool(e, path, "enforce", false),
            Fallback = fallback,
            RestoreAfterSeconds = restore,
        };
    }
}
