extern alias floor;
using System.Text;
using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// The cold-start bench's floor (bench/EcsReflex.Bench.MinimalLoop) through the Runtime API emulator, on the JIT
/// (<c>dotnet EcsReflex.Bench.MinimalLoop.dll</c>, built beside these tests): the bench publishes it with Native AOT,
/// which a test run cannot afford; the loop is the same code.
/// </summary>
public sealed class MinimalLoopTests
{
    [Fact]
    public async Task MinimalLoop_AnswersOneInvocationAfterAnother_WithItsFixedJson()
    {
        await using var emulator = await RuntimeApiEmulator.StartAsync();
        var first = emulator.InvokeAsync("{\"detail-type\":\"ECS Task State Change\"}"u8.ToArray(),
            new InvokeOptions { Timeout = TimeSpan.FromSeconds(30), TraceId = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1" });
        await using var process = BootstrapProcess.Start(
            BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "EcsReflex.Bench.MinimalLoop.dll")),
            new Dictionary<string, string?> { ["AWS_LAMBDA_RUNTIME_API"] = emulator.RuntimeApi });

        var one = await first.WaitAsync(TimeSpan.FromSeconds(60));
        var two = await emulator.InvokeAsync("{}"u8.ToArray()).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.False(one.IsError);
        Assert.Equal(floor::MinimalLoop.Answer, Encoding.UTF8.GetString(one.Body));
        Assert.False(two.IsError);
        Assert.Equal(floor::MinimalLoop.Answer, Encoding.UTF8.GetString(two.Body));
        Assert.Empty(process.Errors);
    }

    [Fact]
    public async Task MinimalLoop_WithoutTheRuntimeApi_SaysSoAndExits()
    {
        await using var process = BootstrapProcess.Start(
            BootstrapCommand.Jit(Path.Combine(AppContext.BaseDirectory, "EcsReflex.Bench.MinimalLoop.dll")),
            new Dictionary<string, string?>());

        await process.Exited.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, process.Process.ExitCode);
    }
}
