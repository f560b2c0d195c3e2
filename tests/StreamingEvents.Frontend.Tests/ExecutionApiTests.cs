using System.Net;
using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// An execution's lifecycle over HTTP as Mistral's API has it: start / complete / fail for publishers in other
/// languages, <c>GET /v1/workflows/executions/{id}</c> and a cancel that ends its open tasks; and the merge of
/// <c>{"update": …}</c> into a task's state.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class ExecutionApiTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task An_execution_publishes_its_start_its_tasks_and_its_result_in_one_sequence_and_reports_its_status()
    {
        var exec = Api.NewId("life");
        using var started = await Api.PostAsync($"v1/workflows/executions/{exec}/start",
            new { workflow_name = "chat", input = new { question = "why?" }, display_name = "Chat about why" });
        Assert.Equal(1, (await Api.ExpectAsync(started, HttpStatusCode.Created)).GetProperty("broker_sequence").GetInt64());
        Assert.Equal("RUNNING", (await GetAsync(exec)).GetProperty("status").GetString());

        var task = await Api.StartTaskAsync(exec, state: new { text = string.Empty, draft = true }, workflowName: "chat");
        await Api.PatchAsync(task.TaskId, new object[] { new { op = "append", path = "/text", value = "42" }, new { op = "remove", path = "/draft" } });
        await Api.CompleteAsync(task.TaskId);
        using var completed = await Api.PostAsync($"v1/workflows/executions/{exec}/complete", new { result = new { answer = 42 } });
        var last = (await Api.ExpectAsync(completed, HttpStatusCode.OK)).GetProperty("broker_sequence").GetInt64();

        var records = await Api.TakeAsync(From(exec, 0), (int)last);
        Assert.Equal(
            ["WORKFLOW_EXECUTION_STARTED", "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED", "WORKFLOW_EXECUTION_COMPLETED"],
            records.Select(r => r.EventType));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), records.Select(r => r.Sequence));
        WireFormat.AssertAll(records);

        var start = Attributes(records[0]);
        Assert.Equal("chat", start.GetProperty("workflow_name").GetString());
        Assert.Equal("Chat about why", start.GetProperty("display_name").GetString());
        Assert.Equal("why?", start.GetProperty("input").GetProperty("value").GetProperty("question").GetString());
        Assert.Equal(42, Attributes(records[4]).GetProperty("result").GetProperty("value").GetProperty("answer").GetInt32());

        var execution = await GetAsync(exec);
        Assert.Equal("COMPLETED", execution.GetProperty("status").GetString());
        Assert.Equal("chat", execution.GetProperty("workflow_name").GetString());
        Assert.Equal(exec, execution.GetProperty("execution_id").GetString());
        Assert.Equal(exec, execution.GetProperty("root_execution_id").GetString());
        Assert.Equal(42, execution.GetProperty("result").GetProperty("answer").GetInt32());
        Assert.True(execution.GetProperty("end_time").GetDateTimeOffset() >= execution.GetProperty("start_time").GetDateTimeOffset());
        Assert.True(execution.GetProperty("total_duration_ms").GetInt64() >= 0);

        // Ended: nothing more is published to it.
        using var late = await Api.PostAsync("v1/tasks", new { type = "token", state = 1, workflow_context = new { workflow_exec_id = exec, workflow_name = "chat" } });
        await Problems.AssertProblemAsync(late, HttpStatusCode.Conflict, "execution_finished");
    }

    [Fact]
    public async Task A_cancel_ends_the_open_tasks_then_the_execution_and_further_updates_are_refused()
    {
        var exec = Api.NewId("cancel");
        using (var started = await Api.PostAsync($"v1/workflows/executions/{exec}/start", new { workflow_name = "chat" }))
        {
            await Api.ExpectAsync(started, HttpStatusCode.Created);
        }

        var first = await Api.StartTaskAsync(exec, state: new { text = "a" }, workflowName: "chat");
        var second = await Api.StartTaskAsync(exec, state: new { text = "b" }, workflowName: "chat");
        using var cancel = await Api.PostAsync($"v1/workflows/executions/{exec}/cancel", new { reason = "stop generating" });
        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);

        var records = await Api.TakeAsync(From(exec, 4), 3);
        Assert.Equal(["CUSTOM_TASK_CANCELED", "CUSTOM_TASK_CANCELED", "WORKFLOW_EXECUTION_CANCELED"], records.Select(r => r.EventType));
        Assert.Equal([first.TaskId, second.TaskId], records.Take(2).Select(r => r.TaskId).Order());
        Assert.Equal("stop generating", Attributes(records[2]).GetProperty("reason").GetString());
        WireFormat.AssertAll(records);
        Assert.Equal("CANCELED", (await GetAsync(exec)).GetProperty("status").GetString());

        using var update = await Api.PostAsync($"v1/tasks/{first.TaskId}/state", new { update = new { text = "more" } });
        Assert.Equal(HttpStatusCode.Conflict, update.StatusCode);

        // Canceling again changes nothing.
        using var again = await Api.PostAsync($"v1/workflows/executions/{exec}/cancel", new { });
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal(6, (await Api.TakeAsync(From(exec, 0), 6)).Count);
        Assert.Equal(6, (await StreamInfoAsync(exec)).GetProperty("head").GetInt64());
    }

    [Fact]
    public async Task A_failure_of_the_execution_ends_its_open_tasks_first()
    {
        var exec = Api.NewId("fail");
        using (var started = await Api.PostAsync($"v1/workflows/executions/{exec}/start", new { workflow_name = "chat" }))
        {
            await Api.ExpectAsync(started, HttpStatusCode.Created);
        }

        await Api.StartTaskAsync(exec, state: 1, workflowName: "chat");
        using var failed = await Api.PostAsync($"v1/workflows/executions/{exec}/fail", new { message = "the model went away" });
        Assert.Equal(4, (await Api.ExpectAsync(failed, HttpStatusCode.OK)).GetProperty("broker_sequence").GetInt64());

        var records = await Api.TakeAsync(From(exec, 3), 2);
        Assert.Equal(["CUSTOM_TASK_CANCELED", "WORKFLOW_EXECUTION_FAILED"], records.Select(r => r.EventType));
        Assert.Equal("the model went away", Attributes(records[1]).GetProperty("failure").GetProperty("message").GetString());
        Assert.Equal("FAILED", (await GetAsync(exec)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_execution_published_without_a_lifecycle_is_running_while_it_has_open_tasks()
    {
        var exec = Api.NewId("plain");
        var task = await Api.StartTaskAsync(exec, state: 1);
        Assert.Equal("RUNNING", (await GetAsync(exec)).GetProperty("status").GetString());

        await Api.CompleteAsync(task.TaskId);
        var execution = await GetAsync(exec);
        Assert.Equal("COMPLETED", execution.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("result").ValueKind);
    }

    [Fact]
    public async Task An_unknown_execution_is_a_404_problem_for_get_and_cancel()
    {
        var exec = Api.NewId("nobody");
        using var get = await Api.Http.GetAsync($"v1/workflows/executions/{exec}");
        await Problems.AssertProblemAsync(get, HttpStatusCode.NotFound, "execution_not_found");
        using var cancel = await Api.PostAsync($"v1/workflows/executions/{exec}/cancel", new { });
        await Problems.AssertProblemAsync(cancel, HttpStatusCode.NotFound, "execution_not_found");
    }

    [Fact]
    public async Task An_update_is_merged_into_the_state_and_whole_state_consumers_see_the_merged_state()
    {
        var exec = Api.NewId("merge");
        var task = await Api.StartTaskAsync(exec, state: new { progress_total = 4, progress_current = 0, title = "Loading" });

        var sequence = await SequenceAsync($"v1/tasks/{task.TaskId}/state", new { update = new { progress_current = 1 } });
        await SequenceAsync($"v1/tasks/{task.TaskId}/state", new { update = new { progress_current = 2, note = "half" } });

        using var get = await Api.Http.GetAsync($"v1/tasks/{task.TaskId}");
        var state = (await Api.ExpectAsync(get, HttpStatusCode.OK)).GetProperty("state");
        Assert.Equal("""{"progress_total":4,"progress_current":2,"title":"Loading","note":"half"}""", state.GetRawText());

        var whole = await Api.TakeAsync(From(exec, sequence).Set("state_mode", "full"), 2);
        var states = whole.Select(r => Attributes(r).GetProperty("payload")).ToList();
        Assert.True(states.All(payload => payload.GetProperty("type").GetString() == "json"), string.Join("\n", whole.Select(r => r.Data)));
        Assert.Equal(4, states[0].GetProperty("value").GetProperty("progress_total").GetInt32());
        Assert.Equal(1, states[0].GetProperty("value").GetProperty("progress_current").GetInt32());
        Assert.Equal("half", states[1].GetProperty("value").GetProperty("note").GetString());
        WireFormat.AssertAll(await Api.TakeAsync(From(exec, 0), 3));
    }

    [Fact]
    public async Task A_merge_into_a_state_that_is_not_an_object_is_a_400_problem_and_publishes_nothing()
    {
        var exec = Api.NewId("merge-scalar");
        var task = await Api.StartTaskAsync(exec, state: "just text");

        using var merge = await Api.PostAsync($"v1/tasks/{task.TaskId}/state", new { update = new { more = 1 } });
        await Problems.AssertProblemAsync(merge, HttpStatusCode.BadRequest, "invalid_payload");
        Assert.Equal(1, (await StreamInfoAsync(exec)).GetProperty("head").GetInt64());
    }

    /// <summary>The execution's events from <paramref name="sequence"/> on, as Mistral's SDKs ask for them.</summary>
    private static Query From(string exec, long sequence) => Query.MistralDefaults().Set("workflow_exec_id", exec).Set("start_seq", sequence);

    private async Task<long> SequenceAsync(string path, object body)
    {
        using var response = await Api.PostAsync(path, body);
        return (await Api.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("broker_sequence").GetInt64();
    }

    private async Task<JsonElement> GetAsync(string exec)
    {
        using var response = await Api.Http.GetAsync($"v1/workflows/executions/{exec}");
        return await Api.ExpectAsync(response, HttpStatusCode.OK);
    }

    private async Task<JsonElement> StreamInfoAsync(string exec)
    {
        using var response = await Api.Http.GetAsync($"v1/streams/{exec}");
        return await Api.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static JsonElement Attributes(EventRecord record) => record.Json.GetProperty("data").GetProperty("attributes");
}
