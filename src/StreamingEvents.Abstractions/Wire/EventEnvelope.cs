using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamingEvents.Wire;

/// <summary>
/// The JSON envelope of one event, as sent over SSE and compatible with Mistral's Workflows events API
/// (see <c>spec/wire-format.md</c>). Used to read events; the service writes them with its own renderer.
/// </summary>
public sealed record EventEnvelope
{
    /// <summary>The topic (task type), e.g. <c>token</c>.</summary>
    public required string Stream { get; init; }

    /// <summary>The position in the execution's stream: contiguous, ascending, never reused.</summary>
    public required long BrokerSequence { get; init; }

    /// <summary>When the event was numbered (ISO-8601 on the wire).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The event itself.</summary>
    public required WorkflowEventData Data { get; init; }

    /// <summary>The execution the event belongs to.</summary>
    public required EnvelopeWorkflowContext WorkflowContext { get; init; }

    /// <summary>Optional metadata given when the task was started.</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>The <c>data</c> member of an envelope; every key is always present, nullable ones as <c>null</c>.</summary>
public sealed record WorkflowEventData
{
    /// <summary>Unique id of the event.</summary>
    public required string EventId { get; init; }

    /// <summary>Nanoseconds (or milliseconds, if the server is configured so) since the Unix epoch.</summary>
    public required long EventTimestamp { get; init; }

    /// <summary>The root execution.</summary>
    public required string RootWorkflowExecId { get; init; }

    /// <summary>The parent execution, if any.</summary>
    public string? ParentWorkflowExecId { get; init; }

    /// <summary>Always <c>null</c> for custom-task events.</summary>
    public string? ContinuedRunId { get; init; }

    /// <summary>Always <c>null</c> for custom-task events.</summary>
    public string? FirstExecutionRunId { get; init; }

    /// <summary>Always <c>null</c> for custom-task events.</summary>
    public string? ScheduleId { get; init; }

    /// <summary>The execution id.</summary>
    public required string WorkflowExecId { get; init; }

    /// <summary>The run id.</summary>
    public required string WorkflowRunId { get; init; }

    /// <summary>The workflow name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The wire event type, e.g. <c>CUSTOM_TASK_IN_PROGRESS</c>.</summary>
    public required string EventType { get; init; }

    /// <summary>Per-type attributes; for custom tasks see <see cref="CustomTaskAttributes"/>.</summary>
    public required JsonElement Attributes { get; init; }
}

/// <summary>The <c>workflow_context</c> member of an envelope.</summary>
public sealed record EnvelopeWorkflowContext
{
    /// <summary>The namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The workflow name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The execution id.</summary>
    public required string WorkflowExecId { get; init; }

    /// <summary>The parent execution, if any.</summary>
    public string? ParentWorkflowExecId { get; init; }

    /// <summary>The root execution.</summary>
    public string? RootWorkflowExecId { get; init; }
}

/// <summary>The attributes of a <c>CUSTOM_TASK_*</c> event.</summary>
public sealed record CustomTaskAttributes
{
    /// <summary>The task id.</summary>
    public required string CustomTaskId { get; init; }

    /// <summary>The task type, equal to the envelope's <c>stream</c>.</summary>
    public required string CustomTaskType { get; init; }

    /// <summary>The state (started, in progress, completed).</summary>
    public TaskPayload? Payload { get; init; }

    /// <summary>Why the task failed (failed).</summary>
    public TaskFailure? Failure { get; init; }

    /// <summary>Which timeout expired (timed out).</summary>
    public string? TimeoutType { get; init; }

    /// <summary>Why the task was canceled (canceled).</summary>
    public string? Reason { get; init; }
}

/// <summary>A task payload: a whole JSON state (<c>json</c>) or a list of patch operations (<c>json_patch</c>).</summary>
public sealed record TaskPayload
{
    /// <summary><c>json</c> for a whole state, <c>json_patch</c> for a list of operations.</summary>
    public required string Type { get; init; }

    /// <summary>The state, or the operations.</summary>
    public required JsonElement Value { get; init; }

    /// <summary>Optional encodings (<c>offloaded</c>, <c>encrypted</c>, <c>encrypted-partial</c>, <c>compressed</c>).</summary>
    public IReadOnlyList<string>? EncodingOptions { get; init; }
}

/// <summary>The failure of a failed task.</summary>
public sealed record TaskFailure
{
    /// <summary>The failure message.</summary>
    public required string Message { get; init; }
}

/// <summary>Source-generated System.Text.Json metadata for the wire model (snake_case names).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = StreamingLimits.MaxEnvelopeDepth)]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(CustomTaskAttributes))]
public sealed partial class WireJsonContext : JsonSerializerContext;
