using System.Xml.Linq;
using EcsReflex.Lambda.Emulator;
using EcsReflex.TestSupport;

namespace EcsReflex.Lambda.Tests;

/// <summary>
/// The published bootstrap is reused while its sources are unchanged (<see cref="BootstrapPublisher.SourceHash"/>): every
/// project compiled into it must be among the hashed folders, or a change there is tested against a stale binary.
/// </summary>
public sealed class BootstrapSourceHashTests
{
    [Fact]
    public void SourceFolders_HoldEveryProjectTheBootstrapIsBuiltFrom()
    {
        var built = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([BootstrapPublisher.ProjectPath]);
        while (pending.TryDequeue(out var project))
        {
            var folder = Path.GetDirectoryName(project)!.Replace('\\', '/');
            if (!built.Add(folder)) continue;
            foreach (var reference in XDocument.Load(Path.Combine(Repository.Root, project)).Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(Repository.Root, folder, reference.Attribute("Include")!.Value));
                pending.Enqueue(Path.GetRelativePath(Repository.Root, path).Replace('\\', '/'));
            }
        }
        Assert.Contains("functions/EcsReflex.Aws", built);
        Assert.Empty(built.Except(BootstrapPublisher.SourceFolders, StringComparer.Ordinal));
    }

    [Fact]
    public void SourceHash_ChangesWhenAFileOfAnAdapterChanges()
    {
        var root = Path.Combine(Path.GetTempPath(), $"reflex-hash-{Guid.NewGuid():N}");
        try
        {
            foreach (var folder in BootstrapPublisher.SourceFolders)
            {
                Directory.CreateDirectory(Path.Combine(root, folder));
                File.WriteAllText(Path.Combine(root, folder, "A.cs"), "// a");
            }
            var before = BootstrapPublisher.SourceHash(root);
            File.WriteAllText(Path.Combine(root, "functions/EcsReflex.Aws", "A.cs"), "// b");
            Assert.NotEqual(before, BootstrapPublisher.SourceHash(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
