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
        var slot = (int)(Hash(utf8) % (uint)_keys.Length);
        var key = _keys[slot];
        if (key is not null && utf8.SequenceEqual(key)) return _values[slot]!; // the same bytes as a key checked when it was stored
        if (!System.Text.Unicode.Utf8.IsValid(utf8)) return null;
        var value = Strict.GetString(utf8);
        _keys[slot] = utf8.ToArray();
        _values[slot] = value;
        return value;
    }

    /// <summary>
    /// The slot's hash, over every byte, eight at a time (hashing byte by byte was a good part of the parser's time).
    /// Two values with the same hash only share a slot: a lookup always compares the bytes.
    /// </summary>
    private static uint Hash(ReadOnlySpan<byte> s)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        var x = (ulong)s.Length * K;
        var i = 0;
        for (; i + 8 <= s.Length; i += 8)
            x = System.Numerics.BitOperations.RotateLeft((x ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s[i..])) * K, 31);
        if (i < s.Length)
        {
            ulong tail = 0;
            for (var j = s.Length - 1; j >= i; j--) tail = (tail << 8) | s[j];
            x = System.Numerics.BitOperations.RotateLeft((x ^ tail) * K, 31);
        }
        x ^= x >> 33; // a 64-bit finaliser: every input bit reaches the low bits the slot is taken from
        x *= 0xFF51AFD7ED558CCD;
        x ^= x >> 33;
        return (uint)x;
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

    private static int ElementSlot(ReadOnlySpan<byte> utf8) => (int)(Hash(utf8) % ElementSlots);
}
