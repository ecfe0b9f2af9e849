using System.Text;
using CsCheck;
using EcsReflex.Tests.Shared;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

/// <summary>Whatever the bytes, the parser returns an event or throws its own exception: nothing else.</summary>
public class EventParserPropertyTests
{
    private static readonly byte[][] Samples = RepoFiles.SampleEventFiles().Select(File.ReadAllBytes).ToArray();

    [Fact]
    public void MutatedRealEvents_EitherParseOrAreRejected_WithTheParsersOwnException()
    {
        int parsed = 0, rejected = 0;
        var gen = Gen.Select(Gen.Int[0, Samples.Length - 1], Gen.Enum<EventMutations.Mutation>(), Gen.Int);
        gen.Sample((sample, mutation, seed) =>
        {
            var bytes = EventMutations.Mutate(Samples[sample], mutation, seed);
            try
            {
                // Half the time through a string pool, as the replay reads streams.
                var e = EventParser.Parse(bytes, (seed & 1) == 0 ? null : new StringPool());
                Assert.NotNull(e.Detail);
                Interlocked.Increment(ref parsed);
            }
            catch (EventRejectedException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                Interlocked.Increment(ref rejected);
            }
            // Any other exception escapes and fails the property with the shrunk input.
        }, iter: 3000);
        // Mutations must exercise both paths, or the property proves nothing.
        Assert.True(parsed > 100, $"only {parsed} mutated events parsed");
        Assert.True(rejected > 100, $"only {rejected} mutated events were rejected");
    }

    [Fact]
    public void RandomBytes_AreRejectedNeverCrash()
    {
        Gen.Byte.Array[0, 512].Sample(bytes =>
        {
            try { EventParser.Parse(bytes); }
            catch (EventRejectedException) { }
        }, iter: 2000);
        Assert.Throws<EventRejectedException>(() => EventParser.Parse(new byte[] { 0xFF, 0xFE }));
    }
}
