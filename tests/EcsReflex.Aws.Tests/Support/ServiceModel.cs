using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EcsReflex.Aws.Tests.Support;

/// <summary>
/// An official AWS service model (<c>apis/*.min.json</c> of the aws-sdk v2 npm package) and a validator of request
/// bodies against an operation's input shape: no unknown member, no missing required member, the right JSON type
/// at every depth (structures, lists, maps, scalars). Every problem names the operation and the JSON path.
/// </summary>
public sealed class ServiceModel
{
    private readonly JsonElement _root;
    private readonly JsonElement _shapes;

    private ServiceModel(JsonElement root)
    {
        _root = root;
        _shapes = root.GetProperty("shapes");
    }

    public static ServiceModel Load(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(RepoPaths.ServiceModel(file)));
        return new ServiceModel(doc.RootElement.Clone());
    }

    public string Protocol => _root.GetProperty("metadata").GetProperty("protocol").GetString()!;
    public string Metadata(string name) => _root.GetProperty("metadata").GetProperty(name).GetString()!;

    public bool HasOperation(string operation) => _root.GetProperty("operations").TryGetProperty(operation, out _);

    public JsonElement Input(string operation) => Resolve(_root.GetProperty("operations").GetProperty(operation).GetProperty("input"));

    public JsonElement Output(string operation) => Resolve(_root.GetProperty("operations").GetProperty(operation).GetProperty("output"));

    /// <summary>A member or shape reference with its <c>shape</c> looked up; a node without a type is a string.</summary>
    public JsonElement Resolve(JsonElement node) =>
        node.TryGetProperty("shape", out var name) ? _shapes.GetProperty(name.GetString()!) : node;

    public static string TypeOf(JsonElement shape) => shape.TryGetProperty("type", out var t) ? t.GetString()! : "string";

    public IReadOnlyList<string> Validate(string operation, JsonNode? body)
    {
        var problems = new List<string>();
        Check(Input(operation), body, "$", problems, jsonTimestamps: Protocol == "json");
        return problems.Select(p => $"{operation} {p}").ToList();
    }

    public IReadOnlyList<string> Validate(string operation, string json) => Validate(operation, JsonNode.Parse(json));

    private void Check(JsonElement shape, JsonNode? value, string path, List<string> problems, bool jsonTimestamps)
    {
        var type = TypeOf(shape);
        if (value is null)
        {
            problems.Add($"{path}: null is not a {type}: omit the member instead");
            return;
        }
        switch (type)
        {
            case "structure":
                if (value is not JsonObject obj)
                {
                    problems.Add($"{path}: expected a structure (JSON object), got {Kind(value)}");
                    return;
                }
                var members = shape.GetProperty("members");
                foreach (var (name, child) in obj)
                {
                    if (!members.TryGetProperty(name, out var member))
                    {
                        problems.Add($"{path}.{name}: unknown member (the model's members: {string.Join(", ", members.EnumerateObject().Select(m => m.Name))})");
                        continue;
                    }
                    Check(Resolve(member), child, $"{path}.{name}", problems, jsonTimestamps);
                }
                if (shape.TryGetProperty("required", out var required))
                    foreach (var r in required.EnumerateArray().Select(r => r.GetString()!))
                        if (!obj.ContainsKey(r)) problems.Add($"{path}.{r}: required member missing");
                return;
            case "list":
                if (value is not JsonArray array)
                {
                    problems.Add($"{path}: expected a list (JSON array), got {Kind(value)}");
                    return;
                }
                var item = Resolve(shape.GetProperty("member"));
                for (var i = 0; i < array.Count; i++) Check(item, array[i], $"{path}[{i}]", problems, jsonTimestamps);
                return;
            case "map":
                if (value is not JsonObject map)
                {
                    problems.Add($"{path}: expected a map (JSON object), got {Kind(value)}");
                    return;
                }
                var valueShape = Resolve(shape.GetProperty("value"));
                foreach (var (key, child) in map) Check(valueShape, child, $"{path}[\"{key}\"]", problems, jsonTimestamps);
                return;
            case "string" or "blob":
                if (!IsKind(value, JsonValueKind.String)) problems.Add($"{path}: expected a string, got {Kind(value)}");
                return;
            case "boolean":
                if (!IsKind(value, JsonValueKind.True) && !IsKind(value, JsonValueKind.False)) problems.Add($"{path}: expected a boolean, got {Kind(value)}");
                return;
            case "integer" or "long":
                if (!IsKind(value, JsonValueKind.Number) || !long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    problems.Add($"{path}: expected an integer, got {value.ToJsonString()}");
                return;
            case "double" or "float":
                if (!IsKind(value, JsonValueKind.Number)) problems.Add($"{path}: expected a number, got {Kind(value)}");
                return;
            case "timestamp":
                if (jsonTimestamps ? !IsKind(value, JsonValueKind.Number) : !IsKind(value, JsonValueKind.String))
                    problems.Add($"{path}: expected a timestamp ({(jsonTimestamps ? "epoch seconds" : "ISO 8601 string")}), got {Kind(value)}");
                return;
            default:
                problems.Add($"{path}: the model has type {type}, which this validator does not know");
                return;
        }
    }

    private static bool IsKind(JsonNode node, JsonValueKind kind) => node.GetValueKind() == kind;
    private static string Kind(JsonNode node) => node.GetValueKind().ToString().ToLowerInvariant();

    /// <summary>
    /// Rebuilds the structure an AWS Query request's parameters stand for (<c>A.member.1</c> → list, <c>A.B</c> →
    /// member), typed by the model, so that <see cref="Validate(string, JsonNode?)"/> can check it. Parameters that name no
    /// member are problems.
    /// </summary>
    public JsonObject FromQuery(string operation, IReadOnlyDictionary<string, string> form, List<string> problems)
    {
        var root = new JsonObject();
        foreach (var (key, raw) in form)
        {
            if (key is "Action" or "Version") continue;
            var segments = key.Split('.');
            JsonNode container = root;
            var shape = Input(operation);
            for (var i = 0; i < segments.Length; i++)
            {
                var last = i == segments.Length - 1;
                switch (TypeOf(shape))
                {
                    case "structure" when container is JsonObject obj:
                        if (!shape.GetProperty("members").TryGetProperty(segments[i], out var member))
                        {
                            problems.Add($"{operation} {key}: unknown member {segments[i]}");
                            goto next;
                        }
                        shape = Resolve(member);
                        if (last)
                        {
                            obj[segments[i]] = Scalar(shape, raw);
                            goto next;
                        }
                        container = obj[segments[i]] ??= TypeOf(shape) == "list" ? new JsonArray() : new JsonObject();
                        break;
                    case "list" when container is JsonArray array && segments[i] == "member" && i + 1 < segments.Length
                                                                  && int.TryParse(segments[i + 1], out var n) && n >= 1:
                        shape = Resolve(shape.GetProperty("member"));
                        while (array.Count < n) array.Add(null);
                        i++;
                        if (i == segments.Length - 1)
                        {
                            array[n - 1] = Scalar(shape, raw);
                            goto next;
                        }
                        container = array[n - 1] ??= TypeOf(shape) == "list" ? new JsonArray() : new JsonObject();
                        break;
                    default:
                        problems.Add($"{operation} {key}: segment {segments[i]} does not fit the model's {TypeOf(shape)}");
                        goto next;
                }
            }
        next: ;
        }
        return root;
    }

    private static JsonNode? Scalar(JsonElement shape, string raw) => TypeOf(shape) switch
    {
        "integer" or "long" => long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? JsonValue.Create(l) : JsonValue.Create(raw),
        "double" or "float" => double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : JsonValue.Create(raw),
        "boolean" => raw switch { "true" => JsonValue.Create(true), "false" => JsonValue.Create(false), _ => JsonValue.Create(raw) },
        _ => JsonValue.Create(raw),
    };
}
