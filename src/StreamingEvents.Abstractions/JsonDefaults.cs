using System.Text.Json;

namespace StreamingEvents;

/// <summary>Shared System.Text.Json settings.</summary>
public static class JsonDefaults
{
    /// <summary>
    /// How typed task state is written and read unless the client is configured otherwise: web defaults with snake_case
    /// property names, matching the Python SDK's dictionaries (<c>progress_idx</c>, <c>tokens</c>).
    /// </summary>
    public static JsonSerializerOptions State { get; } = CreateStateOptions();

    /// <summary>How whole envelopes (and request bodies) are parsed: deep enough for any accepted payload inside them.</summary>
    public static JsonDocumentOptions Envelope { get; } = new() { MaxDepth = StreamingLimits.MaxEnvelopeDepth };

    private static JsonSerializerOptions CreateStateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            MaxDepth = StreamingLimits.MaxJsonDepth,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
