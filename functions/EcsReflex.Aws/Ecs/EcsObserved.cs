using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;

namespace EcsReflex.Aws.Ecs;

/// <summary>ECS answers as the core's observed model (the same shapes the replay's snapshot holds).</summary>
public static class EcsObserved
{
    public static ObservedTask ToObserved(EcsTask t) => new()
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
        Tags = t.Tags,
        Overrides = t.Overrides,
        EnableExecuteCommand = t.EnableExecuteCommand,
        Attachments = Attachments(t),
        Version = t.Version,
        StoppedAt = t.StoppedAt,
        StopCode = t.StopCode,
        StoppedReason = t.StoppedReason,
        Containers = t.Containers.Select(Detail).ToList(),
    };

    private static List<Core.Events.Attachment> Attachments(EcsTask t) => t.Attachments.Select(a => new Core.Events.Attachment
    {
        Id = a.Id, Type = a.Type, Status = a.Status,
        Details = a.Details.Where(d => d.Name is not null).Select(d => new KeyValue(d.Name!, d.Value)).ToList(),
    }).ToList();

    private static ContainerDetail Detail(Container c) => new()
    {
        Name = c.Name, ContainerArn = c.ContainerArn, LastStatus = c.LastStatus, ExitCode = c.ExitCode, Reason = c.Reason, Image = c.Image,
    };

    /// <summary>A described task as its state change event would carry it (the event's detail is the task's description).</summary>
    public static TaskStateChange ToStateChange(EcsTask t, string clusterArn) => new()
    {
        ClusterArn = t.ClusterArn ?? clusterArn,
        TaskArn = t.TaskArn,
        TaskDefinitionArn = t.TaskDefinitionArn,
        Group = t.Group,
        StartedBy = t.StartedBy,
        LastStatus = t.LastStatus ?? "STOPPED",
        DesiredStatus = t.DesiredStatus,
        StopCode = t.StopCode,
        StoppedReason = t.StoppedReason,
        LaunchType = t.LaunchType,
        CapacityProviderName = t.CapacityProviderName,
        PlatformVersion = t.PlatformVersion,
        AvailabilityZone = t.AvailabilityZone,
        ContainerInstanceArn = t.ContainerInstanceArn,
        Cpu = t.Cpu,
        Memory = t.Memory,
        EnableExecuteCommand = t.EnableExecuteCommand,
        Version = t.Version,
        Containers = t.Containers.Select(Detail).ToList(),
        Overrides = t.Overrides,
        Attachments = Attachments(t),
        Attributes = t.Attributes.Select(a => new KeyValue(a.Name, a.Value)).ToList(),
        CreatedAt = t.CreatedAt,
        StartedAt = t.StartedAt,
        StoppingAt = t.StoppingAt,
        StoppedAt = t.StoppedAt,
    };

    public static ObservedService ToObserved(Service s) => new()
    {
        ServiceArn = s.ServiceArn,
        ServiceName = s.ServiceName,
        ClusterArn = s.ClusterArn,
        Status = s.Status,
        DesiredCount = s.DesiredCount,
        RunningCount = s.RunningCount,
        PendingCount = s.PendingCount,
        LaunchType = s.LaunchType,
        CapacityProviderStrategy = s.CapacityProviderStrategy,
        PlacementConstraints = s.PlacementConstraints,
        PlacementStrategy = s.PlacementStrategy,
    };

    public static ObservedContainerInstance ToObserved(ContainerInstance c) => new()
    {
        ContainerInstanceArn = c.ContainerInstanceArn,
        Ec2InstanceId = c.Ec2InstanceId,
        Status = c.Status,
        AgentConnected = c.AgentConnected,
        Version = c.Version,
        Attributes = c.Attributes.Select(a => new KeyValue(a.Name, a.Value)).ToList(),
        RegisteredResources = c.RegisteredResources.Where(r => r.Name is not null).Select(ToObserved).ToList(),
        RemainingResources = c.RemainingResources.Where(r => r.Name is not null).Select(ToObserved).ToList(),
        RunningTasksCount = c.RunningTasksCount,
        PendingTasksCount = c.PendingTasksCount,
        RegisteredAt = c.RegisteredAt,
        CapacityProviderName = c.CapacityProviderName,
        AgentVersion = c.VersionInfo?.AgentVersion,
    };

    private static InstanceResource ToObserved(Resource r) => new()
    {
        Name = r.Name!,
        Type = r.Type,
        IntegerValue = r.IntegerValue,
        DoubleValue = r.DoubleValue,
        LongValue = r.LongValue,
        StringSetValue = r.StringSetValue,
    };
}
