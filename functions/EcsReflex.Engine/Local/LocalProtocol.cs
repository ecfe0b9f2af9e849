using System.Text.Json.Serialization;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Local;

/// <summary>
/// The local services the Runtime API emulator serves beside the Runtime API, on the same loopback port,
/// for a bootstrap started in local replay mode (<c>REFLEX_LOCAL_REPLAY=1</c>): the one in-memory state
/// store and embedded cluster that every handler process shares (as deployed functions share the table),
/// the delay queue and the dead-letter queue, and the replay's simulated clock. Never used in AWS.
/// </summary>
public static class LocalProtocol
{
    public const string Prefix = "/reflex-local/v1/";
    public const string HasEvent = Prefix + "state/has-event";
    public const string RecordEvent = Prefix + "state/record-event";
    public const string GetLineage = Prefix + "state/get-lineage";
    public const string PutLineage = Prefix + "state/put-lineage";
    public const string TakeSlot = Prefix + "state/take-relaunch-slot";
    public const string Audit = Prefix + "state/audit";
    public const string Ec2InstanceId = Prefix + "cluster/ec2-instance-id";
    public const string DelayQueue = Prefix + "delay-queue";
    public const string DeadLetters = Prefix + "dead-letters";

    /// <summary>Header of the emulator's <c>next</c> response: the replay's simulated "now" for this invocation.</summary>
    public const string NowHeader = "Reflex-Local-Now";
}

public sealed record EventKeyRequest(string Key, DateTimeOffset? ExpiresAt = null);
public sealed record LineageKeyRequest(string Cluster, string Lineage);
public sealed record RelaunchSlotRequest(string Cluster, DateTimeOffset Minute, int Limit);
public sealed record Ec2InstanceIdRequest(string ClusterArn, string ContainerInstanceArn);
public sealed record BoolResult(bool Value);
public sealed record StringResult(string? Value);
public sealed record LineageResult(LineageRecord? Value);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EventKeyRequest))]
[JsonSerializable(typeof(LineageKeyRequest))]
[JsonSerializable(typeof(RelaunchSlotRequest))]
[JsonSerializable(typeof(Ec2InstanceIdRequest))]
[JsonSerializable(typeof(BoolResult))]
[JsonSerializable(typeof(StringResult))]
[JsonSerializable(typeof(LineageResult))]
[JsonSerializable(typeof(LineageRecord))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(DeadLetter))]
public sealed partial class LocalProtocolJsonContext : JsonSerializerContext;
