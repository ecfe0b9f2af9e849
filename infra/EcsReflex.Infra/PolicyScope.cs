using EcsReflex.Core;
using EcsReflex.Core.Policy;

namespace EcsReflex.Infra;

/// <summary>
/// What the policy lets EcsReflex touch, in the terms the stack needs: cluster, task definition and
/// service ARNs for IAM, and the values EventBridge patterns match. The one place that reads the policy
/// for the infrastructure; no CDK types here, so it is tested as plain data.
/// </summary>
/// <remarks>
/// <para>ARNs. A cluster written as an ARN in the policy is used as written, and the cluster's tasks, task
/// definitions, container instances and services are placed in that ARN's partition, region and account.
/// A cluster written as a bare name lives where the stack is deployed: its ARNs are CloudFormation
/// <c>Fn::Sub</c> templates over <c>${AWS::Partition}</c>, <c>${AWS::Region}</c> and <c>${AWS::AccountId}</c>
/// (<see cref="IsTemplate"/>). The functions call ECS in their own region and account, so this is exact.</para>
/// <para>Event patterns. EventBridge's default bus receives the ECS events of its own account and region, so a
/// name-only cluster is matched by the suffix <c>:cluster/NAME</c> of <c>detail.clusterArn</c> (and a service
/// by the suffix <c>:service/CLUSTER/NAME</c> of <c>resources</c>): as exact as the full ARN, without tokens.</para>
/// </remarks>
public sealed record PolicyScope
{
    public required IReadOnlyList<ClusterScope> Clusters { get; init; }

    /// <summary>Clusters with at least one reschedule rule: the task rescheduler's (and relaunch-due's) whole world.</summary>
    public IReadOnlyList<ClusterScope> RescheduleClusters => [.. Clusters.Where(c => c.HasRescheduleRules)];

    /// <summary>Clusters whose standalone tasks the placement guard moves off draining or disconnected instances.</summary>
    public IReadOnlyList<ClusterScope> DrainClusters => [.. Clusters.Where(c => c.Drain)];

    /// <summary>Services whose placement the placement guard keeps.</summary>
    public IReadOnlyList<ServiceScope> PlacementServices => [.. Clusters.SelectMany(c => c.Services).Where(s => s.Placement)];

    /// <summary>Services the service scaler may scale.</summary>
    public IReadOnlyList<ServiceScope> ScalingServices => [.. Clusters.SelectMany(c => c.Services).Where(s => s.Scaling)];

    /// <summary>Every alarm name the scaler listens to, once each, in policy order.</summary>
    public IReadOnlyList<string> AlarmNames => [.. ScalingServices.SelectMany(s => s.AlarmNames).Distinct(StringComparer.Ordinal)];

    /// <summary>The reschedule rules that do not name a task definition family, so RunTask is allowed on every family of their cluster.</summary>
    public IReadOnlyList<string> RulesWithoutFamily => [.. Clusters.SelectMany(c => c.TaskDefinitions.RulesWithoutFamily.Select(r => $"{c.Path}.reschedule: rule \"{r}\""))];

    public const string StackPrefix = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:";
    public const string StackCloudWatchPrefix = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:";

    /// <summary>True when <paramref name="arn"/> is a CloudFormation <c>Fn::Sub</c> template rather than a literal.</summary>
    public static bool IsTemplate(string arn) => arn.Contains("${", StringComparison.Ordinal);

    /// <summary>The ARN of alarm <paramref name="alarmName"/> in the stack's account and region.</summary>
    public static string AlarmArn(string alarmName) => $"{StackCloudWatchPrefix}alarm:{alarmName}";

    public static PolicyScope From(ReflexPolicy policy) =>
        new() { Clusters = [.. policy.Clusters.Select((c, i) => ClusterScope.From(c, $"clusters[{i}]"))] };

    /// <summary>The alarm names a service's scaling listens to (<c>scaling.alarms[].alarmName</c>): the scaler's rule and grants follow them.</summary>
    public static IReadOnlyList<string> AlarmNamesOf(ScalingPolicy scaling) => [.. scaling.Alarms.Select(a => a.AlarmName)];
}

/// <summary>One policy cluster as the stack sees it.</summary>
public sealed record ClusterScope
{
    public required string Name { get; init; }
    /// <summary><c>clusters[i]</c>, for messages that name a policy field.</summary>
    public required string Path { get; init; }
    /// <summary>The cluster ARN (a literal, or an <c>Fn::Sub</c> template for a name-only cluster).</summary>
    public required string Arn { get; init; }
    /// <summary><c>arn:PARTITION:ecs:REGION:ACCOUNT:</c> where the cluster's resources live.</summary>
    public required string ResourcePrefix { get; init; }
    /// <summary>True when the policy names the cluster by its ARN.</summary>
    public required bool ByArn { get; init; }
    public required bool HasRescheduleRules { get; init; }
    public required TaskDefinitionScope TaskDefinitions { get; init; }
    public required IReadOnlyList<ServiceScope> Services { get; init; }
    public required bool Drain { get; init; }
    /// <summary>
    /// The ECS infrastructure roles of the cluster's rules' EBS volumes (<c>volumeConfigurations[].managedEBSVolume.roleArn</c>):
    /// RunTask passes them to ECS.
    /// </summary>
    public IReadOnlyList<string> VolumeRoles { get; init; } = [];

    /// <summary>Tasks of this cluster (<c>task/CLUSTER/*</c>): StopTask, DescribeTasks, TagResource.</summary>
    public string TasksArn => $"{ResourcePrefix}task/{Name}/*";

