using System.Text.Json;
using System.Text.Unicode;

namespace StreamingEvents;

/// <summary>Checks that payload bytes are exactly one well-formed JSON value, so nothing malformed is ever numbered.</summary>
internal static class JsonPayloads
{
    /// <summary>Throws <see cref="InvalidPayloadException"/> unless <paramref name="json"/> is one valid JSON value.</summary>
    public static void Validate(ReadOnlySpan<byte> json, string what, JsonValueKind? requiredKind = null)
    {
        if (json.IsEmpty)
        {
            throw new InvalidPayloadException($"The {what} is empty; it must be one JSON value.");
        }

        if (!Utf8.IsValid(json))
        {
            throw new InvalidPayloadException($"The {what} is not valid UTF-8.");
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = StreamingLimits.MaxJsonDepth });
        try
        {
            if (!reader.Read())
            {
                throw new InvalidPayloadException($"The {what} holds no JSON value.");
            }

            var kind = reader.TokenType switch
            {
                JsonTokenType.StartObject => JsonValueKind.Object,
                JsonTokenType.StartArray => JsonValueKind.Array,
                JsonTokenType.String => JsonValueKind.String,
                JsonTokenType.Number => JsonValueKind.Number,
                JsonTokenType.True => JsonValueKind.True,
                JsonTokenType.False => JsonValueKind.False,
                _ => JsonValueKind.Null,
            };
            if (requiredKind is { } required && kind != required)
            {
                throw new InvalidPayloadException($"The {what} must be a JSON {required.ToString().ToLowerInvariant()}, not {kind.ToString().ToLowerInvariant()}.");
            }

            reader.Skip();
            if (reader.Read())
            {
                throw new InvalidPayloadException($"The {what} holds more than one JSON value.");
            }
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException($"The {what} is not valid JSON: {exception.Message}", exception);
        }
    }
}
