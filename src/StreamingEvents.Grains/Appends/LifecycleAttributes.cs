using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using StreamingEvents.Contracts;

namespace StreamingEvents.Appends;

/// <summary>
/// The stored body of a lifecycle event (<c>WORKFLOW_EXECUTION_*</c>, <c>ACTIVITY_TASK_*</c>): the JSON object of its
/// attributes after the task's own (<c>task_id</c>, and an activity's <c>activity_name</c>, which the renderer's template
/// writes), shaped as Mistral's models are (<see cref="EventTypeInfo.Shape"/>). Built once when the event is planned, so
/// that rendering copies it and storage round-trips it unchanged.
/// </summary>
internal static class LifecycleAttributes
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The attributes of <paramref name="draft"/>; <paramref name="workflowName"/> for <c>WORKFLOW_EXECUTION_STARTED</c>.</summary>
    public static byte[] Encode(TaskEventDraft draft, string workflowName) =>
        Encode(draft.Type.Info(), draft.Payload.Span, draft.Text, draft.Attempt, workflowName);

    /// <summary>The attributes of an event of type <paramref name="info"/>.</summary>
    public static byte[] Encode(EventTypeInfo info, ReadOnlySpan<byte> payload, string? text, int attempt, string workflowName)
    {
        var buffer = new ArrayBufferWriter<byte>(payload.Length + 128);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            switch (info.Shape)
            {
                case AttributeShape.Input:
                    if (info.Kind == TaskKind.Workflow)
                    {
                        writer.WriteString("workflow_name", workflowName);
                        WriteText(writer, "display_name", text);
                    }

                    WritePayload(writer, "input", payload);
                    break;
                case AttributeShape.Result:
                    WritePayload(writer, "result", payload);
                    break;
                case AttributeShape.Failure:
                    WriteFailure(writer, text);
                    break;
                case AttributeShape.Reason:
                    WriteText(writer, "reason", text);
                    break;
                case AttributeShape.AttemptFailure:
                    writer.WriteNumber("attempt", Math.Max(1, attempt));
                    WriteFailure(writer, text);
                    break;
                default:
                    throw new InvalidPayloadException($"{info.WireName} is not published by this service.");
            }

            if (info.Kind == TaskKind.Workflow)
            {
                // Mistral's workflow events carry the attempt of the run; an execution here runs once.
                writer.WriteNumber("attempt", 1);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>result.value</c> of a <c>WORKFLOW_EXECUTION_COMPLETED</c> body, as UTF-8 JSON.</summary>
    public static byte[]? ResultOf(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 4 * StreamingLimits.MaxJsonDepth });
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.TryGetProperty("result", out var result) && result.TryGetProperty("value", out var value)
            ? JsonSerializer.SerializeToUtf8Bytes(value)
            : null;
    }

    private static void WritePayload(Utf8JsonWriter writer, string name, ReadOnlySpan<byte> json)
    {
        writer.WriteStartObject(name);
        writer.WriteString("type", "json");
        writer.WritePropertyName("value");
        if (json.IsEmpty)
        {
            writer.WriteNullValue();
        }
        else
        {
            // Validated where it came in (depth and syntax).
            writer.WriteRawValue(json, skipInputValidation: true);
        }

        writer.WriteEndObject();
    }

    private static void WriteFailure(Utf8JsonWriter writer, string? message)
    {
        writer.WriteStartObject("failure");
        writer.WriteString("message", message ?? string.Empty);
        writer.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter writer, string name, string? text)
    {
        if (text is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, text);
        }
    }
}
