namespace EcsReflex.TestSupport;

/// <summary>
/// The repository the tests run from: the folder holding Serverless.sln, found by walking up from the
/// test binaries. The one locator every test project uses; tests read only the project's own files.
/// </summary>
public static class Repository
{
    public static string Root { get; } = Find(AppContext.BaseDirectory);

    /// <summary>A path under the root: <c>Repository.Path("events", "cluster.snapshot.json")</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Events => Path("events");
    public static string Policy => Path("reflex.policy.json");
    public static string Snapshot => Path("events", "cluster.snapshot.json");

    /// <summary>A sample event of <c>events/</c> by file name, as bytes or as text.</summary>
    public static byte[] Event(string name) => File.ReadAllBytes(Path("events", name));

    public static string EventText(string name) => File.ReadAllText(Path("events", name));

    /// <summary>A scenario of <c>events/scenarios</c> by name: <c>Repository.Scenario("crash-loop")</c>.</summary>
    public static string Scenario(string name) => Path("events", "scenarios", name + ".jsonl");

    /// <summary>The sample events (<c>events/*.json</c>, not the snapshot), in name order.</summary>
    public static IEnumerable<string> SampleEventFiles() =>
        Directory.EnumerateFiles(Events, "*.json").Where(f => !f.EndsWith(".snapshot.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds Serverless.sln.</summary>
    public static string Find(string start)
    {
        for (var dir = new DirectoryInfo(System.IO.Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Serverless.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Serverless.sln above {start}: run the tests from a clone of the repository");
    }
}
