using System.Text.Json;
using System.Text.Json.Nodes;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Hosting;
using EcsReflex.Engine.Acting;
using EcsReflex.Lambda.Logging;
using EcsReflex.Lambda.Metrics;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// The stack alarms only on metrics the host emits: every custom metric (a namespace that is not AWS's own) an alarm
/// of the synthesized template reads is declared, with the same namespace and dimensions, in the host's EMF line.
/// </summary>
public sealed class MetricAgreementTests(TestPolicyStack fixture) : IClassFixture<TestPolicyStack>
{
    private sealed class Lines : ILineWriter
    {
        public List<string> Written { get; } = [];
        public void WriteLine(ReadOnlySpan<byte> utf8) => Written.Add(System.Text.Encoding.UTF8.GetString(utf8));
    }

    /// <summary>What the host's EMF line declares for an invocation: namespace, dimension names, metric names.</summary>
    private static (string Namespace, string[] Dimensions, HashSet<string> Metrics) HostDeclares(string handler)
    {
        var metrics = new InvocationMetrics(handler);
        metrics.Add(Outcome.Acted, Array.Empty<ActionResult>(), "acted", 1.5);
        var lines = new Lines();
        EmfWriter.Write(lines, metrics, "req-1", DateTimeOffset.UnixEpoch);
        using var doc = JsonDocument.Parse(Assert.Single(lines.Written));
        var directive = Assert.Single(doc.RootElement.GetProperty("_aws").GetProperty("CloudWatchMetrics").EnumerateArray().ToList());
        return (directive.GetProperty("Namespace").GetString()!,
            [.. Assert.Single(directive.GetProperty("Dimensions").EnumerateArray().ToList()).EnumerateArray().Select(d => d.GetString()!)],
            [.. directive.GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString()!)]);
    }

    /// <summary>Every metric an alarm of the template reads, directly or inside a metric math expression.</summary>
    private IEnumerable<(string Alarm, JsonNode Metric)> AlarmedMetrics()
    {
        foreach (var (id, resource) in fixture.Json["Resources"]!.AsObject())
        {
            if ((string?)resource!["Type"] != "AWS::CloudWatch::Alarm") continue;
            var p = resource["Properties"]!;
            if (p["MetricName"] is not null) yield return (id, p);
            foreach (var m in p["Metrics"]?.AsArray() ?? [])
                if (m!["MetricStat"]?["Metric"] is { } metric) yield return (id, metric);
        }
    }

    [Fact]
    public void EveryCustomMetricTheStackAlarmsOn_IsOneTheHostEmits()
    {
        var custom = AlarmedMetrics().Where(a => !((string?)a.Metric["Namespace"] ?? "").StartsWith("AWS/", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(custom); // the give-up alarm at least
        foreach (var (alarm, metric) in custom)
        {
            var dimensions = metric["Dimensions"]!.AsArray().Select(d => (Name: (string)d!["Name"]!, Value: (string)d["Value"]!)).ToList();
            var handler = Assert.Single(dimensions).Value;
            var host = HostDeclares(handler);
            Assert.Equal(host.Namespace, (string?)metric["Namespace"]);
            Assert.Equal(host.Dimensions, dimensions.Select(d => d.Name));
            Assert.True(host.Metrics.Contains((string)metric["MetricName"]!),
                $"alarm {alarm} reads {metric["MetricName"]}, which the host's EMF line does not declare ({string.Join(", ", host.Metrics)})");
            Assert.Contains(handler, HandlerNames.All);
        }
    }
}
