using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// Reads JSON request bodies by hand, so that every refusal names the member at fault (the framework's binder only
/// says the body could not be read).
/// </summary>
internal static class RequestJson
{
    private static readonly JsonSerializerOptions Writer = new() { MaxDepth = StreamingLimits.MaxEnvelopeDepth };

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = StreamingLimits.MaxEnvelopeDepth, AllowDuplicateProperties = false };

    /// <summary>The body as a JSON object; an absent body is an empty object when <paramref name="optional"/>.</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, bool optional = false)
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            return optional ? [] : throw ApiProblemException.BadRequest("body", "A JSON object body is required.");
        }

        if (!request.HasJsonContentType())
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"The body must be application/json, not '{request.ContentType ?? "(none)"}'.", "Content-Type");
        }

        // Read whole first (Kestrel bounds the size), so the text can be checked before anything is parsed: valid
        // UTF-8 and no escape that is not Unicode text, which the parser would otherwise replace or throw on later.
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        var json = body.GetBuffer().AsMemory(0, (int)body.Length);
        IdempotencyKeys.RecordBody(request.HttpContext, json.Span);
        JsonNode? node;
        try
        {
            JsonPayloads.Validate(json.Span, "body", maxDepth: StreamingLimits.MaxEnvelopeDepth);
            node = JsonNode.Parse(json.Span, documentOptions: Options);
        }
        catch (InvalidPayloadException exception)
        {
            throw ApiProblemException.BadRequest("body", exception.Message);
        }
        catch (JsonException exception)
        {
            throw ApiProblemException.BadRequest("body", $"The body is not valid JSON: {exception.Message}");
        }

        return node as JsonObject ?? throw ApiProblemException.BadRequest("body", "The body must be a JSON object.");
    }

    public static string? OptionalString(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw ApiProblemException.BadRequest(name, $"'{name}' must be a string."),
    };

    public static string RequiredString(JsonObject body, string name) =>
        OptionalString(body, name) ?? throw ApiProblemException.BadRequest(name, $"'{name}' is required.");

    public static JsonObject? OptionalObject(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonObject value => value,
        _ => throw ApiProblemException.BadRequest(name, $"'{name}' must be a JSON object."),
    };

    public static int? OptionalInt(JsonObject body, string name, int min, int max)
    {
        if (body[name] is null)
        {
            return null;
        }

        if (body[name] is JsonValue value && value.TryGetValue<int>(out var number) && number >= min && number <= max)
        {
            return number;
        }

        throw ApiProblemException.BadRequest(name, $"'{name}' must be an integer from {min} to {max}.");
    }

    /// <summary>A member's JSON value as compact UTF-8, whatever its kind; <c>null</c> when the member is absent.</summary>
    public static byte[]? OptionalValue(JsonObject body, string name) =>
        body.TryGetPropertyValue(name, out var value) ? ToUtf8(value) : null;

    /// <summary>
    /// A node as compact UTF-8, as deep as the body may be: a member nested deeper than a payload may be is refused by
    /// the service with a message that says so, not by the writer here.
    /// </summary>
    public static byte[] ToUtf8(JsonNode? node) => JsonSerializer.SerializeToUtf8Bytes(node, Writer);
}
