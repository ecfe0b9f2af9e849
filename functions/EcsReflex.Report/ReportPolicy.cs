using EcsReflex.Core.Policy;

namespace EcsReflex.Report;

/// <summary>A service the policy lets the scaler scale, as the report needs it.</summary>
public sealed record ScaledServiceDeclaration(string Cluster, string Service, int? MinCount, int? MaxCount, IReadOnlyList<string> AlarmNames);

/// <summary>
/// The report's only view of the policy. Everything the charts take from the policy goes through here,
/// so a change of the policy model touches this file alone.
/// </summary>
public static class ReportPolicy
{
    /// <summary>Services with a <c>scaling</c> section, with their bounds and the alarms that drive them.</summary>
    public static IReadOnlyList<ScaledServiceDeclaration> ScaledServices(ReflexPolicy policy) =>
    [
        .. from c in policy.Clusters
           from s in c.Services
           where s.Scaling is not null
           select new ScaledServiceDeclaration(c.Name, s.Name, s.Scaling!.MinCount, s.Scaling.MaxCount, [.. s.Scaling.Alarms.Select(a => a.AlarmName)]),
    ];

    /// <summary>The relaunch limit of a cluster (name or ARN, as a request names it), as the actuator applies it.</summary>
    public static int RelaunchLimit(ReflexPolicy policy, string clusterArnOrName) =>
        policy.FindCluster(clusterArnOrName)?.Limits.MaxRelaunchesPerMinute
        ?? policy.Clusters.FirstOrDefault(c => c.Name == Core.Arns.ClusterName(clusterArnOrName))?.Limits.MaxRelaunchesPerMinute
        ?? ClusterLimits.DefaultMaxRelaunchesPerMinute;
}
