using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using EcsReflex.Aws.Config;
using EcsReflex.Aws.Ecs;
using EcsReflex.Aws.Http;

namespace EcsReflex.Aws.CloudWatch;

/// <summary>CloudWatch over the AWS Query protocol (form-encoded request, XML answer): <c>DescribeAlarms</c>, <c>GetMetricData</c>.</summary>
public sealed class CloudWatchClient(AwsTransport transport)
{
    public async Task<DescribeAlarmsResponse> DescribeAlarmsAsync(DescribeAlarmsRequest request, CancellationToken ct)
    {
        var xml = await transport.SendQueryAsync(AwsService.CloudWatch, "DescribeAlarms", QueryParameters(request), ct).ConfigureAwait(false);
        return ParseDescribeAlarms(xml);
    }

    /// <summary>One page of <c>GetMetricData</c>.</summary>
    public async Task<GetMetricDataResponse> GetMetricDataAsync(GetMetricDataRequest request, CancellationToken ct)
    {
        var xml = await transport.SendQueryAsync(AwsService.CloudWatch, "GetMetricData", QueryParameters(request), ct).ConfigureAwait(false);
        return ParseGetMetricData(xml);
    }

    /// <summary>Every alarm, following <c>NextToken</c>.</summary>
    public async Task<DescribeAlarmsResponse> DescribeAllAlarmsAsync(DescribeAlarmsRequest request, CancellationToken ct)
    {
        var composite = new List<CompositeAlarm>();
        var metric = await Paging.AllAsync(AwsService.CloudWatch, "DescribeAlarms", request.NextToken, async token =>
        {
            var page = await DescribeAlarmsAsync(request with { NextToken = token }, ct).ConfigureAwait(false);
            composite.AddRange(page.CompositeAlarms);
            return page;
        }, r => r.MetricAlarms, r => r.NextToken).ConfigureAwait(false);
        return new DescribeAlarmsResponse { MetricAlarms = metric, CompositeAlarms = composite };
    }

    /// <summary>
    /// The AWS Query parameters of a request: members by name, lists as <c>Name.member.N</c> (from 1), nested
    /// structures as <c>Name.Member</c>; flattened from the request's JSON so both always agree.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> QueryParameters(DescribeAlarmsRequest request) =>
        Flattened(JsonSerializer.SerializeToUtf8Bytes(request, CloudWatchJsonContext.Default.DescribeAlarmsRequest));

