using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

public class TimestampsTests
{
    [Theory]
    [InlineData("2019-10-02T17:04:40Z", 0L)]
    [InlineData("2019-10-02T17:04:40.9Z", 9_000_000L)]
    [InlineData("2019-10-02T17:04:40.98Z", 9_800_000L)]
    [InlineData("2019-10-02T17:04:40.989Z", 9_890_000L)]
    [InlineData("2019-10-02T17:04:40.989+0000", 9_890_000L)]
    [InlineData("2019-10-02T17:04:40.989000+00:00", 9_890_000L)]
    [InlineData("2019-10-02T17:04:40", 0L)]
    public void AwsFormats_ParseToTheSameInstant(string text, long fractionTicks)
    {
        Assert.True(Timestamps.TryParse(text, out var t));
        Assert.Equal(new DateTimeOffset(2019, 10, 2, 17, 4, 40, TimeSpan.Zero).AddTicks(fractionTicks), t);
    }

    [Fact]
    public void Offsets_AreApplied()
    {
        Assert.True(Timestamps.TryParse("2019-10-02T19:04:40+0200", out var t));
        Assert.Equal(new DateTimeOffset(2019, 10, 2, 17, 4, 40, TimeSpan.Zero), t.ToUniversalTime());
    }

    [Theory]
    [InlineData("")]
    [InlineData("2019-10-02")]
    [InlineData("2019-13-02T17:04:40Z")]
    [InlineData("2019-02-30T17:04:40Z")]
    [InlineData("2019-10-02T25:04:40Z")]
    [InlineData("2019-10-02T17:04:40.Z")]
    [InlineData("2019-10-02T17:04:40.1234567890Z")]
    [InlineData("2019-10-02T17:04:40+25:00")]
    [InlineData("2019-10-02T17:04:40Zjunk")]
    [InlineData("yesterday at noon, roughly")]
    public void Garbage_IsRefused(string text) => Assert.False(Timestamps.TryParse(text, out _));
}
