using System.Text;
using CsCheck;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

/// <summary>Whatever the bytes, the parser returns an event or throws its own exception: nothing else.</summary>
public class EventParserPropertyTests
{
    private static readonly byte[][] Samples = Repository.SampleEventFiles().Select(File.ReadAllBytes).ToArray();

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

    /// <summary>
    /// The parser reads the detail in the envelope's pass when source and detail-type come first (as EventBridge
    /// writes them) and a second time otherwise. Both ways must give the same event, or the same rejection.
    /// </summary>
    [Fact]
    public void MutatedRealEvents_SinglePassAndTwoPasses_GiveTheSameEventOrTheSameRejection()
    {
        int same = 0, rejected = 0;
        var gen = Gen.Select(Gen.Int[0, Samples.Length - 1], Gen.Enum<EventMutations.Mutation>(), Gen.Int);
        gen.Sample((sample, mutation, seed) =>
        {
            var bytes = EventMutations.Mutate(Samples[sample], mutation, seed);
            var one = Outcome(() => EventParser.Parse(bytes, new StringPool(), singlePass: true));
            var two = Outcome(() => EventParser.Parse(bytes, null, singlePass: false));
            Assert.Equal(two, one);
            if (one.StartsWith("rejected", StringComparison.Ordinal)) Interlocked.Increment(ref rejected);
            Interlocked.Increment(ref same);
        }, iter: 3000);
        Assert.True(rejected > 100 && same - rejected > 100, $"{same} compared, {rejected} rejected: both paths must be exercised");
    }

    [Fact]
    public void DetailBeforeSourceAndType_IsReadOnItsSecondPass_WithTheSameResult()
    {
        foreach (var sample in Samples)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(sample)!.AsObject();
            var reordered = new System.Text.Json.Nodes.JsonObject();
            foreach (var key in new[] { "detail", "resources" }.Concat(node.Select(p => p.Key)).Distinct().ToList())
                if (node.ContainsKey(key)) reordered[key] = node[key]!.DeepClone();
            Assert.Equal(Outcome(() => EventParser.Parse(sample)), Outcome(() => EventParser.Parse(Encoding.UTF8.GetBytes(reordered.ToJsonString()))));
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions Structural = new() { WriteIndented = false };

    /// <summary>The whole parsed event as JSON (records compare their lists by reference), or the rejection's kind, path and message.</summary>
    private static string Outcome(Func<EventEnvelope> parse)
    {
        try
        {
            var e = parse();
            return "parsed " + System.Text.Json.JsonSerializer.Serialize(e, Structural) + " " + System.Text.Json.JsonSerializer.Serialize(e.Detail, e.Detail.GetType(), Structural);
        }
        catch (EventRejectedException ex)
        {
            return $"rejected {ex.Kind} {ex.Path}: {ex.Message}";
        }
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
