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
        // Exactly the five script blocks of the page (columns, details, data, uPlot, the report's own), and the
        // decisions read back with the hostile text intact.
        Assert.Equal(5, CountOf(html, "<script"));
        Assert.Equal(5, CountOf(html, "</script>"));
        Assert.Contains(DecisionsOf(html), d => d.Reason.StartsWith("</script><script>window.pwned=1", StringComparison.Ordinal));
        Assert.Contains(DecisionsOf(html), d => d.Event == "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>");
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
        // The only address in the page is in uPlot's banner comment (/*! https://github.com/leeoniya/uPlot … */).
        Assert.Equal(1, CountOf(html, "https://"));
        Assert.Contains("/*! https://github.com/leeoniya/uPlot (v", html);
        // uPlot's MIT licence goes with it.
        Assert.Contains("Copyright (c) 2022 Leon Sorokin", html);
        Assert.Contains("Permission is hereby granted, free of charge", html);
    }

    [Fact]
    public void Data_HoldsTheSummaryAndEveryDecisionWithItsRequests()
    {
        var model = Hostile();
        var html = HtmlReportWriter.ToHtml(model);
        using var data = DataOf(html);
        var root = data.RootElement;
        Assert.Equal(ReportJson.Version, root.GetProperty("version").GetInt32());
        Assert.Equal(model.Summary.Decisions, root.GetProperty("decisions").GetProperty("count").GetInt32());
        Assert.Equal(model.Summary.Relaunches, root.GetProperty("summary").GetProperty("relaunches").GetInt32());
        Assert.Equal(model.Summary.Count(Outcome.Acted), root.GetProperty("summary").GetProperty("outcomes").GetProperty("acted").GetInt32());
        var rows = DecisionsOf(html);
        Assert.Equal(model.Summary.Decisions, rows.Count);
        var run = rows.SelectMany(d => d.Actions).Single(a => a.Operation == "RunTask");
        using var request = JsonDocument.Parse(run.RequestJson);
        Assert.Equal("arn:aws:ecs:us-east-1:123456789012:task-definition/worker:7", request.RootElement.GetProperty("taskDefinition").GetString());
        Assert.Equal(1, request.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public void Charts_OnePerScaledService_WithItsPointsBoundsAndAlarmMarksInTheData()
    {
        var html = HtmlReportWriter.ToHtml(Hostile());
        Assert.Equal(2, CountOf(html, "data-testid=\"chart-desired\""));
        var web = Section(html, "data-testid=\"chart-desired\" data-cluster=\"prod\" data-service=\"web\"");
        Assert.Contains("data-points=\"4\" data-changes=\"3\" data-episodes=\"1\" data-low=\"4\" data-high=\"8\"", web);
        Assert.Contains("policy min 2, max 12", web);
        using var data = DataOf(html);
        var series = data.RootElement.GetProperty("scaledServices").EnumerateArray().Single(x => x.GetProperty("service").GetString() == "web");
        Assert.Equal((2, 12, 4, 8), (series.GetProperty("min").GetInt32(), series.GetProperty("max").GetInt32(), series.GetProperty("low").GetInt32(), series.GetProperty("high").GetInt32()));
        var episode = Assert.Single(series.GetProperty("episodes").EnumerateArray());
        Assert.Equal([4, 5, 8, 6], episode.GetProperty("points").GetProperty("v").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(["web-cpu-high → ALARM", "web-cpu-high → ALARM", "web-cpu-high → OK", "web-cpu-low → ALARM"],
            episode.GetProperty("alarms").EnumerateArray().Select(a => a.GetProperty("label").GetString()));
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
    public void RelaunchChart_HasABucketPerBusyMinute_AndTheLimit()
    {
        var (policy, snapshot, _) = ScalingScenario();
        var b = new ReportBuilder(policy, snapshot);
        for (var i = 0; i < 20; i++) b.Add(Relaunch($"a{i}", 1, T0.AddSeconds(i)));
        for (var i = 0; i < 7; i++) b.Add(Relaunch($"b{i}", 1, T0.AddMinutes(2).AddSeconds(i)));
        var html = HtmlReportWriter.ToHtml(b.Build());
        Assert.Contains("data-testid=\"chart-relaunches\" data-cluster=\"prod\" data-total=\"27\" data-limit=\"20\"", html);
        using var data = DataOf(html);
        var chart = Assert.Single(data.RootElement.GetProperty("relaunches").EnumerateArray());
        Assert.Equal([20, 7], chart.GetProperty("buckets").GetProperty("total").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal([20, 7], chart.GetProperty("buckets").GetProperty("peak").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(20, chart.GetProperty("limitPerMinute").GetInt32());
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
