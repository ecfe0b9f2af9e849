using Amazon.CDK;
using Constructs;

namespace EcsReflex.Infra;

/// <summary>
/// cdk-nag suppressions, kept beside the code that makes the choice they justify. They are written as the
/// <c>cdk_nag</c> metadata of the CloudFormation resource (the form cdk-nag itself writes), so they travel in
/// the template and infra/nag/check.js honours them when it checks the synthesized template.
/// </summary>
public static class Nag
{
    public sealed record Suppression(string Id, string Reason, params string[] AppliesTo);

    public static void Suppress(IConstruct construct, params Suppression[] suppressions)
    {
        var resource = construct as CfnResource ?? construct.Node.DefaultChild as CfnResource
            ?? throw new ArgumentException($"{construct.Node.Path} is not a CloudFormation resource", nameof(construct));
        foreach (var s in suppressions)
            if (s.Reason.Length < 10) throw new ArgumentException($"the reason for suppressing {s.Id} must say why (10 characters at least)");
        var existing = resource.GetMetadata("cdk_nag") is IDictionary<string, object> m && m.TryGetValue("rules_to_suppress", out var r) && r is object[] list
            ? list : [];
        var rules = existing.Concat(suppressions.Select(s =>
        {
            var rule = new Dictionary<string, object> { ["id"] = s.Id, ["reason"] = s.Reason };
            if (s.AppliesTo.Length > 0) rule["applies_to"] = s.AppliesTo.Select(a => (object)(a.StartsWith('/') ? new Dictionary<string, object> { ["regex"] = a } : a)).ToArray();
            return (object)rule;
        })).ToArray();
        resource.AddMetadata("cdk_nag", new Dictionary<string, object> { ["rules_to_suppress"] = rules });
    }
}
