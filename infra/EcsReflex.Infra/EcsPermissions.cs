using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra;

/// <summary>
/// The IAM statements each handler needs for ECS, CloudWatch, Application Auto Scaling and iam:PassRole,
/// derived from the policy scope: nothing the policy does not name. (DynamoDB, SQS and logs come from the
/// grant methods of the stack's own table, queues and log groups.) A handler whose part of the policy is
/// empty gets no statement at all. No mutating ECS action is ever allowed on <c>"*"</c>.
/// </summary>
public static class EcsPermissions
{
    public const string EcsTasksService = "ecs-tasks.amazonaws.com";
    /// <summary>The service an EBS volume's infrastructure role is passed to.</summary>
    public const string EcsService = "ecs.amazonaws.com";

    public static HandlerPermissions For(string handler, PolicyScope scope, IReadOnlyList<string> passRoles)
    {
        IReadOnlyList<Grant> grants = handler switch
        {
            HandlerNames.TaskRescheduler => Relaunch(scope.RescheduleClusters, passRoles),
            HandlerNames.PlacementGuard => [.. Drain(scope.DrainClusters, passRoles), .. Services(scope.PlacementServices)],
            HandlerNames.RelaunchDue => DeferredWork(scope, passRoles, listed: scope.DrainClusters),
            HandlerNames.Reconciler => DeferredWork(scope, passRoles, listed: RescheduleOrDrainClusters(scope)),
            HandlerNames.ServiceScaler => [.. Services(scope.ScalingServices), .. Alarms(scope.AlarmNames), .. AutoScalingReads(scope.ScalingServices)],
            _ => throw new ArgumentOutOfRangeException(nameof(handler), handler, "not a handler of the bootstrap"),
        };
        return new HandlerPermissions(grants);
    }

    /// <summary>
    /// Why the wildcards in <paramref name="statements"/> are as narrow as they can be, for cdk-nag's
    /// AwsSolutions-IAM5 (wildcard permissions): one suppression per kind of wildcard that is present.
    /// </summary>
    internal static IReadOnlyList<Nag.Suppression> Justify(IReadOnlyList<Grant> grants)
    {
        var resources = grants.SelectMany(g => g.Resources).ToList();
        var suppressions = new List<Nag.Suppression>();
        if (resources.Any(r => r.Contains(":task/", StringComparison.Ordinal) || r.Contains(":container-instance/", StringComparison.Ordinal)
                               || (r.Contains(":task-definition/", StringComparison.Ordinal) && !r.EndsWith(":task-definition/*", StringComparison.Ordinal))))
            suppressions.Add(new("AwsSolutions-IAM5",
                "ECS task, container instance and task definition ARNs end in an id or a revision that ECS picks at run time; each wildcard is limited to one policy cluster (ARN path and ecs:cluster condition) or one policy task definition family",
                @"/^Resource::arn:.*:ecs:.*:(task|container-instance)\/[A-Za-z0-9_-]+\/\*$/g",
                @"/^Resource::arn:.*:ecs:.*:task-definition\/[A-Za-z0-9_-]+:\*$/g"));
        if (resources.Any(r => r.EndsWith(":task-definition/*", StringComparison.Ordinal)))
            suppressions.Add(new("AwsSolutions-IAM5",
                "a reschedule rule that names no task definition family (it matches by startedByPrefix or a custom group) can meet any family; RunTask stays limited to that policy cluster by the ecs:cluster condition, and the synth warns how to narrow it",
                @"/^Resource::arn:.*:ecs:.*:task-definition\/\*$/g"));
        if (resources.Contains("*"))
            suppressions.Add(new("AwsSolutions-IAM5",
                "ecs:ListTasks, the Application Auto Scaling reads and cloudwatch:GetMetricData support no resource-level permission; none of them changes anything, and ListTasks is limited to the policy's clusters by the ecs:cluster condition",
                "Resource::*"));
        return suppressions;
    }

