using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EcsReflex.Lambda.Emulator;

/// <summary>How to start a bootstrap: the Native AOT binary itself, or the same code on the JIT (<c>dotnet bootstrap.dll</c>).</summary>
public sealed record BootstrapCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public static BootstrapCommand Native(string bootstrapPath) => new(Path.GetFullPath(bootstrapPath), []);
    public static BootstrapCommand Jit(string bootstrapDll) => new("dotnet", [Path.GetFullPath(bootstrapDll)]);

    /// <summary>The folder the code lives in (<c>LAMBDA_TASK_ROOT</c>).</summary>
    public string TaskRoot => Path.GetDirectoryName(Arguments.Count > 0 ? Arguments[^1] : FileName) ?? ".";

    public override string ToString() => string.Join(' ', new[] { FileName }.Concat(Arguments));
}

/// <summary>
/// One bootstrap process started by the emulator's side: its stdout lines (the JSON logs and EMF lines it
/// writes, as CloudWatch Logs would get them), its stderr, and its peak memory.
/// </summary>
public sealed class BootstrapProcess : IAsyncDisposable
{
    /// <summary>Variables a bootstrap reads: never inherited from the caller's environment, only set explicitly.</summary>
    private static readonly string[] Owned = ["_HANDLER", "_X_AMZN_TRACE_ID", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT"];

    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<string> _errors = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stdoutClosed;

    private BootstrapProcess(Process process, long startedAt)
    {
        Process = process;
        StartedAt = startedAt;
    }

    public Process Process { get; }

    /// <summary><see cref="Stopwatch"/> timestamp taken right before the exec.</summary>
    public long StartedAt { get; }

    public Task Exited => _exited.Task;

    public IReadOnlyList<string> Lines { get { lock (_gate) return [.. _lines]; } }
    public IReadOnlyList<string> Errors { get { lock (_gate) return [.. _errors]; } }

    public static BootstrapProcess Start(BootstrapCommand command, IReadOnlyDictionary<string, string?> environment)
    {
        var psi = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = command.TaskRoot,
        };
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.ToList())
            if (key.StartsWith("REFLEX_", StringComparison.Ordinal) || Owned.Contains(key))
                psi.Environment.Remove(key);
        psi.Environment["LAMBDA_TASK_ROOT"] = command.TaskRoot;
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var startedAt = Stopwatch.GetTimestamp();
        var bp = new BootstrapProcess(process, startedAt);
        process.OutputDataReceived += (_, e) => bp.OnLine(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => bp.OnLine(e.Data, error: true);
        process.Exited += (_, _) => bp.OnExited();
        if (!process.Start()) throw new InvalidOperationException($"could not start {command}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return bp;
    }

    private void OnLine(string? line, bool error)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (line is null)
            {
                if (!error) _stdoutClosed = 1;
            }
            else if (error) _errors.Add(line);
            else _lines.Add(line);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private void OnExited()
    {
        _exited.TrySetResult();
        OnLine(null, error: true);
    }

    /// <summary>
    /// The first stdout line at or after <paramref name="from"/> that <paramref name="match"/> accepts,
    /// with its index; waits for it up to <paramref name="timeout"/>. Null when the output ended or the time ran out.
    /// </summary>
    public async Task<(string Line, int Index)?> WaitForLineAsync(Func<string, bool> match, int from, TimeSpan timeout, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var i = from;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; i < _lines.Count; i++)
                    if (match(_lines[i])) return (_lines[i], i);
                if (_stdoutClosed == 1) return null;
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>Peak resident set size so far (<c>VmHWM</c> of <c>/proc/PID/status</c>), in KiB; null when unreadable.</summary>
    public long? PeakRssKib()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
        }
        return null;
    }

    public string Describe() => $"pid {Process.Id}" + (Process.HasExited ? $", exited with code {Process.ExitCode}" : "");

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited) Process.Kill();
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        Process.Dispose();
    }
}
