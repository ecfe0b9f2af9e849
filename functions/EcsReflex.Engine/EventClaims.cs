using EcsReflex.Core.State;

namespace EcsReflex.Engine;

/// <summary>What became of claiming an event's deduplication keys.</summary>
public enum ClaimVerdict
{
    /// <summary>Every key is held by this delivery: decide and act, then complete or release.</summary>
    Claimed,
    /// <summary>A key was already processed: the delivery is a duplicate and does nothing.</summary>
    Processed,
    /// <summary>A key is claimed by another delivery that has not finished: this one fails, to be delivered again.</summary>
    InProgress,
}

/// <summary>The claims one delivery holds: its keys, all under one token.</summary>
public sealed record HeldClaim(IReadOnlyList<string> Keys, string Token);

/// <param name="Key">The key that decided the verdict (for <see cref="ClaimVerdict.Processed"/> and <see cref="ClaimVerdict.InProgress"/>).</param>
/// <param name="HeldUntil">When the other delivery's claim lapses (<see cref="ClaimVerdict.InProgress"/>), when known.</param>
/// <param name="By">The event whose delivery holds or processed <paramref name="Key"/>, when its record says (<see cref="ClaimRecord.EventId"/>).</param>
public readonly record struct ClaimResult(ClaimVerdict Verdict, HeldClaim? Claim, string? Key, DateTimeOffset? HeldUntil, string? By = null);

/// <summary>
/// Claim before acting, as AWS Lambda Powertools' idempotency utility does: a delivery claims each deduplication key
/// of its event with a conditional write (an in-progress record with a short lease) before it decides; the claim
/// becomes the processed record when the reaction completes, or is deleted when it fails. The one place the claim
/// rules live (keys, leases, conditions); the stores only apply the conditions (<see cref="IStateStore.TryPutClaimAsync"/>).
/// </summary>
/// <remarks>
/// Leases and expiries are computed from the decision's "now"; the store judges them by its own clock (in Lambda the
/// same clock). Keys are claimed in order and every claim taken is released when a later key is not free, so two
/// deliveries of one change under different event ids never both hold it, and neither blocks the other for longer
/// than a call.
/// </remarks>
public sealed class EventClaims(IStateStore store)
{
    /// <summary>How many times a key that was freed between a refused write and the read is claimed again.</summary>
    private const int Attempts = 3;

    /// <param name="eventId">The event being delivered: named in the claim's token, so that the record tells which event processed the key.</param>
    public async ValueTask<ClaimResult> ClaimAsync(IReadOnlyList<string> keys, DateTimeOffset now, TimeSpan lease, CancellationToken ct, string? eventId = null)
    {
        var token = ClaimRules.Token(eventId);
        var held = new List<string>(keys.Count);
        try
        {
            return await ClaimEachAsync(keys, now, lease, token, held, ct);
        }
        catch
        {
            // Cut short (the deadline, a store error): what was taken is given back rather than left to lapse.
            await ReleaseAsync(new HeldClaim(held, token), CancellationToken.None);
            throw;
        }
    }

    private async ValueTask<ClaimResult> ClaimEachAsync(IReadOnlyList<string> keys, DateTimeOffset now, TimeSpan lease, string token,
        List<string> held, CancellationToken ct)
    {
        for (var k = 0; k < keys.Count; k++)
        {
            var key = keys[k];
            var record = new ClaimRecord { Key = key, Status = ClaimStatus.InProgress, Token = token, ExpiresAt = now + lease };
            ClaimRecord? other = null;
            var won = false;
            for (var attempt = 0; attempt < Attempts && !won; attempt++)
            {
                // One request: the claim, or the record that refused it (DynamoDB returns it with the refusal).
                var put = await store.PutClaimAsync(record, ClaimCondition.Free, ct);
                if (put.Written) won = true;
                else if ((other = put.Holder) is not null) break;
            }
            if (won)
            {
                held.Add(key);
                continue;
            }
            await ReleaseAsync(new HeldClaim([.. held], token), ct);
            held.Clear();
            return other is { Status: ClaimStatus.Completed }
                ? new ClaimResult(ClaimVerdict.Processed, null, key, null, other.EventId)
                : new ClaimResult(ClaimVerdict.InProgress, null, key, other?.ExpiresAt, other?.EventId);
        }
        return new ClaimResult(ClaimVerdict.Claimed, new HeldClaim(held, token), null, null);
    }

    /// <summary>The reaction completed: each claim becomes the processed record, remembered for <see cref="ClaimRules.ProcessedExpiry"/>.</summary>
    /// <returns>False when a claim had lapsed and another delivery took the key over (this one overran its lease).</returns>
    public async ValueTask<bool> CompleteAsync(HeldClaim claim, DateTimeOffset now, CancellationToken ct)
    {
        var all = true;
        for (var k = 0; k < claim.Keys.Count; k++)
            all &= await store.TryPutClaimAsync(Processed(claim, k, now), ClaimCondition.Holds(claim.Token), ct);
        return all;
    }

    /// <summary>The processed record of the claim's key <paramref name="k"/>: its token kept, remembered for <see cref="ClaimRules.ProcessedExpiry"/>.</summary>
    public static ClaimRecord Processed(HeldClaim claim, int k, DateTimeOffset now) => new()
    {
        Key = claim.Keys[k], Status = ClaimStatus.Completed, Token = claim.Token, ExpiresAt = now + ClaimRules.ProcessedExpiry,
    };

    /// <summary>The reaction failed: the claims are deleted so that a retry decides again.</summary>
    public async ValueTask ReleaseAsync(HeldClaim claim, CancellationToken ct)
    {
        for (var k = 0; k < claim.Keys.Count; k++)
            await store.TryDeleteClaimAsync(claim.Keys[k], claim.Token, ct);
    }
}
