using System.Globalization;

namespace EcsReflex.Core.State;

/// <summary>
/// The per-cluster relaunch rate limit (<c>limits.maxRelaunchesPerMinute</c>), as a rule over the minute's counter
/// (<see cref="IStateStore.TakeRelaunchSlotAsync"/>): the relaunch counted n-th in a minute goes now when n is at most the
/// limit; otherwise it is deferred to the minute <c>(n − 1) / limit</c> later (integer division: at 20 a minute, the 21st
/// to 40th to the next minute, the 41st to 60th to the one after…), so each deferred relaunch waits for a minute of
/// its own instead of competing again, with every other one, in the next. At its due time it is counted in that minute
/// the same way: with nothing else asked for there it goes; under sustained overload it may be deferred again.
/// The counter counts the relaunches asked for, not those sent, so it may pass the limit.
/// </summary>
public static class RelaunchSlots
{
    /// <summary>The start of the minute <paramref name="now"/> is in, in UTC: the minute a relaunch asked for now is counted in.</summary>
    public static DateTimeOffset MinuteOf(DateTimeOffset now) =>
        new(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

    /// <summary>Whether the relaunch counted <paramref name="n"/>-th in its minute is within <paramref name="limit"/> a minute: it goes now.</summary>
    public static bool Within(long n, int limit) => n <= limit;

    /// <summary>
    /// The minute the relaunch counted <paramref name="n"/>-th in <paramref name="minute"/> is due in: <paramref name="minute"/>
    /// itself within the limit, else <c>(n − 1) / limit</c> minutes later.
    /// </summary>
    public static DateTimeOffset DueMinute(DateTimeOffset minute, long n, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return minute.AddMinutes((n - 1) / limit);
    }

    /// <summary>An English ordinal, for the reason sentence: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 101st, 111th.</summary>
    public static string Ordinal(long n)
    {
        var suffix = (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return n.ToString(CultureInfo.InvariantCulture) + suffix;
    }
}
