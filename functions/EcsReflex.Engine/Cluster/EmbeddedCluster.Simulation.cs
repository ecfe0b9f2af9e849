using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EcsReflex.Core;
using EcsReflex.Core.Ecs;
using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.State;

namespace EcsReflex.Engine.Cluster;

/// <summary>
/// The embedded cluster as a simulator of ECS:
/// <list type="bullet">
/// <item>RunTask places tasks on the snapshot's container instances like ECS (see <see cref="PlacementSimulator"/>):
/// resources, constraints, strategies; when nothing fits, the response's <c>failures</c> say why. A task
/// launched through a capacity provider considers only that provider's instances and, when nothing fits,
/// waits in PROVISIONING for the provider to scale out, as ECS does (no failure, no RUNNING event).</item>
/// <item>It emits the task state changes ECS would: RUNNING <see cref="TaskStartDelay"/> after a task is
/// placed, STOPPED (stop code UserInitiated, the StopTask reason as stoppedReason) <see cref="TaskStopDelay"/>
/// after StopTask; the replay feeds them back through the handlers.</item>
/// <item>It follows the events it is shown (<see cref="Observe"/>): container instance status and agent
/// connection, tasks that start or stop.</item>
/// </list>
/// Task sizes: a task's CPU and memory are those of a known task (snapshot, placed, or seen in an event) of
/// the same task definition ARN, else of the same family; a task definition never seen is placed as if it
/// needed nothing. Instances without CPU or MEMORY in <c>remainingResources</c> are not limited.
/// A snapshot without container instances is not simulated: tasks start without an instance, as before.
/// </summary>
public sealed partial class EmbeddedCluster
{
    /// <summary>Emit task state changes for what the cluster does. Off: tasks change state at once, silently.</summary>
    public bool EmitEvents { get; init; } = true;
    /// <summary>How long a placed task takes to reach RUNNING (image pull, start).</summary>
    public TimeSpan TaskStartDelay { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>How long a task takes to stop after StopTask.</summary>
    public TimeSpan TaskStopDelay { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// How long a task started through RunTask runs before its work is done: it then stops by itself
    /// (<c>EssentialContainerExited</c>, its essential container with exit code 0), as a batch task does. Null (the
    /// default): it runs until something stops it. A long generated stream sets it, so that the tasks EcsReflex
    /// relaunches do not pile up in the simulated cluster for ever (bench/README.md). Only with <see cref="EmitEvents"/>.
    /// </summary>
    public TimeSpan? StartedTaskLifetime { get; init; }

    /// <summary>Seed of the random placement strategy (with the client token).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Grows with every change of the cluster's state: the replay uses it to see that waiting cannot help any more.</summary>
    public long Generation { get; private set; }

    private readonly PriorityQueue<(string TaskArn, string Status), (DateTimeOffset, long)> _pending = new();
    private readonly Dictionary<string, (Core.Placement.QueryExpression?, string?)> _expressions = new(StringComparer.Ordinal);
    private long _pendingSeq;
    /// <summary>The tasks a RunTask client token started, and when the token is forgotten (<see cref="RequestMemory"/> after it).</summary>
    private readonly Dictionary<string, (List<string> Arns, DateTimeOffset ForgetAt)> _tokenTasks = new(StringComparer.Ordinal);
    /// <summary>Tasks whose CPU and memory were given back (stopped), so that it happens once.</summary>
    private readonly HashSet<string> _released = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long? Cpu, long? Memory)> _sizes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _placementNotes = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a STOPPED task stays in the task table (describe, StopTask and the events about it see it), in
    /// simulated time: ECS keeps stopped tasks visible for about an hour. Null keeps them for ever. After it, the
    /// task is forgotten but its ARN is remembered as stopped for <see cref="RequestMemory"/> more, so a late event or
    /// StopTask about it is answered as before; client tokens are remembered <see cref="RequestMemory"/> after their
    /// RunTask. So a long replay holds the live tasks and what the last day asked, not every task it ever saw
    /// (docs/replay.md, "Memory").
    /// </summary>
    public TimeSpan? StoppedTaskRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a RunTask client token and the ARN of a forgotten stopped task are remembered: the Reactor's duplicate
    /// memory (a copy of an event delivered later than that is decided again anyway) plus an hour.
    /// </summary>
    public static readonly TimeSpan RequestMemory = Reactor.DuplicateMemory + TimeSpan.FromHours(1);

    private enum ForgetKind : byte { StoppedTask, StoppedArn, Token, Unlist }

    /// <summary>How long ECS lists a stopped task (ListTasks desiredStatus=STOPPED): about an hour, whatever the retention.</summary>
    public static readonly TimeSpan StoppedTaskListing = TimeSpan.FromHours(1);

    /// <summary>
    /// Stopped tasks kept past their listing (only without <see cref="StoppedTaskRetention"/>): describe still finds them,
    /// the sweep no longer lists them, as ECS would not.
    /// </summary>
    private readonly HashSet<string> _unlisted = new(StringComparer.Ordinal);

    /// <summary>What to forget, and when; an entry whose subject changed since is skipped when it comes up.</summary>
    private readonly State.DueQueue<(ForgetKind Kind, string Key)> _forget = new();
    /// <summary>ARNs of stopped tasks forgotten from the task table, still remembered as stopped.</summary>
    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);
    /// <summary>How many distinct task ARNs the table ever held (what its count was before tasks were forgotten): seeds placement.</summary>
    private long _tasksEverKnown;

