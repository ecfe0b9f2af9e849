using System.Text.Json;
using System.Text.RegularExpressions;
using EcsReflex.Core.Ecs;

namespace EcsReflex.Core.Policy;

/// <summary>
/// Reads a rule's <c>volumeConfigurations</c>: RunTask's <c>TaskVolumeConfiguration</c> list exactly as the ECS
/// API takes it (<c>name</c>, <c>managedEBSVolume</c> {…}), checked against the official model (members, types,
/// required members, enums) and the limits its documentation states, so that a mistake is found at load and not
/// by a relaunch that ECS refuses.
/// </summary>
internal static partial class VolumeConfigurationReader
{
    /// <summary>The volume types <c>TaskManagedEBSVolumeConfiguration.volumeType</c> documents, with their size ranges in GiB.</summary>
    public static readonly IReadOnlyDictionary<string, (int Min, int Max)> VolumeTypes = new Dictionary<string, (int, int)>(StringComparer.Ordinal)
    {
        ["gp2"] = (1, 16_384), ["gp3"] = (1, 16_384), ["io1"] = (4, 16_384), ["io2"] = (4, 16_384),
        ["st1"] = (125, 16_384), ["sc1"] = (125, 16_384), ["standard"] = (1, 1_024),
    };

    /// <summary>IOPS ranges by volume type (the types that take <c>iops</c>).</summary>
    private static readonly Dictionary<string, (int Min, int Max)> IopsRanges = new(StringComparer.Ordinal)
    {
        ["gp3"] = (3_000, 16_000), ["io1"] = (100, 64_000), ["io2"] = (100, 256_000), ["gp2"] = (100, 16_000),
    };

    /// <summary><c>TaskFilesystemType</c>.</summary>
    public static readonly string[] FilesystemTypes = ["ext3", "ext4", "xfs", "ntfs"];

    public const int MaxTags = 50;

