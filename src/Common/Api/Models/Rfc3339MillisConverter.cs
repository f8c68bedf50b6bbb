using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dragonfly.Common.Api.Models;

/// <summary>
/// Writes a <see cref="DateTimeOffset"/> as RFC 3339 UTC with milliseconds (<c>2026-11-21T05:13:17.795Z</c>),
/// the format of the original's <c>date-time</c> fields; reads any RFC 3339 / ISO 8601 value.
/// </summary>
public sealed class Rfc3339MillisConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is null ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new JsonException($"'{text}' is not an RFC 3339 date-time.");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
    }
}
