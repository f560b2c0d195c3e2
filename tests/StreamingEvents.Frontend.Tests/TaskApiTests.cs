using System.Net;
using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>Publishing over HTTP (<c>/v1/tasks</c>) and reading tasks and streams back (<c>/v1/tasks/{id}</c>, <c>/v1/streams</c>).</summary>
[Collection(SharedServerCollection.Name)]
public sealed class TaskApiTests(SharedServer fixture)
{
    private static readonly object[] AppendHello =
    [
        new { op = "append", path = "/text", value = "Hel" },
        new { op = "append", path = "/text", value = "lo" },
        new { op = "add", path = "/tokens/-", value = "Hello" },
        new { op = "replace", path = "/step", value = 2 },
        new { op = "remove", path = "/draft" },
    ];

    private Api Api => fixture.Api;

    [Fact]
    public async Task Creating_a_task_answers_201_with_its_location_ids_and_first_sequence()
    {
        var exec = Api.NewId("create");

        using var response = await Api.PostAsync("v1/tasks", new { type = "token", state = new { }, workflow_context = new { workflow_exec_id = exec } });
        var body = await Api.ExpectAsync(response, HttpStatusCode.Created);

        var taskId = body.GetProperty("task_id").GetString()!;
        Assert.Equal($"/v1/tasks/{taskId}", response.Headers.Location?.OriginalString);
        Assert.Equal("token", body.GetProperty("stream").GetString());
        Assert.Equal(1, body.GetProperty("broker_sequence").GetInt64());
        Assert.Equal("default", body.GetProperty("namespace").GetString());
        Assert.Equal(exec, body.GetProperty("workflow_exec_id").GetString());
    }

    [Fact]
    public async Task A_task_without_a_workflow_context_gets_a_new_execution_of_its_own()
    {
        using var first = await Api.PostAsync("v1/tasks", new { type = "token", state = 1 });
        using var second = await Api.PostAsync("v1/tasks", new { type = "token", state = 1 });
        var a = await Api.ExpectAsync(first, HttpStatusCode.Created);
        var b = await Api.ExpectAsync(second, HttpStatusCode.Created);

        Assert.NotEqual(a.GetProperty("workflow_exec_id").GetString(), b.GetProperty("workflow_exec_id").GetString());
        Assert.Equal(1, b.GetProperty("broker_sequence").GetInt64());
    }

    /// <summary>As published: every operation carries <c>value</c> (Mistral's Python SDK requires it), <c>null</c> for a remove.</summary>
    private static readonly object?[] AppendHelloPublished =
    [
        .. AppendHello[..^1],
        new { op = "remove", path = "/draft", value = (object?)null },
    ];

    [Fact]
    public async Task A_patch_is_published_as_json_patch_operations_and_applied_to_the_task_state()
    {
        var exec = Api.NewId("patch");
        var task = await Api.StartTaskAsync(exec, state: new { text = string.Empty, tokens = Array.Empty<string>(), step = 1, draft = true });

        var sequence = await Api.PatchAsync(task.TaskId, AppendHello);
        var record = (await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", sequence), 1))[0];
        using var get = await Api.Http.GetAsync($"v1/tasks/{task.TaskId}");
        var info = await Api.ExpectAsync(get, HttpStatusCode.OK);

        var payload = record.Json.GetProperty("data").GetProperty("attributes").GetProperty("payload");
        Assert.Equal("json_patch", payload.GetProperty("type").GetString());
        Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(AppendHelloPublished), payload.GetProperty("value")), payload.ToString());
        Assert.Equal("""{"text":"Hello","tokens":["Hello"],"step":2}""", info.GetProperty("state").GetRawText());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("{}")]
    public async Task Completing_without_a_state_publishes_the_current_state_as_the_final_one(string? body)
    {
        var exec = Api.NewId("complete");
        var task = await Api.StartTaskAsync(exec, state: new { text = string.Empty, tokens = Array.Empty<string>(), step = 1, draft = true });
        await Api.PatchAsync(task.TaskId, AppendHello);

        using var response = body is null
            ? await Api.Http.PostAsync($"v1/tasks/{task.TaskId}/complete", content: null)
            : await Api.PostRawAsync($"v1/tasks/{task.TaskId}/complete", body);
        var completed = (await Api.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("broker_sequence").GetInt64();

        var record = (await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", completed), 1))[0];
        Assert.Equal("CUSTOM_TASK_COMPLETED", record.EventType);
        var payload = record.Json.GetProperty("data").GetProperty("attributes").GetProperty("payload");
        Assert.Equal("json", payload.GetProperty("type").GetString());
        Assert.Equal("""{"text":"Hello","tokens":["Hello"],"step":2}""", payload.GetProperty("value").GetRawText());
    }

    [Fact]
    public async Task Get_task_reports_status_sequences_activity_and_current_state()
    {
        var exec = Api.NewId("get-task");
        var task = await Api.StartTaskAsync(exec, "progress", new { step = 0 }, activityName: "search", activityId: "a-1");
        await Api.UpdateAsync(task.TaskId, new { step = 1 });

        using var running = await Api.Http.GetAsync($"v1/tasks/{task.TaskId}");
        var before = await Api.ExpectAsync(running, HttpStatusCode.OK);
        var terminal = await Api.FailAsync(task.TaskId, "gave up");
        using var failed = await Api.Http.GetAsync($"v1/tasks/{task.TaskId}");
        var after = await Api.ExpectAsync(failed, HttpStatusCode.OK);

        Assert.Equal("running", before.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("terminal_sequence").ValueKind);
        Assert.Equal("""{"step":1}""", before.GetProperty("state").GetRawText());
        Assert.Equal(("progress", exec, 1L), (before.GetProperty("type").GetString(), before.GetProperty("workflow_exec_id").GetString(), before.GetProperty("started_sequence").GetInt64()));
        Assert.Equal(("search", "a-1"), (before.GetProperty("activity_name").GetString(), before.GetProperty("activity_id").GetString()));
        Assert.Equal("failed", after.GetProperty("status").GetString());
        Assert.Equal(terminal, after.GetProperty("terminal_sequence").GetInt64());
    }

    [Fact]
    public async Task The_streams_routes_report_an_execution_head_retention_and_tasks_and_list_executions_by_workflow_name()
    {
        var name = Api.NewId("wf");
        var exec = Api.NewId("streams");
        await Api.PublishTaskAsync(exec, updates: 2, workflowName: name);
        await Api.StartTaskAsync(exec, workflowName: name);
        await Api.PublishTaskAsync(Api.NewId("streams-2"), updates: 0, workflowName: name);

        using var one = await Api.Http.GetAsync($"v1/streams/{exec}");
        var stream = await Api.ExpectAsync(one, HttpStatusCode.OK);
        using var list = await Api.Http.GetAsync(new Query("v1/streams").Set("workflow_name", name));
        var listed = (await Api.ExpectAsync(list, HttpStatusCode.OK)).GetProperty("streams").EnumerateArray().ToList();

        Assert.Equal((exec, name, 5L, 1L, 2, 1), (stream.GetProperty("workflow_exec_id").GetString(), stream.GetProperty("workflow_name").GetString(),
            stream.GetProperty("head").GetInt64(), stream.GetProperty("oldest_retained").GetInt64(), stream.GetProperty("task_count").GetInt32(), stream.GetProperty("open_tasks").GetInt32()));
        Assert.Equal(2, listed.Count);
        Assert.Equal(exec, listed[1].GetProperty("workflow_exec_id").GetString());
    }
}
