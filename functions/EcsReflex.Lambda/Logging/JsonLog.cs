using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EcsReflex.Core;

namespace EcsReflex.Lambda.Logging;

/// <summary>
/// Structured logs: one JSON object per line with <c>time</c>, <c>level</c>, <c>handler</c> and
/// <c>message</c>, plus the fields of the entry (<c>requestId</c>, <c>eventId</c>, <c>outcome</c>…).
/// </summary>
public sealed class JsonLog(ILineWriter output, TimeProvider time, string? handler)
{
    public const string Info = "info";
    public const string Warn = "warn";
    public const string Error = "error";

    public string? Handler => handler;
    public ILineWriter Output => output;

    public void Write(string level, string message, Action<Utf8JsonWriter>? fields = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, MinimalJsonEncoder.WriterOptions)) // text as written: + and → not \u002B, \u2192
        {
            w.WriteStartObject();
            w.WriteString("time", FormatTime(time.GetUtcNow()));
            w.WriteString("level", level);
            if (handler is null) w.WriteNull("handler"); else w.WriteString("handler", handler);
            w.WriteString("message", message);
            fields?.Invoke(w);
            w.WriteEndObject();
        }
        output.WriteLine(buffer.WrittenSpan);
    }

    public void Information(string message, Action<Utf8JsonWriter>? fields = null) => Write(Info, message, fields);
    public void Warning(string message, Action<Utf8JsonWriter>? fields = null) => Write(Warn, message, fields);
    public void Failure(string message, Action<Utf8JsonWriter>? fields = null) => Write(Error, message, fields);

    public static string FormatTime(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }
}
