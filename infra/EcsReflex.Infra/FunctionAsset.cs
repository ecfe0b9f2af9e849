using System.Diagnostics;
using EcsReflex.Core.Hosting;

namespace EcsReflex.Infra;

/// <summary>The function code cannot be prepared; the message says what to do.</summary>
public sealed class FunctionAssetException(string message) : Exception(message);

/// <summary>
/// The one code asset every function runs: the Native AOT <c>bootstrap</c> and, beside it, the policy file
/// it was synthesized from (<c>reflex.policy.json</c>, read by the host through REFLEX_POLICY). The same
/// policy therefore drives the rules and IAM of the stack and the decisions of the functions it deploys.
/// </summary>
public static class FunctionAsset
{
    public const string BootstrapFileName = "bootstrap";

    /// <summary>
    /// Copies <c>bootstrap</c> from <paramref name="bootstrapDir"/> and the policy file into a fresh folder under
    /// <paramref name="stagingRoot"/> and returns that folder. Only those two files are shipped (a publish
    /// folder also holds debug symbols, which do not belong in the zip).
    /// </summary>
    public static string Stage(string bootstrapDir, string policyPath, string stagingRoot)
    {
        var bootstrap = Path.Combine(bootstrapDir, BootstrapFileName);
        if (!File.Exists(bootstrap))
            throw new FunctionAssetException(
                $"\"{bootstrapDir}\" holds no file named \"{BootstrapFileName}\"; pass -c {ReflexSettings.Keys.BootstrapDir}= a folder with the published linux-x64 bootstrap, or leave it out to publish one");
        if (!File.Exists(policyPath))
            throw new FunctionAssetException($"policy file \"{policyPath}\" not found; pass -c {ReflexSettings.Keys.Policy}=FILE");

        var dir = Path.Combine(stagingRoot, "function-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, BootstrapFileName);
        File.Copy(bootstrap, target);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Copy(policyPath, Path.Combine(dir, HostLayout.PolicyFileName));
        return dir;
    }
}

/// <summary>
/// Publishes the Lambda host as a Native AOT <c>bootstrap</c> for linux-x64, so that <c>npx cdk deploy</c>
/// alone ships the current code:
/// <c>dotnet publish functions/EcsReflex.Lambda -c Release -r linux-x64 -p:PublishAot=true -o artifacts/bootstrap</c>.
/// </summary>
public sealed class BootstrapPublisher(string repositoryRoot)
{
    public const string ProjectPath = "functions/EcsReflex.Lambda/EcsReflex.Lambda.csproj";
    public const string OutputPath = "artifacts/bootstrap";

    public string Project => Path.Combine(repositoryRoot, ProjectPath);
    public string Output => Path.Combine(repositoryRoot, OutputPath);

    public IReadOnlyList<string> Arguments =>
        ["publish", Project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", Output, "--nologo"];

    /// <summary>Publishes and returns the folder holding <c>bootstrap</c>; progress goes to standard error.</summary>
    public string Publish()
    {
        if (!File.Exists(Project))
            throw new FunctionAssetException(
                $"cannot publish the function code: {ProjectPath} is not in this checkout. " +
                $"Pass a folder that holds a prebuilt linux-x64 \"{FunctionAsset.BootstrapFileName}\" with -c {ReflexSettings.Keys.BootstrapDir}=DIR");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in Arguments) start.ArgumentList.Add(a);
        Console.Error.WriteLine($"publishing the Lambda bootstrap: dotnet {string.Join(' ', Arguments)}");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new FunctionAssetException("could not start dotnet to publish the bootstrap");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new FunctionAssetException(
                $"dotnet publish of {ProjectPath} failed (exit code {process.ExitCode}; its output is above). Native AOT needs clang and zlib1g-dev; " +
                $"or pass a prebuilt bootstrap with -c {ReflexSettings.Keys.BootstrapDir}=DIR");
        if (!File.Exists(Path.Combine(Output, FunctionAsset.BootstrapFileName)))
            throw new FunctionAssetException($"dotnet publish of {ProjectPath} produced no \"{FunctionAsset.BootstrapFileName}\" in {OutputPath}; the project must set AssemblyName to bootstrap");
        Console.Error.WriteLine($"published {OutputPath}/{FunctionAsset.BootstrapFileName} in {watch.Elapsed.TotalSeconds:0.0} s");
        return Output;
    }
}