    /// <summary>Container instances of this cluster: DescribeContainerInstances.</summary>
    public string ContainerInstancesArn => $"{ResourcePrefix}container-instance/{Name}/*";

    /// <summary>The task definition ARNs RunTask may use in this cluster.</summary>
    public IReadOnlyList<string> TaskDefinitionArns =>
        TaskDefinitions.AnyFamily
            ? [$"{ResourcePrefix}task-definition/*"]
            : [.. TaskDefinitions.Families.Select(f => $"{ResourcePrefix}task-definition/{f}:*")];

    /// <summary>
    /// What matches this cluster in <c>detail.clusterArn</c>: the ARN itself, or for a name-only cluster the
    /// EventBridge content filter <c>{"suffix": ":cluster/NAME"}</c>.
    /// </summary>
    public object EventMatcher => ByArn ? Arn : new Dictionary<string, object> { ["suffix"] = $":cluster/{Name}" };

    internal static ClusterScope From(ClusterPolicy c, string path)
    {
        var byArn = c.IsArn;
        var prefix = byArn ? c.Cluster[..(c.Cluster.IndexOf(":cluster/", StringComparison.Ordinal) + 1)] : PolicyScope.StackPrefix;
        var arn = byArn ? c.Cluster : $"{prefix}cluster/{c.Name}";
        return new ClusterScope
        {
            Name = c.Name,
            Path = path,
            Arn = arn,
            ResourcePrefix = prefix,
            ByArn = byArn,
            HasRescheduleRules = c.Reschedule.Count > 0,
            TaskDefinitions = TaskDefinitionScope.From(c.Reschedule),
            Services = [.. c.Services.Select(s => ServiceScope.From(s, c.Name, prefix, byArn))],
            Drain = c.Drain is not null,
            VolumeRoles = [.. c.Reschedule.SelectMany(r => r.VolumeConfigurations).Select(v => v.ManagedEbsVolume?.RoleArn)
                .OfType<string>().Where(r => r.Length > 0).Distinct(StringComparer.Ordinal)],
        };
    }
}

/// <summary>
/// The task definition families a cluster's reschedule rules relaunch. A rule's family is its
/// <c>match.taskDefinitionFamily</c>, or else X from a <c>match.group</c> of <c>family:X</c> (the group ECS
/// gives a standalone task by default). A rule that matches only by <c>startedByPrefix</c> or by a custom
/// group can meet a task of any family, so RunTask is then allowed on every task definition
/// (<c>task-definition/*</c>) of the cluster's account and region, still only in the policy's clusters
/// (the <c>ecs:cluster</c> condition). <see cref="RulesWithoutFamily"/> names those rules so the synth can
/// say how to narrow them.
/// </summary>
public sealed record TaskDefinitionScope
{
    public required IReadOnlyList<string> Families { get; init; }
    public required IReadOnlyList<string> RulesWithoutFamily { get; init; }
    public bool AnyFamily => RulesWithoutFamily.Count > 0;

    public const string FamilyGroupPrefix = "family:";

    /// <summary>The family a rule is limited to, or null when its match allows any family.</summary>
    public static string? FamilyOf(TaskMatch match) =>
        match.TaskDefinitionFamily
        ?? (match.Group is { } g && g.StartsWith(FamilyGroupPrefix, StringComparison.Ordinal) && g.Length > FamilyGroupPrefix.Length
            ? g[FamilyGroupPrefix.Length..]
            : null);

    internal static TaskDefinitionScope From(IReadOnlyList<RescheduleRule> rules)
    {
        var families = new List<string>();
        var without = new List<string>();
        foreach (var r in rules)
        {
            if (FamilyOf(r.Match) is { } f)
            {
                if (!families.Contains(f, StringComparer.Ordinal)) families.Add(f);
            }
            else without.Add(r.Name);
        }
        return new TaskDefinitionScope { Families = families, RulesWithoutFamily = without };
    }
}

/// <summary>One policy service as the stack sees it.</summary>
public sealed record ServiceScope
{
    public required string Cluster { get; init; }
    public required string Name { get; init; }
    /// <summary>The service ARN (new format, <c>service/CLUSTER/NAME</c>; a literal or an <c>Fn::Sub</c> template).</summary>
    public required string Arn { get; init; }
    public required bool Scaling { get; init; }
    public required bool Placement { get; init; }
    public required IReadOnlyList<string> AlarmNames { get; init; }
    /// <summary>
    /// What matches this service in an event's <c>resources</c>: the ARN, or for a service of a name-only
    /// cluster the content filter <c>{"suffix": ":service/CLUSTER/NAME"}</c>.
    /// </summary>
    public required object EventMatcher { get; init; }

    internal static ServiceScope From(ServicePolicy s, string cluster, string prefix, bool clusterByArn)
    {
        var byArn = s.Service.StartsWith("arn:", StringComparison.Ordinal);
        var arn = byArn ? s.Service : $"{prefix}service/{cluster}/{s.Name}";
        return new ServiceScope
        {
            Cluster = cluster,
            Name = s.Name,
            Arn = arn,
            Scaling = s.Scaling is not null,
            Placement = s.Placement is not null,
            AlarmNames = s.Scaling is { } sc ? PolicyScope.AlarmNamesOf(sc) : [],
            EventMatcher = byArn || clusterByArn ? arn : new Dictionary<string, object> { ["suffix"] = $":service/{cluster}/{s.Name}" },
        };
    }
}
