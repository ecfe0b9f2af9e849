using System.Buffers;
using System.Text.Json;

namespace EcsReflex.Lambda.Client;

/// <summary>
/// An error as the Runtime API takes it: <c>{"errorType", "errorMessage", "stackTrace"}</c>, with
/// <see cref="ErrorType"/> also sent as the <c>Lambda-Runtime-Function-Error-Type</c> header.
/// </summary>
public sealed record ErrorReport(string ErrorType, string ErrorMessage, IReadOnlyList<string> StackTrace)
{
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    public static ErrorReport Of(string errorType, string message) => new(errorType, message, []);

    /// <summary>An unexpected exception: its type name, message and stack frames.</summary>
    public static ErrorReport FromException(Exception ex)
    {
        var frames = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e != ex) frames.Add($"--- caused by {e.GetType().Name}: {e.Message}");
            if (e.StackTrace is { } st)
                frames.AddRange(st.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        return new ErrorReport(ex.GetType().Name, ex.Message, frames);
    }

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("errorType", ErrorType);
            w.WriteString("errorMessage", ErrorMessage);
            w.WriteStartArray("stackTrace");
            foreach (var frame in StackTrace) w.WriteStringValue(frame);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the body back (the emulator and the tests use it).</summary>
    public static ErrorReport Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        var frames = new List<string>();
        if (root.TryGetProperty("stackTrace", out var st) && st.ValueKind == JsonValueKind.Array)
            foreach (var f in st.EnumerateArray())
                if (f.ValueKind == JsonValueKind.String) frames.Add(f.GetString()!);
        return new ErrorReport(
            root.TryGetProperty("errorType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "",
            root.TryGetProperty("errorMessage", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "",
            frames);
    }
}
