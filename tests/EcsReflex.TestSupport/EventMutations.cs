using System.Text;
using System.Text.Json.Nodes;

namespace EcsReflex.TestSupport;

/// <summary>
/// Damages real events the ways the wire can: truncation, a flipped byte, a type swap, a huge string, deep
/// nesting, invalid UTF-8, a dropped field. Deterministic for a seed. Shared by the parser's property test and
/// the malformed-input soak through the published bootstrap (tests/EcsReflex.Lambda.Tests).
/// </summary>
public static class EventMutations
{
    /// <summary>How a real event is damaged.</summary>
    public enum Mutation { Truncate, FlipByte, TypeSwap, HugeString, DeepNesting, InvalidUtf8, DropField }

    public static byte[] Mutate(byte[] source, Mutation m, int seed)
    {
        var rnd = new Random(seed);
        switch (m)
        {
            case Mutation.Truncate:
                return source[..rnd.Next(source.Length)];
            case Mutation.FlipByte:
            {
                var b = source.ToArray();
                b[rnd.Next(b.Length)] = (byte)rnd.Next(256);
                return b;
            }
            case Mutation.InvalidUtf8:
            {
                var text = Encoding.UTF8.GetString(source);
                var quotes = Enumerable.Range(0, text.Length).Where(i => text[i] == '"').ToList();
                var at = Encoding.UTF8.GetByteCount(text[..(quotes[rnd.Next(quotes.Count)] + 1)]);
                var b = source.ToList();
                b.InsertRange(at, new byte[] { 0xFF, 0xC3 });
                return b.ToArray();
            }
            case Mutation.DeepNesting:
            {
                var depth = 10 + rnd.Next(2000);
                var text = Encoding.UTF8.GetString(source);
                var at = text.IndexOf("\"detail\":", StringComparison.Ordinal) + 9;
                var close = text.LastIndexOf('}');
                return Encoding.UTF8.GetBytes(text[..at] + new string('[', depth) + text[at..close] + new string(']', depth) + "}");
            }
            default:
            {
                var root = JsonNode.Parse(source)!;
                var nodes = new List<JsonNode>();
                Walk(root, nodes);
                var target = nodes[rnd.Next(nodes.Count)];
                JsonNode? replacement = m switch
                {
                    Mutation.HugeString => JsonValue.Create(new string('x', 100_000 + rnd.Next(900_000))),
                    Mutation.DropField => null,
                    _ => (rnd.Next(6)) switch
                    {
                        0 => JsonValue.Create("abc"),
                        1 => JsonValue.Create(rnd.Next()),
                        2 => new JsonArray(JsonValue.Create(1), JsonValue.Create("two")),
                        3 => new JsonObject { ["surprise"] = true },
                        4 => JsonValue.Create(false),
                        _ => JsonValue.Create(-1e308),
                    },
                };
                var parent = target.Parent;
                if (parent is JsonObject po)
                {
                    var name = target.GetPropertyName();
                    if (m == Mutation.DropField) po.Remove(name); else po[name] = replacement;
                }
                else if (parent is JsonArray pa)
                {
                    var i = target.GetElementIndex();
                    if (m == Mutation.DropField) pa.RemoveAt(i); else pa[i] = replacement;
                }
                return Encoding.UTF8.GetBytes(root.ToJsonString());
            }
        }
    }

    private static void Walk(JsonNode node, List<JsonNode> into)
    {
        if (node.Parent is not null) into.Add(node);
        switch (node)
        {
            case JsonObject o: foreach (var kv in o) if (kv.Value is not null) Walk(kv.Value, into); break;
            case JsonArray a: foreach (var v in a) if (v is not null) Walk(v, into); break;
        }
    }
}
