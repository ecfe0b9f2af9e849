namespace EcsReflex.Core.Events;

/// <summary>Why an input was rejected. Stable names: they appear in logs, metrics and the replay output.</summary>
public enum RejectionKind
{
    /// <summary>The bytes are not JSON (or not UTF-8, or nested deeper than allowed).</summary>
    InvalidJson,
    /// <summary>JSON, but not an EventBridge event (not an object, no envelope).</summary>
    NotAnEvent,
    /// <summary>A required field is missing or null.</summary>
    MissingField,
    /// <summary>A field has the wrong JSON type.</summary>
    WrongType,
    /// <summary>A field has the right type but a value that cannot be used (an unparseable timestamp).</summary>
    InvalidValue,
}

/// <summary>
/// The only exception <see cref="EventParser"/> throws. <see cref="Path"/> is the JSON path of the
/// offending field (<c>detail.containers[0].exitCode</c>), or empty for the document itself.
/// </summary>
public sealed class EventRejectedException : Exception
{
    public EventRejectedException(RejectionKind kind, string path, string reason, Exception? inner = null)
        : base(string.IsNullOrEmpty(path) ? reason : $"{path}: {reason}", inner)
    {
        Kind = kind;
        Path = path;
        Reason = reason;
    }

    public RejectionKind Kind { get; }
    public string Path { get; }
    public string Reason { get; }

    /// <summary>For <see cref="RejectionKind.InvalidJson"/> syntax errors: where in the text, 1-based.</summary>
    public JsonSyntaxError? Syntax { get; init; }

    /// <summary>Kebab-case name of <see cref="Kind"/>, as written in logs and JSON lines.</summary>
    public string Code => Kind switch
    {
        RejectionKind.InvalidJson => "invalid-json",
        RejectionKind.NotAnEvent => "not-an-event",
        RejectionKind.MissingField => "missing-field",
        RejectionKind.WrongType => "wrong-type",
        _ => "invalid-value",
    };
}
