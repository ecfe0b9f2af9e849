using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Decisions;

/// <summary>How a stop is classified. <see cref="Infrastructure"/> does not count towards maxAttempts.</summary>
public enum StopKind { NotStopped, UserInitiated, Success, Exit, Oom, Start, Infrastructure, Other }

/// <summary>What the engine observed before deciding: nothing here is fetched by the core itself.</summary>
public sealed record TaskObservation
{
    /// <summary>The lineage record of the stopped task's chain, if one was recorded.</summary>
    public LineageRecord? Lineage { get; init; }
    /// <summary>EC2 instance id of the container instance the task ran on, when known.</summary>
    public string? FailedEc2InstanceId { get; init; }
    /// <summary>The placement guard's move of the stopped task's lineage, if one was recorded.</summary>
    public DrainMoveRecord? DrainMove { get; init; }
    /// <summary>
    /// The stopped task's own tags (DescribeTasks with TAGS), or null when they were not read: the engine reads them
    /// only once a decision relaunches (<see cref="TaskRescheduler.WantsTags"/>) and then decides again with them.
    /// </summary>
    public TaskTagsObservation? Tags { get; init; }

    public static readonly TaskObservation None = new();
}

/// <summary>
/// The task rescheduler's decisions. Pure: the event, what was observed, the policy and the time in;
/// a <see cref="Decision"/> out.
/// </summary>
public static class TaskRescheduler
{
    public const string StartedByPrefix = "reflex/";
    public const string LineageTag = "reflex:lineage";
    public const string AttemptTag = "reflex:attempt";
    public const string OriginalStartedByTag = "reflex:startedBy";
    public const string RuleTag = "reflex:rule";
    /// <summary>The prefix of EcsReflex's own tags: set anew on every relaunch, never copied from the stopped task.</summary>
    public const string OwnTagPrefix = "reflex:";
    /// <summary>RunTask's limit on <c>tags</c> (the model's <c>Tags</c> shape: at most 50).</summary>
    public const int MaxTags = 50;
    /// <summary>The attachment type of an Amazon EBS volume ECS attached to a task.</summary>
    public const string EbsAttachmentType = "AmazonElasticBlockStorage";

    public static bool IsServiceTask(TaskStateChange t) =>
        (t.Group?.StartsWith("service:", StringComparison.Ordinal) ?? false)
        || (t.StartedBy?.StartsWith("ecs-svc/", StringComparison.Ordinal) ?? false);

