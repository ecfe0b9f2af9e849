using System.Text.Json.Nodes;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>The rule fields of issue 16 (volumeConfigurations, copyTags, propagateTags, enableECSManagedTags): read, checked with paths, in the schema.</summary>
public class RelaunchPolicyTests
{
    private const string Rule = "clusters[0].reschedule[0]";
    private const string Ebs = Rule + ".volumeConfigurations[0].managedEBSVolume";
    private const string Role = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";

    private static string Policy(string ruleFields) =>
        $$"""{"clusters":[{"cluster":"prod","reschedule":[{"name":"r","match":{"group":"family:w"}{{ruleFields}}}]}]}""";

    private static string Volume(string ebs, string name = "data") =>
        ",\"volumeConfigurations\":[{\"name\":\"" + name + "\",\"managedEBSVolume\":{" + ebs + "}}]";

    private static IReadOnlyList<PolicyError> Errors(string policy) => PolicyLoader.TryLoad(System.Text.Encoding.UTF8.GetBytes(policy)).Errors;

    [Fact]
    public void Load_TheRunTaskExampleVolume_IsReadAsWritten()
    {
        var policy = PolicyLoader.Load(Policy(Volume($$"""
            "volumeType":"gp3","sizeInGiB":100,"roleArn":"{{Role}}","encrypted":true,
            "kmsKeyId":"arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","iops":3000,"throughput":125,
            "filesystemType":"ext4","terminationPolicy":{"deleteOnTermination":false},
            "tagSpecifications":[{"resourceType":"volume","tags":[{"key":"team","value":"a"}],"propagateTags":"TASK_DEFINITION"}]
            """) + ""","copyTags":false,"propagateTags":"NONE","enableECSManagedTags":false"""));

        var rule = policy.Clusters[0].Reschedule[0];
        var v = Assert.Single(rule.VolumeConfigurations);
        Assert.Equal("data", v.Name);
        Assert.Equal(Role, v.ManagedEbsVolume!.RoleArn);
        Assert.Equal((100, 3000, 125), (v.ManagedEbsVolume.SizeInGiB, v.ManagedEbsVolume.Iops, v.ManagedEbsVolume.Throughput));
        Assert.False(v.ManagedEbsVolume.TerminationPolicy!.DeleteOnTermination);
        Assert.Equal("team", Assert.Single(Assert.Single(v.ManagedEbsVolume.TagSpecifications!).Tags!).Key);
        Assert.False(rule.CopyTags);
        Assert.Equal("NONE", rule.PropagateTags);
        Assert.False(rule.EnableEcsManagedTags);
    }

    [Fact]
    public void Load_ARuleWithoutTheNewFields_KeepsTodaysDefaults()
    {
        var rule = PolicyLoader.Load(Policy("")).Clusters[0].Reschedule[0];
        Assert.Empty(rule.VolumeConfigurations);
        Assert.True(rule.CopyTags);
        Assert.Null(rule.PropagateTags);
        Assert.Null(rule.EnableEcsManagedTags);
    }

