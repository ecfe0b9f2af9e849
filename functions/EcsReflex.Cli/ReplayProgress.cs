using System.Globalization;
using System.Text;

namespace EcsReflex.Cli;

/// <summary>
/// A one-line progress bar on standard error for long replays: events read, events per second and the
/// time left, estimated from the bytes read of the input files. Drawn only on an interactive terminal
/// (standard error not redirected) and never when the <c>CI</c> environment variable is set; otherwise
/// every call does nothing. Redrawn at most every <see cref="Interval"/>, so short runs print nothing.
/// </summary>
public sealed class ReplayProgress
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(150);
    private const int BarWidth = 24;

    private readonly TextWriter _error;
    private readonly ITerminal _terminal;
    private readonly TimeProvider _time;
    private readonly long _start;
    private long _lastDraw;
    private bool _drawn;
    private int _drawnLength;
    private string _lastLine = "";

    private ReplayProgress(bool enabled, TextWriter error, ITerminal terminal, long totalBytes, TimeProvider time)
    {
        Enabled = enabled;
        _error = error;
        _terminal = terminal;
        TotalBytes = totalBytes;
        _time = time;
        _start = _lastDraw = time.GetTimestamp();
    }

    /// <summary>A progress bar that draws only when <paramref name="terminal"/> is interactive and <c>CI</c> is not set.</summary>
    public static ReplayProgress Create(ITerminal terminal, TextWriter error, long totalBytes, TimeProvider? time = null) =>
        new(ShouldShow(terminal), error, terminal, totalBytes, time ?? TimeProvider.System);

    public static bool ShouldShow(ITerminal terminal) =>
        !terminal.IsErrorRedirected && string.IsNullOrEmpty(terminal.GetEnvironmentVariable("CI"));

    public bool Enabled { get; }
    public long TotalBytes { get; }
    public long BytesRead { get; private set; }
    public int Events { get; private set; }
    public int Timers { get; private set; }

    /// <summary>Hears the replay's input reader: <paramref name="bytes"/> more bytes were read.</summary>
    public void OnBytesRead(long bytes) => BytesRead += bytes;

    /// <summary>One record of the replay: an event read, or a timer fired.</summary>
    public void OnRecord(bool timer)
    {
        if (timer) Timers++; else Events++;
        if (!Enabled) return;
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_lastDraw, now) < Interval) return;
        _lastDraw = now;
        Draw(Render(_time.GetElapsedTime(_start, now)));
    }

    /// <summary>Erases the bar, so that a line written to the same terminal is not mixed with it. The next record draws it again.</summary>
    public void Clear()
    {
        if (!_drawn) return;
        _error.Write("\r" + new string(' ', _drawnLength) + "\r");
        _error.Flush();
        _drawn = false;
    }

    /// <summary>Erases the bar at the end of the run.</summary>
    public void Finish() => Clear();

    /// <summary>
    /// Ends the reading: draws a last frame with the final counts at 100% and <paramref name="next"/> (what the
    /// command does now, e.g. "writing the page"), when a bar is drawn; <see cref="Finish()"/> erases it after.
    /// </summary>
    public void Finish(string next)
    {
        if (!_drawn) return;
        BytesRead = TotalBytes;
        Draw(Render(_time.GetElapsedTime(_start), next));
    }

    /// <summary>The line as it is drawn after <paramref name="elapsed"/>, fitted to the terminal's width (the bar shrinks first).</summary>
    public string Render(TimeSpan elapsed, string? status = null)
    {
        var fraction = TotalBytes > 0 ? Math.Clamp((double)BytesRead / TotalBytes, 0, 1) : 0;
        var tail = new StringBuilder();
        tail.Append(CultureInfo.InvariantCulture, $" {fraction * 100,3:0}%  ");
        tail.Append(Events.ToString("N0", CultureInfo.InvariantCulture)).Append(" events");
        if (Timers > 0) tail.Append(" + ").Append(Timers.ToString("N0", CultureInfo.InvariantCulture)).Append(" timers");
        var seconds = elapsed.TotalSeconds;
        if (seconds > 0) tail.Append("  ").Append((Events / seconds).ToString("N0", CultureInfo.InvariantCulture)).Append(" events/s");
        if (status is not null) tail.Append("  ").Append(status).Append('…');
        else tail.Append("  ").Append(TimeLeft(elapsed) is { } left ? $"{Format(left)} left" : "estimating…");
        var width = Math.Max(20, _terminal.Width - 1);
        var barWidth = Math.Clamp(width - tail.Length - 2, 5, BarWidth);
        var filled = (int)Math.Round(fraction * barWidth);
        var line = new StringBuilder().Append('[').Append('#', filled).Append('.', barWidth - filled).Append(']').Append(tail).ToString();
        return line.Length > width ? line[..width] : line;
    }

    /// <summary>
    /// Writes a line to the terminal the bar is drawn on: erases the bar, lets <paramref name="write"/> write,
    /// and draws the bar again below it, so rows and bar never mix.
    /// </summary>
    public void Around(Action write)
    {
        if (!_drawn)
        {
            write();
            return;
        }
        Clear();
        write();
        Draw(_lastLine);
    }

    /// <summary>The time left at the rate so far, from the bytes read; null until there is enough to tell.</summary>
    public TimeSpan? TimeLeft(TimeSpan elapsed)
    {
        if (TotalBytes <= 0 || BytesRead <= 0 || elapsed < TimeSpan.FromMilliseconds(100)) return null;
        var remaining = Math.Max(0, TotalBytes - BytesRead);
        return TimeSpan.FromSeconds(elapsed.TotalSeconds * remaining / BytesRead);
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private void Draw(string line)
    {
        var pad = _drawn && _drawnLength > line.Length ? new string(' ', _drawnLength - line.Length) : "";
        _error.Write("\r" + line + pad);
        _error.Flush();
        _drawn = true;
        _drawnLength = line.Length;
        _lastLine = line;
    }
}
