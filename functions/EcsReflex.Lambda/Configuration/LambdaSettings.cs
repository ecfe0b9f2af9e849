namespace EcsReflex.Lambda.Configuration;

/// <summary>What the environment configures, read once at init. Problems are collected, not thrown one by one.</summary>
public sealed record LambdaSettings
{
    public const string DefaultPolicyFile = HostLayout.PolicyFileName;

    public string? Handler { get; init; }
    public required string PolicyPath { get; init; }
    public string? Table { get; init; }
    public string? DelayQueueUrl { get; init; }
    public string? DeadLetterQueueUrl { get; init; }
    public bool DryRun { get; init; }
    public bool LocalReplay { get; init; }
    public string? RuntimeApi { get; init; }

    /// <summary>Reads the settings; <paramref name="problems"/> gets one sentence per bad value, naming the variable and the fix.</summary>
    public static LambdaSettings Read(IEnvironment env, string baseDirectory, List<string> problems)
    {
        return new LambdaSettings
        {
            Handler = env.Get(EnvVars.Handler),
            PolicyPath = env.Get(EnvVars.Policy) ?? Path.Combine(baseDirectory, DefaultPolicyFile),
            Table = env.Get(EnvVars.Table),
            DelayQueueUrl = env.Get(EnvVars.DelayQueueUrl),
            DeadLetterQueueUrl = env.Get(EnvVars.DeadLetterQueueUrl),
            DryRun = Flag(env, EnvVars.DryRun, problems),
            LocalReplay = Flag(env, EnvVars.LocalReplay, problems),
            RuntimeApi = env.Get(EnvVars.RuntimeApi),
        };
    }

    /// <summary><c>1</c>/<c>true</c> and <c>0</c>/<c>false</c> (any case); unset is false; anything else is a problem.</summary>
    public static bool Flag(IEnvironment env, string name, List<string> problems)
    {
        var v = env.Get(name);
        if (v is null) return false;
        if (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (v == "0" || v.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        problems.Add($"{name}=\"{v}\" is not a flag: set it to 1 or true (or 0, false, or leave it unset)");
        return false;
    }
}
