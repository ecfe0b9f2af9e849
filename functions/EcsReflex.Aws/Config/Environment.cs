namespace EcsReflex.Aws.Config;

/// <summary>Environment variables, read through an interface so tests pass their own and nothing reads statics.
/// The one such interface: the AWS adapters, the Lambda host and the CLI all take it.</summary>
public interface IEnvironment
{
    /// <summary>The value of <paramref name="name"/>, or null when it is unset or empty.</summary>
    string? Get(string name);

    /// <summary>Sets (or, with null, removes) a variable: the Lambda loop sets <c>_X_AMZN_TRACE_ID</c> per invocation.</summary>
    void Set(string name, string? value);
}

/// <summary>The process environment.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
    public void Set(string name, string? value) => Environment.SetEnvironmentVariable(name, value);
}

/// <summary>A dictionary as the environment: tests, and callers that build their own configuration.</summary>
public sealed class DictionaryEnvironment(IEnumerable<KeyValuePair<string, string?>>? values = null) : IEnvironment
{
    public Dictionary<string, string?> Values { get; } = new(values ?? [], StringComparer.Ordinal);
    public string? Get(string name) => Values.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
    public void Set(string name, string? value) => Values[name] = value;
}
