using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.CDK.AWS.Logs;

namespace EcsReflex.Infra;

/// <summary>A setting of the CDK app that cannot be used; the message names the context key and the fix.</summary>
public sealed class SettingsException(string message) : Exception(message);

/// <summary>
/// The deployment's knobs, from CDK context (<c>-c key=value</c> or the <c>context</c> of cdk.json). Every key
/// is optional; <see cref="Keys"/> lists them. Values are checked here so a typo fails the synth with a
/// message instead of deploying something else.
/// </summary>
public sealed partial record ReflexSettings
{
    public static class Keys
    {
        public const string Policy = "policy";
        public const string BootstrapDir = "bootstrapDir";
        public const string MemoryMb = "memoryMb";
        public const string TimeoutSeconds = "timeoutSeconds";
        public const string LogRetentionDays = "logRetentionDays";
        public const string PassRoles = "passRoles";
        public const string AlarmTopicArn = "alarmTopicArn";
        public const string DryRun = "dryRun";
        public const string StackName = "stackName";
    }

    public const string DefaultPolicyPath = "reflex.policy.json";
    public const string DefaultStackName = "EcsReflex";

    public string PolicyPath { get; init; } = DefaultPolicyPath;
    /// <summary>A folder holding a prebuilt <c>bootstrap</c>; null publishes one from functions/EcsReflex.Lambda.</summary>
    public string? BootstrapDir { get; init; }
    public FunctionSettings Functions { get; init; } = new();
    /// <summary>Task and execution roles the relaunching handlers may pass to ECS (iam:PassRole).</summary>
    public IReadOnlyList<string> PassRoles { get; init; } = [];
    /// <summary>An SNS topic the stack's alarms notify; null leaves the alarms without actions.</summary>
    public string? AlarmTopicArn { get; init; }
    /// <summary>Deploy with REFLEX_DRY_RUN=1: every decision is logged and audited, no action is sent.</summary>
    public bool DryRun { get; init; }
    public string StackName { get; init; } = DefaultStackName;

    /// <summary>Reads the settings through <paramref name="context"/> (a CDK node's TryGetContext).</summary>
    public static ReflexSettings FromContext(Func<string, object?> context)
    {
        string? Text(string key) => context(key) switch
        {
            null => null,
            string s => s.Trim().Length == 0 ? null : s.Trim(),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var other => other.ToString(),
        };

        var defaults = new FunctionSettings();
        var functions = new FunctionSettings
        {
            MemoryMb = Int(Text(Keys.MemoryMb), Keys.MemoryMb, defaults.MemoryMb, FunctionSettings.MinMemoryMb, FunctionSettings.MaxMemoryMb),
            TimeoutSeconds = Int(Text(Keys.TimeoutSeconds), Keys.TimeoutSeconds, defaults.TimeoutSeconds, 1, FunctionSettings.MaxTimeoutSeconds),
            LogRetentionDays = Int(Text(Keys.LogRetentionDays), Keys.LogRetentionDays, defaults.LogRetentionDays, 1, int.MaxValue),
        };
        _ = functions.LogRetention; // fails now, with the context key, when the days are not a CloudWatch Logs retention

        var passRoles = (Text(Keys.PassRoles) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var role in passRoles)
            if (!RoleArn().IsMatch(role))
                throw new SettingsException($"-c {Keys.PassRoles}: \"{role}\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME); list the task and execution roles of the relaunched tasks, separated by commas");

        var topic = Text(Keys.AlarmTopicArn);
        if (topic is not null && !TopicArn().IsMatch(topic))
            throw new SettingsException($"-c {Keys.AlarmTopicArn}: \"{topic}\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");

        var dryRun = Text(Keys.DryRun) switch
        {
            null or "false" or "0" => false,
            "true" or "1" => true,
            var other => throw new SettingsException($"-c {Keys.DryRun}: \"{other}\" is not true or false"),
        };

        var stackName = Text(Keys.StackName) ?? DefaultStackName;
        if (!StackNamePattern().IsMatch(stackName))
            throw new SettingsException($"-c {Keys.StackName}: \"{stackName}\" is not a CloudFormation stack name (a letter, then letters, digits and '-', up to 128)");

        return new ReflexSettings
        {
            PolicyPath = Text(Keys.Policy) ?? DefaultPolicyPath,
            BootstrapDir = Text(Keys.BootstrapDir),
            Functions = functions,
            PassRoles = [.. passRoles.Distinct(StringComparer.Ordinal)],
            AlarmTopicArn = topic,
            DryRun = dryRun,
            StackName = stackName,
        };
    }

    private static int Int(string? text, string key, int fallback, int min, int max)
    {
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw new SettingsException($"-c {key}: \"{text}\" must be a whole number from {min} to {max}");
        return n;
    }

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/*-]+$")]
    private static partial Regex RoleArn();

    [GeneratedRegex(@"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")]
    private static partial Regex TopicArn();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9-]{0,127}$")]
    private static partial Regex StackNamePattern();
}

/// <summary>
/// Size and limits of every function. The timeout is the retry budget of one invocation: an event makes a
/// handful of AWS calls (DynamoDB dedupe and lineage, ECS describe and run, the audit write), each retried by
/// the host on throttling and 5xx with capped back-off for a few seconds at most; 30 s covers the worst of them
/// with the host's deadline margin to spare, and a failed invocation is retried by Lambda (asynchronous retries)
/// or SQS (visibility timeout, six times the function timeout as Lambda advises).
/// </summary>
public sealed record FunctionSettings
{
    public const int MinMemoryMb = 128;
    public const int MaxMemoryMb = 10_240;
    public const int MaxTimeoutSeconds = 900;

    public int MemoryMb { get; init; } = 128;
    public int TimeoutSeconds { get; init; } = 30;
    public int LogRetentionDays { get; init; } = 30;

    /// <summary>The CloudWatch Logs retention for <see cref="LogRetentionDays"/>.</summary>
    public RetentionDays LogRetention => Retention.TryGetValue(LogRetentionDays, out var r)
        ? r
        : throw new SettingsException($"-c {ReflexSettings.Keys.LogRetentionDays}: {LogRetentionDays} is not a CloudWatch Logs retention; use one of {string.Join(", ", Retention.Keys)}");

    private static readonly Dictionary<int, RetentionDays> Retention = new()
    {
        [1] = RetentionDays.ONE_DAY, [3] = RetentionDays.THREE_DAYS, [5] = RetentionDays.FIVE_DAYS,
        [7] = RetentionDays.ONE_WEEK, [14] = RetentionDays.TWO_WEEKS, [30] = RetentionDays.ONE_MONTH,
        [60] = RetentionDays.TWO_MONTHS, [90] = RetentionDays.THREE_MONTHS, [120] = RetentionDays.FOUR_MONTHS,
        [150] = RetentionDays.FIVE_MONTHS, [180] = RetentionDays.SIX_MONTHS, [365] = RetentionDays.ONE_YEAR,
        [400] = RetentionDays.THIRTEEN_MONTHS, [545] = RetentionDays.EIGHTEEN_MONTHS, [731] = RetentionDays.TWO_YEARS,
        [1096] = RetentionDays.THREE_YEARS, [1827] = RetentionDays.FIVE_YEARS, [2192] = RetentionDays.SIX_YEARS,
        [2557] = RetentionDays.SEVEN_YEARS, [2922] = RetentionDays.EIGHT_YEARS, [3288] = RetentionDays.NINE_YEARS,
        [3653] = RetentionDays.TEN_YEARS,
    };
}
