using Microsoft.Extensions.Time.Testing;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>
/// A fake clock that records every wait started on it while <see cref="AutoAdvance"/> is on, and moves itself
/// forward by that wait at once: back-off sleeps take no real time, and the test reads exactly how long each was.
/// Timers created while it is off (an invocation's deadline) fire only when the clock passes them.
/// </summary>
public sealed class AutoAdvancingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero))
{
    private readonly List<TimeSpan> _waits = [];

    public bool AutoAdvance { get; set; } = true;

    public IReadOnlyList<TimeSpan> Waits
    {
        get { lock (_waits) return [.. _waits]; }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (AutoAdvance && dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_waits) _waits.Add(dueTime);
            ThreadPool.QueueUserWorkItem(_ => Advance(dueTime));
        }
        return timer;
    }
}
