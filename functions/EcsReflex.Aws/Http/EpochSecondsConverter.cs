using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EcsReflex.Aws.Http;

/// <summary>
/// AWS JSON timestamps: seconds since the epoch as a number, with a fraction (<c>1700000000.123</c>).
/// An ISO 8601 string is accepted too (some services and the CLI print those).
/// </summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                var seconds = reader.GetDouble();
                if (double.IsNaN(seconds) || seconds < -62135596800 || seconds > 253402300799)
                    throw new JsonException($"{seconds} is not a timestamp in seconds since the epoch");
                return DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
            case JsonTokenType.String:
                if (DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                    return parsed.ToUniversalTime();
                throw new JsonException($"\"{reader.GetString()}\" is not a timestamp");
            default:
                throw new JsonException($"expected a timestamp (seconds since the epoch), got {reader.TokenType}");
        }
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(Math.Round((value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond, 3));
}