    /// <summary>
    /// relaunch-due decides the deferred work of the rescheduler (relaunches after back-off or the rate limit), of the
    /// placement guard (drain moves, disconnect grace checks, stop deadlines) and of the scaler (a sustained alarm's
    /// re-decisions): the relaunch statements over the clusters of either of the first two, the guard's own reads and
    /// stops over its clusters, the services either the guard or the scaler updates, and the scaler's reads.
    /// </summary>
    /// <remarks>
    /// The reconciler (the sweep) gets the same statements: it decides what no event said as the rescheduler, the guard
    /// and the scaler would have decided it, so it may relaunch, move, stop, update a service or read an alarm, and it
    /// defers the same kinds of work. What it adds is how it finds that work, by listing: <c>ecs:ListTasks</c> (the
    /// STOPPED tasks ECS still shows, the tasks of a draining instance) over every cluster with reschedule rules or
    /// drain settings (<see cref="RescheduleOrDrainClusters"/>), one statement on <c>"*"</c> with the <c>ecs:cluster</c> condition,
    /// in place of relaunch-due's over the drain clusters; <c>ecs:ListContainerInstances</c> and
    /// <c>ecs:DescribeContainerInstances</c> over the drain clusters are already here. Listing changes nothing; every
    /// mutating action stays on the policy's clusters, task definitions and services.
    /// </remarks>
    /// <param name="listed">The clusters <c>ecs:ListTasks</c> is allowed in.</param>
    private static List<Grant> DeferredWork(PolicyScope scope, IReadOnlyList<string> passRoles, IReadOnlyList<ClusterScope> listed)
    {
        var statements = Relaunch(RescheduleOrDrainClusters(scope), passRoles);
        var drain = scope.DrainClusters;
        if (drain.Count > 0) statements.Add(ListContainerInstances(drain));
        if (listed.Count > 0) statements.Add(ListTasks(listed));
        if (drain.Count > 0) statements.Add(StopAndDescribeTasks(drain));
        statements.AddRange(Services([.. scope.PlacementServices.Concat(scope.ScalingServices).DistinctBy(s => s.Arn)]));
        statements.AddRange(Alarms(scope.AlarmNames));
        statements.AddRange(AutoScalingReads(scope.ScalingServices));
        return statements;
    }

    /// <summary>Clusters with reschedule rules or drain settings: where deferred or swept work may relaunch, and where the reconciler lists tasks (missed stops, missed drains).</summary>
    private static List<ClusterScope> RescheduleOrDrainClusters(PolicyScope scope) => [.. scope.Clusters.Where(c => c.HasRescheduleRules || c.Drain)];

    /// <summary>Relaunching standalone tasks of <paramref name="clusters"/> with the task definitions their rules cover.</summary>
    private static List<Grant> Relaunch(IReadOnlyList<ClusterScope> clusters, IReadOnlyList<string> passRoles)
    {
        var statements = new List<Grant>();
        if (clusters.Count == 0) return statements;
        statements.AddRange(RunTask(clusters, passRoles));
        statements.Add(Statement("DescribeTasks", ["ecs:DescribeTasks"], clusters.Select(c => c.TasksArn), InClusters(clusters)));
        statements.Add(Statement("DescribeContainerInstances", ["ecs:DescribeContainerInstances"], clusters.Select(c => c.ContainerInstancesArn), InClusters(clusters)));
        return statements;
    }

    /// <summary>Moving standalone tasks off draining or disconnected instances of <paramref name="clusters"/>.</summary>
    private static List<Grant> Drain(IReadOnlyList<ClusterScope> clusters, IReadOnlyList<string> passRoles)
    {
        var statements = new List<Grant>();
        if (clusters.Count == 0) return statements;
        statements.Add(ListContainerInstances(clusters));
        statements.Add(Statement("DescribeContainerInstances", ["ecs:DescribeContainerInstances"], clusters.Select(c => c.ContainerInstancesArn), InClusters(clusters)));
        statements.Add(ListTasks(clusters));
        statements.Add(StopAndDescribeTasks(clusters));
        statements.AddRange(RunTask(clusters, passRoles));
        return statements;
    }

    private static Grant ListContainerInstances(IReadOnlyList<ClusterScope> clusters) =>
        Statement("ListContainerInstances", ["ecs:ListContainerInstances"], clusters.Select(c => c.Arn));

    /// <summary>ListTasks authorizes on no resource that names the cluster: "*", limited by the ecs:cluster condition.</summary>
    private static Grant ListTasks(IReadOnlyList<ClusterScope> clusters) => Statement("ListTasks", ["ecs:ListTasks"], ["*"], InClusters(clusters));

    private static Grant StopAndDescribeTasks(IReadOnlyList<ClusterScope> clusters) =>
        Statement("StopAndDescribeTasks", ["ecs:StopTask", "ecs:DescribeTasks"], clusters.Select(c => c.TasksArn), InClusters(clusters));

