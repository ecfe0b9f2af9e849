using EcsReflex.Core.Events;
using EcsReflex.Core.Observed;
using EcsReflex.Core.Placement;

namespace EcsReflex.Core.Tests;

public class QueryLanguageEvaluatorTests
{
    // One m5.large in us-east-1b running a worker task and a web service task.
    private static readonly QueryTarget Target = new()
    {
        Instance = new ObservedContainerInstance
        {
            ContainerInstanceArn = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/eee5ec7b4db846c31a728415e4a8e902",
            Ec2InstanceId = "i-0bbbb4609287edcaa",
            Status = "ACTIVE",
            AgentConnected = true,
            RunningTasksCount = 3,
            RegisteredAt = new DateTimeOffset(2026, 2, 26, 18, 3, 9, TimeSpan.Zero),
            AgentVersion = "1.99.1",
            Attributes =
            [
                new KeyValue("ecs.capability.task-eni", null),
                new KeyValue("ecs.availability-zone", "us-east-1b"),
                new KeyValue("ecs.instance-type", "m5.large"),
                new KeyValue("ecs.os-type", "linux"),
                new KeyValue("custom.size", "10"),
            ],
        },
        TaskGroups = ["family:worker", "service:web"],
    };

    public static TheoryData<string, bool> Cases => new()
    {
        // attributes
        { "attribute:ecs.instance-type == m5.large", true },
        { "attribute:ecs.instance-type == t2.small", false },
        { "attribute:ecs.instance-type != t2.small", true },
        { "attribute:ecs.instance-type =~ m5.*", true },
        { "attribute:ecs.instance-type =~ m5", false },          // a full match, not a search
        { "attribute:ecs.instance-type =~ (t2|m5)\\.large", true },
        { "attribute:ecs.instance-type !~ t2.*", true },
        { "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true },
        { "attribute:ecs.availability-zone !in [us-east-1a, us-east-1b]", false },
        { "attribute:ecs.capability.task-eni exists", true },     // an attribute without a value exists
        { "attribute:ecs.capability.task-eni == x", false },
        { "attribute:stack exists", false },
        { "attribute:stack !exists", true },
        { "attribute:stack == prod", false },                    // missing: positive operators are false
        { "attribute:stack != prod", true },                     // ... and negative ones true
        { "attribute:stack !in [prod]", true },
        { "attribute:custom.size > 9", true },                   // numbers compare as numbers
        { "attribute:custom.size < 9", false },
        { "attribute:ecs.os-type > linuw", true },               // other values as strings
        // ec2InstanceId
        { "ec2InstanceId == i-0bbbb4609287edcaa", true },
        { "ec2InstanceId != i-0bbbb4609287edcaa", false },
        { "ec2InstanceId in ['i-0aaa0e242d1d87a6e', 'i-0bbbb4609287edcaa']", true },
        { "ec2InstanceId =~ i-0b.*", true },
        // runningTasksCount
        { "runningTasksCount == 3", true },
        { "runningTasksCount > 2", true },
        { "runningTasksCount >= 4", false },
        { "runningTasksCount <= 2", false },
        { "runningTasksCount < 4", true },
        // registeredAt (2026-02-26T18:03:09Z)
        { "registeredAt < 2026-02-27", true },
        { "registeredAt >= 2026-02-27T00:00:00Z", false },
        { "registeredAt > 2026-02-26T18:03:08", true },
        { "registeredAt == 2026-02-26T18:03:09+00:00", true },
        { "registeredAt == 2026-02-26T19:03:09+01:00", true },
        // task:group
        { "task:group == service:web", true },
        { "task:group == database", false },
        { "task:group != service:web", false },                  // anti-affinity: no task of the group
        { "task:group != database", true },
        { "not(task:group == database)", true },
        { "task:group =~ family:.*", true },
        { "task:group in [database, cache]", false },
        { "task:group !in [database, cache]", true },
        { "task:group exists", true },
        // agent
        { "agentConnected == true", true },
        { "agentConnected != true", false },
        { "agentVersion < 1.14.5", false },
        { "agentVersion >= 1.99", true },
        { "agentVersion == 1.99.1", true },
        // compound
        { "attribute:ecs.instance-type =~ m5.* and attribute:ecs.availability-zone != us-east-1d", true },
        { "attribute:ecs.instance-type =~ g2.* or attribute:ecs.availability-zone == us-east-1b", true },
        { "runningTasksCount == 0 or runningTasksCount == 3 and attribute:ecs.os-type == linux", true },
        { "(runningTasksCount == 0 or runningTasksCount == 3) and attribute:ecs.os-type == windows", false },
        { "not (runningTasksCount == 3 and task:group == service:web)", false },
        { "! attribute:stack exists && runningTasksCount == 3", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_EvaluatesAgainstTheInstance(string expression, bool expected)
    {
        Assert.Equal(expected, QueryEvaluator.Matches(expression, Target));
    }

    [Fact]
    public void Matches_RunningTasksCountOfTheTarget_OverridesTheInstancesOwn()
    {
        Assert.True(QueryEvaluator.Matches("runningTasksCount == 0", Target with { RunningTasksCount = 0 }));
    }

    [Fact]
    public void Matches_InstanceWithoutRegistrationTimeOrAgentVersion_FailsPositiveComparisons()
    {
        var bare = Target with { Instance = Target.Instance with { RegisteredAt = null, AgentVersion = null, AgentConnected = null } };
        Assert.False(QueryEvaluator.Matches("registeredAt < 2030-01-01", bare));
        Assert.False(QueryEvaluator.Matches("agentVersion > 0.0.1", bare));
        Assert.False(QueryEvaluator.Matches("agentConnected == true", bare));
        Assert.True(QueryEvaluator.Matches("agentConnected != true", bare));
    }

    [Fact]
    public void Matches_InvalidExpression_Throws()
    {
        Assert.Throws<QueryLanguageException>(() => QueryEvaluator.Matches("runningTasksCount ==", Target));
    }
}
