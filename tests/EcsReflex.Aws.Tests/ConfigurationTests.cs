using EcsReflex.Aws.Config;

namespace EcsReflex.Aws.Tests;

public sealed class ConfigurationTests
{
    private static DictionaryEnvironment Env(params (string Name, string Value)[] vars) =>
        new(vars.ToDictionary(v => v.Name, v => (string?)v.Value));

    public static TheoryData<string, (string, string)[], string> Endpoints => new()
    {
        { "no override: the public regional endpoint", [], "https://ecs.eu-west-3.amazonaws.com/" },
        { "the global override", [("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")], "http://127.0.0.1:4566/" },
        { "the service override wins over the global one", [("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), ("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:5000/ecs/")], "http://127.0.0.1:5000/ecs/" },
        { "another service's override does not apply", [("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")], "https://ecs.eu-west-3.amazonaws.com/" },
        { "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns overrides off", [("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:5000"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")], "https://ecs.eu-west-3.amazonaws.com/" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void ResolveEcs_FollowsTheSdkRules(string why, (string, string)[] vars, string expected)
    {
        Assert.True(expected == new AwsEndpoints(Env(vars)).Resolve(AwsService.Ecs, "eu-west-3").ToString(), why);
    }

    public static TheoryData<string, string, string> ServiceVariables => new()
    {
        { "ecs", "AWS_ENDPOINT_URL_ECS", "https://ecs.us-east-1.amazonaws.com/" },
        { "application-autoscaling", "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", "https://application-autoscaling.us-east-1.amazonaws.com/" },
        { "cloudwatch", "AWS_ENDPOINT_URL_CLOUDWATCH", "https://monitoring.us-east-1.amazonaws.com/" },
        { "dynamodb", "AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.us-east-1.amazonaws.com/" },
        { "sqs", "AWS_ENDPOINT_URL_SQS", "https://sqs.us-east-1.amazonaws.com/" },
    };

    [Theory]
    [MemberData(nameof(ServiceVariables))]
    public void EveryService_HasTheSdkVariableNameAndDefaultHost(string name, string variable, string defaultUrl)
    {
        var service = new[] { AwsService.Ecs, AwsService.ApplicationAutoScaling, AwsService.CloudWatch, AwsService.DynamoDb, AwsService.Sqs }.Single(s => s.Name == name);
        Assert.Equal(variable, AwsEndpoints.VariableFor(service));
        Assert.Equal(defaultUrl, AwsEndpoints.Default(service, "us-east-1").ToString());
        Assert.Equal("http://127.0.0.1:9/", new AwsEndpoints(Env((variable, "http://127.0.0.1:9"))).Resolve(service, "us-east-1").ToString());
    }

    [Fact]
    public void Default_InAChinaRegion_UsesTheChinaDomain()
    {
        Assert.Equal("https://ecs.cn-north-1.amazonaws.com.cn/", AwsEndpoints.Default(AwsService.Ecs, "cn-north-1").ToString());
    }

    [Fact]
    public void Resolve_WhenTheOverrideIsNotAUrl_NamesTheVariableAndTheFix()
    {
        var ex = Assert.Throws<AwsConfigurationException>(() => new AwsEndpoints(Env(("AWS_ENDPOINT_URL_ECS", "localhost:4566"))).Resolve(AwsService.Ecs, "us-east-1"));
        Assert.Contains("AWS_ENDPOINT_URL_ECS=localhost:4566 is not an http(s) URL", ex.Message);
    }

    public static TheoryData<string, string?, (string, string)[], string> Regions => new()
    {
        { "--region wins", "eu-central-1", [("AWS_REGION", "us-east-1")], "eu-central-1" },
        { "AWS_REGION", null, [("AWS_REGION", "us-east-1"), ("AWS_DEFAULT_REGION", "us-west-2")], "us-east-1" },
        { "AWS_DEFAULT_REGION when AWS_REGION is unset", null, [("AWS_DEFAULT_REGION", "us-west-2")], "us-west-2" },
    };

    [Theory]
    [MemberData(nameof(Regions))]
    public void Region_IsResolvedInTheSdkOrder(string why, string? explicitRegion, (string, string)[] vars, string expected)
    {
        Assert.True(expected == AwsRegions.Resolve(Env(vars), explicitRegion), why);
    }

    [Fact]
    public void Region_WhenItIsNotARegionName_SaysWhatToCheck()
    {
        var ex = Assert.Throws<AwsConfigurationException>(() => AwsRegions.Resolve(Env(("AWS_REGION", "US East (N. Virginia)"))));
        Assert.Contains("is not a region name", ex.Message);
    }

    [Fact]
    public void Credentials_FromTheEnvironmentInterface_AreStaticKeysWithTheSessionToken()
    {
        var source = new DefaultCredentialsSource(Env(("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "token")));
        var creds = source.GetCredentials().GetCredentials();
        Assert.Equal("AKID", creds.AccessKey);
        Assert.Equal("token", creds.Token);
    }

    [Fact]
    public void Credentials_ForAProfileThatDoesNotExist_NameTheProfile()
    {
        var ex = Assert.Throws<AwsConfigurationException>(() => new DefaultCredentialsSource(Env(), "no-such-profile-7f3a").GetCredentials());
        Assert.Contains("profile 'no-such-profile-7f3a' was not found", ex.Message);
    }
}
