namespace EcsReflex.Engine.Tests;

/// <summary>The repository's own files (located by <see cref="Repository"/>): tests use the project's own files only.</summary>
public static class RepoFiles
{
    public static string Root => Repository.Root;


    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
