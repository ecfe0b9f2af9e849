using System.Text.Json.Nodes;

namespace EcsReflex.Infra.Tests;

/// <summary>
/// cdk-nag's AwsSolutions rules (infra/nag/check.js, the check the deploy docs run) over synthesized templates that give
/// every handler, the reconciler included, statements and wildcards: no unsuppressed error.
/// </summary>
public class NagTests(TestPolicyStack testPolicy, ServicesPolicyStack services) : IClassFixture<TestPolicyStack>, IClassFixture<ServicesPolicyStack>
{
    private static (int Exit, string Output) Check(JsonNode template)
    {
        using var dir = new TempDir();
        var file = dir.File("EcsReflex.template.json", template.ToJsonString());
        var start = new System.Diagnostics.ProcessStartInfo("node", [Repository.Path("infra", "nag", "check.js"), file])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root, UseShellExecute = false,
        };
        if (!File.Exists(Repository.Path("node_modules", "cdk-nag", "package.json")))
            Assert.Fail($"cdk-nag is not installed: run `npm ci` in {Repository.Root} (Node.js 18 or later)");
        System.Diagnostics.Process node;
        try
        {
            node = System.Diagnostics.Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"cannot run `node` ({ex.Message}): install Node.js 18 or later and run `npm ci` in {Repository.Root}");
            throw;
        }
        using var _ = node;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(120_000), "check.js did not finish in 2 minutes");
        return (node.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Nag_OnTheTestPolicyStack_FindsNoUnsuppressedError()
    {
        var (exit, output) = Check(testPolicy.Json);

        Assert.True(exit == 0, output);
        Assert.Contains(": 0 unsuppressed error(s)", output);
    }

    [Fact]
    public void Nag_OnTheServicesPolicyStack_FindsNoUnsuppressedError()
    {
        var (exit, output) = Check(services.Json);

        Assert.True(exit == 0, output);
        Assert.Contains(": 0 unsuppressed error(s)", output);
    }
}
