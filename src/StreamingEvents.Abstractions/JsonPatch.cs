using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamingEvents;

/// <summary>
/// The patch operations of <c>json_patch</c> payloads: RFC 6902 <c>add</c>, <c>replace</c>, <c>remove</c>, and Mistral's
/// <c>append</c>, which appends a string to the string at <c>path</c> (one more LLM token). Written here rather than taken
/// from a JSON-patch library because <c>append</c> is not standard and the targets are <see cref="JsonNode"/> trees.
/// </summary>
public static class JsonPatch
{
    /// <summary>The operations accepted in a <c>json_patch</c> payload.</summary>
    public static IReadOnlyList<string> Operations { get; } = ["add", "replace", "remove", "append"];

    /// <summary>Checks that <paramref name="operationsJson"/> is an array of well-formed operations.</summary>
    /// <exception cref="InvalidPayloadException">It is not.</exception>
    public static void Validate(ReadOnlySpan<byte> operationsJson)
    {
        var operations = Parse(operationsJson);
        for (var i = 0; i < operations.Count; i++)
        {
            ReadOperation(operations[i], i);
        }
    }

    private static JsonArray Parse(ReadOnlySpan<byte> operationsJson)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(operationsJson, documentOptions: new JsonDocumentOptions { MaxDepth = StreamingLimits.MaxJsonDepth });
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException($"The patch is not valid JSON: {exception.Message}", exception);
        }

        return parsed as JsonArray ?? throw new InvalidPayloadException("A json_patch payload must be a JSON array of operations.");
    }

    /// <summary>
    /// Checks <paramref name="operationsJson"/> like <see cref="Validate"/> and returns it with <c>value</c> on every
    /// operation: RFC 6902 lets <c>remove</c> leave it out, Mistral's Python SDK does not, so what is published always
    /// carries it (<c>null</c> for <c>remove</c>). Operations that all carry it come back as they are.
    /// </summary>
    /// <exception cref="InvalidPayloadException">It is not an array of well-formed operations.</exception>
    public static ReadOnlyMemory<byte> Normalize(ReadOnlyMemory<byte> operationsJson)
    {
        var operations = Parse(operationsJson.Span);
        var complete = true;
        for (var i = 0; i < operations.Count; i++)
        {
            ReadOperation(operations[i], i);
            if (!operations[i]!.AsObject().ContainsKey("value"))
            {
                operations[i]!.AsObject()["value"] = null;
                complete = false;
            }
        }

        return complete ? operationsJson : JsonSerializer.SerializeToUtf8Bytes(operations, NormalizedWriter);
    }

    /// <summary>
    /// The operations that merge <paramref name="updateJson"/>, a JSON object, into an object state the way Mistral's
    /// <c>update_state</c> does (shallow): one <c>add</c> per top-level member, which sets it whether or not it exists.
    /// </summary>
    /// <exception cref="InvalidPayloadException">The update is not a JSON object.</exception>
    public static byte[] MergeOperations(ReadOnlySpan<byte> updateJson)
    {
        JsonNode? update;
        try
        {
            update = JsonNode.Parse(updateJson, documentOptions: new JsonDocumentOptions { MaxDepth = StreamingLimits.MaxJsonDepth });
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException($"The update is not valid JSON: {exception.Message}", exception);
        }

        if (update is not JsonObject members)
        {
            throw new InvalidPayloadException("An update merged into a task's state must be a JSON object.");
        }

        var operations = new JsonArray();
        foreach (var (name, value) in members)
        {
            operations.Add(Operation("add", Child(string.Empty, name), value));
        }

        return JsonSerializer.SerializeToUtf8Bytes(operations, NormalizedWriter);
    }

    /// <summary>Writes normalized operations however deep their values are: depth was checked when they were parsed.</summary>
    private static readonly JsonSerializerOptions NormalizedWriter = new() { MaxDepth = 4 * StreamingLimits.MaxJsonDepth };

    /// <summary>
    /// Applies <paramref name="operations"/> to <paramref name="document"/> in order and returns the new document (the
    /// same tree, changed in place, unless the root itself was replaced).
    /// </summary>
    /// <exception cref="InvalidPayloadException">An operation is malformed or does not apply.</exception>
    public static JsonNode? Apply(JsonNode? document, JsonArray operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        for (var i = 0; i < operations.Count; i++)
        {
            var (op, path, value) = ReadOperation(operations[i], i);
            document = ApplyOne(document, op, path, value, i);
        }

        return document;
    }

    /// <summary>Applies UTF-8 JSON operations to a UTF-8 JSON document and returns the new document as UTF-8 JSON.</summary>
    /// <exception cref="InvalidPayloadException">Either input is not valid JSON, or an operation does not apply.</exception>
    public static byte[] Apply(ReadOnlySpan<byte> documentJson, ReadOnlySpan<byte> operationsJson)
    {
        JsonNode? document;
        JsonNode? operations;
        try
        {
            document = JsonNode.Parse(documentJson);
            operations = JsonNode.Parse(operationsJson);
        }
        catch (JsonException exception)
        {
            throw new InvalidPayloadException($"The document or patch is not valid JSON: {exception.Message}", exception);
        }

        if (operations is not JsonArray array)
        {
            throw new InvalidPayloadException("A json_patch payload must be a JSON array of operations.");
        }

        var result = Apply(document, array);
        return result is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(result);
    }

    /// <summary>
    /// The operations that turn <paramref name="from"/> into <paramref name="to"/>: <c>append</c> for a string that
    /// grew, <c>add …/-</c> for an array that grew at its end, <c>add</c>/<c>remove</c> for object members, and
    /// <c>replace</c> for anything else. Applying them to <paramref name="from"/> gives a tree equal to <paramref name="to"/>.
    /// </summary>
    public static JsonArray Diff(JsonNode? from, JsonNode? to)
    {
        var operations = new JsonArray();
        DiffInto(operations, string.Empty, from, to);
        return operations;
    }

    private static void DiffInto(JsonArray operations, string path, JsonNode? from, JsonNode? to)
    {
        if (JsonNode.DeepEquals(from, to))
        {
            return;
        }

        switch (from, to)
        {
            case (JsonObject before, JsonObject after):
                foreach (var (name, _) in before)
                {
                    if (!after.ContainsKey(name))
                    {
                        operations.Add(Operation("remove", Child(path, name), null));
                    }
                }

                foreach (var (name, value) in after)
                {
                    if (before.TryGetPropertyValue(name, out var old))
                    {
                        DiffInto(operations, Child(path, name), old, value);
                    }
                    else
                    {
                        operations.Add(Operation("add", Child(path, name), value));
                    }
                }

                return;
            case (JsonArray before, JsonArray after) when after.Count >= before.Count && IsPrefix(before, after):
                for (var i = before.Count; i < after.Count; i++)
                {
                    operations.Add(Operation("add", path + "/-", after[i]));
                }

                return;
            case (JsonArray before, JsonArray after) when after.Count == before.Count:
                for (var i = 0; i < after.Count; i++)
                {
                    DiffInto(operations, path + "/" + i.ToString(CultureInfo.InvariantCulture), before[i], after[i]);
                }

                return;
            case (JsonValue before, JsonValue after)
                when before.GetValueKind() == JsonValueKind.String && after.GetValueKind() == JsonValueKind.String
                    && after.GetValue<string>() is var text && before.GetValue<string>() is { Length: > 0 } prefix
                    && text.StartsWith(prefix, StringComparison.Ordinal):
                operations.Add(Operation("append", path, JsonValue.Create(text[prefix.Length..])));
                return;
            default:
                operations.Add(Operation("replace", path, to));
                return;
        }
    }

    private static bool IsPrefix(JsonArray prefix, JsonArray array)
    {
        for (var i = 0; i < prefix.Count; i++)
        {
            if (!JsonNode.DeepEquals(prefix[i], array[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string Child(string path, string name) =>
        path + "/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>An operation; every one carries <c>value</c>, <c>null</c> for <c>remove</c> (see <see cref="Normalize"/>).</summary>
    private static JsonObject Operation(string op, string path, JsonNode? value) =>
        new() { ["op"] = op, ["path"] = path, ["value"] = value?.DeepClone() };

    private static (string Op, string Path, JsonNode? Value) ReadOperation(JsonNode? node, int index)
    {
        if (node is not JsonObject operation)
        {
            throw Invalid(index, "is not a JSON object");
        }

        var op = operation["op"] is JsonValue opValue && opValue.TryGetValue<string>(out var o) ? o : null;
        if (op is null || !Operations.Contains(op))
        {
            throw Invalid(index, $"has op {(op is null ? "missing" : $"'{op}'")}; use one of {string.Join(", ", Operations)}");
        }

        var path = operation["path"] is JsonValue pathValue && pathValue.TryGetValue<string>(out var p) ? p : null;
        if (path is null || (path.Length > 0 && path[0] != '/'))
        {
            throw Invalid(index, "needs a 'path' that is a JSON pointer ('' or starting with '/')");
        }

        var hasValue = operation.TryGetPropertyValue("value", out var value);
        if (op != "remove" && !hasValue)
        {
            throw Invalid(index, $"('{op}') needs a 'value'");
        }

        if (op == "append" && (value is not JsonValue stringValue || stringValue.GetValueKind() != JsonValueKind.String))
        {
            throw Invalid(index, "('append') needs a string 'value'");
        }

        return (op, path, value);
    }

    private static JsonNode? ApplyOne(JsonNode? document, string op, string path, JsonNode? value, int index)
    {
        if (path.Length == 0)
        {
            return op switch
            {
                "add" or "replace" => value?.DeepClone(),
                "remove" => null,
                _ => AppendString(document, value, index, path),
            };
        }

        var tokens = path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        var parent = document;
        for (var i = 0; i < tokens.Length - 1; i++)
        {
            parent = Child(parent, tokens[i]) ?? throw Invalid(index, $"path '{path}' does not exist");
        }

        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject obj:
                switch (op)
                {
                    case "add":
                        obj[last] = value?.DeepClone();
                        break;
                    case "replace" when obj.ContainsKey(last):
                        obj[last] = value?.DeepClone();
                        break;
                    case "remove" when obj.ContainsKey(last):
                        obj.Remove(last);
                        break;
                    case "append" when obj.ContainsKey(last):
                        obj[last] = AppendString(obj[last], value, index, path);
                        break;
                    default:
                        throw Invalid(index, $"path '{path}' does not exist");
                }

                break;
            case JsonArray array:
                if (op == "add" && last == "-")
                {
                    array.Add(value?.DeepClone());
                    break;
                }

                var position = ArrayIndex(last, index, path);
                if (op == "add" && position <= array.Count)
                {
                    array.Insert(position, value?.DeepClone());
                }
                else if (position >= array.Count)
                {
                    throw Invalid(index, $"index {position} of '{path}' is out of range");
                }
                else if (op == "remove")
                {
                    array.RemoveAt(position);
                }
                else
                {
                    array[position] = op == "append" ? AppendString(array[position], value, index, path) : value?.DeepClone();
                }

                break;
            default:
                throw Invalid(index, $"the parent of '{path}' is not an object or array");
        }

        return document;
    }

    private static JsonNode? Child(JsonNode? node, string token) => node switch
    {
        JsonObject obj => obj[token],
        JsonArray array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < array.Count => array[i],
        _ => null,
    };

    private static int ArrayIndex(string token, int index, string path) =>
        token.Length > 0 && (token == "0" || token[0] != '0') && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? position
            : throw Invalid(index, $"'{token}' in '{path}' is not an array index");

    private static JsonValue AppendString(JsonNode? target, JsonNode? value, int index, string path)
    {
        if (target is not JsonValue current || current.GetValueKind() != JsonValueKind.String)
        {
            throw Invalid(index, $"'append' needs a string at '{path}'");
        }

        return JsonValue.Create(current.GetValue<string>() + value!.GetValue<string>());
    }

    private static InvalidPayloadException Invalid(int index, string problem) =>
        new($"Patch operation {index} {problem}.");
}
