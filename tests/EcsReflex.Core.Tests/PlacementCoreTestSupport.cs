namespace EcsReflex.Core.Tests;

/// <summary>Finds the repository: the folder holding Serverless.sln, above the test binaries.</summary>
internal static class PlacementCoreTestSupport
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }
}
