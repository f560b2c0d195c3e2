using System.Text.Json;

namespace StreamingEvents.Cli.Tail;

/// <summary>
/// What the tool reads from an event's envelope (the <c>data</c> of an SSE record): its number, topic, time, type,
/// task and attributes. The envelope's JSON text itself is printed as received by <c>--json</c>.
/// </summary>
internal sealed record Envelope(long BrokerSequence, string? Stream, string? Timestamp, string? EventType, string? TaskId, JsonElement Attributes)
{
    public static readonly IReadOnlySet<string> TerminalTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "CUSTOM_TASK_COMPLETED", "CUSTOM_TASK_FAILED", "CUSTOM_TASK_CANCELED", "CUSTOM_TASK_TIMED_OUT",
    };

    /// <summary>The events that end a whole execution: the tail ends with them.</summary>
    public static readonly IReadOnlySet<string> ExecutionEndTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "WORKFLOW_EXECUTION_COMPLETED", "WORKFLOW_EXECUTION_FAILED", "WORKFLOW_EXECUTION_CANCELED",
    };

    public bool IsTerminal => EventType is not null && TerminalTypes.Contains(EventType);

    /// <summary>The execution's own terminal event: nothing is published after it.</summary>
    public bool EndsExecution => EventType is not null && ExecutionEndTypes.Contains(EventType);

    /// <summary>Reads an envelope; a JSON that is not one (no integer <c>broker_sequence</c>) is a <see cref="FormatException"/>.</summary>
    public static Envelope Parse(string json)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
            root = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new FormatException($"The event is not valid JSON: {exception.Message}", exception);
        }

        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("broker_sequence", out var sequence) || sequence.ValueKind != JsonValueKind.Number || !sequence.TryGetInt64(out var brokerSequence))
        {
            throw new FormatException("The event has no integer 'broker_sequence'.");
        }

        var data = root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
        var attributes = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        return new Envelope(
            brokerSequence,
            JsonRead.String(root, "stream"),
            JsonRead.String(root, "timestamp"),
            JsonRead.String(data, "event_type"),
            JsonRead.String(attributes, "custom_task_id"),
            attributes);
    }
}
