using System.Text.Json;
using System.Text.Unicode;

namespace StreamingEvents;

/// <summary>
/// Checks that bytes are exactly one well-formed JSON value that is also Unicode text: valid UTF-8, and no escaped
/// string or member name that decodes to a lone surrogate (<c>"\ud800"</c> is JSON syntax but no text). Nothing that
/// fails here is ever numbered, so no reader of a stream can trip over it later.
/// </summary>
public static class JsonPayloads
{
    /// <summary>Throws <see cref="InvalidPayloadException"/> unless <paramref name="json"/> is one valid JSON value.</summary>
    /// <param name="json">The UTF-8 bytes.</param>
    /// <param name="what">What the bytes are, for the message (e.g. <c>state</c>).</param>
    /// <param name="requiredKind">The kind the value must be, if any.</param>
    /// <param name="maxDepth">The deepest nesting accepted.</param>
    public static void Validate(ReadOnlySpan<byte> json, string what, JsonValueKind? requiredKind = null, int maxDepth = StreamingLimits.MaxJsonDepth)
    {
        if (json.IsEmpty)
        {
            throw new InvalidPayloadException($"The {what} is empty; it must be one JSON value.");
        }

        if (!Utf8.IsValid(json))
        {
            throw new InvalidPayloadException($"The {what} is not valid UTF-8.");
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            if (!reader.Read())
            {
                throw new InvalidPayloadException($"The {what} holds no JSON value.");
            }

            var kind = KindOf(reader.TokenType);
            if (requiredKind is { } required && kind != required)
            {
                throw new InvalidPayloadException($"The {what} must be a JSON {required.ToString().ToLowerInvariant()}, not {kind.ToString().ToLowerInvariant()}.");
            }

            CheckToken(ref reader, what);
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                while (reader.Read() && (reader.CurrentDepth > 0 || reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray)))
                {
                    CheckToken(ref reader, what);
                }
            }

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

    private static void CheckToken(ref Utf8JsonReader reader, string what)
    {
        if (!reader.ValueIsEscaped || reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
        {
            return;
        }

        try
        {
            _ = reader.GetString();
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidPayloadException(
                $"The {what} holds a string escape that is not Unicode text (a lone surrogate) at byte {reader.TokenStartIndex}.", exception);
        }
    }

    private static JsonValueKind KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        _ => JsonValueKind.Null,
    };
}
