namespace EcsReflex.Engine.Tests;

/// <summary>The repository's own files (the folder holding Serverless.sln, found from the test binaries), for the scaler's tests.</summary>
internal static class ScalingRepo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Serverless.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
