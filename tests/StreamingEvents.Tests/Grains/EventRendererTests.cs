using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents.Tests.Grains;

public sealed partial class EventRendererTests
{
    /// <summary>2026-04-15T10:30:00.123456789Z, the spec's example instant plus a fraction.</summary>
    private const long Timestamp = 1_776_249_000_123_456_789;

    private static readonly string[] EnvelopeKeys = ["stream", "broker_sequence", "timestamp", "data", "workflow_context"];
    private static readonly string[] EnvelopeKeysWithMetadata = [.. EnvelopeKeys, "metadata"];
    private static readonly string[] DataKeys =
    [
        "event_id", "event_timestamp", "root_workflow_exec_id", "parent_workflow_exec_id", "continued_run_id",
        "first_execution_run_id", "schedule_id", "workflow_exec_id", "workflow_run_id", "workflow_name", "event_type", "attributes",
    ];

    private static readonly string[] ContextKeys = ["namespace", "workflow_name", "workflow_exec_id", "parent_workflow_exec_id", "root_workflow_exec_id"];

    private static readonly WorkflowContext Context = new WorkflowContext("abc123", "my-workflow", "run_456").Normalize();

    private static readonly StoredTask Task = NewTask(1, "t1", "token");

    [Fact]
    public void An_in_progress_event_renders_byte_for_byte_as_the_wire_format_example()
    {
        var rendered = Render(new StoredEvent(42, 1_776_249_000_000_000_000, 1, EventType.CustomTaskInProgress, PayloadEncoding.Json,
            """{"tokens":["Hel","lo"]}"""u8.ToArray()));
        var eventId = JsonNode.Parse(rendered.JsonText)!["data"]!["event_id"]!.GetValue<string>();

        Assert.Equal(
            """{"stream":"token","broker_sequence":42,"timestamp":"2026-04-15T10:30:00.000Z","data":{"event_id":"EVENT_ID","event_timestamp":1776249000000000000,"root_workflow_exec_id":"abc123","parent_workflow_exec_id":null,"continued_run_id":null,"first_execution_run_id":null,"schedule_id":null,"workflow_exec_id":"abc123","workflow_run_id":"run_456","workflow_name":"my-workflow","event_type":"CUSTOM_TASK_IN_PROGRESS","attributes":{"custom_task_id":"t1","custom_task_type":"token","payload":{"type":"json","value":{"tokens":["Hel","lo"]}}}},"workflow_context":{"namespace":"default","workflow_name":"my-workflow","workflow_exec_id":"abc123","parent_workflow_exec_id":null,"root_workflow_exec_id":"abc123"}}"""
                .Replace("EVENT_ID", eventId, StringComparison.Ordinal),
            rendered.JsonText);
        Assert.Matches(EventIdPattern(), eventId);
        Assert.EndsWith("_42", eventId, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stream_event_carries_the_routing_facts_of_the_stored_event()
    {
        var rendered = Render(new StoredEvent(7, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));

        Assert.Equal(7, rendered.BrokerSequence);
        Assert.Equal("token", rendered.Stream);
        Assert.Equal("t1", rendered.TaskId);
        Assert.Equal(EventType.CustomTaskStarted, rendered.EventType);
        Assert.Equal(Timestamp, rendered.TimestampUnixNanoseconds);
    }

    public static TheoryData<EventType, PayloadEncoding, string?, string, string> EveryEventType => new()
    {
        { EventType.CustomTaskStarted, PayloadEncoding.Json, """{"progress":0}""", "CUSTOM_TASK_STARTED", """{"type":"json","value":{"progress":0}}""" },
        { EventType.CustomTaskInProgress, PayloadEncoding.Json, """{"progress":1}""", "CUSTOM_TASK_IN_PROGRESS", """{"type":"json","value":{"progress":1}}""" },
        { EventType.CustomTaskInProgress, PayloadEncoding.JsonPatch, """[{"op":"append","path":"/text","value":"lo"}]""", "CUSTOM_TASK_IN_PROGRESS", """{"type":"json_patch","value":[{"op":"append","path":"/text","value":"lo"}]}""" },
        { EventType.CustomTaskCompleted, PayloadEncoding.Json, """{"progress":3}""", "CUSTOM_TASK_COMPLETED", """{"type":"json","value":{"progress":3}}""" },
        { EventType.CustomTaskCompleted, PayloadEncoding.Json, "null", "CUSTOM_TASK_COMPLETED", """{"type":"json","value":null}""" },
        { EventType.CustomTaskStarted, PayloadEncoding.Json, "[1,\"two\",3.5,true]", "CUSTOM_TASK_STARTED", """{"type":"json","value":[1,"two",3.5,true]}""" },
    };

    [Theory]
    [MemberData(nameof(EveryEventType))]
    public void State_events_carry_the_payload_with_its_type(EventType type, PayloadEncoding encoding, string? body, string wireType, string payload)
    {
        var json = RenderJson(new StoredEvent(3, Timestamp, 1, type, encoding, Encoding.UTF8.GetBytes(body ?? "")));

        Assert.Equal(wireType, json["data"]!["event_type"]!.GetValue<string>());
        var attributes = json["data"]!["attributes"]!.AsObject();
        Assert.Equal(["custom_task_id", "custom_task_type", "payload"], attributes.Select(p => p.Key));
        Assert.Equal("t1", attributes["custom_task_id"]!.GetValue<string>());
        Assert.Equal("token", attributes["custom_task_type"]!.GetValue<string>());
        AssertJsonEqual(payload, attributes["payload"]);
        Assert.Equal(["type", "value"], attributes["payload"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void A_failed_event_carries_the_failure_message()
    {
        var json = RenderJson(new StoredEvent(3, Timestamp, 1, EventType.CustomTaskFailed, PayloadEncoding.None, EventRenderer.EncodeText("model overloaded")));

        Assert.Equal("CUSTOM_TASK_FAILED", json["data"]!["event_type"]!.GetValue<string>());
        var attributes = json["data"]!["attributes"]!.AsObject();
        Assert.Equal(["custom_task_id", "custom_task_type", "failure"], attributes.Select(p => p.Key));
        AssertJsonEqual("""{"message":"model overloaded"}""", attributes["failure"]);
    }

    [Theory]
    [InlineData("user pressed stop", "\"user pressed stop\"")]
    [InlineData(null, "null")]
    public void A_canceled_event_carries_its_reason_or_null(string? reason, string expected)
    {
        var json = RenderJson(new StoredEvent(3, Timestamp, 1, EventType.CustomTaskCanceled, PayloadEncoding.None, EventRenderer.EncodeText(reason)));

        Assert.Equal("CUSTOM_TASK_CANCELED", json["data"]!["event_type"]!.GetValue<string>());
        var attributes = json["data"]!["attributes"]!.AsObject();
        Assert.Equal(["custom_task_id", "custom_task_type", "reason"], attributes.Select(p => p.Key));
        AssertJsonEqual(expected, attributes["reason"]);
    }

    [Theory]
    [InlineData("inactivity", "\"inactivity\"")]
    [InlineData(null, "null")]
    public void A_timed_out_event_carries_the_timeout_type_or_null(string? timeoutType, string expected)
    {
        var json = RenderJson(new StoredEvent(3, Timestamp, 1, EventType.CustomTaskTimedOut, PayloadEncoding.None, EventRenderer.EncodeText(timeoutType)));

        Assert.Equal("CUSTOM_TASK_TIMED_OUT", json["data"]!["event_type"]!.GetValue<string>());
        var attributes = json["data"]!["attributes"]!.AsObject();
        Assert.Equal(["custom_task_id", "custom_task_type", "timeout_type"], attributes.Select(p => p.Key));
        AssertJsonEqual(expected, attributes["timeout_type"]);
    }

    public static TheoryData<EventType, PayloadEncoding, string> AllTypes => new()
    {
        { EventType.CustomTaskStarted, PayloadEncoding.Json, "{}" },
        { EventType.CustomTaskInProgress, PayloadEncoding.Json, "{}" },
        { EventType.CustomTaskInProgress, PayloadEncoding.JsonPatch, "[]" },
        { EventType.CustomTaskCompleted, PayloadEncoding.Json, "{}" },
        { EventType.CustomTaskFailed, PayloadEncoding.None, "\"boom\"" },
        { EventType.CustomTaskCanceled, PayloadEncoding.None, "" },
        { EventType.CustomTaskCanceled, PayloadEncoding.None, "\"why\"" },
        { EventType.CustomTaskTimedOut, PayloadEncoding.None, "" },
    };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_event_has_every_envelope_data_and_context_key_in_wire_order(EventType type, PayloadEncoding encoding, string body)
    {
        var json = RenderJson(new StoredEvent(9, Timestamp, 1, type, encoding, Encoding.UTF8.GetBytes(body)));

        Assert.Equal(EnvelopeKeys, json.Select(p => p.Key));
        Assert.Equal(DataKeys, json["data"]!.AsObject().Select(p => p.Key));
        Assert.Equal(ContextKeys, json["workflow_context"]!.AsObject().Select(p => p.Key));
        Assert.Equal(type.ToWireName(), json["data"]!["event_type"]!.GetValue<string>());
        Assert.Null(json["data"]!["continued_run_id"]);
        Assert.Null(json["data"]!["first_execution_run_id"]);
        Assert.Null(json["data"]!["schedule_id"]);
        Assert.All(["continued_run_id", "first_execution_run_id", "schedule_id", "parent_workflow_exec_id"],
            key => Assert.True(json["data"]!.AsObject().ContainsKey(key)));
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_event_parses_with_the_wire_model(EventType type, PayloadEncoding encoding, string body)
    {
        var rendered = Render(new StoredEvent(9, Timestamp, 1, type, encoding, Encoding.UTF8.GetBytes(body)));

        var envelope = rendered.ToEnvelope();
        var attributes = rendered.GetTaskAttributes();

        Assert.Equal("token", envelope.Stream);
        Assert.Equal(9, envelope.BrokerSequence);
        Assert.Equal(new DateTimeOffset(2026, 4, 15, 10, 30, 0, 123, TimeSpan.Zero), envelope.Timestamp);
        Assert.Equal(Timestamp, envelope.Data.EventTimestamp);
        Assert.Equal(type.ToWireName(), envelope.Data.EventType);
        Assert.Equal("abc123", envelope.Data.WorkflowExecId);
        Assert.Equal("abc123", envelope.Data.RootWorkflowExecId);
        Assert.Equal("run_456", envelope.Data.WorkflowRunId);
        Assert.Equal("my-workflow", envelope.Data.WorkflowName);
        Assert.Null(envelope.Data.ParentWorkflowExecId);
        Assert.Equal("default", envelope.WorkflowContext.Namespace);
        Assert.Equal("my-workflow", envelope.WorkflowContext.WorkflowName);
        Assert.Equal("abc123", envelope.WorkflowContext.WorkflowExecId);
        Assert.Equal("abc123", envelope.WorkflowContext.RootWorkflowExecId);
        Assert.Null(envelope.Metadata);
        Assert.Equal("t1", attributes.CustomTaskId);
        Assert.Equal("token", attributes.CustomTaskType);
        Assert.Equal(type is EventType.CustomTaskStarted or EventType.CustomTaskInProgress or EventType.CustomTaskCompleted, attributes.Payload is not null);
        Assert.Equal(type == EventType.CustomTaskFailed, attributes.Failure is not null);
    }

    [Fact]
    public void The_state_of_a_rendered_event_reads_back_typed()
    {
        var rendered = Render(new StoredEvent(4, Timestamp, 1, EventType.CustomTaskCompleted, PayloadEncoding.Json, """{"progress_idx":3,"tokens":["a","b"]}"""u8.ToArray()));

        var state = rendered.GetState<ProgressState>();

        Assert.NotNull(state);
        Assert.Equal(3, state.ProgressIdx);
        Assert.Equal(["a", "b"], state.Tokens);
    }

    [Fact]
    public void The_timestamp_is_iso_8601_utc_with_milliseconds_ending_in_z()
    {
        var json = RenderJson(new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));

        var timestamp = json["timestamp"]!.GetValue<string>();

        Assert.Equal("2026-04-15T10:30:00.123Z", timestamp);
        Assert.Equal(new DateTimeOffset(2026, 4, 15, 10, 30, 0, 123, TimeSpan.Zero),
            DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000Z")]
    [InlineData(999_999_999L, "1970-01-01T00:00:00.999Z")]                  // truncated, never rounded up to the next second
    [InlineData(1_776_249_059_999_900_000L, "2026-04-15T10:30:59.999Z")]
    [InlineData(4_102_444_800_001_000_000L, "2100-01-01T00:00:00.001Z")]
    public void The_timestamp_keeps_the_millisecond_the_event_was_numbered_in(long unixNanoseconds, string expected)
    {
        var json = RenderJson(new StoredEvent(1, unixNanoseconds, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));

        Assert.Equal(expected, json["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void The_event_timestamp_is_integer_nanoseconds_by_default()
    {
        var json = RenderJson(new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));

        var value = json["data"]!["event_timestamp"]!.AsValue();

        Assert.Equal(JsonValueKind.Number, value.GetValueKind());
        Assert.Equal(Timestamp, value.GetValue<long>());
        Assert.DoesNotContain(".", value.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_event_timestamp_is_integer_milliseconds_when_configured()
    {
        var renderer = new EventRenderer(Context, EventTimestampUnit.Milliseconds);

        var rendered = renderer.Render(Task, new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));
        var json = JsonNode.Parse(rendered.JsonText)!;

        Assert.Equal(1_776_249_000_123, json["data"]!["event_timestamp"]!.GetValue<long>());
        Assert.Equal("2026-04-15T10:30:00.123Z", json["timestamp"]!.GetValue<string>());
        Assert.Equal(Timestamp, rendered.TimestampUnixNanoseconds);
    }

    [Fact]
    public void Metadata_is_the_last_envelope_key_when_the_task_has_metadata()
    {
        var task = NewTask(2, "t2", "progress", metadata: """{"user":"u1","tags":["a"]}"""u8.ToArray());

        var json = JsonNode.Parse(new EventRenderer(Context, EventTimestampUnit.Nanoseconds)
            .Render(task, new StoredEvent(1, Timestamp, 2, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray())).JsonText)!.AsObject();

        Assert.Equal(EnvelopeKeysWithMetadata, json.Select(p => p.Key));
        AssertJsonEqual("""{"user":"u1","tags":["a"]}""", json["metadata"]);
    }

    [Fact]
    public void Empty_metadata_is_left_out()
    {
        var task = NewTask(2, "t2", "progress", metadata: []);

        var json = JsonNode.Parse(new EventRenderer(Context, EventTimestampUnit.Nanoseconds)
            .Render(task, new StoredEvent(1, Timestamp, 2, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray())).JsonText)!.AsObject();

        Assert.Equal(EnvelopeKeys, json.Select(p => p.Key));
    }

    [Fact]
    public void Parent_and_root_of_a_child_workflow_are_written_in_data_and_context()
    {
        var child = new WorkflowContext("child_1", "child-flow", ParentWorkflowExecId: "parent_1", RootWorkflowExecId: "root_1", Namespace: "tenant").Normalize();

        var rendered = new EventRenderer(child, EventTimestampUnit.Nanoseconds)
            .Render(NewTask(1, "t1", "token", runId: "child_1"), new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));
        var envelope = rendered.ToEnvelope();

        Assert.Equal("parent_1", envelope.Data.ParentWorkflowExecId);
        Assert.Equal("root_1", envelope.Data.RootWorkflowExecId);
        Assert.Equal("child_1", envelope.Data.WorkflowExecId);
        Assert.Equal("parent_1", envelope.WorkflowContext.ParentWorkflowExecId);
        Assert.Equal("root_1", envelope.WorkflowContext.RootWorkflowExecId);
        Assert.Equal("tenant", envelope.WorkflowContext.Namespace);
    }

    [Fact]
    public void Quotes_backslashes_control_characters_and_non_ascii_are_escaped_into_json_that_round_trips()
    {
        const string Name = "Résumé \"quoted\" back\\slash 🚀 日本 \u2028 </script>";
        const string Odd = "id\"with\\odd\n\t\u0001chars é";
        const string Message = "Failed: \"bad\" C:\\path\r\n\u0000\u001f tab\t ünïcödé 🚀 \u2029";
        // The execution id and namespace make the event id, so they must be valid; everything else is only escaped.
        var context = new WorkflowContext("abc123", Name, Odd, Odd + "-parent", Odd + "-root");
        var task = new StoredTask(1, Odd + "-task", "topic\"\\\u0002", Odd + "-run", null, CustomTaskStatus.Running, 1, null);

        var rendered = new EventRenderer(context, EventTimestampUnit.Nanoseconds)
            .Render(task, new StoredEvent(5, Timestamp, 1, EventType.CustomTaskFailed, PayloadEncoding.None, EventRenderer.EncodeText(Message)));
        using var document = JsonDocument.Parse(rendered.Json);
        var envelope = rendered.ToEnvelope();
        var attributes = rendered.GetTaskAttributes();

        Assert.Equal("topic\"\\\u0002", envelope.Stream);
        Assert.Equal(Name, envelope.Data.WorkflowName);
        Assert.Equal(Name, envelope.WorkflowContext.WorkflowName);
        Assert.Equal("abc123", envelope.Data.WorkflowExecId);
        Assert.Equal(Odd + "-run", envelope.Data.WorkflowRunId);
        Assert.Equal(Odd + "-parent", envelope.Data.ParentWorkflowExecId);
        Assert.Equal(Odd + "-root", envelope.Data.RootWorkflowExecId);
        Assert.Equal("default", envelope.WorkflowContext.Namespace);
        Assert.Equal(Odd + "-root", envelope.WorkflowContext.RootWorkflowExecId);
        Assert.Equal(Odd + "-parent", envelope.WorkflowContext.ParentWorkflowExecId);
        Assert.Equal(Odd + "-task", attributes.CustomTaskId);
        Assert.Equal("topic\"\\\u0002", attributes.CustomTaskType);
        Assert.Equal(Message, attributes.Failure!.Message);
        Assert.DoesNotContain(rendered.Json.ToArray(), b => b < 0x20);
    }

    [Fact]
    public void A_lone_surrogate_in_a_failure_message_is_replaced_so_the_event_stays_valid_json()
    {
        var message = "broken " + '\uD800' + " text";

        var rendered = Render(new StoredEvent(5, Timestamp, 1, EventType.CustomTaskFailed, PayloadEncoding.None, EventRenderer.EncodeText(message)));

        Assert.Equal("broken \uFFFD text", rendered.GetTaskAttributes().Failure!.Message);
    }

    [Fact]
    public void The_event_id_is_stable_for_an_execution_and_sequence()
    {
        var stored = new StoredEvent(17, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray());

        var first = EventId(new EventRenderer(Context, EventTimestampUnit.Nanoseconds).Render(Task, stored));
        var again = EventId(new EventRenderer(Context, EventTimestampUnit.Milliseconds).Render(NewTask(1, "t1", "token"), stored with { TimestampUnixNanoseconds = 1 }));

        Assert.Equal(first, again);
        Assert.Matches(EventIdPattern(), first);
    }

    [Fact]
    public void Event_ids_differ_across_sequences_and_executions()
    {
        var stored = new StoredEvent(17, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray());
        var renderer = new EventRenderer(Context, EventTimestampUnit.Nanoseconds);
        var ids = new HashSet<string>(StringComparer.Ordinal);

        for (var sequence = 1; sequence <= 200; sequence++)
        {
            Assert.True(ids.Add(EventId(renderer.Render(Task, stored with { Sequence = sequence }))));
        }

        Assert.True(ids.Add(EventId(new EventRenderer(Context with { WorkflowExecId = "abc124" }, EventTimestampUnit.Nanoseconds).Render(Task, stored))));
        Assert.True(ids.Add(EventId(new EventRenderer(Context with { Namespace = "other" }, EventTimestampUnit.Nanoseconds).Render(Task, stored))));
    }

    [Fact]
    public void Events_of_different_tasks_of_one_execution_carry_each_task_s_own_facts()
    {
        var renderer = new EventRenderer(Context, EventTimestampUnit.Nanoseconds);
        var tokens = NewTask(1, "t1", "token");
        var progress = NewTask(2, "t2", "progress", runId: "run_999", metadata: """{"m":2}"""u8.ToArray());

        var a = renderer.Render(tokens, new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));
        var b = renderer.Render(progress, new StoredEvent(2, Timestamp, 2, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray()));
        var c = renderer.Render(tokens, new StoredEvent(3, Timestamp, 1, EventType.CustomTaskInProgress, PayloadEncoding.Json, "{}"u8.ToArray()));

        Assert.Equal(("token", "t1", "run_456", false), Facts(a));
        Assert.Equal(("progress", "t2", "run_999", true), Facts(b));
        Assert.Equal(("token", "t1", "run_456", false), Facts(c));

        static (string, string, string, bool) Facts(StreamEvent e)
        {
            var envelope = e.ToEnvelope();
            return (envelope.Stream, e.GetTaskAttributes().CustomTaskId, envelope.Data.WorkflowRunId, envelope.Metadata is not null);
        }
    }

    [Fact]
    public void A_new_task_row_with_a_reused_task_number_is_rendered_with_its_own_facts()
    {
        var renderer = new EventRenderer(Context, EventTimestampUnit.Nanoseconds);
        var stored = new StoredEvent(1, Timestamp, 1, EventType.CustomTaskStarted, PayloadEncoding.Json, "{}"u8.ToArray());

        renderer.Render(NewTask(1, "t1", "token"), stored);
        var reloaded = renderer.Render(NewTask(1, "t9", "other"), stored with { Sequence = 2 });

        Assert.Equal("other", reloaded.ToEnvelope().Stream);
        Assert.Equal("t9", reloaded.GetTaskAttributes().CustomTaskId);
    }

    [Fact]
    public void Encode_text_writes_a_json_string_or_nothing_for_null()
    {
        Assert.Empty(EventRenderer.EncodeText(null));
        Assert.Equal("\"plain\"", Encoding.UTF8.GetString(EventRenderer.EncodeText("plain")));
        Assert.Equal("a \"b\" \\ é\n🚀", JsonSerializer.Deserialize<string>(EventRenderer.EncodeText("a \"b\" \\ é\n🚀")));
    }

    private static StoredTask NewTask(int taskNo, string taskId, string topic, string runId = "run_456", byte[]? metadata = null) =>
        new(taskNo, taskId, topic, runId, metadata, CustomTaskStatus.Running, 1, null);

    private static StreamEvent Render(StoredEvent stored) => new EventRenderer(Context, EventTimestampUnit.Nanoseconds).Render(Task, stored);

    private static JsonObject RenderJson(StoredEvent stored) => JsonNode.Parse(Render(stored).JsonText)!.AsObject();

    private static string EventId(StreamEvent e) => e.ToEnvelope().Data.EventId;

    private static void AssertJsonEqual(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"Expected {expected} but got {actual?.ToJsonString() ?? "null"}.");

    [GeneratedRegex("^evt_[0-9a-f]{16}_[0-9]+$")]
    private static partial Regex EventIdPattern();

    private sealed record ProgressState(int ProgressIdx, IReadOnlyList<string> Tokens);
}