    /// <summary>Parses <c>reflex/&lt;lineage&gt;/&lt;attempt&gt;</c>; false for any other startedBy.</summary>
    public static bool TryParseLineage(string? startedBy, out string lineage, out int attempt)
    {
        lineage = "";
        attempt = 0;
        if (startedBy is null || !startedBy.StartsWith(StartedByPrefix, StringComparison.Ordinal)) return false;
        var rest = startedBy.AsSpan(StartedByPrefix.Length);
        var slash = rest.LastIndexOf('/');
        if (slash <= 0) return false;
        if (!int.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out attempt)) return false;
        lineage = rest[..slash].ToString();
        return lineage.Length > 0;
    }

    /// <summary>
    /// The RunTask client token for replacing one stopped task: the same stop always gives the same
    /// token (ECS then launches at most once), two different stops never share one. 64 characters.
    /// </summary>
    public static string ClientToken(string cluster, string stoppedTaskArn, string purpose = "relaunch")
    {
        // SHA-256 of "purpose\ncluster\narn", 57 hex digits: "reflex-" + 57 = 64 characters, ECS's limit.
        var length = Encoding.UTF8.GetByteCount(purpose) + Encoding.UTF8.GetByteCount(cluster) + Encoding.UTF8.GetByteCount(stoppedTaskArn) + 2;
        var rented = length <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        Span<byte> text = rented ?? stackalloc byte[512];
        var n = Encoding.UTF8.GetBytes(purpose, text);
        text[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(cluster, text[n..]);
        text[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(stoppedTaskArn, text[n..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(text[..n], hash);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        Span<char> token = stackalloc char[7 + 64];
        "reflex-".CopyTo(token);
        Convert.TryToHexStringLower(hash, token[7..], out _);
        return new string(token[..64]);
    }

    public readonly record struct Classification(StopKind Kind, string What, string? Container);

    /// <summary>Why the task stopped, in the rescheduler's terms, with a few words for the reason.</summary>
    public static Classification Classify(TaskStateChange t, IReadOnlyList<int> ignoreExitCodes)
    {
        if (!string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal))
            return new(StopKind.NotStopped, $"is {t.LastStatus}, not STOPPED", null);
        switch (t.StopCode)
        {
            case "UserInitiated":
                return new(StopKind.UserInitiated, $"was stopped by a user ({Short(t.StoppedReason) ?? "UserInitiated"})", null);
            case "SpotInterruption":
                return new(StopKind.Infrastructure, "lost its Spot capacity (SpotInterruption)", null);
            case "TerminationNotice":
                return new(StopKind.Infrastructure, "lost its host (TerminationNotice)", null);
            case "TaskFailedToStart":
                return new(StopKind.Start, $"failed to start ({Short(t.StoppedReason) ?? Short(t.Containers.FirstOrDefault(c => c.Reason is not null)?.Reason) ?? "TaskFailedToStart"})", null);
            case "ServiceSchedulerInitiated":
                return new(StopKind.Other, "was stopped by the service scheduler (ServiceSchedulerInitiated)", null);
            case null or "EssentialContainerExited":
                break;
            default:
                return new(StopKind.Other, $"stopped with code {t.StopCode}, which the rescheduler does not treat as a failure", null);
        }

        foreach (var c in t.Containers)
            if (c.Reason?.Contains("OutOfMemoryError", StringComparison.Ordinal) == true)
                return new(StopKind.Oom, $"{c.Name ?? "a container"} ran out of memory (exit {c.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}, OutOfMemoryError)", c.Name);

        ContainerDetail? failed = null;
        var ignored = new List<string>();
        var zeros = 0;
        foreach (var c in t.Containers)
        {
            if (c.ExitCode is { } code)
            {
                if (code == 0) zeros++;
                else if (ignoreExitCodes.Contains(code)) ignored.Add($"{c.Name} exited {code}");
                else failed ??= c;
            }
            else if (c.Reason is not null && failed is null) failed = c;
        }
        if (failed is not null)
            return failed.ExitCode is { } ec
                ? new(StopKind.Exit, $"{failed.Name ?? "a container"} exited {ec}", failed.Name)
                : new(StopKind.Exit, $"{failed.Name ?? "a container"} stopped without an exit code ({Short(failed.Reason)})", failed.Name);
        if (ignored.Count > 0)
            return new(StopKind.Success, $"{string.Join(", ", ignored)}, listed in ignoreExitCodes", null);
        if (zeros > 0)
            return new(StopKind.Success, zeros == t.Containers.Count ? "exited 0" : "exited 0 where it reported exit codes", null);
        if (t.StopCode == "EssentialContainerExited")
            return new(StopKind.Exit, $"had an essential container exit ({Short(t.StoppedReason) ?? "no exit code in the event"})", null);
        return new(StopKind.Other, $"stopped for a reason the event does not say ({Short(t.StoppedReason) ?? "no stop code, no exit codes"})", null);
    }

    private static string? Short(string? s) => s is null ? null : s.Length <= 120 ? s : s[..117] + "...";

    public static Decision Decide(TaskStateChange t, ReflexPolicy policy, TaskObservation observed, DateTimeOffset now)
    {
        var family = Arns.TaskDefinitionFamily(t.TaskDefinitionArn);
        var name = family is null ? $"task {t.TaskId}" : $"task {t.TaskId} ({family})";
        if (!string.Equals(t.LastStatus, "STOPPED", StringComparison.Ordinal))
            return Decision.Ignored(ReasonCodes.ReschedulerNotStopped, $"{name} is {t.LastStatus}, not STOPPED: the rescheduler reacts to stops only");
        var cluster = policy.FindCluster(t.ClusterArn);
        if (cluster is null)
            return Decision.Ignored(ReasonCodes.ReschedulerClusterNotInPolicy, $"cluster {Arns.ClusterName(t.ClusterArn)} is not in the policy");
        if (IsServiceTask(t))
            return Decision.Ignored(ReasonCodes.ReschedulerServiceTask, $"{name} belongs to a service ({t.Group ?? t.StartedBy}): the ECS service scheduler replaces it");

        var reflexStarted = TryParseLineage(t.StartedBy, out var lineage, out var attempt);
        if (!reflexStarted) { lineage = t.TaskId; attempt = 0; }
        var record = observed.Lineage;
        var rule = FindRule(cluster, t, reflexStarted, record);
        if (rule is null)
            return Decision.Ignored(ReasonCodes.ReschedulerNoRule, $"{name} matches no reschedule rule of cluster {cluster.Name}");
        if (record is { GivenUp: true })
            return Decision.Ignored(ReasonCodes.ReschedulerGivenUp, $"{name}: lineage {lineage} was given up after attempt {record.Attempt}; nothing more is relaunched");

        var c = Classify(t, rule.IgnoreExitCodes);
        var prefix = $"{name}: {c.What}";
        switch (c.Kind)
        {
            case StopKind.UserInitiated or StopKind.Other or StopKind.NotStopped:
                return Decision.Ignored(ReasonCodes.ReschedulerNotAFailure, $"{prefix}: not a failure");
            case StopKind.Success when rule.Restart != RestartMode.Always:
                return Decision.Ignored(ReasonCodes.ReschedulerSuccess, $"{prefix}: success, and rule {rule.Name} restarts on failure only");
        }
        if (observed.DrainMove is { } move && move.OriginalTaskArn == t.TaskArn)
            return Decision.Ignored(ReasonCodes.ReschedulerBeingMoved, $"{prefix}, but it was being moved off container instance {move.Ec2InstanceId ?? Arns.ContainerInstanceId(move.ContainerInstanceArn)}: its replacement ({move.ReplacementStartedBy}) carries lineage {lineage} on, so it is not relaunched");

        var stoppedAt = t.StoppedAt ?? t.UpdatedAt ?? now;
        var ranFor = t.StartedAt is { } started ? stoppedAt - started : (TimeSpan?)null;
        var reset = ranFor is { } rf && rf > TimeSpan.FromSeconds(rule.ResetAfterSeconds) && attempt > 0;
        var current = reset ? 0 : attempt;

        int next;
        TimeSpan delay;
        string countNote;
        switch (c.Kind)
        {
            case StopKind.Infrastructure:
                next = current;
                delay = TimeSpan.Zero;
                countNote = $"infrastructure, not counted (attempt {current} of {rule.MaxAttempts})";
                break;
            case StopKind.Success:
                next = 0;
                delay = TimeSpan.Zero;
                countNote = "restart: Always";
                break;
            default:
                if (current >= rule.MaxAttempts)
                    return GiveUp(t, cluster, rule, lineage, current, record, prefix, stoppedAt, c);
                next = current + 1;
                delay = rule.Backoff.DelayFor(next);
                countNote = $"attempt {next} of {rule.MaxAttempts}" + (reset ? $", count reset after {Seconds(ranFor!.Value)} of running" : "");
                break;
        }

        // Zero back-off means at once, whatever the stop's own timestamp says.
        var due = delay > TimeSpan.Zero ? stoppedAt + delay : now;
        var request = BuildRunTask(t, cluster, rule, lineage, next, observed, c, record, out var placementNote, out var problem, out var carryNote);
        if (problem is not null)
            return Decision.Rejected(ReasonCodes.ReschedulerCannotRelaunch, $"{prefix} ({countNote}), but {problem}");

        var newRecord = new LineageRecord
        {
            Cluster = cluster.Name,
            Lineage = lineage,
            Rule = rule.Name,
            Attempt = next,
            OriginalStartedBy = reflexStarted ? record?.OriginalStartedBy : t.StartedBy,
            LastFailure = c.Kind == StopKind.Success ? record?.LastFailure : c.What,
            LastFailureAt = c.Kind == StopKind.Success ? record?.LastFailureAt : stoppedAt,
            LastTaskArn = t.TaskArn,
        };
        if (due > now)
        {
            return new Decision
            {
                Outcome = Outcome.Deferred,
                Code = ReasonCodes.ReschedulerBackoff,
                Reason = $"{prefix} ({countNote}); relaunching in {Seconds(delay)}{placementNote}{carryNote}",
                DueAt = due,
            };
        }
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.ReschedulerRelaunch,
            Reason = $"{prefix} ({countNote}); relaunching now{placementNote}{carryNote}",
            Actions = [ReflexAction.RunTask(request!)],
            Writes = [new LineageWrite(newRecord) { When = CommitPoint.Acted }],
        };
    }

    /// <summary>
    /// True when <paramref name="decision"/> relaunches now with a rule that copies tags and the stopped task's tags were
    /// not read yet: the engine then reads them (the only time it does) and decides again with them.
    /// </summary>
    public static bool WantsTags(ReflexPolicy policy, TaskStateChange t, TaskObservation observed, Decision decision)
    {
        if (observed.Tags is not null || decision.Outcome != Outcome.Acted || decision.Lineage is not { } lineage) return false;
        if (!decision.Actions.Any(a => a.Request is RunTaskRequest)) return false;
        var cluster = policy.FindCluster(t.ClusterArn);
        return cluster?.Reschedule.FirstOrDefault(r => r.Name == lineage.Rule)?.CopyTags == true;
    }

    /// <summary>The rule covering a task: the rule that started its chain, else the first whose match holds.</summary>
    public static RescheduleRule? FindRule(ClusterPolicy cluster, TaskStateChange t, bool reflexStarted, LineageRecord? record)
    {
        if (reflexStarted && record is not null)
        {
            // The chain keeps the rule that started it.
            foreach (var r in cluster.Reschedule)
                if (r.Name == record.Rule) return r;
        }
        var startedBy = reflexStarted ? record?.OriginalStartedBy : t.StartedBy;
        foreach (var r in cluster.Reschedule)
        {
            // A task EcsReflex started was matched by a rule when it was started: its startedBy is ours,
            // so a startedByPrefix condition is judged on the original startedBy when it is known.
            var match = reflexStarted && startedBy is null ? r.Match with { StartedByPrefix = null } : r.Match;
            if (match.Matches(t.Group, t.TaskDefinitionArn, startedBy)) return r;
        }
        return null;
    }

    private static Decision GiveUp(TaskStateChange t, ClusterPolicy cluster, RescheduleRule rule, string lineage, int attempt,
        LineageRecord? record, string prefix, DateTimeOffset stoppedAt, Classification c)
    {
        var reason = $"{prefix} (attempt {attempt} of {rule.MaxAttempts}); giving up on lineage {lineage}";
        return new Decision
        {
            Outcome = Outcome.Acted,
            Code = ReasonCodes.ReschedulerGaveUp,
            Reason = reason,
            Actions =
            [
                ReflexAction.GiveUp(new GiveUpRequest
                {
                    Cluster = t.ClusterArn, TaskArn = t.TaskArn, Lineage = lineage, Attempt = attempt,
                    MaxAttempts = rule.MaxAttempts, Rule = rule.Name, Reason = c.What,
                }),
            ],
            Writes =
            [
                new LineageWrite(new LineageRecord
                {
                    Cluster = cluster.Name, Lineage = lineage, Rule = rule.Name, Attempt = attempt,
                    OriginalStartedBy = record?.OriginalStartedBy, LastFailure = c.What, LastFailureAt = stoppedAt,
                    GivenUp = true, LastTaskArn = t.TaskArn,
                }) { When = CommitPoint.Acted },
            ],
        };
    }

    public static bool IsFargate(TaskStateChange t) =>
        string.Equals(t.LaunchType, "FARGATE", StringComparison.Ordinal)
        || (t.CapacityProviderName?.StartsWith("FARGATE", StringComparison.Ordinal) ?? false);

    public static bool IsEbs(Attachment a) => string.Equals(a.Type, EbsAttachmentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The volume name of an EBS attachment (its <c>volumeName</c> detail), when it says.</summary>
    public static string? EbsVolumeName(Attachment a)
    {
        foreach (var d in a.Details)
            if (d.Name == "volumeName" && !string.IsNullOrEmpty(d.Value)) return d.Value;
        return null;
    }

    public static bool UsesAwsVpc(TaskStateChange t) =>
        IsFargate(t) || t.Attachments.Any(a => string.Equals(a.Type, "eni", StringComparison.OrdinalIgnoreCase)
                                               || string.Equals(a.Type, "ElasticNetworkInterface", StringComparison.Ordinal));

    /// <summary>
    /// The RunTask that reproduces the stopped task, or a problem sentence when it cannot be built. <paramref name="carryNote"/>
    /// says what of the task it could not carry over (tags it could not read, tags over RunTask's limit, …), or is empty.
    /// <paramref name="extraTags"/> are further tags of EcsReflex's own (a move's <c>reflex:movedFrom</c>), counted in the limit.
    /// </summary>
    public static RunTaskRequest? BuildRunTask(TaskStateChange t, ClusterPolicy cluster, RescheduleRule rule, string lineage, int attempt,
        TaskObservation observed, Classification c, LineageRecord? record, out string placementNote, out string? problem, out string carryNote,
        string purpose = "relaunch", IReadOnlyList<Tag>? extraTags = null)
    {
        placementNote = "";
        carryNote = "";
        problem = null;
        if (t.TaskDefinitionArn is null)
        {
            problem = "the event has no taskDefinitionArn to relaunch";
            return null;
        }
        NetworkConfiguration? network = null;
        if (UsesAwsVpc(t))
        {
            if (rule.Network is null)
            {
                problem = $"it uses awsvpc networking and rule {rule.Name} has no network configuration: set {rule.Path}.network (subnets, securityGroups) so the relaunch can be placed";
                return null;
            }
            network = new NetworkConfiguration
            {
                AwsvpcConfiguration = new AwsVpcConfiguration
                {
                    Subnets = rule.Network.Subnets,
                    SecurityGroups = rule.Network.SecurityGroups.Count > 0 ? rule.Network.SecurityGroups : null,
                    AssignPublicIp = rule.Network.AssignPublicIp,
                },
            };
        }

        if (EbsProblem(t, rule) is { } ebsProblem)
        {
            problem = ebsProblem;
            return null;
        }

        List<PlacementConstraint>? constraints = null;
        List<PlacementStrategy>? strategy = null;
        if (IsFargate(t))
        {
            if (rule.Placement.Constraints.Count > 0 || rule.Placement.Strategy.Count > 0)
                placementNote = " (Fargate takes no placement constraints or strategies: the policy's are not sent)";
        }
        else
        {
            constraints = rule.Placement.Constraints.Select(x => new PlacementConstraint { Type = x.Type, Expression = x.Expression }).ToList();
            strategy = rule.Placement.Strategy.Select(x => new PlacementStrategy { Type = x.Type, Field = x.Field }).ToList();
            if (rule.AvoidFailedInstance && c.Kind != StopKind.Start && c.Kind != StopKind.Success && t.ContainerInstanceArn is not null)
            {
                if (observed.FailedEc2InstanceId is { } ec2)
                {
                    constraints.Add(new PlacementConstraint { Type = "memberOf", Expression = $"ec2InstanceId != {ec2}" });
                    placementNote = $" away from {ec2}";
                }
                else placementNote = $" (cannot avoid the failed instance {Arns.ContainerInstanceId(t.ContainerInstanceArn)}: its EC2 instance id is unknown)";
            }
            if (constraints.Count == 0) constraints = null;
            if (strategy.Count == 0) strategy = null;
        }

        var originalStartedBy = record?.OriginalStartedBy ?? (TryParseLineage(t.StartedBy, out _, out _) ? null : t.StartedBy);
        var tags = new List<Tag>
        {
            new(LineageTag, lineage),
            new(AttemptTag, attempt.ToString(CultureInfo.InvariantCulture)),
            new(RuleTag, rule.Name),
        };
        if (originalStartedBy is not null) tags.Add(new Tag(OriginalStartedByTag, originalStartedBy));
        if (extraTags is not null) tags.AddRange(extraTags);
        var notCarried = new List<string>();
        CopyTags(tags, rule, observed.Tags, notCarried);
        if (notCarried.Count > 0) carryNote = $"; not carried over: {string.Join("; ", notCarried)}";

        return new RunTaskRequest
        {
            Cluster = t.ClusterArn,
            TaskDefinition = t.TaskDefinitionArn,
            Count = 1,
            Group = t.Group,
            StartedBy = $"{StartedByPrefix}{lineage}/{attempt.ToString(CultureInfo.InvariantCulture)}",
            LaunchType = t.CapacityProviderName is null ? t.LaunchType : null,
            CapacityProviderStrategy = t.CapacityProviderName is { } cp ? [new CapacityProviderStrategyItem { CapacityProvider = cp, Weight = 1 }] : null,
            PlatformVersion = t.PlatformVersion,
            EnableExecuteCommand = t.EnableExecuteCommand == true ? true : null,
            NetworkConfiguration = network,
            Overrides = t.Overrides,
            PlacementConstraints = constraints,
            PlacementStrategy = strategy,
            Tags = tags,
            EnableEcsManagedTags = rule.EnableEcsManagedTags,
            PropagateTags = rule.PropagateTags,
            VolumeConfigurations = rule.VolumeConfigurations.Count > 0 ? rule.VolumeConfigurations : null,
            ClientToken = ClientToken(t.ClusterArn, t.TaskArn, purpose),
        };
    }

    /// <summary>
    /// Why a task with an Amazon EBS volume cannot be relaunched under <paramref name="rule"/>: the event does not carry
    /// the volume's configuration (size, type, role…), so the rule must give it, for every volume the task had.
    /// </summary>
    private static string? EbsProblem(TaskStateChange t, RescheduleRule rule)
    {
        List<string>? names = null;
        var unnamed = false;
        foreach (var a in t.Attachments)
        {
            if (!IsEbs(a)) continue;
            if (EbsVolumeName(a) is { } n) (names ??= []).Add(n);
            else unnamed = true;
        }
        if (names is null && !unnamed) return null;
        var which = names is null ? "" : $" ({string.Join(", ", names.Select(n => $"\"{n}\""))})";
        if (rule.VolumeConfigurations.Count == 0)
            return $"it has an Amazon EBS volume{which} and rule {rule.Name} has no volume configuration (the event does not carry it): set {rule.Path}.volumeConfigurations " +
                   $"(an entry with \"name\"{(names is null ? "" : $": \"{names[0]}\"")} and \"managedEBSVolume\" with roleArn and sizeInGiB or snapshotId) so the relaunch gets its volume";
        if (names is null) return null;
        foreach (var n in names)
            if (!rule.VolumeConfigurations.Any(v => v.Name == n))
                return $"its Amazon EBS volume \"{n}\" is not configured by rule {rule.Name} ({rule.Path}.volumeConfigurations names {string.Join(", ", rule.VolumeConfigurations.Select(v => $"\"{v.Name}\""))}): add an entry with \"name\": \"{n}\"";
        return null;
    }

    /// <summary>
    /// Adds the stopped task's own tags after EcsReflex's (<paramref name="tags"/>): not those with the reserved
    /// <c>aws:</c> prefix (ECS refuses them), not EcsReflex's own (set anew), at most <see cref="MaxTags"/> in all.
    /// What is left out is said in <paramref name="notCarried"/>.
    /// </summary>
    public static void CopyTags(List<Tag> tags, RescheduleRule rule, TaskTagsObservation? observed, List<string> notCarried)
    {
        if (!rule.CopyTags || observed is null) return;
        if (observed.Unavailable is { } why)
        {
            notCarried.Add($"its tags, which could not be read ({why})");
            return;
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var own in tags) keys.Add(own.Key);
        var reserved = new List<string>();
        var copied = new List<Tag>();
        foreach (var tag in observed.Tags)
        {
            if (tag.Key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                // ECS adds its managed tags (aws:ecs:…) again itself when the rule asks for them.
                if (!(rule.EnableEcsManagedTags == true && tag.Key.StartsWith("aws:ecs:", StringComparison.OrdinalIgnoreCase)))
                    reserved.Add(tag.Key);
                continue;
            }
            if (tag.Key.StartsWith(OwnTagPrefix, StringComparison.Ordinal)) continue;
            if (keys.Add(tag.Key)) copied.Add(tag);
        }
        var room = Math.Max(0, MaxTags - tags.Count);
        if (copied.Count > room)
        {
            var over = copied.Count - room;
            notCarried.Add($"{over} of its tags ({Keys(copied.Skip(room).Select(x => x.Key))}), over RunTask's limit of {MaxTags} tags with EcsReflex's {tags.Count}");
            copied.RemoveRange(room, over);
        }
        if (reserved.Count > 0)
        {
            var hint = rule.EnableEcsManagedTags is null && reserved.Any(k => k.StartsWith("aws:ecs:", StringComparison.OrdinalIgnoreCase))
                ? $"; set {rule.Path}.enableECSManagedTags to true for ECS to add its own aws:ecs: tags"
                : "";
            notCarried.Add($"its aws: tag{(reserved.Count == 1 ? "" : "s")} ({Keys(reserved)}), which only AWS may set{hint}");
        }
        tags.AddRange(copied);
    }

    private static string Keys(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        const int shown = 5;
        return list.Count <= shown ? string.Join(", ", list) : $"{string.Join(", ", list.Take(shown))} and {list.Count - shown} more";
    }

    public static string Seconds(TimeSpan span)
    {
        var s = span.TotalSeconds;
        if (s < 120) return $"{Math.Round(s, s < 10 ? 1 : 0).ToString(CultureInfo.InvariantCulture)} s";
        if (s < 7200) return $"{Math.Round(s / 60, 1).ToString(CultureInfo.InvariantCulture)} min";
        return $"{Math.Round(s / 3600, 1).ToString(CultureInfo.InvariantCulture)} h";
    }
}
