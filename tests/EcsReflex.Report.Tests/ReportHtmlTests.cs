using System.Buffers;
using System.Text;
using System.Text.Json;
using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;
using static EcsReflex.Report.Tests.Synthetic;

namespace EcsReflex.Report.Tests;

public class ReportHtmlTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;")]
    [InlineData("a & b", "a &amp; b")]
    [InlineData("say \"hi\" it's", "say &quot;hi&quot; it&#39;s")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Escape_ReplacesEveryCharacterThatHtmlReads(string? text, string expected) =>
        Assert.Equal(expected, Html.Escape(text));

    [Theory]
    [InlineData("</script><script>alert(1)</script>")]
    [InlineData("<!-- comment -->")]
    [InlineData("a & b > c < d")]
    [InlineData("naïve – “quotes” \u2028 line separator")]
    public void ScriptSafeJson_CannotEndTheBlock_AndReadsBackUnchanged(string value)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("v", value);
            w.WriteEndObject();
        }
        var safe = new ArrayBufferWriter<byte>();
        Html.WriteScriptSafeJson(json.WrittenSpan, safe);
        var text = Encoding.UTF8.GetString(safe.WrittenSpan);
        Assert.DoesNotContain("<", text);
        Assert.DoesNotContain(">", text);
        Assert.Equal(value, JsonDocument.Parse(text).RootElement.GetProperty("v").GetString());
    }

    private static ReportModel Hostile()
    {
        const string evil = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>";
        var (policy, snapshot, records) = ScalingScenario();
        records.Add(Rejected($"evil{evil}.jsonl:3", $"not JSON: {evil}", T0.AddMinutes(40)));
        records.Add(Ignored(9, T0.AddMinutes(41)) with { Reason = evil, Summary = evil });
        var b = new ReportBuilder(policy, snapshot, null, $"policy{evil}.json", [$"in{evil}.jsonl"], ScalingDeclarations);
        foreach (var r in records) b.Add(r);
        return b.Build();
    }

    [Fact]
    public void Page_EscapesEverythingThatComesFromInputs()
    {
        var html = HtmlReportWriter.ToHtml(Hostile());
        Assert.DoesNotContain("<script>window.pwned", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.Contains("&lt;/script&gt;&lt;script&gt;window.pwned=1", html); // shown as text
        // Exactly the two script blocks of the page, and the data block reads back.
        Assert.Equal(2, CountOf(html, "<script"));
        Assert.Equal(2, CountOf(html, "</script>"));
        using var data = DataOf(html);
        Assert.Contains(data.RootElement.GetProperty("decisions").EnumerateArray(),
            d => d.GetProperty("r").GetString()!.StartsWith("</script><script>window.pwned=1", StringComparison.Ordinal));
    }

    [Fact]
    public void Page_IsSelfContained_ItNamesNoOutsideResourceAndForbidsRequests()
    {
        var html = HtmlReportWriter.ToHtml(Hostile());
        Assert.Contains($"<meta http-equiv=\"Content-Security-Policy\" content=\"{HtmlReportWriter.ContentSecurityPolicy}\">", html);
        Assert.Contains("default-src 'none'", HtmlReportWriter.ContentSecurityPolicy);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain(" src=\"", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("url(", html);
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void Data_HoldsTheSummaryAndEveryDecisionWithItsRequests()
    {
        var model = Hostile();
        using var data = DataOf(HtmlReportWriter.ToHtml(model));
        var root = data.RootElement;
        Assert.Equal(model.Decisions.Count, root.GetProperty("decisions").GetArrayLength());
        Assert.Equal(model.Summary.Relaunches, root.GetProperty("summary").GetProperty("relaunches").GetInt32());
        Assert.Equal(model.Summary.Count(Outcome.Acted), root.GetProperty("summary").GetProperty("outcomes").GetProperty("acted").GetInt32());
        var run = root.GetProperty("decisions").EnumerateArray()
            .SelectMany(d => d.TryGetProperty("a", out var a) ? a.EnumerateArray().ToArray() : [])
            .Single(a => a.GetProperty("op").GetString() == "RunTask");
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", run.GetProperty("rq").GetProperty("taskDefinition").GetString());
        Assert.Equal(1, run.GetProperty("rq").GetProperty("count").GetInt32());
    }

    [Fact]
    public void Charts_OnePerScaledService_WithAPointPerValueMinMaxAndAlarmMarks()
    {
        var html = HtmlReportWriter.ToHtml(Hostile());
        var web = Section(html, "data-testid=\"chart-desired\" data-cluster=\"prod\" data-service=\"web\"");
        Assert.Equal(4, CountOf(web, "data-testid=\"desired-point\""));
        Assert.Equal(4, CountOf(web, "data-testid=\"alarm-mark\""));
        Assert.Equal(1, CountOf(web, "data-testid=\"line-min\""));
        Assert.Equal(1, CountOf(web, "data-testid=\"line-max\""));
        Assert.Contains(">min 2<", web);
        Assert.Contains(">max 12<", web);
        var api = Section(html, "data-testid=\"chart-desired\" data-cluster=\"prod\" data-service=\"api\"");
        Assert.Equal(2, CountOf(api, "data-testid=\"desired-point\""));
        Assert.Equal(2, CountOf(html, "data-testid=\"chart-desired\""));
    }

    [Fact]
    public void Charts_WithoutScaledServices_SayWhy()
    {
        var (policy, snapshot, _) = ScalingScenario();
        var b = new ReportBuilder(policy, snapshot);
        b.Add(Ignored(1, T0));
        var html = HtmlReportWriter.ToHtml(b.Build());
        Assert.Contains("data-testid=\"no-scaled-services\"", html);
        Assert.Contains("data-testid=\"no-relaunches\"", html);
        Assert.Contains("data-testid=\"no-lanes\"", html);
        Assert.DoesNotContain("data-testid=\"chart-desired\"", html);
    }

    [Fact]
    public void RelaunchChart_DrawsTheLimitAndABarPerBusyMinute()
    {
        var (policy, snapshot, _) = ScalingScenario();
        var b = new ReportBuilder(policy, snapshot);
        for (var i = 0; i < 20; i++) b.Add(Relaunch($"a{i}", 1, T0.AddSeconds(i)));
        for (var i = 0; i < 7; i++) b.Add(Relaunch($"b{i}", 1, T0.AddMinutes(2).AddSeconds(i)));
        var html = HtmlReportWriter.ToHtml(b.Build());
        var chart = Section(html, "data-testid=\"chart-relaunches\" data-cluster=\"prod\"");
        Assert.Equal(2, CountOf(chart, "data-testid=\"relaunch-bar\""));
        Assert.Contains("data-total=\"20\" data-peak=\"20\"", chart);
        Assert.Contains("class=\"bar at-limit\"", chart);
        Assert.Equal(1, CountOf(chart, "data-testid=\"rate-limit-line\""));
        Assert.Contains(">limit 20/min<", chart);
    }

    [Fact]
    public void LaneGroups_SplitActivityThatIsFarApartInTime()
    {
        LineageLane Lane(string id, DateTimeOffset at, TimeSpan length) => new()
        {
            Cluster = "prod", Lineage = id,
            Marks = [new LaneMark(at, at + length, LaneMarkKind.Wait, 1, "w"), new LaneMark(at + length, null, LaneMarkKind.Relaunch, 1, "r")],
        };
        var lanes = new[]
        {
            Lane("c", T0.AddDays(2), TimeSpan.FromMinutes(1)),
            Lane("a", T0, TimeSpan.FromMinutes(10)),
            Lane("b", T0.AddMinutes(35), TimeSpan.FromMinutes(1)), // starts 25 min after a ends: same episode
        };
        var groups = LaneGroup.Of(lanes, TimeSpan.FromMinutes(30));
        Assert.Equal([["a", "b"], ["c"]], groups.Select(g => g.Lanes.Select(l => l.Lineage).ToArray()));
        Assert.Equal((T0, T0.AddMinutes(36)), (groups[0].Start, groups[0].End));
    }

    [Theory]
    [InlineData(60, 240, 1, 1)]            // an hour: one-minute buckets
    [InlineData(60 * 24, 240, 1, 10)]      // a day: ten minutes
    [InlineData(60 * 24 * 7, 240, 1, 60)]  // a week: an hour
    [InlineData(5, 240, 1, 1)]             // never below the minimum
    public void TimeBuckets_ChooseARoundStepThatFits(int spanMinutes, int maxBuckets, int minimumMinutes, int expectedMinutes)
    {
        var step = TimeBuckets.Choose(TimeSpan.FromMinutes(spanMinutes), maxBuckets, TimeSpan.FromMinutes(minimumMinutes));
        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), step);
        Assert.True(TimeSpan.FromMinutes(spanMinutes).Ticks / step.Ticks < maxBuckets);
    }

    [Fact]
    public void TimeBuckets_FloorAlignsOnTheStep()
    {
        var t = new DateTimeOffset(2026, 3, 3, 2, 17, 43, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 2, 17, 0, TimeSpan.Zero), TimeBuckets.Floor(t, TimeSpan.FromMinutes(1)));
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 2, 15, 0, TimeSpan.Zero), TimeBuckets.Floor(t, TimeSpan.FromMinutes(15)));
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero), TimeBuckets.Floor(t, TimeSpan.FromDays(1)));
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>The figure that starts with <paramref name="marker"/>, up to its end.</summary>
    private static string Section(string html, string marker)
    {
        var start = html.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no {marker} in the page");
        var end = html.IndexOf("</figure>", start, StringComparison.Ordinal);
        return html[start..end];
    }
}
