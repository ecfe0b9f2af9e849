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
    /// <summary>
    /// Services with a <c>scaling</c> section. Their bounds and alarm names are filled in once the scaler's
    /// policy model carries them: with <c>s.Scaling</c> of type <see cref="ScalingPolicy"/>, set
    /// <c>MinCount: s.Scaling.MinCount, MaxCount: s.Scaling.MaxCount, AlarmNames: [.. s.Scaling.Alarms.Select(a => a.AlarmName)]</c>.
    /// Until then a chart shows no min/max lines and marks the alarms learnt from the decisions.
    /// </summary>
    public static IReadOnlyList<ScaledServiceDeclaration> ScaledServices(ReflexPolicy policy) =>
    [
        .. from c in policy.Clusters
           from s in c.Services
           where s.Scaling is not null
           select new ScaledServiceDeclaration(c.Name, s.Name, MinCount: null, MaxCount: null, AlarmNames: []),
    ];

    /// <summary>The relaunch limit of a cluster (name or ARN, as a request names it), as the actuator applies it.</summary>
    public static int RelaunchLimit(ReflexPolicy policy, string clusterArnOrName) =>
        policy.FindCluster(clusterArnOrName)?.Limits.MaxRelaunchesPerMinute
        ?? policy.Clusters.FirstOrDefault(c => c.Name == Core.Arns.ClusterName(clusterArnOrName))?.Limits.MaxRelaunchesPerMinute
        ?? ClusterLimits.DefaultMaxRelaunchesPerMinute;
}
