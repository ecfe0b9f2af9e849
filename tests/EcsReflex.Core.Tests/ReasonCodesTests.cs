using System.Reflection;
using System.Text.RegularExpressions;
using EcsReflex.Core.Decisions;
using EcsReflex.Core.Events;

namespace EcsReflex.Core.Tests;

/// <summary>The reason codes: one registry (<see cref="ReasonCodes"/>), every code documented in docs/codes.md and nothing more.</summary>
public sealed partial class ReasonCodesTests
{
    private static IReadOnlyList<(string Name, string Code)> Registry() =>
        typeof(ReasonCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!))
            .ToList();

    /// <summary>The first cell of every table row of docs/codes.md that is a code in backticks.</summary>
    private static IReadOnlyList<string> Documented() =>
        File.ReadLines(Repository.Path("docs", "codes.md"))
            .Select(l => DocRow().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToList();

    [Fact]
    public void EveryCodeOfTheRegistry_IsDocumented_AndEveryDocumentedCodeIsInTheRegistry()
    {
        var registry = Registry().Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
        var documented = Documented();
        Assert.NotEmpty(registry);
        Assert.Equal([], registry.Except(documented).Order(StringComparer.Ordinal)); // in ReasonCodes, missing from docs/codes.md
        Assert.Equal([], documented.Except(registry).Order(StringComparer.Ordinal)); // in docs/codes.md, not in ReasonCodes
        Assert.Equal([], documented.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key)); // listed twice
    }

    [Fact]
    public void Codes_AreDottedLowercaseAndDistinct()
    {
        var all = Registry();
        Assert.All(all, x => Assert.Matches(CodeShape(), x.Code));
        Assert.Equal([], all.GroupBy(x => x.Code).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [Fact]
    public void NoCodeIsWrittenOutsideTheRegistry()
    {
        // A code spelt as a literal anywhere else would escape the docs test above.
        var registryFile = Path.Combine("EcsReflex.Core", "Decisions", "ReasonCodes.cs");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Repository.Path("functions"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.EndsWith(registryFile, StringComparison.Ordinal) || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            foreach (Match m in CodeLiteral().Matches(File.ReadAllText(file)))
                offenders.Add($"{Path.GetRelativePath(Repository.Root, file)}: {m.Value}");
        }
        Assert.Equal([], offenders);
    }

    [Fact]
    public void RejectionCodes_AreTheRejectionKindsUnderReject()
    {
        foreach (var kind in Enum.GetValues<RejectionKind>())
        {
            var code = new EventRejectedException(kind, "", "x").Code;
            Assert.Equal($"reject.{code}", ReasonCodes.Reject(kind));
            Assert.Equal(ReasonCodes.Reject(kind), ReasonCodes.Reject(code));
        }
        Assert.Equal(ReasonCodes.RejectMisrouted, ReasonCodes.Reject("misrouted"));
    }

    [GeneratedRegex(@"^\|\s*`([^`]+)`\s*\|")]
    private static partial Regex DocRow();

    [GeneratedRegex(@"^[a-z]+(\.[a-z]+(-[a-z]+)*)+$")]
    private static partial Regex CodeShape();

    [GeneratedRegex(@"""(rescheduler|scaler|guard|engine|actuator|lambda|reject)\.[a-z.-]+""")]
    private static partial Regex CodeLiteral();
}
