using System.Text.Json;
using StreamingEvents.Wire;

namespace StreamingEvents;

/// <summary>
/// One delivered event: its position and routing facts, plus the exact UTF-8 JSON envelope (<see cref="Json"/>) that the
/// HTTP frontend sends as an SSE record's <c>data</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.StreamEvent")]
public sealed class StreamEvent
{
    /// <summary>Creates an event; the service does this, consumers receive them.</summary>
    public StreamEvent(long brokerSequence, string stream, string taskId, EventType eventType, long timestampUnixNanoseconds, ReadOnlyMemory<byte> json,
        string? activityName = null, string? activityId = null, Contracts.PayloadEncoding encoding = Contracts.PayloadEncoding.None)
    {
        Encoding = encoding;
        ActivityName = activityName;
        ActivityId = activityId;
        BrokerSequence = brokerSequence;
        Stream = stream;
        TaskId = taskId;
        EventType = eventType;
        TimestampUnixNanoseconds = timestampUnixNanoseconds;
        Json = json;
    }

    /// <summary>The event's position in its execution: contiguous, ascending and never reused.</summary>
    [Id(0)]
    public long BrokerSequence { get; }

    /// <summary>The topic (task type), e.g. <c>token</c>.</summary>
    [Id(1)]
    public string Stream { get; }

    /// <summary>The task that published the event.</summary>
    [Id(2)]
    public string TaskId { get; }

    /// <summary>The event type.</summary>
    [Id(3)]
    public EventType EventType { get; }

    /// <summary>When the event was numbered, in nanoseconds since the Unix epoch.</summary>
    [Id(4)]
    public long TimestampUnixNanoseconds { get; }

    /// <summary>
    /// The envelope as UTF-8 JSON, exactly as sent over SSE. An event received from the service shares one buffer with
    /// the others of its page or batch: copy it (<c>ToArray()</c>) to keep it long after its neighbours.
    /// </summary>
    [Id(5)]
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>The activity that published the task, or <c>null</c> for a task published by the workflow itself.</summary>
    [Id(6)]
    public string? ActivityName { get; }

    /// <summary>The activity id that published the task, if any.</summary>
    [Id(7)]
    public string? ActivityId { get; }

    /// <summary>How the event's payload is expressed: a whole state, patch operations, or none (failed, canceled, ...).</summary>
    [Id(8)]
    public Contracts.PayloadEncoding Encoding { get; }

    /// <summary>A copy with another envelope (and payload encoding), e.g. a patch rewritten as the whole state.</summary>
    public StreamEvent WithJson(ReadOnlyMemory<byte> json, Contracts.PayloadEncoding encoding) =>
        new(BrokerSequence, Stream, TaskId, EventType, TimestampUnixNanoseconds, json, ActivityName, ActivityId, encoding);

    /// <summary>Where the task was published from: <c>activity</c> or <c>workflow</c>.</summary>
    public string Scope => ActivityName is null && ActivityId is null ? "workflow" : "activity";

    /// <summary>When the event was numbered.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch.AddTicks(TimestampUnixNanoseconds / 100);

    /// <summary>Whether this event ends its task.</summary>
    public bool IsTerminal => EventType.IsTerminal();

    /// <summary>The envelope JSON as a string.</summary>
    public string JsonText => System.Text.Encoding.UTF8.GetString(Json.Span);

    /// <summary>Parses the whole envelope.</summary>
    public EventEnvelope ToEnvelope() =>
        JsonSerializer.Deserialize(Json.Span, WireJsonContext.Default.EventEnvelope)
        ?? throw new InvalidOperationException("The event JSON is null.");

    /// <summary>Parses the custom-task attributes.</summary>
    public CustomTaskAttributes GetTaskAttributes() =>
        ToEnvelope().Data.Attributes.Deserialize(WireJsonContext.Default.CustomTaskAttributes)
        ?? throw new InvalidOperationException("The event has no attributes.");

    /// <summary>
    /// The task state carried by a started, in-progress or completed event with a whole-state (<c>json</c>) payload.
    /// </summary>
    /// <exception cref="InvalidOperationException">The event carries no payload, or a <c>json_patch</c> one.</exception>
    public T? GetState<T>(JsonSerializerOptions? options = null)
    {
        var payload = GetTaskAttributes().Payload
            ?? throw new InvalidOperationException($"A {EventType.ToWireName()} event carries no state.");
        if (payload.Type != "json")
        {
            throw new InvalidOperationException($"The payload is '{payload.Type}', not a whole state; apply it to the previous state.");
        }

        return payload.Value.Deserialize<T>(options ?? JsonDefaults.State);
    }

    /// <inheritdoc/>
    public override string ToString() => $"#{BrokerSequence} {Stream} {EventType.ToWireName()} task={TaskId}";
}

/// <summary>
/// Committed events pushed to live subscribers in one message. <see cref="Through"/> is the highest sequence the batch
/// stands for: events too large for a push message are left out, and a subscriber that has not received everything up
/// to <see cref="Through"/> reads the rest from storage. Crosses the wire packed (<see cref="PackedEvents"/>).
/// </summary>
[Immutable]
public sealed record StreamEventBatch(StreamEvent[] Events, long Through)
{
    /// <summary>A batch that carries all of <paramref name="events"/>.</summary>
    public StreamEventBatch(StreamEvent[] events)
        : this(events, events.Length == 0 ? 0 : events[^1].BrokerSequence)
    {
    }
}
