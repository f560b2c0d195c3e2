using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamingEvents.Cli.Output;

/// <summary>
/// The last known state of each task, so an update can be shown as what changed: a whole-state payload replaces it, a
/// <c>json_patch</c> payload is applied to it (RFC 6902 <c>add</c>/<c>replace</c>/<c>remove</c> and Mistral's string
/// <c>append</c>). A task whose state is not known (its start came before the first event shown, or a patch did not
/// apply) has none until its next whole state.
/// </summary>
internal sealed class TaskStates
{
    private readonly Dictionary<string, JsonNode?> _states = new(StringComparer.Ordinal);

    /// <summary>The state before, and null if it was not known.</summary>
    public bool TryGet(string taskId, out JsonNode? state) => _states.TryGetValue(taskId, out state);

    public void Set(string taskId, JsonElement state) => _states[taskId] = JsonNode.Parse(state.GetRawText());

    public void Forget(string taskId) => _states.Remove(taskId);

    /// <summary>Applies patch operations to the task's known state; the state is forgotten if it is unknown or a patch does not apply.</summary>
    public JsonNode? Patch(string taskId, JsonElement operations)
    {
        if (!_states.TryGetValue(taskId, out var state) || operations.ValueKind != JsonValueKind.Array)
        {
            _states.Remove(taskId);
            return null;
        }

        foreach (var operation in operations.EnumerateArray())
        {
            if (!TryApply(ref state, operation))
            {
                _states.Remove(taskId);
                return null;
            }
        }

        _states[taskId] = state;
        return state;
    }

    private static bool TryApply(ref JsonNode? document, JsonElement operation)
    {
        var op = JsonRead.String(operation, "op");
        var path = JsonRead.String(operation, "path");
        var value = JsonRead.Property(operation, "value") is { ValueKind: not JsonValueKind.Undefined } v ? JsonNode.Parse(v.GetRawText()) : null;
        if (op is null || path is null || (path.Length > 0 && path[0] != '/'))
        {
            return false;
        }

        if (path.Length == 0)
        {
            switch (op)
            {
                case "add" or "replace":
                    document = value;
                    return true;
                case "remove":
                    document = null;
                    return true;
                case "append" when Append(document, value) is { } appended:
                    document = appended;
                    return true;
                default:
                    return false;
            }
        }

        var tokens = path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        var parent = document;
        foreach (var token in tokens[..^1])
        {
            parent = parent switch
            {
                JsonObject obj => obj[token],
                JsonArray array when Index(token, array.Count) is { } i && i < array.Count => array[i],
                _ => null,
            };
            if (parent is null)
            {
                return false;
            }
        }

        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject obj when op == "add" || (op == "replace" && obj.ContainsKey(last)):
                obj[last] = value;
                return true;
            case JsonObject obj when op == "remove":
                return obj.Remove(last);
            case JsonObject obj when op == "append" && Append(obj.ContainsKey(last) ? obj[last] : JsonValue.Create(string.Empty), value) is { } appended:
                obj[last] = appended;
                return true;
            case JsonArray array when op == "add" && last == "-":
                array.Add(value);
                return true;
            case JsonArray array when Index(last, array.Count + 1) is { } i:
                if (op == "add")
                {
                    array.Insert(i, value);
                    return true;
                }

                if (i >= array.Count)
                {
                    return false;
                }

                if (op == "remove")
                {
                    array.RemoveAt(i);
                    return true;
                }

                var replacement = op == "append" ? Append(array[i], value) : op == "replace" ? value : null;
                if (replacement is null && op != "replace")
                {
                    return false;
                }

                array[i] = replacement;
                return true;
            default:
                return false;
        }
    }

    private static int? Index(string token, int limit) =>
        int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < limit ? i : null;

    private static JsonValue? Append(JsonNode? target, JsonNode? value) =>
        target is JsonValue current && current.GetValueKind() == JsonValueKind.String && value is JsonValue tail && tail.GetValueKind() == JsonValueKind.String
            ? JsonValue.Create(current.GetValue<string>() + tail.GetValue<string>())
            : null;
}
