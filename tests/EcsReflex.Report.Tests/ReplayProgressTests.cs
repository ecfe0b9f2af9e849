using EcsReflex.Cli;
using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Report.Tests;

public class ReplayProgressTests
{
    private sealed class FakeTerminal(bool errorRedirected, string? ci = null, int width = 120) : ITerminal
    {
        public bool IsErrorRedirected => errorRedirected;
        public bool IsOutputRedirected => true;
        public int Width => width;
        public string? GetEnvironmentVariable(string name) => name == "CI" ? ci : null;
    }

    [Theory]
    [InlineData(false, null, true)]     // an interactive terminal
    [InlineData(false, "", true)]       // CI set to nothing is not set
    [InlineData(true, null, false)]     // standard error redirected to a file or a pipe
    [InlineData(false, "true", false)]  // CI
    [InlineData(false, "1", false)]
    [InlineData(true, "true", false)]
    public void ShouldShow_OnlyOnAnInteractiveTerminalOutsideCi(bool errorRedirected, string? ci, bool expected) =>
        Assert.Equal(expected, ReplayProgress.ShouldShow(new FakeTerminal(errorRedirected, ci)));

    [Fact]
    public void Quiet_WritesNothing_WhenStandardErrorIsRedirected()
    {
        var time = new FakeTimeProvider();
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(errorRedirected: true), err, 1000, time);
        for (var i = 0; i < 50; i++)
        {
            p.OnBytesRead(10);
            time.Advance(TimeSpan.FromSeconds(1));
            p.OnRecord(timer: false);
        }
        p.Finish();
        Assert.Equal("", err.ToString());
        Assert.Equal(50, p.Events);
    }

    [Fact]
    public void Report_LastFrame_IsAtAHundredPercent_WithTheFinalCounts_WhileThePageIsWritten()
    {
        var time = new FakeTimeProvider();
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(errorRedirected: false), err, 1000, time);
        for (var i = 0; i < 30; i++)
        {
            p.OnBytesRead(20); // 600 of 1,000 bytes when the last record comes: the bar would say 60%
            time.Advance(TimeSpan.FromMilliseconds(200));
            p.OnRecord(timer: i % 3 == 0);
        }
        p.Finish("writing the page");
        var frames = err.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        var last = frames[^1].TrimEnd();
        Assert.StartsWith("[########################] 100%  20 events + 10 timers", last);
        Assert.EndsWith("writing the page…", last);
        p.Finish();
        Assert.EndsWith("\r", err.ToString()); // erased before the summary line
    }

    [Fact]
    public void Report_LastFrame_IsNotDrawn_WhenNoFrameWas()
    {
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(errorRedirected: false), err, 1000, new FakeTimeProvider());
        p.OnRecord(false); // a short run
        p.Finish("writing the page");
        Assert.Equal("", err.ToString());
    }

    [Fact]
    public void Interactive_DrawsAtMostOncePerInterval_OnOneLine_AndErasesItAtTheEnd()
    {
        var time = new FakeTimeProvider();
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(errorRedirected: false), err, 1000, time);
        p.OnBytesRead(100);
        p.OnRecord(false);
        Assert.Equal("", err.ToString()); // before the first interval: a short run prints nothing
        time.Advance(TimeSpan.FromSeconds(1));
        p.OnRecord(false);
        p.OnRecord(true);
        var drawn = err.ToString();
        Assert.StartsWith("\r[", drawn);
        Assert.Equal(1, drawn.Count(c => c == '\r'));
        Assert.DoesNotContain("\n", drawn);
        p.Finish();
        Assert.EndsWith("\r", err.ToString());
        Assert.DoesNotContain("\n", err.ToString());
    }

    [Fact]
    public void Render_ShowsEventsRateAndTimeLeftFromTheBytesRead()
    {
        var time = new FakeTimeProvider();
        var p = ReplayProgress.Create(new FakeTerminal(false), new StringWriter(), totalBytes: 4000, time);
        p.OnBytesRead(1000);
        for (var i = 0; i < 2500; i++) p.OnRecord(false);
        var line = p.Render(TimeSpan.FromSeconds(10));
        Assert.Contains(" 25%", line);
        Assert.Contains("2,500 events", line);
        Assert.Contains("250 events/s", line);
        Assert.Contains("0:30 left", line); // a quarter read in 10 s: three quarters left take 30 s
        Assert.Equal(TimeSpan.FromSeconds(30), p.TimeLeft(TimeSpan.FromSeconds(10)));
        Assert.StartsWith("[######..................]", line);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    [InlineData(30)]
    public void Render_FitsTheTerminalWidth_ShrinkingTheBarBeforeTheNumbers(int width)
    {
        var p = ReplayProgress.Create(new FakeTerminal(false, width: width), new StringWriter(), 1_000_000, new FakeTimeProvider());
        p.OnBytesRead(500_000);
        for (var i = 0; i < 123_456; i++) p.OnRecord(false);
        var line = p.Render(TimeSpan.FromSeconds(12));
        Assert.True(line.Length <= width - 1, line);
        Assert.StartsWith("[", line);
        if (width >= 60) Assert.EndsWith("0:12 left", line);
    }

    [Fact]
    public void Around_WritesTheRowAboveTheBar_AndDrawsTheBarAgain()
    {
        var time = new FakeTimeProvider();
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(false), err, 100, time);
        time.Advance(TimeSpan.FromSeconds(1));
        p.OnRecord(false);
        var bar = err.ToString()[1..];
        p.Around(() => err.Write("a row\n"));
        Assert.EndsWith("\r" + new string(' ', bar.Length) + "\r" + "a row\n" + "\r" + bar, err.ToString());
    }

    [Fact]
    public void TimeLeft_IsUnknownBeforeAnythingWasRead() =>
        Assert.Null(ReplayProgress.Create(new FakeTerminal(false), new StringWriter(), 100, new FakeTimeProvider()).TimeLeft(TimeSpan.FromSeconds(5)));

    [Fact]
    public void Clear_ErasesTheDrawnLine_SoATableRowIsNotMixedWithIt()
    {
        var time = new FakeTimeProvider();
        var err = new StringWriter();
        var p = ReplayProgress.Create(new FakeTerminal(false), err, 100, time);
        time.Advance(TimeSpan.FromSeconds(1));
        p.OnRecord(false);
        var drawnLength = err.ToString().Length - 1;
        p.Clear();
        Assert.EndsWith("\r" + new string(' ', drawnLength) + "\r", err.ToString());
        var before = err.ToString().Length;
        p.Clear(); // nothing drawn any more: nothing to erase
        Assert.Equal(before, err.ToString().Length);
    }
}
