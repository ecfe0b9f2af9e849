using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using EcsReflex.Core.Policy;

namespace EcsReflex.Infra;

/// <summary>
/// Composes the app from CDK context: reads and validates the policy, prepares the function code (a prebuilt
/// bootstrap or a fresh publish, with the policy beside it) and adds the stack. Every problem is an exception
/// whose message says what to fix; <see cref="Program"/> prints it and fails the synth.
/// </summary>
public static class ReflexApp
{
    /// <param name="app">The app; its context holds the settings (<see cref="ReflexSettings.Keys"/>).</param>
    /// <param name="repositoryRoot">Where relative paths start (the CDK CLI runs the app in the folder of cdk.json).</param>
    /// <param name="stagingRoot">Where the function asset folder is prepared.</param>
    public static ReflexStack Compose(App app, string repositoryRoot, string stagingRoot)
    {
        var settings = ReflexSettings.FromContext(app.Node.TryGetContext);
        var policyPath = Path.GetFullPath(settings.PolicyPath, repositoryRoot);
        var policy = LoadPolicy(policyPath);

        var bootstrapDir = settings.BootstrapDir is { } dir
            ? Path.GetFullPath(dir, repositoryRoot)
            : new BootstrapPublisher(repositoryRoot).Publish();
        var assetDir = FunctionAsset.Stage(bootstrapDir, policyPath, stagingRoot);

        return new ReflexStack(app, settings.StackName, new ReflexStackProps
        {
            Description = "EcsReflex: automatic reactions to Amazon ECS cluster events, built from the policy file",
            Policy = policy,
            Code = Code.FromAsset(assetDir),
            Functions = settings.Functions,
            PassRoles = settings.PassRoles,
            AlarmTopicArn = settings.AlarmTopicArn,
            DryRun = settings.DryRun,
        });
    }

    /// <summary>Loads the policy with the same validator the functions use; an invalid one throws every problem found.</summary>
    public static ReflexPolicy LoadPolicy(string path)
    {
        if (!File.Exists(path))
            throw new SettingsException($"policy file \"{path}\" not found; pass -c {ReflexSettings.Keys.Policy}=FILE (default {ReflexSettings.DefaultPolicyPath})");
        var (policy, errors) = PolicyLoader.TryLoad(File.ReadAllBytes(path));
        // A JSON syntax error is FILE:LINE:COLUMN, as the CLI and the host print it; other problems each with their path.
        if (errors is [{ Syntax: { } syntax }]) throw new SettingsException(syntax.At(path));
        if (errors.Count > 0)
            throw new SettingsException($"{path}: {new PolicyInvalidException(errors).Message}");
        return policy!;
    }
}
