using Amazon.CDK;
using Amazon.CDK.Assertions;
using EcsReflex.Core.Policy;
using static EcsReflex.Infra.Tests.Stacks;

namespace EcsReflex.Infra.Tests;

public class AppTests
{
    private static App AppWith(params (string Key, object Value)[] context) =>
        new(new AppProps { Context = context.ToDictionary(c => c.Key, c => c.Value) });

    [Fact]
    public void Compose_WhenThePolicyIsInvalid_FailsWithEveryMessageOfTheValidator()
    {
        using var dir = new TempDir();
        var policy = dir.File("bad.policy.json", """
            { "clusters": [ { "cluster": "prod", "reschedule": [ { "name": "r", "match": { "group": "family:w" }, "maxAttempts": 0, "restrat": "Always" } ] } ] }
            """);
        dir.File("code/bootstrap", "#!/bin/sh\n");
        var app = AppWith(("policy", policy), ("bootstrapDir", Path.Combine(dir.Path, "code")));

        var ex = Assert.Throws<SettingsException>(() => ReflexApp.Compose(app, dir.Path, dir.Path));

        Assert.Contains("the policy is invalid (2 problems)", ex.Message);
        Assert.Contains("clusters[0].reschedule[0].maxAttempts: 0 is out of range; use a value from 1 to 1000", ex.Message);
        Assert.Contains("clusters[0].reschedule[0].restrat: unknown field", ex.Message);
        Assert.Contains(policy, ex.Message);
    }

    [Fact]
    public void Compose_WhenThePolicyIsNotJson_SaysFileLineAndColumn_OneBased_AfterAByteOrderMark()
    {
        using var dir = new TempDir();
        // Line 3 lacks the comma that should end it: the error is where the next member starts, line 4, column 5.
        var policy = dir.File("bad.policy.json", "\uFEFF{\n  \"clusters\": [{\n    \"cluster\": \"prod\"\n    \"limits\": {}\n  }]\n}\n");
        dir.File("code/bootstrap", "#!/bin/sh\n");
        var app = AppWith(("policy", policy), ("bootstrapDir", Path.Combine(dir.Path, "code")));

        var ex = Assert.Throws<SettingsException>(() => ReflexApp.Compose(app, dir.Path, dir.Path));

        Assert.StartsWith($"{policy}:4:5: not valid JSON", ex.Message);
    }

    [Fact]
    public void Compose_WhenThePolicyFileIsMissing_SaysWhichContextKeyNamesIt()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<SettingsException>(() => ReflexApp.Compose(AppWith(("bootstrapDir", dir.Path)), dir.Path, dir.Path));