    /// <summary>
    /// ecs:RunTask per cluster, on that cluster's task definitions only (a family allowed in one cluster is not
    /// allowed in another), with ecs:TagResource for the tags RunTask sets, and iam:PassRole for the roles named.
    /// </summary>
    private static List<Grant> RunTask(IReadOnlyList<ClusterScope> all, IReadOnlyList<string> passRoles)
    {
        var statements = new List<Grant>();
        // A cluster without reschedule rules names no task definition: nothing to relaunch there.
        var clusters = all.Where(c => c.TaskDefinitionArns.Count > 0).ToList();
        if (clusters.Count == 0) return statements;
        for (var i = 0; i < clusters.Count; i++)
            statements.Add(Statement($"RunTaskInCluster{i}", ["ecs:RunTask"], clusters[i].TaskDefinitionArns, InClusters([clusters[i]])));
        statements.Add(Statement("TagLaunchedTasks", ["ecs:TagResource"], clusters.Select(c => c.TasksArn),
            new() { ["StringEquals"] = new Dictionary<string, object> { ["ecs:CreateAction"] = new[] { "RunTask" } } }));
        if (passRoles.Count > 0)
            statements.Add(Statement("PassTaskRoles", ["iam:PassRole"], passRoles,
                new() { ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = new[] { EcsTasksService } } }));
        // The ECS infrastructure roles the rules' volumeConfigurations name: RunTask passes them to ECS for the EBS volumes.
        var volumeRoles = clusters.SelectMany(c => c.VolumeRoles).Distinct(StringComparer.Ordinal).ToList();
        if (volumeRoles.Count > 0)
            statements.Add(Statement("PassVolumeRoles", ["iam:PassRole"], volumeRoles,
                new() { ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = new[] { EcsService } } }));
        return statements;
    }

    private static List<Grant> Services(IReadOnlyList<ServiceScope> services) =>
        services.Count == 0 ? [] : [Statement("DescribeAndUpdateServices", ["ecs:DescribeServices", "ecs:UpdateService"], services.Select(s => s.Arn))];

    /// <summary>
    /// The policy's alarms: DescribeAlarms on them; GetMetricData (which supports no resource-level permission, so "*")
    /// for the newest datapoint of a sustained alarm's metric. Neither changes anything.
    /// </summary>
    private static List<Grant> Alarms(IReadOnlyList<string> alarmNames) =>
        alarmNames.Count == 0 ? [] :
        [
            Statement("DescribeAlarms", ["cloudwatch:DescribeAlarms"], alarmNames.Select(PolicyScope.AlarmArn)),
            Statement("ReadAlarmMetrics", ["cloudwatch:GetMetricData"], ["*"]),
        ];

    /// <summary>
    /// Whether Application Auto Scaling owns a service's desired count: these reads support no resource-level
    /// permission, so they are on "*"; they change nothing.
    /// </summary>
    private static List<Grant> AutoScalingReads(IReadOnlyList<ServiceScope> services) =>
        services.Count == 0 ? [] :
        [
            Statement("ReadAutoScaling", ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"], ["*"]),
        ];

    private static Dictionary<string, object> InClusters(IEnumerable<ClusterScope> clusters) =>
        new() { ["ArnEquals"] = new Dictionary<string, object> { ["ecs:cluster"] = clusters.Select(c => Render(c.Arn)).ToArray() } };

    private static Grant Statement(string sid, string[] actions, IEnumerable<string> resources, Dictionary<string, object>? conditions = null) =>
        new(sid, actions, [.. resources.Distinct(StringComparer.Ordinal)], conditions);

    /// <summary>One statement as plain data: the resources as the scope wrote them (templates not yet rendered).</summary>
    internal sealed record Grant(string Sid, string[] Actions, IReadOnlyList<string> Resources, Dictionary<string, object>? Conditions)
    {
        public PolicyStatement ToStatement()
        {
            var props = new PolicyStatementProps
            {
                Sid = Sid,
                Effect = Effect.ALLOW,
                Actions = Actions,
                Resources = [.. Resources.Select(Render)],
            };
            if (Conditions is not null) props.Conditions = Conditions;
            return new PolicyStatement(props);
        }
    }

    /// <summary>A literal ARN as is; a template over the stack's partition, region and account as <c>Fn::Sub</c>.</summary>
    public static string Render(string arn) => PolicyScope.IsTemplate(arn) ? Fn.Sub(arn) : arn;
}

/// <summary>A handler's statements, and the cdk-nag justifications of the wildcards they hold.</summary>
public sealed class HandlerPermissions
{
    internal HandlerPermissions(IReadOnlyList<EcsPermissions.Grant> grants)
    {
        Statements = [.. grants.Select(g => g.ToStatement())];
        Justifications = EcsPermissions.Justify(grants);
    }

    public IReadOnlyList<PolicyStatement> Statements { get; }
    public IReadOnlyList<Nag.Suppression> Justifications { get; }
}