    public static TheoryData<string, string, string, string> Invalid => new()
    {
        { "no roleArn", Volume("\"sizeInGiB\":10"), Ebs + ".roleArn", "required field is missing" },
        { "roleArn not a role", Volume("\"sizeInGiB\":10,\"roleArn\":\"ecsInfrastructureRole\""), Ebs + ".roleArn", "is not an IAM role ARN" },
        { "neither size nor snapshot", Volume($"\"roleArn\":\"{Role}\""), Ebs + ".sizeInGiB", "required when there is no snapshotId" },
        { "unknown volume type", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"volumeType\":\"gp4\""), Ebs + ".volumeType", "\"gp4\" is not an Amazon EBS volume type; use one of: gp2, gp3" },
        { "size out of range for st1", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":100,\"volumeType\":\"st1\""), Ebs + ".sizeInGiB", "100 GiB is out of range for st1; use 125 to 16384" },
        { "size not a number", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":\"100\""), Ebs + ".sizeInGiB", "expected a whole number, got \"100\"" },
        { "encrypted not a bool", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"encrypted\":\"yes\""), Ebs + ".encrypted", "expected true or false" },
        { "iops missing for io2", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"volumeType\":\"io2\""), Ebs + ".iops", "required for io2 volumes" },
        { "iops on st1", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":200,\"volumeType\":\"st1\",\"iops\":500"), Ebs + ".iops", "is not supported for st1 volumes" },
        { "throughput on gp2", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"volumeType\":\"gp2\",\"throughput\":200"), Ebs + ".throughput", "is only supported for gp3 volumes" },
        { "rate without snapshot", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"volumeInitializationRate\":100"), Ebs + ".volumeInitializationRate", "is only taken with a snapshotId" },
        { "filesystem", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"filesystemType\":\"btrfs\""), Ebs + ".filesystemType", "\"btrfs\" is not a filesystem type" },
        { "termination without delete", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"terminationPolicy\":{{}}"), Ebs + ".terminationPolicy.deleteOnTermination", "required field is missing" },
        { "tag spec type", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"tagSpecifications\":[{{\"resourceType\":\"snapshot\"}}]"), Ebs + ".tagSpecifications[0].resourceType", "use \"volume\"" },
        { "tag spec aws: key", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"tagSpecifications\":[{{\"resourceType\":\"volume\",\"tags\":[{{\"key\":\"AWS:x\"}}]}}]"), Ebs + ".tagSpecifications[0].tags[0].key", "reserved for AWS" },
        { "unknown EBS member", Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":10,\"size\":10"), Ebs + ".size", "unknown field" },
        { "no managedEBSVolume", ",\"volumeConfigurations\":[{\"name\":\"data\"}]", Rule + ".volumeConfigurations[0].managedEBSVolume", "required field is missing; ECS configures only Amazon EBS volumes at launch" },
        { "no name", ",\"volumeConfigurations\":[{\"managedEBSVolume\":{\"roleArn\":\"" + Role + "\",\"sizeInGiB\":1}}]", Rule + ".volumeConfigurations[0].name", "required field is missing" },
        { "not a list", ",\"volumeConfigurations\":{}", Rule + ".volumeConfigurations", "expected an array" },
        { "propagateTags SERVICE", ",\"propagateTags\":\"SERVICE\"", Rule + ".propagateTags", "\"SERVICE\" is refused by RunTask" },
        { "propagateTags lower case", ",\"propagateTags\":\"task_definition\"", Rule + ".propagateTags", "use \"TASK_DEFINITION\"" },
        { "copyTags not a bool", ",\"copyTags\":\"no\"", Rule + ".copyTags", "expected true or false" },
        { "managed tags not a bool", ",\"enableECSManagedTags\":1", Rule + ".enableECSManagedTags", "expected true or false" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Load_AnInvalidField_IsReportedWithItsPathAndTheFix(string why, string fields, string path, string message)
    {
        var errors = Errors(Policy(fields));
        Assert.True(errors.Any(e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal)),
            $"{why}: expected {path}: …{message}…, got:\n  {string.Join("\n  ", errors)}");
    }

    [Fact]
    public void Load_TheSameVolumeTwice_IsReportedAtTheSecond()
    {
        var one = "{\"name\":\"data\",\"managedEBSVolume\":{\"roleArn\":\"" + Role + "\",\"sizeInGiB\":1}}";
        var error = Assert.Single(Errors(Policy($",\"volumeConfigurations\":[{one},{one}]")));
        Assert.Equal(Rule + ".volumeConfigurations[1].name", error.Path);
        Assert.Contains("already configured at " + Rule + ".volumeConfigurations[0]", error.Message);
    }

    [Fact]
    public void Load_ASnapshotWithoutSize_IsEnough()
    {
        Assert.Empty(Errors(Policy(Volume($"\"roleArn\":\"{Role}\",\"snapshotId\":\"snap-0123\",\"volumeInitializationRate\":100"))));
    }

    [Theory]
    [InlineData("rule")]
    [InlineData("taskVolumeConfiguration")]
    [InlineData("taskManagedEBSVolumeConfiguration")]
    public void Schema_NamesEveryFieldTheLoaderReads_AndNoOther(string def)
    {
        var defs = JsonNode.Parse(File.ReadAllText(Repository.Path("reflex.policy.schema.json")))!["$defs"]!;
        var (path, wrap) = def switch
        {
            "rule" => (Rule, (Func<string, string>)(f => Policy("," + f))),
            "taskVolumeConfiguration" => (Rule + ".volumeConfigurations[0]", f => Policy($",\"volumeConfigurations\":[{{\"name\":\"d\",{f}}}]")),
            _ => (Ebs, f => Policy(Volume($"\"roleArn\":\"{Role}\",\"sizeInGiB\":1,{f}"))),
        };
        foreach (var name in defs[def]!["properties"]!.AsObject().Select(p => p.Key))
            Assert.DoesNotContain(Errors(wrap($"\"{name}\":null")), e => e.Path == $"{path}.{name}" && e.Message.StartsWith("unknown field", StringComparison.Ordinal));
        var bogus = Errors(wrap("\"bogus\":null"));
        var unknown = Assert.Single(bogus, e => e.Path == $"{path}.bogus");
        // The loader's list of known fields is the schema's.
        var listed = unknown.Message["unknown field; expected one of: ".Length..].Split(", ");
        Assert.Equal(defs[def]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }
}
