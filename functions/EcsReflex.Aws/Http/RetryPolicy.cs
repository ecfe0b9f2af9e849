namespace EcsReflex.Aws.Http;

/// <summary>
/// Retries for throttling, server errors, resets and attempt timeouts: capped exponential back-off with
/// full jitter (a uniformly random wait between 0 and min(cap, base × 2^(n−1)) before retry n), as the
/// AWS SDKs' standard mode does. Waits run on a <see cref="TimeProvider"/>, so tests use a fake clock.
/// </summary>
public sealed record AwsRetryPolicy
{
    /// <summary>Requests sent at most, the first included.</summary>
    public int MaxAttempts { get; init; } = 6;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>How long one attempt may wait for its answer before it counts as a timeout (and is retried).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public static readonly AwsRetryPolicy Default = new();

    /// <summary>The upper bound of the wait before retry <paramref name="retry"/> (1-based).</summary>
    public TimeSpan Ceiling(int retry)
    {
        var factor = Math.Pow(2, Math.Min(retry - 1, 30));
        var ms = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * factor);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>The wait before retry <paramref name="retry"/>, given a uniform random number in [0, 1).</summary>
    public TimeSpan Delay(int retry, double random) =>
        TimeSpan.FromMilliseconds(Ceiling(retry).TotalMilliseconds * Math.Clamp(random, 0, 1));
}

/// <summary>The jitter source; a seeded one in tests.</summary>
public interface IJitter
{
    /// <summary>A uniform random number in [0, 1).</summary>
    double Next();
}

public sealed class RandomJitter(Random? random = null) : IJitter
{
    private readonly Random _random = random ?? new Random();
    private readonly Lock _gate = new();

    public double Next()
    {
        lock (_gate) return _random.NextDouble();
    }
}
