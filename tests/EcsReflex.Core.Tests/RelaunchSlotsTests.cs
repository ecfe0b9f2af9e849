using EcsReflex.Core.State;

namespace EcsReflex.Core.Tests;

/// <summary>The rate limit's rule over the minute's counter: the n-th relaunch of a minute, at a limit a minute, goes when.</summary>
public class RelaunchSlotsTests
{
    private static readonly DateTimeOffset Minute = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<long, int, int> DueMinutes => new()
    {
        // n, limit, minutes later
        { 1, 20, 0 }, { 20, 20, 0 },
        { 21, 20, 1 }, { 37, 20, 1 }, { 40, 20, 1 },
        { 41, 20, 2 }, { 60, 20, 2 }, { 61, 20, 3 }, { 100, 20, 4 },
        { 1, 1, 0 }, { 2, 1, 1 }, { 61, 1, 60 },
        { 7, 7, 0 }, { 8, 7, 1 }, { 15, 7, 2 },
        { 10_001, 10_000, 1 },
    };

    [Theory]
    [MemberData(nameof(DueMinutes))]
    public void DueMinute_OfTheNthRelaunchOfAMinute_IsTheMinuteWhoseShareOfTheLimitItFallsIn(long n, int limit, int minutesLater)
    {
        Assert.Equal(Minute.AddMinutes(minutesLater), RelaunchSlots.DueMinute(Minute, n, limit));
        Assert.Equal(minutesLater == 0, RelaunchSlots.Within(n, limit));
    }

    [Fact]
    public void DueMinute_GivesEachMinuteExactlyTheLimit()
    {
        var perMinute = Enumerable.Range(1, 100).GroupBy(n => RelaunchSlots.DueMinute(Minute, n, 20)).Select(g => g.Count()).ToList();
        Assert.Equal([20, 20, 20, 20, 20], perMinute);
    }

    [Theory]
    [InlineData(0, 20)]
    [InlineData(1, 0)]
    public void DueMinute_RefusesACountOrALimitBelowOne(long n, int limit) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RelaunchSlots.DueMinute(Minute, n, limit));

    [Fact]
    public void MinuteOf_IsTheStartOfTheMinuteInUtc()
    {
        Assert.Equal(Minute, RelaunchSlots.MinuteOf(Minute.AddSeconds(59.999)));
        Assert.Equal(Minute, RelaunchSlots.MinuteOf(new DateTimeOffset(2026, 3, 2, 11, 0, 30, TimeSpan.FromHours(1))));
    }

    [Theory]
    [InlineData(1, "1st")]
    [InlineData(2, "2nd")]
    [InlineData(3, "3rd")]
    [InlineData(4, "4th")]
    [InlineData(11, "11th")]
    [InlineData(12, "12th")]
    [InlineData(13, "13th")]
    [InlineData(21, "21st")]
    [InlineData(22, "22nd")]
    [InlineData(37, "37th")]
    [InlineData(100, "100th")]
    [InlineData(101, "101st")]
    [InlineData(111, "111th")]
    [InlineData(112, "112th")]
    [InlineData(1003, "1003rd")]
    public void Ordinal_IsTheEnglishOrdinal(long n, string expected) => Assert.Equal(expected, RelaunchSlots.Ordinal(n));
}