    private void Forget(DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_forget.TryDequeueDue(now, out var f, out var at))
            {
                switch (f.Kind)
                {
                    case ForgetKind.StoppedTask:
                        if (_tasks.TryGetValue(f.Key, out var t) && t.LastStatus == "STOPPED")
                        {
                            _tasks.Remove(f.Key);
                            _placementNotes.Remove(f.Key);
                            _stoppedViews.Remove(f.Key);
                            _gone.Add(f.Key);
                            _forget.Enqueue((ForgetKind.StoppedArn, f.Key), at + RequestMemory);
                        }
                        break;
                    case ForgetKind.StoppedArn:
                        if (_tasks.ContainsKey(f.Key)) break; // started again under the same ARN: not forgotten
                        _gone.Remove(f.Key);
                        _released.Remove(f.Key);
                        var id = Arns.LastSegment(f.Key);
                        if (_arnById.TryGetValue(id, out var arn) && arn == f.Key) _arnById.Remove(id);
                        break;
                    case ForgetKind.Unlist:
                        if (_tasks.TryGetValue(f.Key, out var u) && u.LastStatus == "STOPPED") _unlisted.Add(f.Key);
                        break;
                    case ForgetKind.Token:
                        if (_tokenTasks.TryGetValue(f.Key, out var tt) && tt.ForgetAt <= now) _tokenTasks.Remove(f.Key);
                        break;
                }
            }
        }
    }

    /// <summary>The ARN of a forgotten stopped task named by ARN or id, or null.</summary>
    private string? GoneArn(string taskArnOrId)
    {
        if (_gone.Count == 0) return null;
        if (_gone.Contains(taskArnOrId)) return taskArnOrId;
        return _arnById.TryGetValue(Arns.LastSegment(taskArnOrId), out var arn) && _gone.Contains(arn) ? arn : null;
    }

    /// <summary>How many things the cluster holds now: a diagnostic for tests and benchmarks.</summary>
    public ClusterItemCounts Counts
    {
        get
        {
            lock (_gate)
            {
                var stopped = 0;
                foreach (var t in _tasks.Values) if (t.LastStatus == "STOPPED") stopped++;
                return new ClusterItemCounts(_tasks.Count - stopped, stopped, _gone.Count, _released.Count, _tokenTasks.Count,
                    _placementNotes.Count, _arnById.Count, _forget.Count, _pending.Count);
            }
        }
    }

    /// <summary>When the next emitted event is due, or null when none is pending.</summary>
    public DateTimeOffset? NextEventAt
    {
        get { lock (_gate) return _pending.TryPeek(out _, out var at) ? at.Item1 : null; }
    }

    /// <summary>Can the cluster simulate placement? Only with container instances (from the snapshot or the events) to place on.</summary>
    public bool SimulatesPlacement
    {
        get { lock (_gate) return _instances.Count > 0; }
    }

    /// <summary>
    /// Was the task (ARN or id) started on no container instance while it needed one: not Fargate, not waiting for a
    /// capacity provider, and the cluster had no instance to simulate placement on?
    /// </summary>
    public bool IsUnplaced(string taskArnOrId)
    {
        lock (_gate)
            return FindTaskUnlocked(taskArnOrId) is { ContainerInstanceArn: null } t
                   && !string.Equals(t.LaunchType, "FARGATE", StringComparison.Ordinal)
                   && !(t.CapacityProviderName?.StartsWith("FARGATE", StringComparison.Ordinal) ?? false)
                   && !_placementNotes.ContainsKey(t.TaskArn);
    }

    // ------------------------------------------------------------------ RunTask / StopTask

    private RunTaskResponse Run(RunTaskRequest request)
    {
        if (request.ClientToken is { } token && _tokenTasks.TryGetValue(token, out var existing))
            return new RunTaskResponse(existing.Arns, []);
        var family = Arns.TaskDefinitionFamily(request.TaskDefinition) ?? request.TaskDefinition;
        var (cpu, memory) = SizeOf(request.TaskDefinition);
        var group = request.Group ?? $"family:{family}";
        var fargate = string.Equals(request.LaunchType, "FARGATE", StringComparison.Ordinal);
        string? capacityProvider = null;
        if (request.CapacityProviderStrategy is { } providers)
        {
            foreach (var c in providers)
                if (c.CapacityProvider.StartsWith("FARGATE", StringComparison.Ordinal)) fargate = true;
            if (!fargate)
                foreach (var c in providers)
                    if (c.Weight is null or > 0) { capacityProvider = c.CapacityProvider; break; }
        }
        var simulate = !fargate && _instances.Count > 0;
        var arns = new List<string>();
        var failures = new List<RunTaskFailure>();
        var count = Math.Clamp(request.Count, 1, 10);
        for (var k = 0; k < count; k++)
        {
            ObservedContainerInstance? host = null;
            string? note = null;
            if (simulate)
            {
                var candidates = new List<PlacementCandidate>(_instances.Count);
                foreach (var i in _instances.Values)
                    if (InCluster(i, request.Cluster)
                        && (capacityProvider is null || string.Equals(i.CapacityProviderName, capacityProvider, StringComparison.Ordinal)))
                        candidates.Add(Candidate(i));
                var ask = new PlacementAsk
                {
                    Cpu = cpu ?? 0,
                    Memory = memory ?? 0,
                    Group = group,
                    Constraints = request.PlacementConstraints ?? [],
                    Strategy = request.PlacementStrategy ?? [],
                    RandomKey = $"{Seed}\n{request.ClientToken ?? request.TaskDefinition}\n{k}\n{_tasksEverKnown}",
                };
                var outcome = PlacementSimulator.Place(ask, candidates, _expressions);
                if (outcome.Chosen is { } chosen) host = chosen.Instance;
                else if (capacityProvider is not null && outcome.Failures.All(f => f.Reason != "InvalidParameterException"))
                    // With a capacity provider ECS keeps the task PROVISIONING until the provider scales out
                    // (a new instance can bring the resources, or be one the constraints accept).
                    note = $"waiting for capacity provider {capacityProvider} to scale out ({outcome.Failures[0].Reason})";
                else
                {
                    failures.AddRange(outcome.Failures);
                    break;
                }
            }
            var seed = request.ClientToken is null ? $"{request.Cluster}/{_tasksEverKnown}/{Now.UtcTicks}" : k == 0 ? request.ClientToken : $"{request.ClientToken}#{k}";
            var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)))[..32];
            var arn = TaskArn(request.Cluster, id);
            var attachments = new List<Attachment>();
            if (request.NetworkConfiguration is not null)
                attachments.Add(new Attachment { Id = $"eni-attachment-{id[..8]}", Type = "ElasticNetworkInterface", Status = "ATTACHED" });
            // ECS creates and attaches the EBS volumes RunTask configures; describe-tasks shows them as attachments.
            foreach (var v in request.VolumeConfigurations ?? [])
                if (v.ManagedEbsVolume is { } ebs)
                    attachments.Add(new Attachment
                    {
                        Id = $"ebs-attachment-{id[..8]}-{attachments.Count}", Type = Core.Decisions.TaskRescheduler.EbsAttachmentType, Status = "ATTACHED",
                        Details =
                        [
                            new KeyValue("roleArn", ebs.RoleArn),
                            new KeyValue("volumeName", v.Name),
                            new KeyValue("deleteOnTermination", (ebs.TerminationPolicy?.DeleteOnTermination ?? true) ? "true" : "false"),
                        ],
                    });
            var task = new ObservedTask
            {
                TaskArn = arn,
                ClusterArn = request.Cluster,
                TaskDefinitionArn = request.TaskDefinition,
                ContainerInstanceArn = host?.ContainerInstanceArn,
                Group = group,
                StartedBy = request.StartedBy,
                LastStatus = "PROVISIONING",
                DesiredStatus = "RUNNING",
                LaunchType = request.LaunchType ?? (fargate ? "FARGATE" : capacityProvider is null ? "EC2" : null),
                CapacityProviderName = request.CapacityProviderStrategy?.FirstOrDefault()?.CapacityProvider,
                Cpu = cpu?.ToString(CultureInfo.InvariantCulture),
                Memory = memory?.ToString(CultureInfo.InvariantCulture),
                AvailabilityZone = host?.Attribute("ecs.availability-zone"),
                PlatformVersion = request.PlatformVersion,
                CreatedAt = Now,
                Tags = request.Tags ?? [],
                Overrides = request.Overrides,
                EnableExecuteCommand = request.EnableExecuteCommand,
                Attachments = attachments,
                Version = 1,
            };
            Put(task);
            if (host is not null) Consume(host.ContainerInstanceArn, cpu ?? 0, memory ?? 0, +1);
            if (note is not null) _placementNotes[arn] = note;
            else Schedule(arn, "RUNNING", TaskStartDelay);
            if (note is null && EmitEvents && StartedTaskLifetime is { } lifetime) Schedule(arn, Finished, TaskStartDelay + lifetime);
            arns.Add(arn);
            TasksStarted++;
            Generation++;
        }
        if (request.ClientToken is { } t && arns.Count > 0)
        {
            var forgetAt = Now + RequestMemory;
            _tokenTasks[t] = (arns, forgetAt);
            if (StoppedTaskRetention is not null) _forget.Enqueue((ForgetKind.Token, t), forgetAt);
        }
        return new RunTaskResponse(arns, failures);
    }

    private StopTaskResponse Stop(StopTaskRequest request)
    {
        var task = FindTaskUnlocked(request.Task);
        if (task is null)
            return GoneArn(request.Task) is { } gone ? new StopTaskResponse(gone, "STOPPED") : new StopTaskResponse(request.Task, null);
        if (task.DesiredStatus == "STOPPED" || task.LastStatus == "STOPPED")
            return new StopTaskResponse(task.TaskArn, task.LastStatus);
        Put(task with { DesiredStatus = "STOPPED", StoppedReason = request.Reason, StopCode = "UserInitiated" });
        Generation++;
        Schedule(task.TaskArn, "STOPPED", TaskStopDelay);
        return new StopTaskResponse(task.TaskArn, _tasks[task.TaskArn].LastStatus);
    }

    private void Schedule(string taskArn, string status, TimeSpan delay)
    {
        if (EmitEvents) _pending.Enqueue((taskArn, status), (Now + delay, _pendingSeq++));
        else Transition(taskArn, status, Now);
    }

    /// <summary>
    /// Applies the next pending state change (the task reaches RUNNING, or STOPPED) at its time and returns
    /// the event ECS would send for it; null when that change no longer applies (a task stopped before it ran).
    /// </summary>
    public EventEnvelope? TakeNextEvent()
    {
        lock (_gate)
        {
            if (!_pending.TryDequeue(out var next, out var at)) return null;
            if (at.Item1 > Now) Now = at.Item1;
            var task = Transition(next.TaskArn, next.Status, at.Item1);
            return task is null ? null : Envelope(task, at.Item1);
        }
    }

    private ObservedTask? Transition(string taskArn, string status, DateTimeOffset at)
    {
        if (!_tasks.TryGetValue(taskArn, out var task)) return null;
        if (status == "RUNNING")
        {
            if (task.LastStatus is "RUNNING" or "STOPPED" || task.DesiredStatus == "STOPPED") return null;
            task = task with { LastStatus = "RUNNING", StartedAt = at, Version = (task.Version ?? 1) + 1 };
        }
        else if (status == Finished)
        {
            // Its work is done, unless something already stops it (StopTask, a drain, the stream).
            if (task.LastStatus != "RUNNING" || task.DesiredStatus == "STOPPED") return null;
            task = task with
            {
                LastStatus = "STOPPED", DesiredStatus = "STOPPED", StoppedAt = at, StopCode = EssentialContainerExited,
                StoppedReason = "Essential container in task exited", Version = (task.Version ?? 1) + 1,
            };
            Release(task);
        }
        else
        {
            if (task.LastStatus == "STOPPED") return null;
            task = task with
            {
                LastStatus = "STOPPED", DesiredStatus = "STOPPED", StoppedAt = at,
                StopCode = task.StopCode ?? "UserInitiated", Version = (task.Version ?? 1) + 1,
            };
            Release(task);
        }
        Put(task);
        Generation++;
        return task;
    }

    private const string Finished = "FINISHED", EssentialContainerExited = "EssentialContainerExited";

    private static EventEnvelope Envelope(ObservedTask t, DateTimeOffset at)
    {
        return new EventEnvelope
        {
            Version = "0",
            Id = EventId(t),
            DetailType = DetailTypes.TaskStateChange,
            Source = DetailTypes.EcsSource,
            Account = ArnPart(t.TaskArn, 4),
            Time = at,
            Region = ArnPart(t.TaskArn, 3),
            Resources = [t.TaskArn],
            Detail = new TaskStateChange
            {
                ClusterArn = t.ClusterArn ?? "",
                TaskArn = t.TaskArn,
                TaskDefinitionArn = t.TaskDefinitionArn,
                Group = t.Group,
                StartedBy = t.StartedBy,
                LastStatus = t.LastStatus ?? "RUNNING",
                DesiredStatus = t.DesiredStatus,
                LaunchType = t.LaunchType,
                CapacityProviderName = t.CapacityProviderName,
                PlatformVersion = t.PlatformVersion,
                AvailabilityZone = t.AvailabilityZone,
                ContainerInstanceArn = t.ContainerInstanceArn,
                Cpu = t.Cpu,
                Memory = t.Memory,
                EnableExecuteCommand = t.EnableExecuteCommand,
                Version = t.Version,
                Overrides = t.Overrides,
                Attachments = t.Attachments,
                CreatedAt = t.CreatedAt,
                StartedAt = t.StartedAt,
                StopCode = t.LastStatus == "STOPPED" ? t.StopCode : null,
                StoppedReason = t.LastStatus == "STOPPED" ? t.StoppedReason : null,
                StoppingAt = t.LastStatus == "STOPPED" ? at : null,
                StoppedAt = t.StoppedAt,
                UpdatedAt = at,
                // As described (the snapshot's, a replayed event's); else only a task that finished its work
                // (StartedTaskLifetime) stops this way here: its essential container exited 0.
                Containers = t.Containers.Count > 0 ? t.Containers
                    : t.LastStatus == "STOPPED" && t.StopCode == EssentialContainerExited
                    ? [new ContainerDetail { Name = Arns.TaskDefinitionFamily(t.TaskDefinitionArn), LastStatus = "STOPPED", ExitCode = 0 }]
                    : [],
            },
        };
    }

    /// <summary>The event id: a GUID-shaped hash of the task, its status and version (the same change, the same id).</summary>
    private static string EventId(ObservedTask t)
    {
        var text = $"{t.TaskArn}\n{t.LastStatus}\n{t.Version}";
        Span<byte> hash = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var buffer = max <= 512 ? stackalloc byte[512] : new byte[max];
        SHA256.HashData(buffer[..Encoding.UTF8.GetBytes(text, buffer)], hash);
        return string.Create(36, hash[..16].ToArray(), static (dst, h) =>
        {
            Span<char> hex = stackalloc char[32];
            Convert.TryToHexStringLower(h, hex, out _);
            hex[..8].CopyTo(dst);
            dst[8] = '-';
            hex[8..12].CopyTo(dst[9..]);
            dst[13] = '-';
            hex[12..16].CopyTo(dst[14..]);
            dst[18] = '-';
            hex[16..20].CopyTo(dst[19..]);
            dst[23] = '-';
            hex[20..32].CopyTo(dst[24..]);
        });
    }

    /// <summary>The n-th colon-separated part of an ARN (3: region, 4: account), or null, as <c>Split(':')[n]</c>.</summary>
    private static string? ArnPart(string arn, int n)
    {
        var rest = arn.AsSpan();
        for (var k = 0; k < n; k++)
        {
            var c = rest.IndexOf(':');
            if (c < 0) return null;
            rest = rest[(c + 1)..];
        }
        var end = rest.IndexOf(':');
        return (end < 0 ? rest : rest[..end]).ToString();
    }

    // ------------------------------------------------------------------ following the replayed events

    /// <summary>
    /// Takes in what a replayed event says about the cluster, before the handlers see it:
    /// <list type="bullet">
    /// <item>a container instance state change (newer than what is known) sets the instance's status,
    /// agent connection and attributes; an instance not known yet is added as the event describes it;</item>
    /// <item>a task starting on a known instance that the cluster does not know is added, using its CPU and memory;</item>
    /// <item>a STOPPED task gives its CPU and memory back to its instance, once, even when the snapshot did
    /// not list it (the stream is taken as the truth about what ran; so remaining resources may exceed the
    /// registered ones when a stream describes tasks the snapshot lacks).</item>
    /// </list>
    /// </summary>
    public void Observe(EventEnvelope e)
    {
        lock (_gate)
        {
            switch (e.Detail)
            {
                case ContainerInstanceStateChange i: ObserveInstance(i); break;
                case TaskStateChange t: ObserveTask(t); break;
                case AlarmStateChange a: ObserveAlarm(a); break;
            }
        }
    }

    private void ObserveInstance(ContainerInstanceStateChange i)
    {
        if (_instances.TryGetValue(i.ContainerInstanceArn, out var cur))
        {
            if (i.Version is { } v && cur.Version is { } cv && v <= cv) return;
            _instances[i.ContainerInstanceArn] = cur with
            {
                ClusterArn = cur.ClusterArn ?? i.ClusterArn, // an old-format instance the snapshot could not place in a cluster
                Status = i.Status,
                AgentConnected = i.AgentConnected ?? cur.AgentConnected,
                Version = i.Version ?? cur.Version,
                Ec2InstanceId = i.Ec2InstanceId ?? cur.Ec2InstanceId,
                Attributes = i.Attributes.Count > 0 ? i.Attributes : cur.Attributes,
                RegisteredAt = i.RegisteredAt ?? cur.RegisteredAt,
            };
        }
        else
        {
            _instances[i.ContainerInstanceArn] = new ObservedContainerInstance
            {
                ContainerInstanceArn = i.ContainerInstanceArn,
                ClusterArn = i.ClusterArn,
                Ec2InstanceId = i.Ec2InstanceId,
                Status = i.Status,
                AgentConnected = i.AgentConnected,
                Version = i.Version,
                Attributes = i.Attributes,
                RegisteredResources = i.RegisteredResources,
                RemainingResources = i.RemainingResources,
                RunningTasksCount = i.RunningTasksCount ?? 0,
                PendingTasksCount = i.PendingTasksCount ?? 0,
                RegisteredAt = i.RegisteredAt,
            };
        }
        Generation++;
    }

    private void ObserveTask(TaskStateChange t)
    {
        var cpu = PlacementSimulator.ParseCpu(t.Cpu);
        var memory = PlacementSimulator.ParseMemory(t.Memory);
        if (t.TaskDefinitionArn is { } td && (cpu is not null || memory is not null))
        {
            _sizes[td] = (cpu, memory);
            if (Arns.TaskDefinitionFamily(td) is { } f) _sizes["family:" + f] = (cpu, memory);
        }
        if (t.ContainerInstanceArn is { } host && t.ClusterArn is { } taskCluster
            && _instances.TryGetValue(host, out var hostInstance) && hostInstance.ClusterArn is null)
            _instances[host] = hostInstance with { ClusterArn = taskCluster }; // a task on it says which cluster an old-format instance is in
        var known = FindTaskUnlocked(t.TaskArn);
        if (known is null && GoneArn(t.TaskArn) is not null) return; // stopped and forgotten: as for a known stopped task
        if (t.LastStatus == "STOPPED")
        {
            if (known is not null)
            {
                if (known.LastStatus == "STOPPED") return;
                var stopped = known with
                {
                    LastStatus = "STOPPED", DesiredStatus = "STOPPED", StopCode = t.StopCode, StoppedReason = t.StoppedReason,
                    StoppedAt = t.StoppedAt ?? Now, Version = t.Version ?? known.Version,
                    Containers = t.Containers.Count > 0 ? t.Containers : known.Containers,
                };
                Release(stopped);
                Put(stopped);
            }
            else
            {
                if (t.ContainerInstanceArn is { } ci && _released.Add(t.TaskArn))
                {
                    Consume(ci, -(cpu ?? 0), -(memory ?? 0), 0);
                    if (StoppedTaskRetention is not null) _forget.Enqueue((ForgetKind.StoppedArn, t.TaskArn), Now + RequestMemory);
                }
                // ECS lists a stopped task for about an hour, whether or not anyone saw it run: so does the replay, for the
                // reconciler's sweep (a stop whose event was lost is still there to find).
                Put(StoppedFrom(t));
            }
            Generation++;
            return;
        }
        if (known is not null)
        {
            if (known.LastStatus != "STOPPED" && known.LastStatus != t.LastStatus)
            {
                Put(known with { LastStatus = t.LastStatus, Version = t.Version ?? known.Version, StartedAt = t.StartedAt ?? known.StartedAt });
                Generation++;
            }
            return;
        }
        if (t.LastStatus is "PROVISIONING" or "PENDING" or "ACTIVATING" or "RUNNING"
            && t.ContainerInstanceArn is { } on && _instances.ContainsKey(on) && !_released.Contains(t.TaskArn))
        {
            Put(ObservedFrom(t) with { DesiredStatus = t.DesiredStatus ?? "RUNNING" });
            Consume(on, cpu ?? 0, memory ?? 0, +1);
            Generation++;
        }
    }

    /// <summary>A task first heard of by an event about it, as ECS describes it then.</summary>
    private static ObservedTask ObservedFrom(TaskStateChange t) => new()
    {
        TaskArn = t.TaskArn,
        ClusterArn = t.ClusterArn,
        TaskDefinitionArn = t.TaskDefinitionArn,
        ContainerInstanceArn = t.ContainerInstanceArn,
        Group = t.Group,
        StartedBy = t.StartedBy,
        LastStatus = t.LastStatus,
        DesiredStatus = t.DesiredStatus,
        LaunchType = t.LaunchType,
        CapacityProviderName = t.CapacityProviderName,
        Cpu = t.Cpu,
        Memory = t.Memory,
        AvailabilityZone = t.AvailabilityZone,
        PlatformVersion = t.PlatformVersion,
        CreatedAt = t.CreatedAt,
        StartedAt = t.StartedAt,
        Overrides = t.Overrides,
        EnableExecuteCommand = t.EnableExecuteCommand,
        Attachments = t.Attachments,
        Version = t.Version,
    };

    /// <summary>A task first heard of by its STOPPED event, as ECS describes it afterwards.</summary>
    private ObservedTask StoppedFrom(TaskStateChange t) => ObservedFrom(t) with
    {
        LastStatus = "STOPPED", DesiredStatus = "STOPPED", StopCode = t.StopCode, StoppedReason = t.StoppedReason,
        StoppedAt = t.StoppedAt ?? Now, Containers = t.Containers,
    };

    // ------------------------------------------------------------------ resources

    /// <summary>
    /// Is the instance registered in the cluster a RunTask names? An instance of unknown cluster (an old-format ARN that
    /// nothing in the snapshot or the events associated with a cluster) is in none. A cluster ARN must match exactly
    /// (partition, region, account, name); a bare cluster name matches the name.
    /// </summary>
    private static bool InCluster(ObservedContainerInstance instance, string cluster)
    {
        if (instance.ClusterArn is not { } own) return false;
        if (cluster.StartsWith("arn:", StringComparison.Ordinal) && own.StartsWith("arn:", StringComparison.Ordinal))
            return string.Equals(own, cluster, StringComparison.Ordinal);
        return Arns.ClusterNameSpan(own).SequenceEqual(Arns.ClusterNameSpan(cluster));
    }

    private const long Unlimited = long.MaxValue / 4;

    private static long Remaining(ObservedContainerInstance i, string name)
    {
        foreach (var r in i.RemainingResources)
            if (string.Equals(r.Name, name, StringComparison.Ordinal)) return r.IntegerValue ?? r.LongValue ?? (long)(r.DoubleValue ?? 0);
        return Unlimited;
    }

    private static readonly Dictionary<string, int> NoGroups = new(StringComparer.Ordinal);

    private PlacementCandidate Candidate(ObservedContainerInstance i) =>
        new(i, Remaining(i, "CPU"), Remaining(i, "MEMORY"), _groupsByInstance.GetValueOrDefault(i.ContainerInstanceArn) ?? NoGroups);

    private List<ObservedTask> LiveTasksOn(string containerInstanceArn) =>
        _liveByInstance.TryGetValue(containerInstanceArn, out var arns) ? [.. arns.Select(a => _tasks[a])] : [];

    /// <summary>Takes (or, negative, gives back) CPU and memory on an instance and counts the task.</summary>
    private void Consume(string containerInstanceArn, long cpu, long memory, int tasks)
    {
        if (!_instances.TryGetValue(containerInstanceArn, out var i)) return;
        var resources = new List<InstanceResource>(i.RemainingResources.Count);
        foreach (var r in i.RemainingResources)
            resources.Add(r.Name switch
            {
                "CPU" when cpu != 0 => r with { IntegerValue = (r.IntegerValue ?? r.LongValue ?? 0) - cpu },
                "MEMORY" when memory != 0 => r with { IntegerValue = (r.IntegerValue ?? r.LongValue ?? 0) - memory },
                _ => r,
            });
        _instances[containerInstanceArn] = i with
        {
            RemainingResources = resources,
            RunningTasksCount = Math.Max(0, i.RunningTasksCount + tasks),
        };
    }

    private void Release(ObservedTask task)
    {
        if (task.ContainerInstanceArn is not { } ci || !_released.Add(task.TaskArn)) return;
        Consume(ci, -(PlacementSimulator.ParseCpu(task.Cpu) ?? 0), -(PlacementSimulator.ParseMemory(task.Memory) ?? 0), -1);
    }

    /// <summary>CPU and memory of a task definition: see the class remarks for the rule.</summary>
    public (long? Cpu, long? Memory) SizeOf(string taskDefinition)
    {
        lock (_gate)
        {
            if (_sizes.TryGetValue(taskDefinition, out var s)) return s;
            if (_knownSizes.TryGetValue(taskDefinition, out s)) return s;
            var family = Arns.TaskDefinitionFamily(taskDefinition);
            if (family is not null && _sizes.TryGetValue("family:" + family, out s)) return s;
            if (family is not null && _knownSizes.TryGetValue("family:" + family, out s)) return s;
            return (null, null);
        }
    }

    private ObservedTask? FindTaskUnlocked(string taskArnOrId)
    {
        if (_tasks.TryGetValue(taskArnOrId, out var t)) return t;
        return _arnById.TryGetValue(Arns.LastSegment(taskArnOrId), out var arn) ? _tasks.GetValueOrDefault(arn) : null;
    }

    // ------------------------------------------------------------------ the task table and its indexes

    /// <summary>Live (not STOPPED) task ARNs per container instance, in ARN order.</summary>
    private readonly Dictionary<string, SortedSet<string>> _liveByInstance = new(StringComparer.Ordinal);
    /// <summary>Live tasks per task group per container instance (for placement: distinctInstance, spread, task:group).</summary>
    private readonly Dictionary<string, Dictionary<string, int>> _groupsByInstance = new(StringComparer.Ordinal);
    /// <summary>Task ARN by task id (the last segment), for requests that name a task by id.</summary>
    private readonly Dictionary<string, string> _arnById = new(StringComparer.Ordinal);
    /// <summary>
    /// The size of the first task known of each task definition ARN and each family (<c>family:NAME</c>), as the
    /// tasks come: the same answer a scan of the tasks in order would give, without the scan.
    /// </summary>
    private readonly Dictionary<string, (long? Cpu, long? Memory)> _knownSizes = new(StringComparer.Ordinal);

    private void CountGroup(string containerInstanceArn, string? group, int delta)
    {
        if (group is null) return;
        if (!_groupsByInstance.TryGetValue(containerInstanceArn, out var counts))
            _groupsByInstance[containerInstanceArn] = counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var n = counts.GetValueOrDefault(group) + delta;
        if (n > 0) counts[group] = n; else counts.Remove(group);
    }

    /// <summary>Every write of the task table goes through here, so that the indexes stay true.</summary>
    private void Put(ObservedTask task)
    {
        var isKnown = _tasks.TryGetValue(task.TaskArn, out var old);
        if (isKnown && old!.ContainerInstanceArn is { } was
            && _liveByInstance.TryGetValue(was, out var oldSet) && oldSet.Remove(task.TaskArn))
            CountGroup(was, old.Group, -1);
        if (!isKnown && !_gone.Remove(task.TaskArn)) _tasksEverKnown++;
        if (task.LastStatus == "STOPPED" && old?.LastStatus != "STOPPED")
            // An hour after it stopped, as ECS (a snapshot's stopped task: after its stoppedAt, not after loading); kept for
            // ever, it is still no longer listed then.
            _forget.Enqueue((StoppedTaskRetention is null ? ForgetKind.Unlist : ForgetKind.StoppedTask, task.TaskArn),
                (task.StoppedAt is { } at && at > Now ? at : Now) + (StoppedTaskRetention ?? StoppedTaskListing));
        else if (task.LastStatus != "STOPPED") _unlisted.Remove(task.TaskArn);
        _tasks[task.TaskArn] = task;
        _arnById.TryAdd(Arns.LastSegment(task.TaskArn), task.TaskArn);
        if (task.ContainerInstanceArn is { } on && task.LastStatus != "STOPPED")
        {
            if (!_liveByInstance.TryGetValue(on, out var set)) _liveByInstance[on] = set = new SortedSet<string>(StringComparer.Ordinal);
            if (set.Add(task.TaskArn)) CountGroup(on, task.Group, +1);
        }
        if (task.TaskDefinitionArn is { } td && (task.Cpu is not null || task.Memory is not null))
        {
            var size = (PlacementSimulator.ParseCpu(task.Cpu), PlacementSimulator.ParseMemory(task.Memory));
            _knownSizes.TryAdd(td, size);
            if (Arns.TaskDefinitionFamily(td) is { } f) _knownSizes.TryAdd("family:" + f, size);
        }
    }

    // ------------------------------------------------------------------ IClusterObserver (placement guard)

    /// <summary>The sweep's view of each stopped task, made from the task record it is of (a new record makes a new view).</summary>
    private readonly Dictionary<string, (ObservedTask Of, TaskStateChange View)> _stoppedViews = new(StringComparer.Ordinal);

    /// <summary>
    /// The stopped tasks of a cluster ECS would still list (about an hour after they stopped: <see cref="StoppedTaskListing"/>),
    /// as their STOPPED events would carry them, newest first; the calls counted as ECS would take them (one ListTasks
    /// page and one DescribeTasks per 100 tasks), at most <paramref name="maxCalls"/>.
    /// </summary>
    public ValueTask<StoppedTasksObservation> ListStoppedTasksAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        lock (_gate)
        {
            var name = Arns.ClusterName(clusterArn);
            var stopped = _tasks.Values
                .Where(t => t.LastStatus == "STOPPED" && t.ClusterArn is { } c && Arns.ClusterName(c) == name && !_unlisted.Contains(t.TaskArn))
                .OrderByDescending(t => t.StoppedAt).ThenBy(t => t.TaskArn, StringComparer.Ordinal).ToList();
            var (kept, calls, truncated) = Paged(stopped, maxCalls);
            // A stopped task no longer changes: its view is made once, not at every sweep (kept while the task is).
            var tasks = new List<TaskStateChange>(kept.Count);
            foreach (var t in kept)
            {
                if (!_stoppedViews.TryGetValue(t.TaskArn, out var view) || !ReferenceEquals(view.Of, t))
                    _stoppedViews[t.TaskArn] = view = (t, (TaskStateChange)Envelope(t, t.StoppedAt ?? Now).Detail);
                tasks.Add(view.View);
            }
            return ValueTask.FromResult(new StoppedTasksObservation(tasks, calls, truncated));
        }
    }

    /// <summary>The cluster's ACTIVE and DRAINING container instances, as ListContainerInstances and DescribeContainerInstances would give them (2 calls per 100).</summary>
    public ValueTask<ContainerInstancesObservation> ListContainerInstancesAsync(string clusterArn, int maxCalls, CancellationToken ct)
    {
        lock (_gate)
        {
            var instances = _instances.Values
                .Where(i => InCluster(i, clusterArn) && i.Status is "ACTIVE" or "DRAINING")
                .OrderBy(i => i.ContainerInstanceArn, StringComparer.Ordinal).ToList();
            var (kept, calls, truncated) = Paged(instances, maxCalls);
            IReadOnlyList<ContainerInstanceStateChange> seen = [.. kept.Select(i => i.ToStateChange(clusterArn))];
            return ValueTask.FromResult(new ContainerInstancesObservation(seen, calls, truncated));
        }
    }

    /// <summary>
    /// What a sweep's read of <paramref name="items"/> gets as ECS pages it: one List page and one Describe per 100 (a List
    /// call even when there is nothing), at most <paramref name="maxCalls"/> calls; when they run out, the first pages only.
    /// </summary>
    private static (List<T> Kept, int Calls, bool Truncated) Paged<T>(List<T> items, int maxCalls)
    {
        const int Page = 100;
        var pages = Math.Max(1, (items.Count + Page - 1) / Page);
        var affordable = Math.Max(0, maxCalls / 2);
        return pages > affordable
            ? (items.Take(affordable * Page).ToList(), affordable * 2, true)
            : (items, pages + (items.Count + Page - 1) / Page, false);
    }

    public ValueTask<IReadOnlyList<ObservedTask>> ListTasksOnInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        lock (_gate)
        {
            var arn = ResolveInstanceArn(containerInstanceArn);
            IReadOnlyList<ObservedTask> tasks = LiveTasksOn(arn);
            return ValueTask.FromResult(tasks);
        }
    }

    /// <summary>
    /// The tags of a task as describe-tasks with TAGS prints them: those of the snapshot and of RunTask. A task the cluster
    /// knows only from a replayed event has none (events carry no tags); a stopped task it has forgotten (an hour after it
    /// stopped, as ECS) is answered as ECS answers it, MISSING.
    /// </summary>
    public ValueTask<TaskTagsObservation> DescribeTaskTagsAsync(string clusterArn, string taskArn, CancellationToken ct)
    {
        lock (_gate)
        {
            if (FindTaskUnlocked(taskArn) is { } t) return ValueTask.FromResult(TaskTagsObservation.Read(t.Tags));
            if (GoneArn(taskArn) is not null)
                return ValueTask.FromResult(TaskTagsObservation.None($"DescribeTasks answered MISSING for task {Arns.LastSegment(taskArn)}: ECS describes a stopped task for about an hour"));
            return ValueTask.FromResult(TaskTagsObservation.Read([]));
        }
    }

    public ValueTask<ObservedService?> GetServiceAsync(string clusterArn, string serviceArnOrName, CancellationToken ct) =>
        ValueTask.FromResult(FindService(clusterArn, serviceArnOrName));

    public ValueTask<ObservedContainerInstance?> GetContainerInstanceAsync(string clusterArn, string containerInstanceArn, CancellationToken ct)
    {
        lock (_gate)
            return ValueTask.FromResult(_instances.GetValueOrDefault(ResolveInstanceArn(containerInstanceArn)));
    }

    private string ResolveInstanceArn(string containerInstanceArn)
    {
        if (_instances.ContainsKey(containerInstanceArn)) return containerInstanceArn;
        var id = Arns.ContainerInstanceId(containerInstanceArn);
        return _instances.Keys.FirstOrDefault(k => Arns.ContainerInstanceId(k) == id) ?? containerInstanceArn;
    }
}

/// <summary>
/// What an <see cref="EmbeddedCluster"/> holds: live and stopped tasks in its table, stopped ARNs remembered after
/// their task was forgotten, tasks whose resources were given back, client tokens, placement notes, ids, pending
/// forgettings, pending emitted events.
/// </summary>
public readonly record struct ClusterItemCounts(int LiveTasks, int StoppedTasks, int ForgottenArns, int ReleasedArns, int ClientTokens,
    int PlacementNotes, int TaskIds, int PendingForgets, int PendingEvents);
