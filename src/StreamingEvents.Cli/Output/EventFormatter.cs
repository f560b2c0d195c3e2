using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Cli.Tail;

namespace StreamingEvents.Cli.Output;

/// <summary>
/// The pretty form of an event, one line: broker_sequence, local time of the envelope's <c>timestamp</c>, stream, event
/// type, task id, and a short summary — the text a token update appended (<c>+" lo"</c>), a progress task's
/// <c>i/n</c>, a failure's message, a cancellation's reason, a completed task's final text or state.
/// </summary>
internal sealed class EventFormatter(bool color = false)
{
    private const int SummaryLimit = 200;
    private const int FinalTextLimit = 2000;

    private readonly TaskStates _states = new();

    public string Format(Envelope envelope)
    {
        var line = new StringBuilder();
        line.Append(envelope.BrokerSequence.ToString(CultureInfo.InvariantCulture).PadLeft(7)).Append("  ");
        line.Append(Time(envelope.Timestamp)).Append("  ");
        line.Append((envelope.Stream ?? "-").PadRight(10)).Append("  ");
        var type = envelope.EventType ?? "?";
        line.Append(Colored(type, ColorOf(type))).Append(' ', Math.Max(2, 25 - type.Length));
        line.Append(envelope.TaskId ?? "-");
        if (Summarize(envelope) is { Length: > 0 } summary)
        {
            line.Append("  ").Append(summary);
        }

        return line.ToString();
    }

    private string Summarize(Envelope e)
    {
        var attributes = e.Attributes;
        var payload = JsonRead.Property(attributes, "payload");
        switch (e.EventType)
        {
            case "CUSTOM_TASK_STARTED":
            case "CUSTOM_TASK_IN_PROGRESS":
            case "CUSTOM_TASK_COMPLETED":
                var final = e.EventType == "CUSTOM_TASK_COMPLETED";
                var summary = e.TaskId is null ? Describe(Value(payload), SummaryLimit) : Update(e.TaskId, payload, final);
                if (final && e.TaskId is not null)
                {
                    _states.Forget(e.TaskId);
                }

                return summary;
            case "CUSTOM_TASK_FAILED":
                return JsonRead.String(JsonRead.Property(attributes, "failure"), "message") is { } message ? "failed: " + OneLine(message) : "failed";
            case "CUSTOM_TASK_CANCELED":
                if (e.TaskId is not null)
                {
                    _states.Forget(e.TaskId);
                }

                return JsonRead.String(attributes, "reason") is { Length: > 0 } reason ? "reason: " + OneLine(reason) : "canceled";
            case "CUSTOM_TASK_TIMED_OUT":
                if (e.TaskId is not null)
                {
                    _states.Forget(e.TaskId);
                }

                return JsonRead.String(attributes, "timeout_type") is { Length: > 0 } timeout ? "timeout: " + timeout : "timed out";
            default:
                return attributes.ValueKind == JsonValueKind.Object ? JsonRead.Compact(attributes.GetRawText(), SummaryLimit) : string.Empty;
        }
    }