    /// <summary>
    /// The AWS Query parameters of a <c>GetMetricData</c> request, named as <see cref="QueryParameters(DescribeAlarmsRequest)"/>
    /// names them; written member by member (no serializer metadata: the bootstrap stays within Lambda's zip limit).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> QueryParameters(GetMetricDataRequest request)
    {
        var p = new List<KeyValuePair<string, string>>();
        void Add(string name, string? value) { if (value is not null) p.Add(new(name, value)); }
        static string Int(int? v) => v!.Value.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < request.MetricDataQueries.Count; i++)
        {
            var q = request.MetricDataQueries[i];
            var at = $"MetricDataQueries.member.{i + 1}";
            Add($"{at}.Id", q.Id);
            if (q.MetricStat is { } stat)
            {
                Add($"{at}.MetricStat.Metric.Namespace", stat.Metric.Namespace);
                Add($"{at}.MetricStat.Metric.MetricName", stat.Metric.MetricName);
                for (var d = 0; d < stat.Metric.Dimensions.Count; d++)
                {
                    Add($"{at}.MetricStat.Metric.Dimensions.member.{d + 1}.Name", stat.Metric.Dimensions[d].Name);
                    Add($"{at}.MetricStat.Metric.Dimensions.member.{d + 1}.Value", stat.Metric.Dimensions[d].Value);
                }
                if (stat.Period is not null) Add($"{at}.MetricStat.Period", Int(stat.Period));
                Add($"{at}.MetricStat.Stat", stat.Stat);
                Add($"{at}.MetricStat.Unit", stat.Unit);
            }
            Add($"{at}.Expression", q.Expression);
            Add($"{at}.Label", q.Label);
            if (q.ReturnData is { } r) Add($"{at}.ReturnData", r ? "true" : "false");
            if (q.Period is not null) Add($"{at}.Period", Int(q.Period));
        }
        Add("StartTime", request.StartTime);
        Add("EndTime", request.EndTime);
        Add("ScanBy", request.ScanBy);
        if (request.MaxDatapoints is not null) Add("MaxDatapoints", Int(request.MaxDatapoints));
        Add("NextToken", request.NextToken);
        return p;
    }

    private static List<KeyValuePair<string, string>> Flattened(byte[] json)
    {
        var result = new List<KeyValuePair<string, string>>();
        using var doc = JsonDocument.Parse(json);
        Flatten("", doc.RootElement, result);
        return result;
    }

    private static void Flatten(string prefix, JsonElement e, List<KeyValuePair<string, string>> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Flatten(prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}", p.Value, into);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray()) Flatten($"{prefix}.member.{++i}", item, into);
                break;
            case JsonValueKind.String:
                into.Add(new(prefix, e.GetString()!));
                break;
            case JsonValueKind.True or JsonValueKind.False:
                into.Add(new(prefix, e.GetBoolean() ? "true" : "false"));
                break;
            case JsonValueKind.Number:
                into.Add(new(prefix, e.GetRawText()));
                break;
        }
    }

    /// <summary>Reads a <c>DescribeAlarmsResponse</c> document; members EcsReflex does not use are ignored.</summary>
    public static DescribeAlarmsResponse ParseDescribeAlarms(XElement root)
    {
        var result = Child(root, "DescribeAlarmsResult") ?? throw new FormatException($"expected DescribeAlarmsResult in {root.Name.LocalName}");
        return new DescribeAlarmsResponse
        {
            MetricAlarms = Members(Child(result, "MetricAlarms")).Select(ReadMetricAlarm).ToList(),
            CompositeAlarms = Members(Child(result, "CompositeAlarms")).Select(ReadCompositeAlarm).ToList(),
            NextToken = Text(result, "NextToken"),
            RequestId = Child(root, "ResponseMetadata") is { } meta ? Text(meta, "RequestId") : null,
        };
    }

    /// <summary>Reads a <c>GetMetricDataResponse</c> document: each result's values, in the order CloudWatch lists them.</summary>
    public static GetMetricDataResponse ParseGetMetricData(XElement root)
    {
        var result = Child(root, "GetMetricDataResult") ?? throw new FormatException($"expected GetMetricDataResult in {root.Name.LocalName}");
        return new GetMetricDataResponse
        {
            MetricDataResults = Members(Child(result, "MetricDataResults")).Select(m =>
            {
                // The values only (newest first when asked with ScanBy TimestampDescending): EcsReflex reads no timestamp.
                var values = new List<double>();
                foreach (var v in Members(Child(m, "Values")))
                    values.Add(double.Parse(v.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
                return new MetricDataResult
                {
                    Id = Text(m, "Id") ?? throw new FormatException("a MetricDataResult has no Id"),
                    Label = Text(m, "Label"), Values = values, StatusCode = Text(m, "StatusCode"),
                };
            }).ToList(),
            NextToken = Text(result, "NextToken"),
        };
    }

    private static MetricAlarm ReadMetricAlarm(XElement e) => new()
    {
        AlarmName = Text(e, "AlarmName") ?? throw new FormatException("a MetricAlarm has no AlarmName"),
        AlarmArn = Text(e, "AlarmArn"),
        AlarmDescription = Text(e, "AlarmDescription"),
        StateValue = Text(e, "StateValue"),
        StateReason = Text(e, "StateReason"),
        StateReasonData = Text(e, "StateReasonData"),
        StateUpdatedTimestamp = Time(e, "StateUpdatedTimestamp"),
        ActionsEnabled = Bool(e, "ActionsEnabled"),
        AlarmActions = Strings(e, "AlarmActions"),
        OKActions = Strings(e, "OKActions"),
        InsufficientDataActions = Strings(e, "InsufficientDataActions"),
        MetricName = Text(e, "MetricName"),
        Namespace = Text(e, "Namespace"),
        Statistic = Text(e, "Statistic"),
        ExtendedStatistic = Text(e, "ExtendedStatistic"),
        Dimensions = Dimensions(e),
        Period = Int(e, "Period"),
        Unit = Text(e, "Unit"),
        EvaluationPeriods = Int(e, "EvaluationPeriods"),
        DatapointsToAlarm = Int(e, "DatapointsToAlarm"),
        Threshold = Double(e, "Threshold"),
        ComparisonOperator = Text(e, "ComparisonOperator"),
        TreatMissingData = Text(e, "TreatMissingData"),
        Metrics = Members(Child(e, "Metrics")).Select(m => new MetricDataQuery
        {
            Id = Text(m, "Id") ?? throw new FormatException("a MetricDataQuery has no Id"),
            Expression = Text(m, "Expression"),
            Label = Text(m, "Label"),
            ReturnData = Bool(m, "ReturnData"),
            Period = Int(m, "Period"),
            MetricStat = Child(m, "MetricStat") is { } s
                ? new MetricStat
                {
                    Metric = Child(s, "Metric") is { } metric
                        ? new Metric { Namespace = Text(metric, "Namespace"), MetricName = Text(metric, "MetricName"), Dimensions = Dimensions(metric) }
                        : throw new FormatException("a MetricStat has no Metric"),
                    Period = Int(s, "Period"),
                    Stat = Text(s, "Stat"),
                    Unit = Text(s, "Unit"),
                }
                : null,
        }).ToList(),
    };

    private static CompositeAlarm ReadCompositeAlarm(XElement e) => new()
    {
        AlarmName = Text(e, "AlarmName") ?? throw new FormatException("a CompositeAlarm has no AlarmName"),
        AlarmArn = Text(e, "AlarmArn"),
        AlarmDescription = Text(e, "AlarmDescription"),
        AlarmRule = Text(e, "AlarmRule"),
        StateValue = Text(e, "StateValue"),
        StateReason = Text(e, "StateReason"),
        StateUpdatedTimestamp = Time(e, "StateUpdatedTimestamp"),
        ActionsEnabled = Bool(e, "ActionsEnabled"),
        AlarmActions = Strings(e, "AlarmActions"),
    };

    private static IReadOnlyList<Dimension> Dimensions(XElement e) =>
        Members(Child(e, "Dimensions")).Select(d => new Dimension(
            Text(d, "Name") ?? throw new FormatException("a Dimension has no Name"), Text(d, "Value") ?? "")).ToList();

    private static XElement? Child(XElement e, string name) => e.Elements().FirstOrDefault(c => c.Name.LocalName == name);
    private static IEnumerable<XElement> Members(XElement? list) => list?.Elements().Where(c => c.Name.LocalName == "member") ?? [];
    private static string? Text(XElement e, string name) => Child(e, name)?.Value;
    private static IReadOnlyList<string> Strings(XElement e, string name) => Members(Child(e, name)).Select(m => m.Value).ToList();

    private static int? Int(XElement e, string name) =>
        Text(e, name) is { } s ? int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

    private static double? Double(XElement e, string name) =>
        Text(e, name) is { } s ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

    private static bool? Bool(XElement e, string name) => Text(e, name) switch
    {
        null => null,
        "true" => true,
        "false" => false,
        var s => throw new FormatException($"{name}: '{s}' is not true or false"),
    };

    private static DateTimeOffset? Time(XElement e, string name) =>
        Text(e, name) is { } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime() : null;
}
