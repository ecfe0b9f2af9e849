using System.Collections.Concurrent;
using System.Globalization;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EcsReflex.Bench.HotPath;

/// <summary>One stubbed answer.</summary>
public sealed record StubReply(int Status, string ContentType, string Body)
{
    public static StubReply Json(JsonNode body) => new(200, "application/x-amz-json-1.1", body.ToJsonString());
    public static StubReply Xml(string body) => new(200, "text/xml", body);
    public static StubReply JsonError(string type, string message) =>
        new(400, "application/x-amz-json-1.1", new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString());
}

/// <summary>
/// The cluster the stubs describe, set up by each reaction kind: the tasks on each container instance, the alarms' states,
/// the services' desired counts, and what the bootstrap sent to SQS.
/// </summary>
public sealed class StubWorld
{
    public const string Account = "123456789012", Region = "us-east-1", ClusterName = "prod";
    public static readonly string ClusterArn = $"arn:aws:ecs:{Region}:{Account}:cluster/{ClusterName}";

    public ConcurrentDictionary<string, List<JsonObject>> TasksOnInstance { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, (string State, DateTimeOffset Since)> Alarms { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, int> DesiredCounts { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<(string QueueUrl, string Body)> Sent { get; } = new();

    public void Reset()
    {
        TasksOnInstance.Clear();
        Alarms.Clear();
        DesiredCounts.Clear();
        while (Sent.TryDequeue(out _)) { }
    }

    /// <summary>The EC2 instance behind a container instance: derived from its id, so the same ARN always answers the same.</summary>
    public static string Ec2InstanceIdOf(string containerInstanceArn) =>
        "i-0" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(containerInstanceArn)))[..16];

    public static string NewTaskId() => Guid.NewGuid().ToString("N");
    public static string TaskArn(string id) => $"arn:aws:ecs:{Region}:{Account}:task/{ClusterName}/{id}";

    /// <summary>A task as ECS describes it on the wire (timestamps in epoch seconds).</summary>
    public static JsonObject Task(string taskArn, string? containerInstanceArn, string group, string startedBy, string taskDefinitionArn,
        string lastStatus, DateTimeOffset createdAt, IEnumerable<(string Key, string Value)>? tags = null)
    {
        var id = taskArn[(taskArn.LastIndexOf('/') + 1)..];
        var family = taskDefinitionArn[(taskDefinitionArn.LastIndexOf('/') + 1)..].Split(':')[0];
        var stopped = lastStatus == "STOPPED";
        var task = new JsonObject
        {
            ["attachments"] = new JsonArray(),
            ["attributes"] = new JsonArray(new JsonObject { ["name"] = "ecs.cpu-architecture", ["value"] = "x86_64" }),
            ["availabilityZone"] = "us-east-1a",
            ["clusterArn"] = ClusterArn,
            ["connectivity"] = "CONNECTED",
            ["connectivityAt"] = Epoch(createdAt),
            ["containers"] = new JsonArray(new JsonObject
            {
                ["containerArn"] = $"arn:aws:ecs:{Region}:{Account}:container/{ClusterName}/{id}/{Guid.NewGuid()}",
                ["taskArn"] = taskArn,
                ["name"] = family,
                ["image"] = $"{Account}.dkr.ecr.{Region}.amazonaws.com/{family}:2026.02.27",
                ["lastStatus"] = lastStatus,
                ["networkInterfaces"] = new JsonArray(),
                ["cpu"] = "512",
                ["memory"] = "2048",
            }),
            ["cpu"] = "512",
            ["createdAt"] = Epoch(createdAt),
            ["desiredStatus"] = stopped ? "STOPPED" : "RUNNING",
            ["enableExecuteCommand"] = false,
            ["group"] = group,
            ["healthStatus"] = "UNKNOWN",
            ["lastStatus"] = lastStatus,
            ["launchType"] = "EC2",
            ["memory"] = "2048",
            ["overrides"] = new JsonObject
            {
                ["containerOverrides"] = new JsonArray(new JsonObject { ["name"] = family }),
                ["inferenceAcceleratorOverrides"] = new JsonArray(),
            },
            ["startedBy"] = startedBy,
            ["tags"] = new JsonArray((tags ?? []).Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
            ["taskArn"] = taskArn,
            ["taskDefinitionArn"] = taskDefinitionArn,
            ["version"] = stopped ? 5 : lastStatus == "RUNNING" ? 3 : 1,
        };
        if (containerInstanceArn is not null) task["containerInstanceArn"] = containerInstanceArn;
        if (lastStatus is "RUNNING" or "STOPPED")
        {
            task["pullStartedAt"] = Epoch(createdAt.AddSeconds(1));
            task["pullStoppedAt"] = Epoch(createdAt.AddSeconds(2));
            task["startedAt"] = Epoch(createdAt.AddSeconds(5));
        }
        if (stopped)
        {
            task["stopCode"] = "EssentialContainerExited";
            task["stoppedReason"] = "Essential container in task exited";
            task["stoppingAt"] = Epoch(createdAt.AddMinutes(8));
            task["stoppedAt"] = Epoch(createdAt.AddMinutes(8).AddSeconds(4));
            task["executionStoppedAt"] = Epoch(createdAt.AddMinutes(8).AddSeconds(3));
            task["containers"]![0]!["exitCode"] = 1;
        }
        return task;
    }

    public static double Epoch(DateTimeOffset t) => Math.Round(t.ToUnixTimeMilliseconds() / 1000.0, 3);
}

/// <summary>
/// The stubbed ECS, Application Auto Scaling, CloudWatch and SQS: plausible answers in the shapes AWS sends (the AWS JSON
/// protocol's members and epoch-second timestamps; CloudWatch's AWS Query XML), from <see cref="StubWorld"/>. An operation
/// the stub does not know is answered with the error AWS gives (<c>UnknownOperationException</c>), and still counted.
/// </summary>
public sealed class StubAws(StubWorld world)
{
    private const string CloudWatchNs = "http://monitoring.amazonaws.com/doc/2010-08-01/";

    public StubWorld World => world;

    public StubReply Answer(string service, string operation, byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        try
        {
            return service switch
            {
                Services.Ecs => Ecs(operation, JsonNode.Parse(text.Length == 0 ? "{}" : text)!.AsObject()),
                Services.AutoScaling => operation switch
                {
                    "DescribeScalableTargets" => StubReply.Json(new JsonObject { ["ScalableTargets"] = new JsonArray() }),
                    "DescribeScalingPolicies" => StubReply.Json(new JsonObject { ["ScalingPolicies"] = new JsonArray() }),
                    _ => Unknown(service, operation),
                },
                Services.CloudWatch => CloudWatch(operation, Form(text)),
                Services.Sqs => Sqs(operation, JsonNode.Parse(text.Length == 0 ? "{}" : text)!.AsObject()),
                _ => Unknown(service, operation),
            };
        }
        catch (System.Text.Json.JsonException ex)
        {
            return StubReply.JsonError("SerializationException", ex.Message);
        }
    }

    private static StubReply Unknown(string service, string operation) =>
        StubReply.JsonError("UnknownOperationException", $"the bench's {service} stub does not answer {operation}");

    // ---- ECS

    private StubReply Ecs(string operation, JsonObject r) => operation switch
    {
        "RunTask" => RunTask(r),
        "StopTask" => StopTask(r),
        "UpdateService" => UpdateService(r),
        "DescribeTasks" => DescribeTasks(r),
        "ListTasks" => ListTasks(r),
        "DescribeServices" => DescribeServices(r),
        "DescribeContainerInstances" => DescribeContainerInstances(r),
        "ListContainerInstances" => StubReply.Json(new JsonObject { ["containerInstanceArns"] = new JsonArray() }),
        _ => Unknown(Services.Ecs, operation),
    };

    private static string Str(JsonObject r, string name) => r[name]?.GetValue<string>() ?? "";

    private StubReply RunTask(JsonObject r)
    {
        var tags = r["tags"]?.AsArray().Select(t => (t!["key"]!.GetValue<string>(), t["value"]?.GetValue<string>() ?? "")).ToList();
        var taskDefinition = Str(r, "taskDefinition");
        var group = r["group"]?.GetValue<string>() ?? $"family:{taskDefinition[(taskDefinition.LastIndexOf('/') + 1)..].Split(':')[0]}";
        var count = r["count"]?.GetValue<int>() ?? 1;
        var tasks = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var task = StubWorld.Task(StubWorld.TaskArn(StubWorld.NewTaskId()), null, group, Str(r, "startedBy"), taskDefinition, "PENDING", DateTimeOffset.UtcNow, tags);
            if (r["overrides"] is { } o) task["overrides"] = o.DeepClone();
            tasks.Add(task);
        }
        return StubReply.Json(new JsonObject { ["tasks"] = tasks, ["failures"] = new JsonArray() });
    }

    private static StubReply StopTask(JsonObject r)
    {
        var task = StubWorld.Task(Str(r, "task"), null, "family:worker", "scheduler/nightly",
            $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:task-definition/worker:7", "RUNNING", DateTimeOffset.UtcNow.AddMinutes(-30));
        task["desiredStatus"] = "STOPPED";
        task["stoppedReason"] = r["reason"]?.GetValue<string>() ?? "Task stopped by user";
        return StubReply.Json(new JsonObject { ["task"] = task });
    }

    private StubReply UpdateService(JsonObject r)
    {
        var name = ServiceName(Str(r, "service"));
        if (r["desiredCount"] is { } d) world.DesiredCounts[name] = d.GetValue<int>();
        return StubReply.Json(new JsonObject { ["service"] = Service(name) });
    }

    private StubReply DescribeTasks(JsonObject r)
    {
        var known = world.TasksOnInstance.Values.SelectMany(l => l).ToDictionary(t => t["taskArn"]!.GetValue<string>(), StringComparer.Ordinal);
        var tasks = new JsonArray();
        foreach (var arn in r["tasks"]!.AsArray().Select(a => a!.GetValue<string>()))
            tasks.Add(known.TryGetValue(arn, out var t)
                ? t.DeepClone()
                // A task the world does not hold is the stopped task a relaunch reads the tags of.
                : StubWorld.Task(arn, $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:container-instance/{StubWorld.ClusterName}/424b1fee9709931505d95954058b4714",
                    "family:worker", "scheduler/nightly", $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:task-definition/worker:7", "STOPPED",
                    DateTimeOffset.UtcNow.AddMinutes(-10), [("team", "batch"), ("cost-center", "42"), ("aws:ecs:clusterName", StubWorld.ClusterName)]));
        return StubReply.Json(new JsonObject { ["tasks"] = tasks, ["failures"] = new JsonArray() });
    }

    private StubReply ListTasks(JsonObject r)
    {
        var arns = new JsonArray();
        if (r["containerInstance"]?.GetValue<string>() is { } ci && Str(r, "desiredStatus") is "" or "RUNNING"
            && world.TasksOnInstance.TryGetValue(ci, out var tasks))
            foreach (var t in tasks) arns.Add(t["taskArn"]!.GetValue<string>());
        return StubReply.Json(new JsonObject { ["taskArns"] = arns });
    }

    private StubReply DescribeServices(JsonObject r)
    {
        var services = new JsonArray();
        foreach (var s in r["services"]!.AsArray()) services.Add(Service(ServiceName(s!.GetValue<string>())));
        return StubReply.Json(new JsonObject { ["services"] = services, ["failures"] = new JsonArray() });
    }

    private static string ServiceName(string arnOrName) => arnOrName[(arnOrName.LastIndexOf('/') + 1)..];

    private JsonObject Service(string name)
    {
        var desired = world.DesiredCounts.GetOrAdd(name, 4);
        var arn = $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:service/{StubWorld.ClusterName}/{name}";
        var taskDefinition = $"arn:aws:ecs:{StubWorld.Region}:{StubWorld.Account}:task-definition/{name}:12";
        var created = StubWorld.Epoch(DateTimeOffset.UtcNow.AddDays(-30));
        return new JsonObject
        {
            ["serviceArn"] = arn,
            ["serviceName"] = name,
            ["clusterArn"] = StubWorld.ClusterArn,
            ["loadBalancers"] = new JsonArray(),
            ["serviceRegistries"] = new JsonArray(),
            ["status"] = "ACTIVE",
            ["desiredCount"] = desired,
            ["runningCount"] = desired,
            ["pendingCount"] = 0,
            ["launchType"] = "EC2",
            ["taskDefinition"] = taskDefinition,
            ["deploymentConfiguration"] = new JsonObject { ["maximumPercent"] = 200, ["minimumHealthyPercent"] = 100 },
            ["deployments"] = new JsonArray(new JsonObject
            {
                ["id"] = "ecs-svc/9223370564341623665", ["status"] = "PRIMARY", ["taskDefinition"] = taskDefinition,
                ["desiredCount"] = desired, ["pendingCount"] = 0, ["runningCount"] = desired, ["createdAt"] = created, ["updatedAt"] = created,
                ["launchType"] = "EC2", ["rolloutState"] = "COMPLETED",
            }),
            ["events"] = new JsonArray(),
            ["createdAt"] = created,
            ["placementConstraints"] = new JsonArray(new JsonObject { ["type"] = "memberOf", ["expression"] = "attribute:ecs.instance-type =~ m5.*" }),
            ["placementStrategy"] = new JsonArray(
                new JsonObject { ["type"] = "spread", ["field"] = "attribute:ecs.availability-zone" },
                new JsonObject { ["type"] = "binpack", ["field"] = "memory" }),
            ["schedulingStrategy"] = "REPLICA",
            ["enableECSManagedTags"] = false,
            ["propagateTags"] = "NONE",
            ["enableExecuteCommand"] = false,
        };
    }

    private StubReply DescribeContainerInstances(JsonObject r)
    {
        var instances = new JsonArray();
        foreach (var arn in r["containerInstances"]!.AsArray().Select(a => a!.GetValue<string>()))
        {
            var running = world.TasksOnInstance.TryGetValue(arn, out var tasks) ? tasks.Count : 2;
            instances.Add(new JsonObject
            {
                ["containerInstanceArn"] = arn,
                ["ec2InstanceId"] = StubWorld.Ec2InstanceIdOf(arn),
                ["version"] = 44,
                ["versionInfo"] = new JsonObject { ["agentVersion"] = "1.99.1", ["agentHash"] = "3f6c2a9e", ["dockerVersion"] = "DockerVersion: 25.0.8" },
                ["remainingResources"] = new JsonArray(
                    new JsonObject { ["name"] = "CPU", ["type"] = "INTEGER", ["doubleValue"] = 0.0, ["longValue"] = 0, ["integerValue"] = 1024 },
                    new JsonObject { ["name"] = "MEMORY", ["type"] = "INTEGER", ["doubleValue"] = 0.0, ["longValue"] = 0, ["integerValue"] = 3584 }),
                ["registeredResources"] = new JsonArray(
                    new JsonObject { ["name"] = "CPU", ["type"] = "INTEGER", ["doubleValue"] = 0.0, ["longValue"] = 0, ["integerValue"] = 2048 },
                    new JsonObject { ["name"] = "MEMORY", ["type"] = "INTEGER", ["doubleValue"] = 0.0, ["longValue"] = 0, ["integerValue"] = 7680 }),
                ["status"] = "ACTIVE",
                ["agentConnected"] = true,
                ["runningTasksCount"] = running,
                ["pendingTasksCount"] = 0,
                ["attributes"] = new JsonArray(
                    new JsonObject { ["name"] = "ecs.availability-zone", ["value"] = "us-east-1a" },
                    new JsonObject { ["name"] = "ecs.instance-type", ["value"] = "m5.large" }),
                ["registeredAt"] = StubWorld.Epoch(DateTimeOffset.UtcNow.AddDays(-7)),
                ["attachments"] = new JsonArray(),
                ["tags"] = new JsonArray(),
            });
        }
        return StubReply.Json(new JsonObject { ["containerInstances"] = instances, ["failures"] = new JsonArray() });
    }

    // ---- CloudWatch (AWS Query: form parameters in, XML out)

    public static Dictionary<string, string> Form(string body) =>
        body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .GroupBy(p => Unescape(p[0]), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Length > 1 ? Unescape(g.Last()[1]) : "", StringComparer.Ordinal);

    private static string Unescape(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

    private static IEnumerable<string> Members(Dictionary<string, string> form, string list)
    {
        for (var i = 1; form.TryGetValue($"{list}.member.{i}", out var v); i++) yield return v;
    }

    private StubReply CloudWatch(string operation, Dictionary<string, string> form) => operation switch
    {
        "DescribeAlarms" => DescribeAlarms(form),
        "GetMetricData" => GetMetricData(form),
        _ => new StubReply(400, "text/xml",
            $"<ErrorResponse xmlns=\"{CloudWatchNs}\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the bench's CloudWatch stub does not answer {SecurityElement.Escape(operation)}</Message></Error><RequestId>{Guid.NewGuid()}</RequestId></ErrorResponse>"),
    };

    private StubReply DescribeAlarms(Dictionary<string, string> form)
    {
        var metric = new StringBuilder();
        var composite = new StringBuilder();
        foreach (var name in Members(form, "AlarmNames"))
        {
            var (state, since) = world.Alarms.GetValueOrDefault(name, ("OK", DateTimeOffset.UtcNow.AddHours(-3)));
            var common = $"<AlarmName>{X(name)}</AlarmName><AlarmArn>arn:aws:cloudwatch:{StubWorld.Region}:{StubWorld.Account}:alarm:{X(name)}</AlarmArn>"
                         + $"<StateValue>{state}</StateValue><StateReason>{X(state == "ALARM" ? "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (70.0)." : "Threshold Crossed: 1 out of the last 1 datapoints was not greater than the threshold (70.0).")}</StateReason>"
                         + $"<StateUpdatedTimestamp>{since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}</StateUpdatedTimestamp>"
                         + "<ActionsEnabled>true</ActionsEnabled><AlarmActions/><OKActions/><InsufficientDataActions/>";
            if (name.Contains("composite", StringComparison.Ordinal))
                composite.Append($"<member>{common}<AlarmRule>ALARM(web-cpu-high) AND ALARM(web-latency-math)</AlarmRule></member>");
            else
            {
                var low = name.Contains("low", StringComparison.Ordinal);
                metric.Append($"<member>{common}<MetricName>CPUUtilization</MetricName><Namespace>AWS/ECS</Namespace><Statistic>Average</Statistic>"
                              + $"<Dimensions><member><Name>ClusterName</Name><Value>{StubWorld.ClusterName}</Value></member><member><Name>ServiceName</Name><Value>{X(name.Split('-')[0])}</Value></member></Dimensions>"
                              + $"<Period>60</Period><EvaluationPeriods>3</EvaluationPeriods><DatapointsToAlarm>3</DatapointsToAlarm><Threshold>{(low ? "30.0" : "70.0")}</Threshold>"
                              + $"<ComparisonOperator>{(low ? "LessThanThreshold" : "GreaterThanThreshold")}</ComparisonOperator><TreatMissingData>missing</TreatMissingData></member>");
            }
        }
        return StubReply.Xml($"<DescribeAlarmsResponse xmlns=\"{CloudWatchNs}\"><DescribeAlarmsResult><MetricAlarms>{metric}</MetricAlarms><CompositeAlarms>{composite}</CompositeAlarms></DescribeAlarmsResult>"
                             + $"<ResponseMetadata><RequestId>{Guid.NewGuid()}</RequestId></ResponseMetadata></DescribeAlarmsResponse>");
    }

    private static StubReply GetMetricData(Dictionary<string, string> form)
    {
        var results = new StringBuilder();
        var now = DateTimeOffset.UtcNow;
        for (var i = 1; form.TryGetValue($"MetricDataQueries.member.{i}.Id", out var id); i++)
            results.Append($"<member><Id>{X(id)}</Id><Label>CPUUtilization</Label><Timestamps><member>{now.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:00Z", CultureInfo.InvariantCulture)}</member></Timestamps>"
                           + "<Values><member>87.5</member></Values><StatusCode>Complete</StatusCode></member>");
        return StubReply.Xml($"<GetMetricDataResponse xmlns=\"{CloudWatchNs}\"><GetMetricDataResult><MetricDataResults>{results}</MetricDataResults><Messages/></GetMetricDataResult>"
                             + $"<ResponseMetadata><RequestId>{Guid.NewGuid()}</RequestId></ResponseMetadata></GetMetricDataResponse>");
    }

    private static string X(string s) => SecurityElement.Escape(s);

    // ---- SQS (AWS JSON 1.0)

    private StubReply Sqs(string operation, JsonObject r)
    {
        switch (operation)
        {
            case "SendMessage":
                world.Sent.Enqueue((Str(r, "QueueUrl"), Str(r, "MessageBody")));
                return StubReply.Json(new JsonObject { ["MessageId"] = Guid.NewGuid().ToString(), ["MD5OfMessageBody"] = Md5(Str(r, "MessageBody")) });
            case "SendMessageBatch":
                var ok = new JsonArray();
                foreach (var e in r["Entries"]!.AsArray())
                {
                    var body = e!["MessageBody"]!.GetValue<string>();
                    world.Sent.Enqueue((Str(r, "QueueUrl"), body));
                    ok.Add(new JsonObject { ["Id"] = e["Id"]!.GetValue<string>(), ["MessageId"] = Guid.NewGuid().ToString(), ["MD5OfMessageBody"] = Md5(body) });
                }
                return StubReply.Json(new JsonObject { ["Successful"] = ok, ["Failed"] = new JsonArray() });
            default:
                return Unknown(Services.Sqs, operation);
        }
    }

    private static string Md5(string s) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(s)));
}
