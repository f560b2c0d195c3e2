using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>
/// Renders the wire envelope of an execution's events (see <c>spec/wire-format.md</c>). Everything constant for a task
/// (context, ids, names, metadata) is encoded once into byte templates; rendering an event is then a handful of copies
/// plus the sequence, timestamps and payload. Keys are always present; nullable ones are written as <c>null</c>.
/// </summary>
internal sealed class EventRenderer
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly byte[] NullLiteral = "null"u8.ToArray();

    private readonly WorkflowContext _execution;
    private readonly bool _milliseconds;
    private readonly byte[] _eventIdPrefix;
    private readonly Dictionary<int, Template> _templates = [];

    public EventRenderer(WorkflowContext execution, EventTimestampUnit unit)
    {
        _execution = execution;
        _milliseconds = unit == EventTimestampUnit.Milliseconds;
        // Event ids are derived, not stored: a hash of the execution plus the sequence is unique and stable across replays.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(execution.Execution.Key));
        _eventIdPrefix = Encoding.ASCII.GetBytes("evt_" + Convert.ToHexStringLower(hash, 0, 8) + "_");
    }

    /// <summary>Renders one event; its size is checked by the caller against the 1 MiB limit.</summary>
    public StreamEvent Render(StoredTask task, in StoredEvent stored)
    {
        var template = GetTemplate(task);
        var info = stored.Type.Info();
        var typeName = info.WireNameUtf8;
        ReadOnlySpan<byte> attributes;
        ReadOnlySpan<byte> body;
        ReadOnlySpan<byte> attributesSuffix;
        if (info.Kind == TaskKind.Custom)
        {
            // A custom task's body is the value of its one attribute (a state, patch, message or reason).
            attributes = CustomAttributePrefix(info.Shape, stored.Encoding);
            attributesSuffix = info.Shape is AttributeShape.Reason or AttributeShape.TimeoutType ? [] : "}"u8;
            body = stored.Body.Length == 0 ? NullLiteral.AsSpan() : stored.Body.Span;
        }
        else
        {
            // A lifecycle event's body is the object of its attributes after the task's own (see LifecycleAttributes):
            // its members are written after the template's.
            attributes = [];
            attributesSuffix = [];
            body = stored.Body.Span[1..^1];
        }

        Span<byte> sequence = stackalloc byte[20];
        Utf8Formatter.TryFormat(stored.Sequence, sequence, out var sequenceLength);
        Span<byte> eventTimestamp = stackalloc byte[20];
        var timestampValue = _milliseconds ? stored.TimestampUnixNanoseconds / 1_000_000 : stored.TimestampUnixNanoseconds;
        Utf8Formatter.TryFormat(timestampValue, eventTimestamp, out var eventTimestampLength);
        Span<byte> isoTimestamp = stackalloc byte[32];
        var isoLength = FormatIsoMilliseconds(DateTime.UnixEpoch.AddTicks(stored.TimestampUnixNanoseconds / 100), isoTimestamp);

        ReadOnlySpan<byte> parts0 = template.Head;                      // {"stream":"t","broker_sequence":
        ReadOnlySpan<byte> parts1 = ",\"timestamp\":\""u8;
        ReadOnlySpan<byte> parts2 = "\",\"data\":{\"event_id\":\""u8;
        ReadOnlySpan<byte> parts3 = "\",\"event_timestamp\":"u8;
        ReadOnlySpan<byte> parts4 = template.Middle;                    // ,"root_workflow_exec_id":...,"event_type":"
        ReadOnlySpan<byte> parts5 = template.AttributesHead;            // ","attributes":{"custom_task_id":..,"custom_task_type":.., (by kind)
        ReadOnlySpan<byte> parts6 = template.Tail;                      // }},"workflow_context":{...}}

        var length = parts0.Length + sequenceLength + parts1.Length + isoLength + parts2.Length + _eventIdPrefix.Length + sequenceLength
            + parts3.Length + eventTimestampLength + parts4.Length + typeName.Length + parts5.Length + attributes.Length + body.Length
            + attributesSuffix.Length + parts6.Length;
        var json = new byte[length];
        var span = json.AsSpan();
        var at = 0;
        Append(span, ref at, parts0);
        Append(span, ref at, sequence[..sequenceLength]);
        Append(span, ref at, parts1);
        Append(span, ref at, isoTimestamp[..isoLength]);
        Append(span, ref at, parts2);
        Append(span, ref at, _eventIdPrefix);
        Append(span, ref at, sequence[..sequenceLength]);
        Append(span, ref at, parts3);
        Append(span, ref at, eventTimestamp[..eventTimestampLength]);
        Append(span, ref at, parts4);
        Append(span, ref at, typeName);
        Append(span, ref at, parts5);
        Append(span, ref at, attributes);
        Append(span, ref at, body);
        Append(span, ref at, attributesSuffix);
        Append(span, ref at, parts6);

        return new StreamEvent(stored.Sequence, task.Topic, task.TaskId, stored.Type, stored.TimestampUnixNanoseconds, json, task.ActivityName, task.ActivityId, stored.Encoding);
    }

    /// <summary>Encodes a failure message, cancel reason or timeout type as the stored JSON string body.</summary>
    public static byte[] EncodeText(string? text) => text is null ? [] : JsonSerializer.SerializeToUtf8Bytes(text);

    /// <summary>
    /// Writes <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>: the round-trip format (which has a fast path, unlike a custom format string;
    /// a custom one was 7 % of a replay's CPU) cut to milliseconds, which truncates like <c>fff</c> does.
    /// </summary>
    private static int FormatIsoMilliseconds(DateTime utc, Span<byte> destination)
    {
        const int MillisecondsEnd = 23; // "yyyy-MM-ddTHH:mm:ss.fff"
        utc.TryFormat(destination, out _, "O", CultureInfo.InvariantCulture);
        destination[MillisecondsEnd] = (byte)'Z';
        return MillisecondsEnd + 1;
    }

    private static void Append(Span<byte> destination, ref int at, ReadOnlySpan<byte> source)
    {
        source.CopyTo(destination[at..]);
        at += source.Length;
    }

    /// <summary>What a custom task's one attribute starts with: its name (and payload type); a state or failure is closed by <c>}</c>.</summary>
    private static ReadOnlySpan<byte> CustomAttributePrefix(AttributeShape shape, PayloadEncoding encoding) => shape switch
    {
        AttributeShape.Failure => "\"failure\":{\"message\":"u8,
        AttributeShape.TimeoutType => "\"timeout_type\":"u8,
        AttributeShape.Reason => "\"reason\":"u8,
        _ when encoding == PayloadEncoding.JsonPatch => "\"payload\":{\"type\":\"json_patch\",\"value\":"u8,
        _ => "\"payload\":{\"type\":\"json\",\"value\":"u8,
    };

    public void Forget(int taskNo) => _templates.Remove(taskNo);

    private Template GetTemplate(StoredTask task)
    {
        if (_templates.TryGetValue(task.TaskNo, out var template) && ReferenceEquals(template.Task, task))
        {
            return template;
        }

        template = new Template(task, _execution);
        _templates[task.TaskNo] = template;
        return template;
    }

    private sealed class Template
    {
        public Template(StoredTask task, WorkflowContext execution)
        {
            Task = task;
            Head = new Builder().Literal("{\"stream\":"u8).Quoted(task.Topic).Literal(",\"broker_sequence\":"u8).ToArray();
            Middle = new Builder()
                .Literal(",\"root_workflow_exec_id\":"u8).Quoted(execution.RootWorkflowExecId)
                .Literal(",\"parent_workflow_exec_id\":"u8).Quoted(execution.ParentWorkflowExecId)
                .Literal(",\"continued_run_id\":null,\"first_execution_run_id\":null,\"schedule_id\":null"u8)
                .Literal(",\"workflow_exec_id\":"u8).Quoted(execution.WorkflowExecId)
                .Literal(",\"workflow_run_id\":"u8).Quoted(task.WorkflowRunId)
                .Literal(",\"workflow_name\":"u8).Quoted(execution.WorkflowName)
                .Literal(",\"event_type\":\""u8)
                .ToArray();
            AttributesHead = task.Kind switch
            {
                TaskKind.Workflow => new Builder().Literal("\",\"attributes\":{\"task_id\":"u8).Quoted(task.TaskId).Literal(","u8).ToArray(),
                TaskKind.Activity => new Builder()
                    .Literal("\",\"attributes\":{\"task_id\":"u8).Quoted(task.TaskId)
                    .Literal(",\"activity_name\":"u8).Quoted(task.ActivityName)
                    .Literal(","u8)
                    .ToArray(),
                _ => new Builder()
                    .Literal("\",\"attributes\":{\"custom_task_id\":"u8).Quoted(task.TaskId)
                    .Literal(",\"custom_task_type\":"u8).Quoted(task.Topic)
                    .Literal(","u8)
                    .ToArray(),
            };
            var tail = new Builder()
                .Literal("}},\"workflow_context\":{\"namespace\":"u8).Quoted(execution.Namespace)
                .Literal(",\"workflow_name\":"u8).Quoted(execution.WorkflowName)
                .Literal(",\"workflow_exec_id\":"u8).Quoted(execution.WorkflowExecId)
                .Literal(",\"parent_workflow_exec_id\":"u8).Quoted(execution.ParentWorkflowExecId)
                .Literal(",\"root_workflow_exec_id\":"u8).Quoted(execution.RootWorkflowExecId)
                .Literal("}"u8);
            if (task.Metadata is { Length: > 0 } metadata)
            {
                tail.Literal(",\"metadata\":"u8).Literal(metadata);
            }

            Tail = tail.Literal("}"u8).ToArray();
        }

        public StoredTask Task { get; }

        public byte[] Head { get; }

        public byte[] Middle { get; }

        public byte[] AttributesHead { get; }

        public byte[] Tail { get; }
    }

    private sealed class Builder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);

        public Builder Literal(ReadOnlySpan<byte> utf8)
        {
            _buffer.Write(utf8);
            return this;
        }

        public Builder Quoted(string? value)
        {
            if (value is null)
            {
                return Literal(NullLiteral);
            }

            _buffer.Write("\""u8);
            _buffer.Write(JsonEncodedText.Encode(value, Encoder).EncodedUtf8Bytes);
            _buffer.Write("\""u8);
            return this;
        }

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    }
}
