using EcsReflex.Lambda.Emulator;

namespace EcsReflex.Lambda.Tests.TestHelpers;

/// <summary>Files of the repository the tests run in (the sample events, the policy).</summary>
public static class Repo
{
    public static string Root => Repository.Root;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
    public static string Events => Path("events");
    public static string Policy => Path("reflex.policy.json");
    public static string Snapshot => Path("events", "cluster.snapshot.json");
    public static byte[] Event(string name) => File.ReadAllBytes(Path("events", name));
    public static string EventText(string name) => File.ReadAllText(Path("events", name));
}
