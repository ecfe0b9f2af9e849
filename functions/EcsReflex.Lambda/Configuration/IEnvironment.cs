namespace EcsReflex.Lambda.Configuration;

/// <summary>Environment variables, through a small interface so tests never touch the process's.</summary>
public interface IEnvironment
{
    /// <summary>The variable's value, or null when it is unset or empty.</summary>
    string? Get(string name);

    /// <summary>Sets (or, with null, removes) a variable: the loop sets <c>_X_AMZN_TRACE_ID</c> per invocation.</summary>
    void Set(string name, string? value);
}

/// <summary>The process's environment.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
    public void Set(string name, string? value) => Environment.SetEnvironmentVariable(name, value);
}

/// <summary>A dictionary as the environment: tests, and the in-process composition.</summary>
public sealed class DictionaryEnvironment(IDictionary<string, string?>? values = null) : IEnvironment
{
    public Dictionary<string, string?> Values { get; } = new(values ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
    public string? Get(string name) => Values.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
    public void Set(string name, string? value) => Values[name] = value;
}