    /// <summary>A payload of a task's event: tracks the task's state and says what changed.</summary>
    private string Update(string taskId, JsonElement payload, bool final)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return string.Empty;
        }

        if (JsonRead.Property(payload, "encoding_options") is { ValueKind: JsonValueKind.Array } encoding && encoding.GetArrayLength() > 0)
        {
            _states.Forget(taskId);
            return "(payload " + string.Join('+', encoding.EnumerateArray().Select(o => o.ToString())) + ")";
        }

        var value = JsonRead.Property(payload, "value");
        if (JsonRead.String(payload, "type") == "json_patch")
        {
            var after = _states.Patch(taskId, value);
            return final ? Describe(after, FinalTextLimit) : DescribePatch(value, after);
        }

        var hadBefore = _states.TryGet(taskId, out var before);
        _states.Set(taskId, value);
        var current = Node(value);
        return final || !hadBefore ? Describe(current, final ? FinalTextLimit : SummaryLimit) : DescribeChange(before, current);
    }

    /// <summary>A state in a few characters: <c>i/n</c> for progress, the quoted text of a token state, else compact JSON.</summary>
    private static string Describe(JsonNode? state, int limit)
    {
        if (Progress(state) is { } progress)
        {
            return progress;
        }

        if (Text(state) is { } text)
        {
            return JsonRead.Quote(text, limit);
        }

        return state is null ? string.Empty : JsonRead.Compact(state.ToJsonString(), limit);
    }

    private static string DescribeChange(JsonNode? before, JsonNode? after)
    {
        if (Progress(after) is { } progress)
        {
            return progress;
        }

        if (Text(before) is { } old && Text(after) is { } text && text.StartsWith(old, StringComparison.Ordinal))
        {
            return "+" + JsonRead.Quote(text[old.Length..], SummaryLimit);
        }

        return Describe(after, SummaryLimit);
    }

    private static string DescribePatch(JsonElement operations, JsonNode? after)
    {
        if (operations.ValueKind != JsonValueKind.Array)
        {
            return string.Empty;
        }

        var ops = operations.EnumerateArray().ToList();
        var appended = new StringBuilder();
        var onlyAppends = ops.Count > 0;
        foreach (var op in ops)
        {
            var kind = JsonRead.String(op, "op");
            var path = JsonRead.String(op, "path") ?? string.Empty;
            var value = JsonRead.Property(op, "value");
            if (value.ValueKind == JsonValueKind.String && (kind == "append" || (kind == "add" && path.EndsWith("/-", StringComparison.Ordinal))))
            {
                appended.Append(value.GetString());
            }
            else
            {
                onlyAppends = false;
            }
        }

        if (onlyAppends)
        {
            return "+" + JsonRead.Quote(appended.ToString(), SummaryLimit);
        }

        if (Progress(after) is { } progress)
        {
            return progress;
        }

        var described = string.Join(", ", ops.Select(op =>
            $"{JsonRead.String(op, "op")} {JsonRead.String(op, "path")}" + (JsonRead.Property(op, "value") is { ValueKind: not JsonValueKind.Undefined } v ? " " + v.GetRawText() : string.Empty)));
        return JsonRead.Compact(described, SummaryLimit);
    }

    /// <summary><c>i/n</c> of a progress state: <c>progress_idx</c>/<c>progress_total</c> (the spec's), or <c>progress</c>/<c>total</c>.</summary>
    private static string? Progress(JsonNode? state)
    {
        if (state is not JsonObject obj)
        {
            return null;
        }

        foreach (var (index, total) in new[] { ("progress_idx", "progress_total"), ("progress", "total") })
        {
            if (Number(obj[index]) is { } i && Number(obj[total]) is { } n)
            {
                return $"{i}/{n}";
            }
        }

        return null;
    }

    /// <summary>The text of a token state: a string, <c>text</c>/<c>content</c>, or the joined <c>tokens</c>.</summary>
    private static string? Text(JsonNode? state)
    {
        if (state is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            return value.GetValue<string>();
        }

        if (state is not JsonObject obj)
        {
            return null;
        }

        foreach (var name in new[] { "text", "content" })
        {
            if (obj[name] is JsonValue text && text.GetValueKind() == JsonValueKind.String)
            {
                return text.GetValue<string>();
            }
        }

        return obj["tokens"] is JsonArray tokens && tokens.All(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            ? string.Concat(tokens.Select(t => t!.GetValue<string>()))
            : null;
    }

    private static string? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.ToJsonString() : null;

    private static JsonNode? Value(JsonElement payload) => Node(JsonRead.Property(payload, "value"));

    private static JsonNode? Node(JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined ? null : JsonNode.Parse(element.GetRawText());

    private static string OneLine(string text) => text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Time(string? timestamp) =>
        DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)
            : "--:--:--.---";

    private static string? ColorOf(string type) => type switch
    {
        "CUSTOM_TASK_STARTED" => "36",
        "CUSTOM_TASK_COMPLETED" => "32",
        "CUSTOM_TASK_FAILED" => "31",
        "CUSTOM_TASK_CANCELED" or "CUSTOM_TASK_TIMED_OUT" => "33",
        _ => null,
    };

    private string Colored(string text, string? code) => color && code is not null ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