        Assert.Contains("reflex.policy.json\" not found; pass -c policy=FILE", ex.Message);
    }

    [Fact]
    public void Compose_WithoutBootstrapDirInACheckoutWithoutTheLambdaProject_FailsSayingHowToPassOne()
    {
        using var dir = new TempDir();
        dir.File("reflex.policy.json", TestPolicy);

        var ex = Assert.Throws<FunctionAssetException>(() => ReflexApp.Compose(AppWith(), dir.Path, dir.Path));

        Assert.Contains("functions/EcsReflex.Lambda/EcsReflex.Lambda.csproj is not in this checkout", ex.Message);
        Assert.Contains("-c bootstrapDir=DIR", ex.Message);
    }

    [Fact]
    public void Compose_WithContext_BuildsTheStackFromThePolicyAndTheSettings()
    {
        using var dir = new TempDir();
        dir.File("policies/prod.json", TestPolicy);
        dir.File("out/bootstrap", "#!/bin/sh\n");
        var app = AppWith(("policy", "policies/prod.json"), ("bootstrapDir", "out"), ("memoryMb", "256"), ("timeoutSeconds", "20"),
            ("logRetentionDays", "90"), ("dryRun", "true"), ("stackName", "EcsReflexStaging"));

        var stack = ReflexApp.Compose(app, dir.Path, Path.Combine(dir.Path, "staging"));
        var template = Template.FromStack(stack);

        Assert.Equal("EcsReflexStaging", stack.StackName);
        template.AllResourcesProperties("AWS::Lambda::Function", Match.ObjectLike(Obj(
            ("MemorySize", 256), ("Timeout", 20),
            ("Environment", Obj(("Variables", Match.ObjectLike(Obj(("REFLEX_DRY_RUN", "1"))))))))) ;
        template.AllResourcesProperties("AWS::Logs::LogGroup", Match.ObjectLike(Obj(("RetentionInDays", 90))));
        template.HasResourceProperties("AWS::SQS::Queue", Match.ObjectLike(Obj(("VisibilityTimeout", 120))));
        Amazon.CDK.Assertions.Annotations.FromStack(stack).HasWarning("/EcsReflexStaging", Match.StringLikeRegexp("no -c passRoles"));
    }

    [Fact]
    public void Stack_TableLayoutProp_NamesTheKeysAndTheTtlAttribute()
    {
        using var dir = new TempDir();
        var stack = Build(dir, PolicyLoader.Load(TestPolicy), p => new ReflexStackProps
        {
            Policy = p.Policy, Code = p.Code,
            Table = new EcsReflex.Infra.Constructs.StateTableLayout { PartitionKey = "PK", SortKey = "SK", TimeToLiveAttribute = "expiresAt" },
        });

        Template.FromStack(stack).HasResourceProperties("AWS::DynamoDB::Table", Match.ObjectLike(Obj(
            ("KeySchema", new object[] { Obj(("AttributeName", "PK"), ("KeyType", "HASH")), Obj(("AttributeName", "SK"), ("KeyType", "RANGE")) }),
            ("TimeToLiveSpecification", Obj(("AttributeName", "expiresAt"), ("Enabled", true))))));
    }

    [Fact]
    public void Stage_PutsAnExecutableBootstrapAndThePolicyUnderItsDeployedName_AndNothingElse()
    {
        using var dir = new TempDir();
        var policy = dir.File("my.policy.json", TestPolicy);
        dir.File("publish/bootstrap", "#!/bin/sh\n");
        dir.File("publish/bootstrap.dbg", "symbols");

        var staged = FunctionAsset.Stage(Path.Combine(dir.Path, "publish"), policy, Path.Combine(dir.Path, "staging"));

        Assert.Equal(["bootstrap", "reflex.policy.json"], Directory.GetFiles(staged).Select(Path.GetFileName).Order());
        Assert.Equal(TestPolicy, File.ReadAllText(Path.Combine(staged, "reflex.policy.json")));
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(Path.Combine(staged, "bootstrap")).HasFlag(UnixFileMode.OtherExecute));
    }

    [Fact]
    public void Stage_WhenTheFolderHasNoBootstrap_SaysWhatToPass()
    {
        using var dir = new TempDir();
        var policy = dir.File("reflex.policy.json", TestPolicy);

        var ex = Assert.Throws<FunctionAssetException>(() => FunctionAsset.Stage(dir.Path, policy, dir.Path));

        Assert.Contains("holds no file named \"bootstrap\"", ex.Message);
    }

    [Fact]
    public void Publisher_PublishesTheLambdaProjectNativeAotForLinuxX64()
    {
        var publisher = new BootstrapPublisher("/repo");

        Assert.Equal(["publish", "/repo/functions/EcsReflex.Lambda/EcsReflex.Lambda.csproj", "-c", "Release", "-r", "linux-x64",
            "-p:PublishAot=true", "-o", "/repo/artifacts/bootstrap", "--nologo"], publisher.Arguments);
    }

    public static TheoryData<string, string, string> BadContext => new()
    {
        { "memoryMb", "64", "-c memoryMb: \"64\" must be a whole number from 128 to 10240" },
        { "memoryMb", "lots", "-c memoryMb: \"lots\" must be a whole number" },
        { "timeoutSeconds", "901", "-c timeoutSeconds: \"901\" must be a whole number from 1 to 900" },
        { "logRetentionDays", "10", "-c logRetentionDays: 10 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30" },
        { "passRoles", "arn:aws:iam::111122223333:role/ok,task-role", "-c passRoles: \"task-role\" is not an IAM role ARN" },
        { "alarmTopicArn", "oncall", "-c alarmTopicArn: \"oncall\" is not an SNS topic ARN" },
        { "dryRun", "yes", "-c dryRun: \"yes\" is not true or false" },
        { "stackName", "1st", "-c stackName: \"1st\" is not a CloudFormation stack name" },
    };

    [Theory]
    [MemberData(nameof(BadContext))]
    public void Settings_WhenAContextValueIsUnusable_NameTheKeyAndTheFix(string key, string value, string message)
    {
        var ex = Assert.Throws<SettingsException>(() => ReflexSettings.FromContext(k => k == key ? value : null));

        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Settings_WithoutContext_AreTheDocumentedDefaults()
    {
        var s = ReflexSettings.FromContext(_ => null);

        Assert.Equal(("reflex.policy.json", null, 128, 30, 30, "EcsReflex", false, null),
            (s.PolicyPath, s.BootstrapDir, s.Functions.MemoryMb, s.Functions.TimeoutSeconds, s.Functions.LogRetentionDays, s.StackName, s.DryRun, s.AlarmTopicArn));
        Assert.Empty(s.PassRoles);
    }

    [Fact]
    public void Settings_PassRoles_AreSplitOnCommasTrimmedAndDeduplicated()
    {
        var s = ReflexSettings.FromContext(k => k == "passRoles" ? " arn:aws:iam::111122223333:role/a , arn:aws:iam::111122223333:role/b,arn:aws:iam::111122223333:role/a" : null);

        Assert.Equal(["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"], s.PassRoles);
    }

    [Fact]
    public void Settings_FromCdkJsonNumbersAndBooleans_AreReadLikeTheirText()
    {
        var s = ReflexSettings.FromContext(k => k switch { "memoryMb" => 512d, "dryRun" => true, _ => null });

        Assert.Equal((512, true), (s.Functions.MemoryMb, s.DryRun));
    }
}
