using System.Text.Json.Serialization;

namespace EcsReflex.Aws.CloudWatch;

// Shapes of the CloudWatch API (2010-08-01) that EcsReflex uses, named after the official model. The
// request goes out as AWS Query parameters (flattened from these members); the answer is XML.

public sealed record DescribeAlarmsRequest
{
    public IReadOnlyList<string>? AlarmNames { get; init; }
    public string? AlarmNamePrefix { get; init; }
    /// <summary><c>MetricAlarm</c> and/or <c>CompositeAlarm</c>; when absent CloudWatch returns metric alarms only.</summary>
    public IReadOnlyList<string>? AlarmTypes { get; init; }
    public string? ChildrenOfAlarmName { get; init; }
    public string? ParentsOfAlarmName { get; init; }
    public string? StateValue { get; init; }
    public string? ActionPrefix { get; init; }
    public int? MaxRecords { get; init; }
    public string? NextToken { get; init; }
}

public sealed record Dimension(string Name, string Value);

public sealed record Metric
{
    public string? Namespace { get; init; }
    public string? MetricName { get; init; }
    public IReadOnlyList<Dimension> Dimensions { get; init; } = [];
}

public sealed record MetricStat
{
    public required Metric Metric { get; init; }
    public int? Period { get; init; }
    public string? Stat { get; init; }
    public string? Unit { get; init; }
}

public sealed record MetricDataQuery
{
    public required string Id { get; init; }
    public MetricStat? MetricStat { get; init; }
    public string? Expression { get; init; }
    public string? Label { get; init; }
    public bool? ReturnData { get; init; }
    public int? Period { get; init; }
}

public sealed record MetricAlarm
{
    public required string AlarmName { get; init; }
    public string? AlarmArn { get; init; }
    public string? AlarmDescription { get; init; }
    public string? StateValue { get; init; }
    public string? StateReason { get; init; }
    public string? StateReasonData { get; init; }
    public DateTimeOffset? StateUpdatedTimestamp { get; init; }
    public bool? ActionsEnabled { get; init; }
    public IReadOnlyList<string> AlarmActions { get; init; } = [];
    public IReadOnlyList<string> OKActions { get; init; } = [];
    public IReadOnlyList<string> InsufficientDataActions { get; init; } = [];
    public string? MetricName { get; init; }
    public string? Namespace { get; init; }
    public string? Statistic { get; init; }
    public string? ExtendedStatistic { get; init; }
    public IReadOnlyList<Dimension> Dimensions { get; init; } = [];
    public int? Period { get; init; }
    public string? Unit { get; init; }
    public int? EvaluationPeriods { get; init; }
    public int? DatapointsToAlarm { get; init; }
    public double? Threshold { get; init; }
    public string? ComparisonOperator { get; init; }
    public string? TreatMissingData { get; init; }
    public IReadOnlyList<MetricDataQuery> Metrics { get; init; } = [];
}

public sealed record CompositeAlarm
{
    public required string AlarmName { get; init; }
    public string? AlarmArn { get; init; }
    public string? AlarmDescription { get; init; }
    public string? AlarmRule { get; init; }
    public string? StateValue { get; init; }
    public string? StateReason { get; init; }
    public DateTimeOffset? StateUpdatedTimestamp { get; init; }
    public bool? ActionsEnabled { get; init; }
    public IReadOnlyList<string> AlarmActions { get; init; } = [];
}

public sealed record DescribeAlarmsResponse
{
    public IReadOnlyList<MetricAlarm> MetricAlarms { get; init; } = [];
    public IReadOnlyList<CompositeAlarm> CompositeAlarms { get; init; } = [];
    public string? NextToken { get; init; }
    public string? RequestId { get; init; }
}

/// <summary>GetMetricData: the alarm's own metric queries over its last periods, newest first (a sustained alarm's re-decision).</summary>
public sealed record GetMetricDataRequest
{
    public required IReadOnlyList<MetricDataQuery> MetricDataQueries { get; init; }
    /// <summary>ISO 8601, as the Query protocol takes timestamps.</summary>
    public required string StartTime { get; init; }
    public required string EndTime { get; init; }
    /// <summary><c>TimestampDescending</c> (newest first) or <c>TimestampAscending</c>.</summary>
    public string? ScanBy { get; init; }
    public int? MaxDatapoints { get; init; }
    public string? NextToken { get; init; }
}

public sealed record MetricDataResult
{
    public required string Id { get; init; }
    public string? Label { get; init; }
    public IReadOnlyList<double> Values { get; init; } = [];
    /// <summary><c>Complete</c>, <c>InternalError</c>, <c>PartialData</c> or <c>Forbidden</c>.</summary>
    public string? StatusCode { get; init; }
}

public sealed record GetMetricDataResponse
{
    public IReadOnlyList<MetricDataResult> MetricDataResults { get; init; } = [];
    public string? NextToken { get; init; }
}

/// <summary>The request as JSON with the model's member names: the source of the Query parameters (and what the conformance test checks).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DescribeAlarmsRequest))]
public sealed partial class CloudWatchJsonContext : JsonSerializerContext;
