namespace EcsReflex.Core.Tests;

/// <summary>The repository root, for the placement tests (located by <see cref="Repository"/>).</summary>
internal static class PlacementCoreTestSupport
{
    public static string RepoRoot => Repository.Root;

}
