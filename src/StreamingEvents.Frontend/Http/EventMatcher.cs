using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamingEvents.Frontend.Http;

/// <summary>
/// The per-event filters of a stream request: scope, activity, event types and metadata. The topic filter is applied
/// by the subscription itself. Metadata belongs to a task, so its verdict is cached per task.
/// </summary>
internal sealed class EventMatcher(EventStreamQuery query)
{
    private readonly Dictionary<string, bool> _metadataByTask = new(StringComparer.Ordinal);

    public bool Matches(StreamEvent streamEvent) =>
        (query.Scope is null || streamEvent.Scope == query.Scope)
        && (query.ActivityName is null || streamEvent.ActivityName == query.ActivityName)
        && (query.ActivityId is null || streamEvent.ActivityId == query.ActivityId)
        && (query.EventTypes is null || query.EventTypes.Contains(streamEvent.EventType))
        && (query.MetadataFilters is null || MetadataMatches(streamEvent));

    /// <summary>JSON filters compare as JSON; exploded ones (query text) compare with the value's text.</summary>
    private bool Equal(JsonElement value, JsonNode? filter) => query.MetadataAsText
        ? (value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()) == filter?.GetValue<string>()
        : JsonNode.DeepEquals(JsonNode.Parse(value.GetRawText(), documentOptions: JsonDefaults.Envelope), filter);

    private bool MetadataMatches(StreamEvent streamEvent)
    {
        if (!_metadataByTask.TryGetValue(streamEvent.TaskId, out var matches))
        {
            using var envelope = JsonDocument.Parse(streamEvent.Json, JsonDefaults.Envelope);
            matches = envelope.RootElement.TryGetProperty("metadata", out var metadata)
                && metadata.ValueKind == JsonValueKind.Object
                && query.MetadataFilters!.All(filter => metadata.TryGetProperty(filter.Key, out var value) && Equal(value, filter.Value));
            _metadataByTask[streamEvent.TaskId] = matches;
        }

        return matches;
    }
}
