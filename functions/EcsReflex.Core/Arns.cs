namespace EcsReflex.Core;

/// <summary>Small helpers for ECS ARNs. Pure string work, no validation beyond what is needed.</summary>
public static class Arns
{
    public static string LastSegment(string arn) => AsString(LastSegmentSpan(arn), arn);

    /// <summary>The name of a cluster given as a name or an ARN (<c>arn:...:cluster/NAME</c>).</summary>
    public static string ClusterName(string nameOrArn) => AsString(ClusterNameSpan(nameOrArn), nameOrArn);

    /// <summary>The task definition family of <c>arn:...:task-definition/FAMILY:REV</c> (or <c>FAMILY:REV</c>).</summary>
    public static string? TaskDefinitionFamily(string? taskDefinitionArn) =>
        string.IsNullOrEmpty(taskDefinitionArn) ? null : AsString(TaskDefinitionFamilySpan(taskDefinitionArn), taskDefinitionArn);

    // The same as slices of their argument (no new string), for comparisons made on every event; the string
    // forms above are these, copied out.

    /// <summary><see cref="LastSegment"/> as a slice of its argument.</summary>
    public static ReadOnlySpan<char> LastSegmentSpan(string arn)
    {
        var i = arn.LastIndexOf('/');
        return i >= 0 ? arn.AsSpan(i + 1) : arn;
    }

    /// <summary><see cref="ClusterName"/> as a slice of its argument.</summary>
    public static ReadOnlySpan<char> ClusterNameSpan(string nameOrArn)
    {
        const string marker = ":cluster/";
        var i = nameOrArn.IndexOf(marker, StringComparison.Ordinal);
        return i >= 0 ? nameOrArn.AsSpan(i + marker.Length) : nameOrArn;
    }

    /// <summary><see cref="TaskDefinitionFamily"/> as a slice of its argument (empty for null or empty).</summary>
    public static ReadOnlySpan<char> TaskDefinitionFamilySpan(string? taskDefinitionArn)
    {
        if (string.IsNullOrEmpty(taskDefinitionArn)) return default;
        var s = LastSegmentSpan(taskDefinitionArn);
        var colon = s.LastIndexOf(':');
        return colon > 0 ? s[..colon] : s;
    }

    /// <summary>A slice of <paramref name="whole"/> as a string: <paramref name="whole"/> itself when the slice is all of it.</summary>
    private static string AsString(ReadOnlySpan<char> slice, string whole) => slice.Length == whole.Length ? whole : slice.ToString();

    /// <summary>
    /// Cluster ARN of a service ARN. New format <c>arn:aws:ecs:R:A:service/CLUSTER/NAME</c>;
    /// the old format <c>service/NAME</c> names no cluster (null: the "default" cluster is not assumed).
    /// </summary>
    public static string? ClusterArnOfService(string serviceArn)
    {
        var parts = serviceArn.Split(':', 6);
        if (parts.Length < 6) return null;
        var resource = parts[5];
        if (!resource.StartsWith("service/", StringComparison.Ordinal)) return null;
        var path = resource["service/".Length..].Split('/');
        if (path.Length != 2) return null;
        return $"{parts[0]}:{parts[1]}:{parts[2]}:{parts[3]}:{parts[4]}:cluster/{path[0]}";
    }

    /// <summary>
    /// Cluster ARN of a container instance ARN. New format <c>arn:aws:ecs:R:A:container-instance/CLUSTER/ID</c>;
    /// the old format <c>container-instance/ID</c> names no cluster (null).
    /// </summary>
    public static string? ClusterArnOfContainerInstance(string containerInstanceArn)
    {
        var parts = containerInstanceArn.Split(':', 6);
        if (parts.Length < 6 || !parts[5].StartsWith("container-instance/", StringComparison.Ordinal)) return null;
        var path = parts[5]["container-instance/".Length..].Split('/');
        if (path.Length != 2) return null;
        return $"{parts[0]}:{parts[1]}:{parts[2]}:{parts[3]}:{parts[4]}:cluster/{path[0]}";
    }

    /// <summary>
    /// The cluster ARN for <paramref name="clusterNameOrArn"/>: itself when it is an ARN, else the name in the partition,
    /// region and account of <paramref name="sameAccountArn"/> (any ECS ARN), or null when that is not an ARN.
    /// </summary>
    public static string? ClusterArnIn(string clusterNameOrArn, string sameAccountArn)
    {
        if (clusterNameOrArn.StartsWith("arn:", StringComparison.Ordinal)) return clusterNameOrArn;
        var parts = sameAccountArn.Split(':', 6);
        if (parts.Length < 6 || parts[0] != "arn") return null;
        return $"{parts[0]}:{parts[1]}:{parts[2]}:{parts[3]}:{parts[4]}:cluster/{clusterNameOrArn}";
    }

    public static string ServiceName(string serviceArnOrName) => LastSegment(serviceArnOrName);

    /// <summary>The EC2 instance id is not in a container instance ARN; this returns the container instance id.</summary>
    public static string ContainerInstanceId(string containerInstanceArn) => LastSegment(containerInstanceArn);
}
