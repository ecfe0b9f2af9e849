using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using EcsReflex.Lambda.Emulator;
using EcsReflex.Lambda.Tests.TestHelpers;

namespace EcsReflex.Lambda.Tests;

/// <summary>The artifact that ships: the published Native AOT bootstrap, run for real against the emulator.</summary>
[Collection(PublishedBootstrapCollection.Name)]
public sealed partial class PublishedBootstrapTests(PublishedBootstrapFixture fixture)
{
    private PublishedBootstrap Published => fixture.Published;
    private BootstrapCommand Native => BootstrapCommand.Native(Published.BootstrapPath);

    [Fact]
    public void Publish_ProducesANativeBinaryWithZeroTrimOrAotWarnings()
    {
        var log = Published.Log;

        Assert.Contains("bootstrap", log, StringComparison.Ordinal);
        var warnings = WarningLine().Matches(log).Select(m => m.Value).ToList();
        Assert.True(warnings.Count == 0, "publish warnings:\n" + string.Join("\n", warnings));
        var header = new byte[4];
        using (var f = File.OpenRead(Published.BootstrapPath)) f.ReadExactly(header);
        Assert.Equal("\u007fELF"u8.ToArray(), header);
        Assert.False(File.Exists(Path.Combine(Published.Directory, "bootstrap.dll")), "a Native AOT publish has no IL assembly beside the binary");
    }

    [Fact]
    public async Task Binary_NeedsAtMostGlibc234()
    {
        var psi = new ProcessStartInfo("objdump", ["-T", Published.BootstrapPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"objdump is needed to read the binary's GLIBC symbol versions ({ex.Message}): install binutils");
            return;
        }
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        var versions = GlibcVersion().Matches(output).Select(m => new Version(m.Groups[1].Value)).Distinct().ToList();
        Assert.NotEmpty(versions);
        Assert.True(versions.Max() <= new Version(2, 34), $"the binary needs GLIBC {versions.Max()}; provided.al2023 has 2.34");
    }

