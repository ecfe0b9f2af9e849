using System.Text.Json;
using EcsReflex.Bench;
using EcsReflex.Core.Events;

namespace EcsReflex.Engine.Tests;

/// <summary>The benchmark's stream generator writes events as AWS writes them, and the parser reads them all.</summary>
public class EventStreamGeneratorTests
{
    private static List<string> Stream(int count) => new EventStreamGenerator(Repository.Path("events"), seed: 42).Generate(count).ToList();

    [Fact]
    public void Generate_EscapesOnlyWhatJsonRequires_AsEventBridgeWritesEvents()
    {
        var lines = Stream(2_000);
        // A serialiser's HTML-safe default writes + as \u002B, a quote as \u0022 and > as \u003E; no AWS event does.
        Assert.DoesNotContain(lines, l => l.Contains("\\u00", StringComparison.Ordinal));
        var alarm = lines.First(l => l.Contains("\"CloudWatch Alarm State Change\"", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(alarm);
        var state = doc.RootElement.GetProperty("detail").GetProperty("state");
        Assert.EndsWith("+0000", state.GetProperty("timestamp").GetString());
        Assert.Contains("+0000\\\"", alarm); // inside reasonData, a JSON string in a string: quotes escaped as \"
    }

    [Fact]
    public void Generate_EveryLineParses_AndTheSameSeedGivesTheSameLines()
    {
        var lines = Stream(2_000);
        Assert.Equal(lines, Stream(2_000));
        var pool = new StringPool();
        foreach (var line in lines)
        {
            var e = EventParser.Parse(System.Text.Encoding.UTF8.GetBytes(line), pool);
            Assert.NotNull(e.EffectiveTime);
        }
    }
}
