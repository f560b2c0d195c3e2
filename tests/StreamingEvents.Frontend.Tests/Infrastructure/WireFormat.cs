using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>The unit of <c>data.event_timestamp</c> a server was configured with.</summary>
public enum TimestampUnit
{
    Nanoseconds,
    Milliseconds,
}

/// <summary>
/// Checks one SSE envelope against the facts of <c>shared/spec/wire-format.md</c> (Mistral's published schema): keys,
/// types, nullable keys present, attributes per event type, <c>custom_task_type</c> = <c>stream</c>, snake_case keys.
/// </summary>
public static partial class WireFormat
{
    /// <summary>Every record conforms (the shared server's nanosecond timestamps).</summary>
    public static void AssertAll(IEnumerable<EventRecord> records) => Assert.All(records, r => AssertEnvelope(r, TimestampUnit.Nanoseconds));

    private static readonly HashSet<string> EnvelopeKeys = ["stream", "broker_sequence", "timestamp", "data", "workflow_context", "metadata"];
    private static readonly string[] DataKeys =
    [
        "event_id", "event_timestamp", "root_workflow_exec_id", "parent_workflow_exec_id", "continued_run_id", "first_execution_run_id",
        "schedule_id", "workflow_exec_id", "workflow_run_id", "workflow_name", "event_type", "attributes",
    ];

    private static readonly HashSet<string> NullableDataKeys = ["parent_workflow_exec_id", "continued_run_id", "first_execution_run_id", "schedule_id"];
    private static readonly HashSet<string> ContextKeys = ["namespace", "workflow_name", "workflow_exec_id", "parent_workflow_exec_id", "root_workflow_exec_id"];
    private static readonly HashSet<string> PayloadKeys = ["type", "value", "encoding_options"];
    private static readonly HashSet<string> PatchOps = ["add", "replace", "remove", "append"];
    private static readonly HashSet<string> EncodingOptions = ["offloaded", "encrypted", "encrypted-partial", "compressed"];

    /// <summary>Every event type of the schema.</summary>
    public static readonly IReadOnlySet<string> EventTypes = new HashSet<string>
    {
        "WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_COMPLETED", "WORKFLOW_EXECUTION_FAILED", "WORKFLOW_EXECUTION_CANCELED",
        "WORKFLOW_EXECUTION_CONTINUED_AS_NEW", "WORKFLOW_TASK_TIMED_OUT", "WORKFLOW_TASK_FAILED", "CUSTOM_TASK_STARTED",
        "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED", "CUSTOM_TASK_FAILED", "CUSTOM_TASK_TIMED_OUT", "CUSTOM_TASK_CANCELED",
        "ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED", "ACTIVITY_TASK_RETRYING", "ACTIVITY_TASK_FAILED",
    };

    /// <summary>The attribute keys each custom-task event type may carry, besides <c>custom_task_id</c> and <c>custom_task_type</c>.</summary>
    private static readonly Dictionary<string, string[]> AttributeKeys = new()
    {
        ["CUSTOM_TASK_STARTED"] = ["payload"],
        ["CUSTOM_TASK_IN_PROGRESS"] = ["payload"],
        ["CUSTOM_TASK_COMPLETED"] = ["payload"],
        ["CUSTOM_TASK_FAILED"] = ["failure"],
        ["CUSTOM_TASK_TIMED_OUT"] = ["timeout_type"],
        ["CUSTOM_TASK_CANCELED"] = ["reason"],
    };

    public static void AssertEnvelope(EventRecord record, TimestampUnit unit)
    {
        try
        {
            Check(record, unit);
        }
        catch (XunitException exception)
        {
            throw new XunitException($"{exception.Message}{Environment.NewLine}in record id={record.Id}: {record.Data}");
        }
    }

