using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace EcsReflex.Lambda.Emulator;

/// <summary>A published bootstrap: the folder, the binary, and the publish log (its warnings are asserted on).</summary>
public sealed record PublishedBootstrap(string Directory, string BootstrapPath, string LogPath, bool Reused, TimeSpan Took)
{
    public string Log => File.ReadAllText(LogPath);
}

/// <summary>
/// What <see cref="BootstrapPublisher"/> publishes: a Native AOT project, what its binary is built from (folders and
/// files, relative to the repository root: their contents make the cache key), the folder under <c>artifacts/</c> its
/// publishes are kept in (one at a time), and the binary's name.
/// </summary>
public sealed record PublishTarget(string ProjectPath, IReadOnlyList<string> Sources, string ArtifactsFolder, string BinaryName, string Description);

/// <summary>
/// Publishes the Native AOT bootstrap (<c>dotnet publish functions/EcsReflex.Lambda -c Release -r linux-x64</c>)
/// once per source state: into <c>artifacts/lambda/&lt;hash of the sources&gt;/</c>, reused while the sources
/// that go into the binary are unchanged. Safe across processes (a lock file), so the test run and
/// <c>reflex replay --lambda</c> share one publish.
/// </summary>
/// <remarks>The cold-start bench publishes its floor (another <see cref="PublishTarget"/>) the same way.</remarks>
public static class BootstrapPublisher
{
    public const string ProjectPath = "functions/EcsReflex.Lambda/EcsReflex.Lambda.csproj";

    /// <summary>What goes into the binary: these folders (sources and project files) and the build files at the root.</summary>
    public static readonly string[] SourceFolders = ["functions/EcsReflex.Core", "functions/EcsReflex.Engine", "functions/EcsReflex.Aws", "functions/EcsReflex.Lambda"];
    public static readonly string[] RootFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json", "reflex.policy.json"];

    /// <summary>The bootstrap, kept in <c>artifacts/lambda/&lt;hash&gt;/</c>.</summary>
    public static readonly PublishTarget Bootstrap = new(ProjectPath, [.. SourceFolders, .. RootFiles], "lambda", "bootstrap", "the Native AOT bootstrap");

    /// <summary>The repository root at or above <paramref name="start"/>, or null.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")) && File.Exists(Path.Combine(dir.FullName, ProjectPath)))
                return dir.FullName;
        return null;
    }

    public static string SourceHash(string root) => SourceHash(root, Bootstrap);

    /// <summary>The cache key of <paramref name="target"/>: its source files (build output left out), by path and content.</summary>
    public static string SourceHash(string root, PublishTarget target)
    {
        var files = new List<string>();
        foreach (var source in target.Sources)
        {
            var full = Path.Combine(root, source);
            if (File.Exists(full)) files.Add(full);
            else if (Directory.Exists(full))
                files.AddRange(Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
                    .Where(f => !IsBuildOutput(Path.GetRelativePath(full, f))));
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(f + "\n"));
            sha.AppendData(File.ReadAllBytes(Path.Combine(root, f)));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private static bool IsBuildOutput(string relative)
    {
        var first = relative.Split('/', '\\')[0];
        return first is "bin" or "obj";
    }

    /// <summary>Publishes unless a publish of the same sources exists; <paramref name="progress"/> hears what happens.</summary>
    public static Task<PublishedBootstrap> PublishAsync(string root, TextWriter? progress = null, CancellationToken ct = default) =>
        PublishAsync(root, Bootstrap, progress, ct);

    /// <summary>Publishes <paramref name="target"/> unless a publish of the same sources exists in its artifacts folder.</summary>
    public static async Task<PublishedBootstrap> PublishAsync(string root, PublishTarget target, TextWriter? progress = null, CancellationToken ct = default)
    {
        var hash = SourceHash(root, target);
        var parent = Path.Combine(root, "artifacts", target.ArtifactsFolder);
        var folder = Path.Combine(parent, hash);
        Directory.CreateDirectory(parent);
        var started = Stopwatch.GetTimestamp();

        await using var gate = await LockAsync(Path.Combine(parent, ".publish.lock"), ct);
        if (File.Exists(Path.Combine(folder, target.BinaryName)) && File.Exists(Path.Combine(folder, "publish.log")))
            return new PublishedBootstrap(folder, Path.Combine(folder, target.BinaryName), Path.Combine(folder, "publish.log"), true, Stopwatch.GetElapsedTime(started));

        var staging = Path.Combine(parent, $"{hash}.staging");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        progress?.WriteLine($"publishing {target.Description} into {Path.GetRelativePath(root, folder)} (takes a minute or two)...");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "publish", target.ProjectPath, "-c", "Release", "-r", "linux-x64", "-o", staging, "-nologo", "-clp:NoSummary" })
            psi.ArgumentList.Add(a);
        // A publish run from inside `dotnet test` must not inherit the test host's MSBuild settings.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
            psi.Environment.Remove(key);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var log = await stdout + await stderr;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish of {target.Description} failed (exit {process.ExitCode}):\n{log}");
        await File.WriteAllTextAsync(Path.Combine(staging, "publish.log"), log, ct);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(staging, folder);
        // A cache: publishes of older sources are of no further use.
        foreach (var old in Directory.EnumerateDirectories(parent).Where(d => !string.Equals(d, folder, StringComparison.Ordinal)))
        {
            try { Directory.Delete(old, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        progress?.WriteLine($"published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
        return new PublishedBootstrap(folder, Path.Combine(folder, target.BinaryName), Path.Combine(folder, "publish.log"), false, Stopwatch.GetElapsedTime(started));
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException)
            {
                await Task.Delay(500, ct);
            }
        }
    }
}
