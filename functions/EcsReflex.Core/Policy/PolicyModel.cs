namespace EcsReflex.Core.Policy;

/// <summary>The whole policy: what EcsReflex may touch, and how. Anything it does not name is never touched.</summary>
public sealed record ReflexPolicy
{
    public required IReadOnlyList<ClusterPolicy> Clusters { get; init; }

    /// <summary>The sweep (the reconciler): how often it looks for what no event said (policy <c>reconcile</c>).</summary>
    public ReconcilePolicy Reconcile { get; init; } = new();

    /// <summary>The policy cluster an event's cluster ARN belongs to, or null when the policy does not name it.</summary>
    public ClusterPolicy? FindCluster(string? clusterArn)
    {
        if (string.IsNullOrEmpty(clusterArn)) return null;
        for (var i = 0; i < Clusters.Count; i++) // by index: asked for every event, an enumerator each time added up
            if (Clusters[i].Matches(clusterArn)) return Clusters[i];
        return null;
    }
}

public sealed record ClusterPolicy
{
    /// <summary>As written in the policy: a name or an ARN.</summary>
    public required string Cluster
    {
        get;
        init
        {
            field = value;
            Name = Arns.ClusterName(value); // asked for every action: computed once
        }
    }
    public required IReadOnlyList<RescheduleRule> Reschedule { get; init; }
    public required ClusterLimits Limits { get; init; }
    public IReadOnlyList<ServicePolicy> Services { get; init; } = [];
    public DrainPolicy? Drain { get; init; }

    /// <summary>The policy of a service of this cluster, or null when the policy does not name it.</summary>
    public ServicePolicy? FindService(string serviceArnOrName)
    {
        foreach (var s in Services)
            if (s.Matches(serviceArnOrName)) return s;
        return null;
    }

    public string Name { get; private init; } = "";
    public bool IsArn => Cluster.StartsWith("arn:", StringComparison.Ordinal);

    /// <summary>An ARN in the policy matches only that ARN; a bare name matches that name in any account and region.</summary>
    public bool Matches(string clusterArnOrName) =>
        IsArn ? string.Equals(Cluster, clusterArnOrName, StringComparison.Ordinal)
              : Name.AsSpan().SequenceEqual(Arns.ClusterNameSpan(clusterArnOrName));
}

public sealed record ClusterLimits
{
    public const int DefaultMaxRelaunchesPerMinute = 20;
    public int MaxRelaunchesPerMinute { get; init; } = DefaultMaxRelaunchesPerMinute;
}

public enum RestartMode { OnFailure, Always }

public sealed record RescheduleRule
{
    public required string Name { get; init; }
    /// <summary>Where the rule stands in the policy file (<c>clusters[0].reschedule[1]</c>), for messages that name a field.</summary>
    public string Path { get; init; } = "";
    public required TaskMatch Match { get; init; }
    public RestartMode Restart { get; init; } = RestartMode.OnFailure;
    public int MaxAttempts { get; init; } = 3;
    public Backoff Backoff { get; init; } = new();
    public int ResetAfterSeconds { get; init; } = 600;
    public IReadOnlyList<int> IgnoreExitCodes { get; init; } = [];
    public bool AvoidFailedInstance { get; init; } = true;
    public PlacementSpec Placement { get; init; } = PlacementSpec.Empty;
    public NetworkSpec? Network { get; init; }
    /// <summary>RunTask's <c>volumeConfigurations</c>, sent with every relaunch; required for tasks with an Amazon EBS volume.</summary>
    public IReadOnlyList<Ecs.TaskVolumeConfiguration> VolumeConfigurations { get; init; } = [];
    /// <summary>Carry the stopped task's own tags (DescribeTasks with TAGS) over to the relaunch. Default true.</summary>
    public bool CopyTags { get; init; } = true;
    /// <summary>RunTask's <c>propagateTags</c> (<c>TASK_DEFINITION</c> or <c>NONE</c>), sent when set.</summary>
    public string? PropagateTags { get; init; }
    /// <summary>RunTask's <c>enableECSManagedTags</c>, sent when set.</summary>
    public bool? EnableEcsManagedTags { get; init; }
}

/// <summary>All given conditions must hold.</summary>
public sealed record TaskMatch
{
    public string? Group { get; init; }
    public string? TaskDefinitionFamily { get; init; }
    public string? StartedByPrefix { get; init; }

    public bool Matches(string? group, string? taskDefinitionArn, string? startedBy) =>
        (Group is null || string.Equals(Group, group, StringComparison.Ordinal))
        && (TaskDefinitionFamily is null || (!string.IsNullOrEmpty(taskDefinitionArn) && TaskDefinitionFamily.AsSpan().SequenceEqual(Arns.TaskDefinitionFamilySpan(taskDefinitionArn))))
        && (StartedByPrefix is null || (startedBy is not null && startedBy.StartsWith(StartedByPrefix, StringComparison.Ordinal)));
}

public sealed record Backoff
{
    public double InitialSeconds { get; init; } = 10;
    public double Multiplier { get; init; } = 2;
    public double MaxSeconds { get; init; } = 300;

    /// <summary>Seconds to wait before attempt <paramref name="attempt"/> (1-based): min(initial × multiplier^(n−1), max).</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (attempt < 1) return TimeSpan.Zero;
        var seconds = InitialSeconds * Math.Pow(Multiplier, attempt - 1);
        if (double.IsNaN(seconds) || seconds > MaxSeconds) seconds = MaxSeconds;
        return TimeSpan.FromSeconds(Math.Max(0, seconds));
    }
}

public sealed record PlacementConstraintSpec(string Type, string? Expression);
public sealed record PlacementStrategySpec(string Type, string? Field);

public sealed record PlacementSpec
{
    public static readonly PlacementSpec Empty = new();
    public IReadOnlyList<PlacementConstraintSpec> Constraints { get; init; } = [];
    public IReadOnlyList<PlacementStrategySpec> Strategy { get; init; } = [];
}

public sealed record NetworkSpec
{
    public required IReadOnlyList<string> Subnets { get; init; }
    public IReadOnlyList<string> SecurityGroups { get; init; } = [];
    public string AssignPublicIp { get; init; } = "DISABLED";
}

/// <summary>
/// The reconciler's sweep (policy <c>reconcile</c>): every <see cref="IntervalSeconds"/>, the policy's clusters are looked
/// at for what no event said (a missed STOPPED event, …), and that is decided as the event would have been.
/// </summary>
public sealed record ReconcilePolicy
{
    public const int DefaultIntervalSeconds = 300, MinIntervalSeconds = 60, MaxIntervalSeconds = 86_400;

    /// <summary>Seconds between two sweeps (default 300; 60 to 86400: EventBridge's <c>rate()</c> counts whole minutes).</summary>
    public int IntervalSeconds { get; init; } = DefaultIntervalSeconds;

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);
}
