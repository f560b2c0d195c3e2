using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// Every envelope the service sends follows the facts of <c>shared/spec/wire-format.md</c> (Mistral's schema), for every
/// custom-task event type reachable over HTTP. (CUSTOM_TASK_TIMED_OUT needs a short inactivity timeout: it is checked on
/// the compatibility server, in <see cref="MistralSdkTests"/>.)
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class WireFormatTests(SharedServer fixture)
{
    private static readonly string[] NoTokens = [];
    private static readonly string[] HelloTokens = ["Hel", "lo"];
    private static readonly object[] Patch = [new { op = "add", path = "/tokens/-", value = "!" }, new { op = "append", path = "/text", value = "lo" }];

    private Api Api => fixture.Api;

    [Fact]
    public async Task Every_record_of_a_stream_covering_every_custom_task_event_type_matches_the_wire_format()
    {
        var (exec, expected) = await PublishEveryTypeAsync();

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_exec_id", exec));
        var records = await stream.WaitForEventAsync(exec, expected.Count);

        Assert.Equal(expected.Select(e => e.Type), records.Select(r => r.EventType));
        Assert.All(records, r => WireFormat.AssertEnvelope(r, TimestampUnit.Nanoseconds));
    }

    [Fact]
    public async Task Envelopes_carry_the_published_context_states_patches_failures_reasons_and_metadata()
    {
        var (exec, expected) = await PublishEveryTypeAsync();

        var records = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), expected.Count);

        foreach (var (record, (type, task)) in records.Zip(expected))
        {
            var data = record.Json.GetProperty("data");
            var attributes = data.GetProperty("attributes");
            Assert.Equal(task, attributes.GetProperty("custom_task_id").GetString());
            Assert.Equal(("wire-workflow", "wire-root", "wire-parent", "wire-run"), (data.GetProperty("workflow_name").GetString(),
                data.GetProperty("root_workflow_exec_id").GetString(), data.GetProperty("parent_workflow_exec_id").GetString(), data.GetProperty("workflow_run_id").GetString()));
            var context = record.Json.GetProperty("workflow_context");
            Assert.Equal(("default", exec, "wire-parent", "wire-root"), (context.GetProperty("namespace").GetString(), context.GetProperty("workflow_exec_id").GetString(),
                context.GetProperty("parent_workflow_exec_id").GetString(), context.GetProperty("root_workflow_exec_id").GetString()));
            Assert.StartsWith("evt_", data.GetProperty("event_id").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(records.Count, records.Select(r => r.Json.GetProperty("data").GetProperty("event_id").GetString()).Distinct().Count());
        Assert.Equal("""{"type":"json","value":{"tokens":[],"text":""}}""", Attributes(records[0]).GetProperty("payload").GetRawText());
        Assert.Equal("""{"type":"json","value":{"tokens":["Hel","lo"],"text":"Hel"}}""", Attributes(records[1]).GetProperty("payload").GetRawText());
        Assert.Equal("json_patch", Attributes(records[2]).GetProperty("payload").GetProperty("type").GetString());
        Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(Patch), Attributes(records[2]).GetProperty("payload").GetProperty("value")));
        Assert.Equal("""{"type":"json","value":{"tokens":["Hel","lo","!"],"text":"Hello"}}""", Attributes(records[3]).GetProperty("payload").GetRawText());
        Assert.Equal("""{"message":"boom"}""", Attributes(records[5]).GetProperty("failure").GetRawText());
        Assert.Equal("user stop", Attributes(records[7]).GetProperty("reason").GetString());
        Assert.True(!Attributes(records[9]).TryGetProperty("reason", out var reason) || reason.ValueKind == JsonValueKind.Null, records[9].Data);

        // Metadata belongs to the task that was given some, on every one of its events; it is absent elsewhere.
        Assert.All(records.Take(4), r => Assert.Equal("""{"user":"ann","n":1}""", r.Json.GetProperty("metadata").GetRawText()));
        Assert.All(records.Skip(4), r => Assert.False(r.Json.TryGetProperty("metadata", out _), r.Data));
    }

    [Fact]
    public async Task A_root_execution_has_a_null_parent_and_itself_as_root_in_data_and_context()
    {
        var exec = Api.NewId("wire-root");
        await Api.PublishTaskAsync(exec, updates: 0);

        var record = (await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), 1))[0];

        WireFormat.AssertEnvelope(record, TimestampUnit.Nanoseconds);
        var data = record.Json.GetProperty("data");
        Assert.Equal(JsonValueKind.Null, data.GetProperty("parent_workflow_exec_id").ValueKind);
        Assert.Equal(exec, data.GetProperty("root_workflow_exec_id").GetString());
        Assert.Equal(exec, data.GetProperty("workflow_run_id").GetString());
        Assert.Equal("workflow", data.GetProperty("workflow_name").GetString());
    }

    [Fact]
    public async Task Wildcard_and_executions_route_records_carry_envelopes_of_the_same_format()
    {
        var name = Api.NewId("wf");
        var exec = Api.NewId("wire-wild");
        await Api.PublishTaskAsync(exec, updates: 1, workflowName: name, activityName: "llm", activityId: "a1");

        var wildcard = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_name", name), 3);
        await using var history = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE"));

        Assert.All(wildcard.Concat(await history.WaitForEndAsync()), r => WireFormat.AssertEnvelope(r, TimestampUnit.Nanoseconds));
    }

    private static void Expect(List<(string Type, string Task)> expected, string taskId, params string[] types) =>
        expected.AddRange(types.Select(type => (type, taskId)));

    private static JsonElement Attributes(EventRecord record) => record.Json.GetProperty("data").GetProperty("attributes");

    /// <summary>Started, in progress (json and json_patch), completed, failed and canceled (with and without a reason).</summary>
    private async Task<(string Exec, List<(string Type, string Task)> Expected)> PublishEveryTypeAsync()
    {
        var exec = Api.NewId("wire");
        var expected = new List<(string Type, string Task)>();
        var tokens = await Api.StartTaskAsync(exec, "token", new { tokens = NoTokens, text = string.Empty }, "wire-workflow", "wire-root", "wire-parent", "wire-run",
            new { user = "ann", n = 1 }, "llm", "act-1");
        await Api.UpdateAsync(tokens.TaskId, new { tokens = HelloTokens, text = "Hel" });
        await Api.PatchAsync(tokens.TaskId, Patch);
        await Api.CompleteAsync(tokens.TaskId, new { tokens = (string[])[.. HelloTokens, "!"], text = "Hello" });
        Expect(expected, tokens.TaskId, "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED");

        var failing = await Api.StartTaskAsync(exec, "progress", new { step = 0 }, "wire-workflow", "wire-root", "wire-parent", "wire-run");
        await Api.FailAsync(failing.TaskId, "boom");
        Expect(expected, failing.TaskId, "CUSTOM_TASK_STARTED", "CUSTOM_TASK_FAILED");

        var canceled = await Api.StartTaskAsync(exec, "search_result", new { hits = 0 }, "wire-workflow", "wire-root", "wire-parent", "wire-run");
        await Api.CancelAsync(canceled.TaskId, "user stop");
        Expect(expected, canceled.TaskId, "CUSTOM_TASK_STARTED", "CUSTOM_TASK_CANCELED");

        var silent = await Api.StartTaskAsync(exec, "progress.v2", 0, "wire-workflow", "wire-root", "wire-parent", "wire-run");
        await Api.CancelAsync(silent.TaskId);
        Expect(expected, silent.TaskId, "CUSTOM_TASK_STARTED", "CUSTOM_TASK_CANCELED");
        return (exec, expected);
    }
}
