using System.Text;
using System.Text.Json;
using EcsReflex.Core.Events;
using EcsReflex.Core.Policy;

namespace EcsReflex.Core.Tests;

/// <summary>The shared reading of file bytes: a byte order mark is skipped, a syntax error is placed at its 1-based line and column.</summary>
public class JsonTextTests
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static byte[] WithBom(string text) => [.. Bom, .. Encoding.UTF8.GetBytes(text)];

    private static JsonSyntaxError SyntaxOf(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ex = Assert.ThrowsAny<JsonException>(() =>
        {
            var r = new Utf8JsonReader(bytes);
            while (r.Read()) { }
        });
        return JsonText.Describe(ex, bytes) ?? throw new InvalidOperationException("no position");
    }

    // Line 6 lacks the comma after "a": the error is found at the start of line 6's name.
    private const string MissingCommaOnLine6 = "{\n  \"clusters\": [\n    {\n      \"cluster\": \"prod\",\n      \"limits\": {}\n      \"reschedule\": []\n    }\n  ]\n}\n";

    [Fact]
    public void Describe_MissingComma_IsOnTheLineOfTheTokenFound_1Based_WithTheTokenAndTheLine()
    {
        var e = SyntaxOf(MissingCommaOnLine6);
        Assert.Equal(6, e.Line);
        Assert.Equal(7, e.Column);
        Assert.Contains("',' is missing", e.Problem);
        Assert.Equal("'\"reschedule\"'", e.Found);
        Assert.Contains("\"reschedule\": []", e.Excerpt);
        Assert.Equal($"f.json:6:7: not valid JSON: {e.Problem}; found '\"reschedule\"' in: \"reschedule\": []", e.At("f.json"));
    }

    [Theory]
    [InlineData("{\"a\": 'x'}", 1, 7, "double quotes")]
    [InlineData("{\"a\" 1}", 1, 6, "':' is missing")]
    [InlineData("{\"a\": 1,}", 1, 9, "trailing comma")]
    [InlineData("{\"a\": tru}", 1, 7, "bare words")]
    [InlineData("{\"a\":\n  {\"b\": 1}", 2, 11, "ends before")]
    [InlineData("{\"é\": 1 \"b\": 2}", 1, 9, "',' is missing")]
    public void Describe_SaysWhatIsWrongInItsOwnWords_AtTheCharacterColumn(string text, int line, int column, string problemPart)
    {
        var e = SyntaxOf(text);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(problemPart, e.Problem);
        Assert.DoesNotContain("BytePositionInLine", e.Message);
    }

    [Fact]
    public void WithoutBom_SkipsOnlyALeadingByteOrderMark()
    {
        Assert.Equal("{}"u8.ToArray(), JsonText.WithoutBom(WithBom("{}")).ToArray());
        Assert.Equal("{}"u8.ToArray(), JsonText.WithoutBom("{}"u8).ToArray());
        byte[] inside = [(byte)' ', .. Bom];
        Assert.Equal(inside, JsonText.WithoutBom(inside).ToArray());
    }

    [Fact]
    public void PolicyLoader_AcceptsAByteOrderMark()
    {
        var (policy, errors) = PolicyLoader.TryLoad(WithBom("""{"clusters":[{"cluster":"prod"}]}"""));
        Assert.Empty(errors);
        Assert.Equal("prod", Assert.Single(policy!.Clusters).Cluster);
    }

    [Fact]
    public void PolicyLoader_SyntaxError_CarriesItsLineAndColumn()
    {
        var (_, errors) = PolicyLoader.TryLoad(WithBom(MissingCommaOnLine6));
        var error = Assert.Single(errors);
        Assert.Equal((6, 7), (error.Syntax!.Line, error.Syntax.Column));
        Assert.StartsWith("line 6, column 7: not valid JSON: ", error.Message);
    }

    [Fact]
    public void EventParser_AcceptsAByteOrderMark()
    {
        var e = EventParser.Parse((ReadOnlyMemory<byte>)WithBom(Encoding.UTF8.GetString(Repository.Event("ecs-task-stopped-essential-exit-1.json"))));
        Assert.Equal("ECS Task State Change", e.DetailType);
    }

    [Fact]
    public void EventParser_SyntaxError_IsInvalidJsonWithItsPosition()
    {
        var ex = Assert.Throws<EventRejectedException>(() => EventParser.Parse("{\"id\": \"1\",\n \"source\": \"aws.ecs\"\n \"detail-type\": \"x\"}"));
        Assert.Equal(RejectionKind.InvalidJson, ex.Kind);
        Assert.Equal((3, 2), (ex.Syntax!.Line, ex.Syntax.Column));
        Assert.StartsWith("not valid JSON: a ',' is missing", ex.Reason);
        Assert.EndsWith("(line 3, column 2)", ex.Reason);
    }
}
