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

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > maxLength) return Strict.GetString(utf8);
        var hash = 2166136261u;
        foreach (var b in utf8) hash = (hash ^ b) * 16777619u;
        var slot = (int)(hash % (uint)_keys.Length);
        var key = _keys[slot];
        if (key is not null && utf8.SequenceEqual(key)) return _values[slot]!;
        var value = Strict.GetString(utf8);
        _keys[slot] = utf8.ToArray();
        _values[slot] = value;
        return value;
    }
}
