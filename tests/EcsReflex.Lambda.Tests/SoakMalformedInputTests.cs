using System.Diagnostics;
using System.Text;
using EcsReflex.Core.Decisions;
using EcsReflex.Engine.Replay;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;
using Xunit.Abstractions;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// Reliability soak (issue 8), malformed input: mutated real events (truncations, flipped bytes, type swaps, huge
/// strings, deep nesting, invalid UTF-8, dropped fields: <see cref="EventMutations"/>, shared with the parser's
/// property test) through the published Native AOT bootstrap and the Runtime API emulator, one invocation each,
/// routed as EventBridge would route them. No crash: every invocation is answered and each function's process
/// is still serving at the end. Each input classified: what the parser accepts is decided, what it rejects is
/// dead-lettered with a code and its payload, and nothing else is dead-lettered.
/// </summary>
[Collection(PublishedBootstrapCollection.Name)]
public sealed class SoakMalformedInputTests(PublishedBootstrapFixture fixture, ITestOutputHelper output)
{
    private const int Inputs = 10_000;

    private static IEnumerable<(string Label, byte[] Bytes)> Mutated(int count)
    {
        var samples = Directory.EnumerateFiles(Repository.Events, "*.json").Where(f => !f.EndsWith(".snapshot.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => (Name: Path.GetFileNameWithoutExtension(f), Bytes: File.ReadAllBytes(f))).ToArray();
        var kinds = Enum.GetValues<EventMutations.Mutation>();
        var random = new Random(8);
        for (var i = 0; i < count; i++)
        {
            var sample = samples[random.Next(samples.Length)];
            var kind = kinds[i % kinds.Length];
            // Each input its own event id, so what still parses is decided, not ignored as a duplicate of the sample.
            var oldId = System.Text.Json.JsonDocument.Parse(sample.Bytes).RootElement.GetProperty("id").GetString()!;
            var source = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(sample.Bytes).Replace($"\"{oldId}\"", $"\"mutated-{i:D5}\"", StringComparison.Ordinal));
            yield return ($"mutated:{i}:{kind}:{sample.Name}", EventMutations.Mutate(source, kind, random.Next()));
        }
    }

    [Fact]
    public async Task TenThousandMutatedEvents_ThroughThePublishedBootstrap_AreEachDecidedOrDeadLetteredAndNoneCrashes()
    {
        var inputs = Mutated(Inputs).Select(m => new RawInput(ReplayInputs.ParseOne(m.Label, m.Bytes, null), m.Bytes)).ToList();
        var rejectedInProcess = inputs.Where(i => i.Item.Rejection is not null).ToList();
        Assert.True(rejectedInProcess.Count > Inputs / 10, $"only {rejectedInProcess.Count} inputs are malformed: the mutations would prove little");
        Assert.True(Inputs - rejectedInProcess.Count > Inputs / 10, $"only {Inputs - rejectedInProcess.Count} inputs still parse");

        var clock = Stopwatch.StartNew();
        await using var replay = new LambdaReplay(new LambdaReplayOptions
        {
            Bootstrap = BootstrapCommand.Native(fixture.Published.BootstrapPath), PolicyPath = Repository.Policy, Snapshot = Replays.Snapshot, DryRun = true,
        });
        var records = new List<ReplayRecord>();
        await foreach (var r in replay.RunAsync(inputs)) records.Add(r);
        clock.Stop();

        // No crash: every function that was started still serves, and was started once.
        Assert.NotEmpty(replay.Functions);
        foreach (var (name, f) in replay.Functions)
            Assert.False(f.Process.Process.HasExited, $"the {name} bootstrap exited");

        // Each input classified, once.
        var byInput = records.Where(r => r.Trigger == "event" && r.Input.StartsWith("mutated:", StringComparison.Ordinal)).ToList();
        Assert.Equal(inputs.Select(i => i.Item.Input), byInput.Select(r => r.Input));
        var poison = byInput.Where(r => r.Outcome == Outcome.Rejected).ToList();
        Assert.Equal(rejectedInProcess.Select(i => i.Item.Input), poison.Select(r => r.Input));
        Assert.All(poison, r => Assert.Matches("^[a-z]+(-[a-z]+)*$", r.RejectionCode ?? ""));
        var decided = byInput.Where(r => r.Outcome != Outcome.Rejected).ToList();
        Assert.All(decided, r => Assert.False(string.IsNullOrWhiteSpace(r.Reason), $"{r.Input}: no reason"));

        // Each poison input dead-lettered, with its code and its payload (as text: see the report on invalid UTF-8), and nothing else.
        var letters = replay.Local.DeadLetters.ToList();
        Assert.Equal(rejectedInProcess.Count, letters.Count);
        for (var i = 0; i < letters.Count; i++)
        {
            var input = rejectedInProcess[i];
            Assert.True(Encoding.UTF8.GetString(input.Bytes.Span) == letters[i].Payload, $"{input.Item.Input}: the dead letter's payload differs from the input");
            Assert.Equal(input.Item.Rejection!.Code, letters[i].Code);
            Assert.Equal(poison[i].RejectionCode, letters[i].Code);
        }

        var invalidUtf8 = rejectedInProcess.Count(i => !IsValidUtf8(i.Bytes.Span));
        output.WriteLine($"{Inputs} inputs in {clock.Elapsed.TotalSeconds:F1} s through {replay.Functions.Count} bootstraps: " +
            $"{decided.Count} decided ({string.Join(", ", decided.GroupBy(r => r.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}), " +
            $"{poison.Count} rejected and dead-lettered ({string.Join(", ", poison.GroupBy(r => r.RejectionCode).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}), " +
            $"{invalidUtf8} of them invalid UTF-8; {records.Count - byInput.Count} timer records; " +
            $"{decided.Count(r => r.Outcome == Outcome.Ignored && r.Reason.StartsWith("duplicate", StringComparison.Ordinal))} ignored as duplicates of the same change");
    }

    private static bool IsValidUtf8(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