    [Fact]
    public void Zip_OfTheBinaryAndPolicy_IsUnder6MB()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntryFromFile(Published.BootstrapPath, "bootstrap", CompressionLevel.SmallestSize);
            zip.CreateEntryFromFile(Path.Combine(Published.Directory, "reflex.policy.json"), "reflex.policy.json", CompressionLevel.SmallestSize);
        }
        Assert.True(ms.Length < 6 * 1024 * 1024, $"zip is {ms.Length} bytes");
    }

    [Fact]
    public async Task EverySampleEvent_ThroughTheBinary_DecidesAsTheInProcessReplay()
    {
        var expected = await Replays.InProcessAsync(Repository.Events);
        var (actual, replay) = await Replays.ThroughBootstrapAsync(Native, Repository.Events);
        await using (replay)
        {
            Replays.AssertSame(expected, actual);
            Assert.Equal(["placement-guard", "reconciler", "relaunch-due", "service-scaler", "task-rescheduler"], replay.Functions.Keys.Order(StringComparer.Ordinal));
            Assert.Contains(actual, l => l.Contains("\"trigger\":\"timer\"", StringComparison.Ordinal) && l.Contains("\"operation\":\"RunTask\"", StringComparison.Ordinal));
            Assert.Contains(actual, l => l.Contains("\"operation\":\"GiveUp\"", StringComparison.Ordinal));
            Assert.Empty(replay.Local.DeadLetters);
            // The actions reached the emulator's embedded cluster, whose task state changes went back through the bootstrap.
            Assert.Contains(actual, l => l.StartsWith("{\"input\":\"embedded-cluster\",\"trigger\":\"event\"", StringComparison.Ordinal)
                                         && l.Contains("\"handler\":\"placement-guard\"", StringComparison.Ordinal));
            Assert.Contains(actual, l => l.StartsWith("{\"input\":\"embedded-cluster\"", StringComparison.Ordinal)
                                         && l.Contains("\"handler\":\"task-rescheduler\"", StringComparison.Ordinal));
            foreach (var op in new[] { "RunTask", "StopTask", "UpdateService" })
                Assert.Contains(actual, l => l.Contains($"\"operation\":\"{op}\"", StringComparison.Ordinal) && l.Contains("\"status\":\"done\"", StringComparison.Ordinal));
            Assert.True(replay.Local.Cluster.TasksStarted > 0);

            // What the binary printed: JSON lines only, one EMF line per invocation.
            foreach (var f in replay.Functions.Values)
            {
                var lines = f.Process.Lines.Select(Json.Parse).ToList();
                Assert.Equal(f.InvokeDurations.Count, lines.Count(l => l.TryGetProperty("_aws", out _)));
                Assert.Single(lines, l => l.TryGetProperty("message", out var m) && m.GetString() == "init");
                Assert.Empty(f.Process.Errors);
            }
        }
    }

    [Fact]
    public async Task PoisonInputs_ThroughTheBinary_AreDeadLetteredAndReportedAsTheInProcessReplayRejectsThem()
    {
        var scenario = Replays.PoisonScenario();
        try
        {
            var expected = await Replays.InProcessAsync(scenario);
            var (actual, replay) = await Replays.ThroughBootstrapAsync(Native, scenario);
            await using (replay)
            {
                Replays.AssertSame(expected, actual);
                Assert.Equal(["missing-field", "invalid-json", "wrong-type"], replay.Local.DeadLetters.Select(d => d.Code));
                var f = replay.Functions["task-rescheduler"];
                Assert.Equal(4, f.InvokeDurations.Count); // each acknowledged: no invocation error
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(scenario)!, recursive: true);
        }
    }

    [Fact]
    public async Task Binary_WithAnUnknownHandler_ReportsAnInitErrorAndExits()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        await using var process = BootstrapProcess.Start(Native, new Dictionary<string, string?>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi, ["_HANDLER"] = "rescheduler", ["REFLEX_DRY_RUN"] = "1",
        });

        var error = await emulator.InitError.WaitAsync(TimeSpan.FromSeconds(30));
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("Reflex.UnknownHandler", error.ErrorType);
        Assert.Equal("Reflex.UnknownHandler", error.HeaderErrorType);
        Assert.Contains("set it to one of task-rescheduler, placement-guard, service-scaler, relaunch-due", error.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, process.Process.ExitCode);
        Assert.Equal(0, emulator.NextRequests);
    }

    [Fact]
    public async Task Binary_OutsideLocalReplay_RunsOnTheInMemoryStoreAndSaysSoOnce()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        await using var process = BootstrapProcess.Start(Native, new Dictionary<string, string?>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi, ["_HANDLER"] = "task-rescheduler", ["REFLEX_DRY_RUN"] = "true",
        });

        var result = await emulator.InvokeAsync(Repository.Event("ecs-task-stopped-spot-interruption.json")).WaitAsync(TimeSpan.FromSeconds(30));
        var emf = await process.WaitForLineAsync(l => ReactionLines.IsEmf(l, result.RequestId), 0, TimeSpan.FromSeconds(10));

        Assert.False(result.IsError);
        Assert.Equal("acted", Json.Parse(result.Body).GetProperty("outcome").GetString());
        Assert.NotNull(emf);
        var lines = process.Lines.Select(Json.Parse).Where(l => l.TryGetProperty("message", out _)).ToList();
        Assert.Equal("in memory", Assert.Single(lines, l => l.GetProperty("message").GetString() == "init").GetProperty("store").GetString());
        Assert.Single(lines, l => l.GetProperty("message").GetString()!.Contains("REFLEX_TABLE is not set", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^.*:\s*warning\s+[A-Z]+\d+.*$", RegexOptions.Multiline)]
    private static partial Regex WarningLine();

    [GeneratedRegex(@"GLIBC_(\d+\.\d+(?:\.\d+)?)")]
    private static partial Regex GlibcVersion();
}
