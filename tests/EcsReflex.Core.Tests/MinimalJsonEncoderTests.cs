using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EcsReflex.Core.Tests;

public class MinimalJsonEncoderTests
{
    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, MinimalJsonEncoder.WriterOptions)) write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("desired 4 → 5")]
    [InlineData("+17.5")]
    [InlineData("it's")]
    [InlineData("<web> & `x`")]
    [InlineData("café 😀 中文")]
    [InlineData("\u2028 and \u007F")]
    public void TextJsonDoesNotRequireEscaping_IsWrittenAsIs(string text)
    {
        Assert.Equal($"\"{text}\"", Write(w => w.WriteStringValue(text)));
        Assert.Equal($"\"{text}\"", Write(w => w.WriteStringValue(Encoding.UTF8.GetBytes(text))));
    }

    [Theory]
    [InlineData("a\"b", "a\\\"b")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("a\nb\tc\r", "a\\nb\\tc\\r")]
    [InlineData("\u0001 → \u001F", "\\u0001 → \\u001f")]
    public void WhatJsonRequires_IsEscaped(string text, string expected)
    {
        Assert.Equal($"\"{expected}\"", Write(w => w.WriteStringValue(text)));
        Assert.Equal($"\"{expected}\"", Write(w => w.WriteStringValue(Encoding.UTF8.GetBytes(text))));
    }

    [Fact]
    public void ALoneSurrogate_IsWrittenAsTheReplacementCharacter_SoTheLineStaysValidUtf8()
    {
        var json = Write(w => w.WriteStringValue("a\uD800b → c"));
        Assert.Equal("\"a\uFFFDb → c\"", json);
    }

    [Fact]
    public void PropertyNamesAndSerializedValues_UseItToo_AndRoundTrip()
    {
        var value = new Dictionary<string, string> { ["step +1 →"] = "it's <ok>" };
        var json = Write(w => JsonSerializer.Serialize(w, value, TestJson.Default.DictionaryStringString));
        Assert.Equal("{\"step +1 →\":\"it's <ok>\"}", json);
        Assert.Equal(value, JsonSerializer.Deserialize(json, TestJson.Default.DictionaryStringString));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
