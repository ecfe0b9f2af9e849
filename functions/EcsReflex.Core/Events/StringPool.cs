using System.Text;

namespace EcsReflex.Core.Events;

/// <summary>
/// A small, fixed-size cache of strings read from UTF-8 bytes, for the values that repeat across a
/// stream (cluster and task definition ARNs, statuses, zones, attribute names). It bounds its own
/// memory: a slot holds one entry and a newer value replaces an older one. Not thread-safe: one per
/// reader (the replay has one; each Lambda process has one).
/// </summary>
public sealed class StringPool(int slots = 4096, int maxLength = 200)
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    private readonly byte[]?[] _keys = new byte[slots][];
    private readonly string?[] _values = new string[slots];

    /// <summary>The string for <paramref name="utf8"/>; null when the bytes are not valid UTF-8 (the caller's reader reports that its own way).</summary>
    public string? Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > maxLength) return System.Text.Unicode.Utf8.IsValid(utf8) ? Strict.GetString(utf8) : null;
        var hash = 2166136261u;
        foreach (var b in utf8) hash = (hash ^ b) * 16777619u;
        var slot = (int)(hash % (uint)_keys.Length);
        var key = _keys[slot];
        if (key is not null && utf8.SequenceEqual(key)) return _values[slot]!; // the same bytes as a key checked when it was stored
        if (!System.Text.Unicode.Utf8.IsValid(utf8)) return null;
        var value = Strict.GetString(utf8);
        _keys[slot] = utf8.ToArray();
        _values[slot] = value;
        return value;
    }

    // Small JSON objects that repeat across a stream (a task's overrides): parsed once, shared (a JsonElement is read-only).
    private const int ElementSlots = 256, ElementMaxLength = 4096;
    private readonly byte[]?[] _elementKeys = new byte[ElementSlots][];
    private readonly System.Text.Json.JsonElement[] _elements = new System.Text.Json.JsonElement[ElementSlots];

    public System.Text.Json.JsonElement? GetElement(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > ElementMaxLength) return null;
        var slot = ElementSlot(utf8);
        return _elementKeys[slot] is { } key && utf8.SequenceEqual(key) ? _elements[slot] : null;
    }

    public void PutElement(ReadOnlySpan<byte> utf8, System.Text.Json.JsonElement element)
    {
        if (utf8.Length > ElementMaxLength) return;
        var slot = ElementSlot(utf8);
        _elementKeys[slot] = utf8.ToArray();
        _elements[slot] = element;
    }

    private static int ElementSlot(ReadOnlySpan<byte> utf8)
    {
        var h = new HashCode();
        h.AddBytes(utf8);
        return (int)((uint)h.ToHashCode() % ElementSlots);
    }
}