    public static IReadOnlyList<TaskVolumeConfiguration> ReadList(Reader r, JsonElement rule, string rulePath)
    {
        var list = r.List(rule, rulePath, "volumeConfigurations", required: false, Read);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Name.Length == 0) continue;
            if (seen.TryGetValue(list[i].Name, out var first))
                r.Error($"{rulePath}.volumeConfigurations[{i}].name", $"volume \"{list[i].Name}\" is already configured at {rulePath}.volumeConfigurations[{first}]; a task definition volume is configured once");
            else seen[list[i].Name] = i;
        }
        return list;
    }

    private static TaskVolumeConfiguration Read(Reader r, JsonElement e, string path)
    {
        if (!r.Object(e, path, "name", "managedEBSVolume")) return new TaskVolumeConfiguration { Name = "" };
        var name = r.RequiredString(e, path, "name") ?? "";
        TaskManagedEbsVolumeConfiguration? ebs = null;
        if (r.OptionalObject(e, path, "managedEBSVolume") is { } m) ebs = ReadEbs(r, m, Reader.Join(path, "managedEBSVolume"));
        else if (!(e.TryGetProperty("managedEBSVolume", out var x) && x.ValueKind != JsonValueKind.Null))
            r.Error(Reader.Join(path, "managedEBSVolume"), "required field is missing; ECS configures only Amazon EBS volumes at launch: give at least \"roleArn\" (the ECS infrastructure role) and \"sizeInGiB\" or \"snapshotId\"");
        return new TaskVolumeConfiguration { Name = name, ManagedEbsVolume = ebs };
    }

    private static TaskManagedEbsVolumeConfiguration ReadEbs(Reader r, JsonElement e, string path)
    {
        r.Object(e, path, "encrypted", "kmsKeyId", "volumeType", "sizeInGiB", "snapshotId", "volumeInitializationRate", "iops",
            "throughput", "tagSpecifications", "roleArn", "terminationPolicy", "filesystemType");
        var roleArn = r.RequiredString(e, path, "roleArn") ?? "";
        if (roleArn.Length > 0 && !RoleArnPattern().IsMatch(roleArn))
            r.Error(Reader.Join(path, "roleArn"), $"\"{roleArn}\" is not an IAM role ARN; use the ECS infrastructure role, arn:aws:iam::ACCOUNT:role/NAME");

        var volumeType = r.OptionalString(e, path, "volumeType");
        (int Min, int Max) sizes = (1, 16_384);
        if (volumeType is not null)
        {
            if (VolumeTypes.TryGetValue(volumeType, out var range)) sizes = range;
            else r.Error(Reader.Join(path, "volumeType"), $"\"{volumeType}\" is not an Amazon EBS volume type; use one of: {string.Join(", ", VolumeTypes.Keys)}");
        }
        var typeName = volumeType ?? "gp3 (the default)";
        var size = r.OptionalInt(e, path, "sizeInGiB", 1, 16_384);
        if (size is { } gib && (gib < sizes.Min || gib > sizes.Max))
            r.Error(Reader.Join(path, "sizeInGiB"), $"{gib} GiB is out of range for {typeName}; use {sizes.Min} to {sizes.Max}");
        var snapshot = r.OptionalString(e, path, "snapshotId");
        if (snapshot is { Length: 0 }) r.Error(Reader.Join(path, "snapshotId"), "must not be empty");
        if (size is null && snapshot is null && !Present(e, "sizeInGiB"))
            r.Error(Reader.Join(path, "sizeInGiB"), "required when there is no snapshotId: ECS needs a volume size or a snapshot to create the volume; set \"sizeInGiB\" or \"snapshotId\"");
        var rate = r.OptionalInt(e, path, "volumeInitializationRate", 1, int.MaxValue);
        if (rate is not null && snapshot is null)
            r.Error(Reader.Join(path, "volumeInitializationRate"), "is only taken with a snapshotId (the rate at which the snapshot's data is fetched); set \"snapshotId\" or remove it");

        var iops = r.OptionalInt(e, path, "iops", 1, int.MaxValue);
        if (iops is { } io && volumeType is not null && VolumeTypes.ContainsKey(volumeType))
        {
            if (!IopsRanges.TryGetValue(volumeType, out var ir))
                r.Error(Reader.Join(path, "iops"), $"is not supported for {volumeType} volumes; remove it");
            else if (io < ir.Min || io > ir.Max)
                r.Error(Reader.Join(path, "iops"), $"{io} is out of range for {volumeType}; use {ir.Min} to {ir.Max}");
        }
        if (iops is null && volumeType is "io1" or "io2" && !Present(e, "iops"))
            r.Error(Reader.Join(path, "iops"), $"required for {volumeType} volumes; set the provisioned IOPS");
        var throughput = r.OptionalInt(e, path, "throughput", 1, 1_000);
        if (throughput is not null && volumeType is not null and not "gp3")
            r.Error(Reader.Join(path, "throughput"), $"is only supported for gp3 volumes, not {volumeType}; remove it or use \"volumeType\": \"gp3\"");

        var filesystem = r.OptionalString(e, path, "filesystemType");
        if (filesystem is not null && Array.IndexOf(FilesystemTypes, filesystem) < 0)
            r.Error(Reader.Join(path, "filesystemType"), $"\"{filesystem}\" is not a filesystem type; use one of: {string.Join(", ", FilesystemTypes)}");

        TaskManagedEbsVolumeTerminationPolicy? termination = null;
        if (r.OptionalObject(e, path, "terminationPolicy") is { } tp)
        {
            var tpp = Reader.Join(path, "terminationPolicy");
            r.Object(tp, tpp, "deleteOnTermination");
            if (!Present(tp, "deleteOnTermination"))
                r.Error(Reader.Join(tpp, "deleteOnTermination"), "required field is missing; true deletes the volume when the task stops, false keeps it");
            termination = new TaskManagedEbsVolumeTerminationPolicy { DeleteOnTermination = r.Bool(tp, tpp, "deleteOnTermination", true) };
        }

        var tagSpecs = r.List(e, path, "tagSpecifications", required: false, ReadTagSpecification);
        return new TaskManagedEbsVolumeConfiguration
        {
            Encrypted = r.OptionalBool(e, path, "encrypted"),
            KmsKeyId = r.OptionalString(e, path, "kmsKeyId"),
            VolumeType = volumeType,
            SizeInGiB = size,
            SnapshotId = snapshot,
            VolumeInitializationRate = rate,
            Iops = iops,
            Throughput = throughput,
            TagSpecifications = Present(e, "tagSpecifications") ? tagSpecs : null,
            RoleArn = roleArn,
            TerminationPolicy = termination,
            FilesystemType = filesystem,
        };
    }

    private static EbsTagSpecification ReadTagSpecification(Reader r, JsonElement e, string path)
    {
        if (!r.Object(e, path, "resourceType", "tags", "propagateTags")) return new EbsTagSpecification { ResourceType = "" };
        var type = r.RequiredString(e, path, "resourceType") ?? "";
        if (type.Length > 0 && type != "volume")
            r.Error(Reader.Join(path, "resourceType"), $"\"{type}\" is not an EBS resource type; use \"volume\"");
        var propagate = r.OptionalString(e, path, "propagateTags");
        switch (propagate)
        {
            case null or "TASK_DEFINITION" or "NONE": break;
            case "SERVICE":
                r.Error(Reader.Join(path, "propagateTags"), "\"SERVICE\" propagates only to a service's volumes; a relaunched task has no service: use \"TASK_DEFINITION\" or \"NONE\"");
                break;
            default:
                r.Error(Reader.Join(path, "propagateTags"), $"\"{propagate}\" is not a propagateTags value; use \"TASK_DEFINITION\" or \"NONE\"");
                break;
        }
        var tags = r.List(e, path, "tags", required: false, ReadTag);
        if (tags.Count > MaxTags)
            r.Error(Reader.Join(path, "tags"), $"has {tags.Count} tags; a volume takes at most {MaxTags}: remove {tags.Count - MaxTags}");
        return new EbsTagSpecification { ResourceType = type, Tags = Present(e, "tags") ? tags : null, PropagateTags = propagate };
    }

    private static Tag ReadTag(Reader r, JsonElement e, string path)
    {
        if (!r.Object(e, path, "key", "value")) return new Tag("", "");
        var key = r.RequiredString(e, path, "key") ?? "";
        var value = r.OptionalString(e, path, "value") ?? "";
        if (key.Length > 128) r.Error(Reader.Join(path, "key"), $"is {key.Length} characters long; a tag key has at most 128");
        if (value.Length > 256) r.Error(Reader.Join(path, "value"), $"is {value.Length} characters long; a tag value has at most 256");
        if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            r.Error(Reader.Join(path, "key"), $"\"{key}\" starts with aws:, which is reserved for AWS; choose another key");
        if (key is "AmazonECSCreated" or "AmazonECSManaged")
            r.Error(Reader.Join(path, "key"), $"\"{key}\" is reserved by ECS for the volumes it manages; choose another key");
        return new Tag(key, value);
    }

    private static bool Present(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")]
    private static partial Regex RoleArnPattern();
}
