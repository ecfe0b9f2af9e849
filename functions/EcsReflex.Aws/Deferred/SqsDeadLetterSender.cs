using System.Globalization;
using System.Text;
using EcsReflex.Aws.Sqs;
using EcsReflex.Core.State;

namespace EcsReflex.Aws.Deferred;

/// <summary>
/// The core's <see cref="IDeadLetterSender"/> on SQS. The body is the payload exactly as received, so a dead-lettered
/// delay-queue message can be moved back to the delay queue as it is (SQS "redrive"), and an event can be re-sent as it
/// is; why it was rejected travels in message attributes (<c>reflex.handler</c>, <c>reflex.code</c>,
/// <c>reflex.reason</c>, <c>reflex.rejected-at</c>, and when known <c>reflex.event-id</c>, <c>reflex.request-id</c>,
/// <c>reflex.message-id</c>).
/// </summary>
/// <remarks>
/// What SQS cannot carry is said, never dropped silently: a payload with characters SQS refuses in a body (control
/// characters, lone surrogates) is sent base64-encoded (UTF-8) with <c>reflex.body-encoding</c> = <c>base64</c>; an
/// empty payload is sent as <see cref="EmptyBody"/> with <c>reflex.body-encoding</c> = <c>empty</c>; a message larger than
/// <see cref="MaxMessageBytes"/> keeps the start of its body and says <c>reflex.payload-bytes</c> = the payload's full size.
/// </remarks>
public sealed class SqsDeadLetterSender(SqsClient sqs, string queueUrl) : IDeadLetterSender
{
    /// <summary>256 KiB: the size every SQS queue accepts (body and attributes together).</summary>
    public const int MaxMessageBytes = 256 * 1024;
    /// <summary>An attribute value longer than this is cut (with "…").</summary>
    public const int MaxAttributeChars = 4096;
    public const string EmptyBody = "(empty payload)";

    public const string HandlerAttribute = "reflex.handler";
    public const string CodeAttribute = "reflex.code";
    public const string ReasonAttribute = "reflex.reason";
    public const string RejectedAtAttribute = "reflex.rejected-at";
    public const string EventIdAttribute = "reflex.event-id";
    public const string RequestIdAttribute = "reflex.request-id";
    public const string MessageIdAttribute = "reflex.message-id";
    public const string BodyEncodingAttribute = "reflex.body-encoding";
    public const string PayloadBytesAttribute = "reflex.payload-bytes";

    public string QueueUrl => queueUrl;

    public Task SendAsync(DeadLetter letter, CancellationToken ct) => sqs.SendMessageAsync(ToRequest(letter, queueUrl), ct);

    /// <summary>The SendMessage request for a dead letter (public for tests and tools).</summary>
    public static SendMessageRequest ToRequest(DeadLetter letter, string queueUrl)
    {
        var attributes = new Dictionary<string, MessageAttributeValue>(StringComparer.Ordinal);
        void Add(string name, string? value)
        {
            if (value is null) return;
            attributes[name] = new MessageAttributeValue { DataType = "String", StringValue = Clean(value) };
        }
        Add(HandlerAttribute, letter.Handler);
        Add(CodeAttribute, letter.Code);
        Add(ReasonAttribute, letter.Reason);
        Add(RejectedAtAttribute, DeferredWorkJson.FormatTime(letter.RejectedAt));
        Add(EventIdAttribute, letter.EventId);
        Add(RequestIdAttribute, letter.RequestId);
        Add(MessageIdAttribute, letter.MessageId);

        string body;
        if (letter.Payload.Length == 0)
        {
            body = EmptyBody;
            Add(BodyEncodingAttribute, "empty");
        }
        else if (IsSqsText(letter.Payload))
        {
            body = letter.Payload;
        }
        else
        {
            body = Convert.ToBase64String(Encoding.UTF8.GetBytes(letter.Payload));
            Add(BodyEncodingAttribute, "base64");
        }

        var budget = MaxMessageBytes - AttributesBytes(attributes) - 64; // 64: room for the size attribute below
        if (Encoding.UTF8.GetByteCount(body) > budget)
        {
            Add(PayloadBytesAttribute, Encoding.UTF8.GetByteCount(letter.Payload).ToString(CultureInfo.InvariantCulture));
            body = Prefix(body, budget);
            if (attributes.ContainsKey(BodyEncodingAttribute)) body = body[..(body.Length / 4 * 4)]; // whole base64 quanta: the start still decodes
        }
        return new SendMessageRequest { QueueUrl = queueUrl, MessageBody = body, MessageAttributes = attributes };
    }

    /// <summary>True when every character is one SQS accepts in a body or a string attribute.</summary>
    public static bool IsSqsText(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
                return false;
            }
            if (!Allowed(c)) return false;
        }
        return true;
    }

    private static bool Allowed(char c) =>
        c is '\t' or '\n' or '\r' || (c >= '\u0020' && c <= '\uD7FF') || (c >= '\uE000' && c <= '\uFFFD');

    /// <summary>Refused characters become U+FFFD; a value too long is cut.</summary>
    private static string Clean(string value)
    {
        if (value.Length > MaxAttributeChars) value = value[..(MaxAttributeChars - 1)] + "…";
        if (IsSqsText(value)) return value;
        var b = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { b.Append(c).Append(value[++i]); continue; }
            b.Append(!char.IsSurrogate(c) && Allowed(c) ? c : '\uFFFD');
        }
        return b.ToString();
    }

    /// <summary>What SQS counts for the attributes: name, data type and value of each.</summary>
    private static int AttributesBytes(Dictionary<string, MessageAttributeValue> attributes) =>
        attributes.Sum(a => Encoding.UTF8.GetByteCount(a.Key) + Encoding.UTF8.GetByteCount(a.Value.DataType) + Encoding.UTF8.GetByteCount(a.Value.StringValue ?? ""));

    /// <summary>The longest start of <paramref name="s"/> within <paramref name="maxBytes"/> UTF-8 bytes, never splitting a surrogate pair.</summary>
    private static string Prefix(string s, int maxBytes)
    {
        var bytes = 0;
        var i = 0;
        while (i < s.Length)
        {
            var width = char.IsHighSurrogate(s[i]) && i + 1 < s.Length ? 2 : 1;
            var n = Encoding.UTF8.GetByteCount(s.AsSpan(i, width));
            if (bytes + n > maxBytes) break;
            bytes += n;
            i += width;
        }
        return s[..i];
    }
}