    private static void Check(EventRecord record, TimestampUnit unit)
    {
        var root = record.Json;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        AssertSnakeCase(root, "$");
        Assert.All(root.EnumerateObject(), p => Assert.Contains(p.Name, EnvelopeKeys));

        var stream = String(root, "stream");
        var sequence = Integer(root, "broker_sequence");
        Assert.True(sequence >= 1, "broker_sequence counts from 1.");
        if (record.Id is { } id && !id.StartsWith("w1.", StringComparison.Ordinal))
        {
            Assert.Equal(sequence.ToString(CultureInfo.InvariantCulture), id);
        }

        var data = Member(root, "data", JsonValueKind.Object);
        var context = Member(root, "workflow_context", JsonValueKind.Object);
        if (root.TryGetProperty("metadata", out var metadata))
        {
            Assert.Equal(JsonValueKind.Object, metadata.ValueKind);
        }

        // timestamp: optional, ISO-8601 with an offset.
        DateTimeOffset? timestamp = null;
        if (root.TryGetProperty("timestamp", out var timestampElement))
        {
            var text = timestampElement.GetString()!;
            Assert.Matches(IsoWithOffset(), text);
            timestamp = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
            Assert.InRange(timestamp.Value, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(5));
        }

        // data: every key present, no other; nullable ones string or null.
        Assert.Equal(DataKeys.Order(), data.EnumerateObject().Select(p => p.Name).Order());
        foreach (var key in DataKeys.Where(k => k is not ("event_timestamp" or "attributes")))
        {
            var value = data.GetProperty(key);
            Assert.True(value.ValueKind == JsonValueKind.String || (NullableDataKeys.Contains(key) && value.ValueKind == JsonValueKind.Null),
                $"data.{key} is {value.ValueKind}.");
        }

        Assert.Equal(JsonValueKind.Null, data.GetProperty("continued_run_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, data.GetProperty("first_execution_run_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, data.GetProperty("schedule_id").ValueKind);
        var eventTimestamp = Integer(data, "event_timestamp");
        if (timestamp is { } when)
        {
            var milliseconds = unit == TimestampUnit.Nanoseconds ? eventTimestamp / 1_000_000 : eventTimestamp;
            Assert.Equal(when.ToUnixTimeMilliseconds(), milliseconds);
        }

        if (unit == TimestampUnit.Milliseconds)
        {
            Assert.True(eventTimestamp < 1L << 53, "event_timestamp in milliseconds stays below 2^53.");
        }

        var eventType = String(data, "event_type");
        Assert.Contains(eventType, EventTypes);

        // workflow_context: namespace, name and id required; parent and root present or absent, string or null; consistent with data.
        Assert.All(context.EnumerateObject(), p => Assert.Contains(p.Name, ContextKeys));
        String(context, "namespace");
        Assert.Equal(String(data, "workflow_name"), String(context, "workflow_name"));
        Assert.Equal(String(data, "workflow_exec_id"), String(context, "workflow_exec_id"));
        if (context.TryGetProperty("root_workflow_exec_id", out var contextRoot) && contextRoot.ValueKind != JsonValueKind.Null)
        {
            Assert.Equal(data.GetProperty("root_workflow_exec_id").GetString(), contextRoot.GetString());
        }

        if (context.TryGetProperty("parent_workflow_exec_id", out var contextParent))
        {
            Assert.Equal(data.GetProperty("parent_workflow_exec_id").GetString(), contextParent.GetString());
        }

        var attributes = Member(data, "attributes", JsonValueKind.Object);
        if (LifecycleKeys.TryGetValue(eventType, out var lifecycle))
        {
            CheckLifecycle(eventType, attributes, lifecycle);
            return;
        }

        // attributes of a custom task.
        Assert.True(AttributeKeys.TryGetValue(eventType, out var allowed), $"{eventType} is not a custom-task event.");
        Assert.All(attributes.EnumerateObject(), p => Assert.Contains(p.Name, allowed.Append("custom_task_id").Append("custom_task_type")));
        String(attributes, "custom_task_id");
        Assert.Equal(stream, String(attributes, "custom_task_type"));
        switch (eventType)
        {
            case "CUSTOM_TASK_STARTED":
                if (attributes.TryGetProperty("payload", out var startPayload))
                {
                    Payload(startPayload, allowPatch: false);
                }

                break;
            case "CUSTOM_TASK_IN_PROGRESS":
                Payload(Member(attributes, "payload", JsonValueKind.Object), allowPatch: true);
                break;
            case "CUSTOM_TASK_COMPLETED":
                Payload(Member(attributes, "payload", JsonValueKind.Object), allowPatch: false);
                break;
            case "CUSTOM_TASK_FAILED":
                var failure = Member(attributes, "failure", JsonValueKind.Object);
                String(failure, "message");
                break;
            case "CUSTOM_TASK_TIMED_OUT":
                NullableString(attributes, "timeout_type");
                break;
            case "CUSTOM_TASK_CANCELED":
                NullableString(attributes, "reason");
                break;
        }
    }

    /// <summary>
    /// The attributes of lifecycle events, as the zod schemas of <c>@mistralai/mistralai</c> have them: required keys
    /// (every one present), besides <c>task_id</c> (and an activity's <c>activity_name</c>).
    /// </summary>
    private static readonly Dictionary<string, string[]> LifecycleKeys = new()
    {
        ["WORKFLOW_EXECUTION_STARTED"] = ["workflow_name", "input", "display_name", "attempt"],
        ["WORKFLOW_EXECUTION_COMPLETED"] = ["result", "attempt"],
        ["WORKFLOW_EXECUTION_FAILED"] = ["failure", "attempt"],
        ["WORKFLOW_EXECUTION_CANCELED"] = ["reason", "attempt"],
        ["ACTIVITY_TASK_STARTED"] = ["activity_name", "input"],
        ["ACTIVITY_TASK_COMPLETED"] = ["activity_name", "result"],
        ["ACTIVITY_TASK_RETRYING"] = ["activity_name", "attempt", "failure"],
        ["ACTIVITY_TASK_FAILED"] = ["activity_name", "attempt", "failure"],
    };

    private static void CheckLifecycle(string eventType, JsonElement attributes, string[] keys)
    {
        Assert.Equal(keys.Append("task_id").Order(), attributes.EnumerateObject().Select(p => p.Name).Order());
        String(attributes, "task_id");
        foreach (var key in keys)
        {
            var value = attributes.GetProperty(key);
            switch (key)
            {
                case "input" or "result":
                    Assert.Equal(JsonValueKind.Object, value.ValueKind);
                    Assert.Equal("json", String(value, "type"));
                    Assert.True(value.TryGetProperty("value", out _), $"{eventType}: {key}.value is missing.");
                    break;
                case "failure":
                    String(value, "message");
                    break;
                case "attempt":
                    Assert.True(value.GetInt32() >= 1, $"{eventType}: attempt counts from 1.");
                    break;
                case "display_name" or "reason":
                    NullableString(attributes, key);
                    break;
                default:
                    String(attributes, key);
                    break;
            }
        }
    }

    private static void Payload(JsonElement payload, bool allowPatch)
    {
        Assert.Equal(JsonValueKind.Object, payload.ValueKind);
        Assert.All(payload.EnumerateObject(), p => Assert.Contains(p.Name, PayloadKeys));
        var type = String(payload, "type");
        Assert.True(type == "json" || (allowPatch && type == "json_patch"), $"payload.type is '{type}'.");
        Assert.True(payload.TryGetProperty("value", out var value), "payload.value is missing.");
        if (type == "json_patch")
        {
            Assert.Equal(JsonValueKind.Array, value.ValueKind);
            Assert.All(value.EnumerateArray(), op =>
            {
                Assert.Contains(String(op, "op"), PatchOps);
                String(op, "path");
                // Mistral's Python SDK requires value on every op (a remove's is null): one without it ends its stream.
                Assert.True(op.TryGetProperty("value", out _), $"Patch operation without value: {op}");
            });
        }

        if (payload.TryGetProperty("encoding_options", out var encodings) && encodings.ValueKind != JsonValueKind.Null)
        {
            Assert.All(encodings.EnumerateArray(), e => Assert.Contains(e.GetString()!, EncodingOptions));
        }
    }

    /// <summary>Every key is snake_case, except inside user data (payload values and metadata).</summary>
    private static void AssertSnakeCase(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Assert.Matches(SnakeCase(), property.Name);
                var child = $"{path}.{property.Name}";
                if (child is not ("$.metadata" or "$.data.attributes.payload.value" or "$.data.attributes.input.value" or "$.data.attributes.result.value"))
                {
                    AssertSnakeCase(property.Value, child);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                AssertSnakeCase(item, path + "[]");
            }
        }
    }

    private static JsonElement Member(JsonElement parent, string name, JsonValueKind kind)
    {
        Assert.True(parent.TryGetProperty(name, out var value), $"'{name}' is missing.");
        Assert.True(value.ValueKind == kind, $"'{name}' is {value.ValueKind}, not {kind}.");
        return value;
    }

    private static string String(JsonElement parent, string name) => Member(parent, name, JsonValueKind.String).GetString()!;

    private static void NullableString(JsonElement parent, string name)
    {
        if (parent.TryGetProperty(name, out var value))
        {
            Assert.True(value.ValueKind is JsonValueKind.String or JsonValueKind.Null, $"'{name}' is {value.ValueKind}.");
        }
    }

    private static long Integer(JsonElement parent, string name)
    {
        var value = Member(parent, name, JsonValueKind.Number);
        Assert.True(value.TryGetInt64(out var number) && IsInteger().IsMatch(value.GetRawText()), $"'{name}' is not an integer: {value.GetRawText()}");
        return number;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoWithOffset();

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();

    [GeneratedRegex("^-?[0-9]+$")]
    private static partial Regex IsInteger();
}
