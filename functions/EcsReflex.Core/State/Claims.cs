namespace EcsReflex.Core.State;

/// <summary>Where a deduplication key stands: claimed by a delivery that is acting on it, or processed.</summary>
public enum ClaimStatus
{
    /// <summary>A delivery claimed the key and is deciding and acting; the claim expires if that delivery dies.</summary>
    InProgress,
    /// <summary>The reaction completed: the key is remembered as processed until the record expires.</summary>
    Completed,
}

/// <summary>
/// The record a store keeps under one deduplication key (<c>event#…</c>, <c>task#…</c>, <c>due#…</c>): an in-progress
/// claim that becomes the processed record when its reaction completes, or is deleted when it fails.
/// </summary>
public sealed record ClaimRecord
{
    public required string Key { get; init; }
    public required ClaimStatus Status { get; init; }
    /// <summary>
    /// Who holds the claim: a value unique to one delivery's claim, <c>&lt;event id&gt;#&lt;random&gt;</c> when the claimer named
    /// its event (<see cref="ClaimRules.Token"/>); null for a record written without one.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>The event whose delivery wrote the record (<see cref="ClaimRules.EventOf"/> of <see cref="Token"/>), when it said.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? EventId => ClaimRules.EventOf(Token);
    /// <summary>When the record stops counting: an in-progress claim's lease, or the end of the duplicate memory.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>The condition a claim write holds to, checked and applied in one step by the store (a DynamoDB ConditionExpression).</summary>
public readonly record struct ClaimCondition
{
    private ClaimCondition(string? heldBy) => HeldBy = heldBy;

    /// <summary>
    /// Null: the key must be free, that is no record under it, or one that expired by the store's clock.
    /// Otherwise: the stored record must carry this token (the writer still holds its claim).
    /// </summary>
    public string? HeldBy { get; }

    /// <summary>No live record under the key: a new claim.</summary>
    public static ClaimCondition Free => default;

    /// <summary>The stored record is the writer's own claim: completing it.</summary>
    public static ClaimCondition Holds(string token) => new(token);
}

/// <summary>
/// The claim rules, in one place (the stores only apply conditions): how long a claim and a processed record last.
/// A claim must outlive the invocation that holds it, so that it never lapses while that invocation can still act:
/// the Lambda host claims for the time its invocation has left (the function timeout at most) plus
/// <see cref="LeaseMargin"/>; a claim left by a crashed invocation lapses soon after that invocation's deadline,
/// before Lambda's first asynchronous retry (1 minute) or the delay queue's redelivery (its visibility timeout, six
/// times the function timeout) comes.
/// </summary>
public static class ClaimRules
{
    /// <summary>How long a processed key is remembered: deliveries of the same event within it are duplicates.</summary>
    public static readonly TimeSpan ProcessedExpiry = TimeSpan.FromHours(24);

    /// <summary>Added to the invocation's remaining time: clock skew between invocations and DynamoDB's whole-second TTL.</summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The lease of a claim taken without an invocation deadline (the replay, tests, the CLI): Lambda's longest
    /// function timeout (15 minutes) plus <see cref="LeaseMargin"/>, so it outlives any handler.
    /// </summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMinutes(15) + LeaseMargin;

    /// <summary>The lease for an invocation with <paramref name="remaining"/> time before its deadline.</summary>
    public static TimeSpan LeaseFor(TimeSpan remaining) => (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) + LeaseMargin;

    /// <summary>
    /// A new claim token for a delivery of <paramref name="eventId"/>: the event id, then a random part. One key per change
    /// is enough to tell a second delivery of the same event from the same change under another event id: the processed
    /// record's token names the event that processed it.
    /// </summary>
    public static string Token(string? eventId) =>
        eventId is null ? Guid.NewGuid().ToString("N") : string.Concat(eventId, "#", Guid.NewGuid().ToString("N"));

    /// <summary>The event id a <see cref="Token(string?)"/> names, or null (a token without one, as written before it named its event).</summary>
    public static string? EventOf(string? token) =>
        token is null || token.LastIndexOf('#') is var i && i <= 0 ? null : token[..i];

    /// <summary>The key of one piece of deferred work (an event decided again at its due time): its event and its due time.</summary>
    public static string DueKey(string eventId, DateTimeOffset dueAt) => $"due#{eventId}#{dueAt.UtcTicks}";
}
