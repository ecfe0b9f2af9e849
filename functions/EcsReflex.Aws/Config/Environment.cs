namespace EcsReflex.Aws.Config;

/// <summary>Environment variables, read through an interface so tests pass their own and nothing reads statics.</summary>
public interface IEnvironment
{
    /// <summary>The value of <paramref name="name"/>, or null when it is unset or empty.</summary>
    string? Get(string name);
}

/// <summary>The process environment.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

/// <summary>A fixed set of variables: tests, and callers that build their own configuration.</summary>
public sealed class MapEnvironment(IReadOnlyDictionary<string, string?> values) : IEnvironment
{
    public MapEnvironment() : this(new Dictionary<string, string?>()) { }

    public string? Get(string name) => values.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
}
