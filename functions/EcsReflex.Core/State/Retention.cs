namespace EcsReflex.Core.State;

/// <summary>
/// How long the state store keeps each kind of record after its last write: <see cref="StateStore"/> writes them as
/// each item's expiry, which is the DynamoDB table's TTL and the in-memory backend's forgetting, so the replay forgets
/// exactly what production does.
/// </summary>
public static class Retention
{
    public static readonly TimeSpan Lineage = TimeSpan.FromDays(30);
    public static readonly TimeSpan Audit = TimeSpan.FromDays(30);
    /// <summary>After the minute it counts.</summary>
    public static readonly TimeSpan RelaunchSlot = TimeSpan.FromHours(1);
    public static readonly TimeSpan InstanceSeen = TimeSpan.FromDays(30);
    public static readonly TimeSpan DrainMove = TimeSpan.FromDays(30);
}
