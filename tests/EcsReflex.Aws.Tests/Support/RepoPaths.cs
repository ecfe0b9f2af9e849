namespace EcsReflex.Aws.Tests.Support;

/// <summary>The repository's npm dev dependencies (the repository itself: <see cref="Repository"/>).</summary>
public static class RepoPaths
{
    private static string Root => Repository.Root;

    /// <summary>The folder of an npm package from the root package.json, or a failure that says to run <c>npm ci</c>.</summary>
    public static string NodeModule(string package)
    {
        var path = Path.Combine(Root, "node_modules", package);
        if (!Directory.Exists(path))
            throw new InvalidOperationException(
                $"the npm package '{package}' is missing ({path}): run `npm ci` in {Root} (package.json lists the test tools: dynalite, aws-sdk v2 for the service models)");
        return path;
    }

    /// <summary>An official service model file from the aws-sdk (v2) npm package, for example <c>ecs-2014-11-13.min.json</c>.</summary>
    public static string ServiceModel(string file) => Path.Combine(NodeModule("aws-sdk"), "apis", file);
}
