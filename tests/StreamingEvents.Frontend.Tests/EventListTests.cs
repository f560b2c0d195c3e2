using System.Net;
using System.Text.Json;
using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// <c>GET /v1/workflows/events/list</c>: JSON pages <c>{"events":[…],"next_cursor":…}</c> of the events' <c>data</c>
/// objects (not envelopes); following <c>next_cursor</c> until it is null covers every matching event exactly once.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class EventListTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task Paging_by_root_with_cursor_and_limit_until_next_cursor_is_null_lists_every_event_exactly_once_in_order()
    {
        var root = Api.NewId("list-root");
        var executions = new[] { Api.NewId("list-x"), Api.NewId("list-y"), Api.NewId("list-z") };
        await Api.PublishTaskAsync(executions[0], updates: 3, rootId: root);
        await Api.PublishTaskAsync(executions[1], updates: 1, rootId: root);
        await Api.PublishTaskAsync(executions[2], updates: 0, rootId: root);
        await Api.PublishTaskAsync(executions[2], updates: 0, rootId: root, type: "progress");
        await Api.PublishTaskAsync(Api.NewId("list-other"), updates: 1);

        var pages = await ListAllAsync(Query.List().Set("root_workflow_exec_id", root).Set("limit", 4));
        var listed = pages.SelectMany(p => p).ToList();

        Assert.All(pages, page => Assert.InRange(page.Count, 0, 4));
        Assert.Equal(12, listed.Count);
        Assert.Equal(listed.Count, listed.Select(e => e.GetProperty("event_id").GetString()).Distinct().Count());

        // The very data objects the SSE envelopes carry, each execution in sequence order.
        foreach (var exec in executions)
        {
            await using var history = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE"));
            var expected = (await history.WaitForEndAsync()).Select(r => r.Json.GetProperty("data")).ToList();
            var actual = listed.Where(e => e.GetProperty("workflow_exec_id").GetString() == exec).ToList();
            Assert.Equal(expected.Count, actual.Count);
            Assert.All(expected.Zip(actual), pair => Assert.True(JsonElement.DeepEquals(pair.First, pair.Second), $"{pair.First} != {pair.Second}"));
        }
    }

    [Fact]
    public async Task A_page_holds_data_objects_and_the_last_page_says_next_cursor_null()
    {
        var exec = Api.NewId("list-shape");
        await Api.PublishTaskAsync(exec, updates: 1);

        using var response = await Api.Http.GetAsync(Query.List().Set("workflow_exec_id", exec).Set("limit", 100));
        var body = await Api.ExpectAsync(response, HttpStatusCode.OK);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("next_cursor").ValueKind);
        var events = body.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED"], events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.All(events, e =>
        {
            Assert.False(e.TryGetProperty("broker_sequence", out _), "A listed event is the data object, not the envelope.");
            Assert.False(e.TryGetProperty("workflow_context", out _), "A listed event is the data object, not the envelope.");
            Assert.Equal(exec, e.GetProperty("workflow_exec_id").GetString());
        });
    }

    [Fact]
    public async Task Workflow_exec_id_and_workflow_run_id_select_the_events_of_that_execution_and_run()
    {
        var exec = Api.NewId("list-run");
        var firstRun = Api.NewId("run");
        var secondRun = Api.NewId("run");
        await Api.PublishTaskAsync(exec, updates: 1, runId: firstRun);
        await Api.PublishTaskAsync(exec, updates: 2, runId: secondRun);
        await Api.PublishTaskAsync(Api.NewId("list-run-other"), updates: 1, runId: secondRun);

        var byExecution = (await ListAllAsync(Query.List().Set("workflow_exec_id", exec).Set("limit", 2))).SelectMany(p => p).ToList();
        var byExecutionAndRun = (await ListAllAsync(Query.List().Set("workflow_exec_id", exec).Set("workflow_run_id", secondRun))).SelectMany(p => p).ToList();
        var byRun = (await ListAllAsync(Query.List().Set("workflow_run_id", firstRun).Set("limit", 1000))).SelectMany(p => p).ToList();

        Assert.Equal(7, byExecution.Count);
        Assert.All(byExecution, e => Assert.Equal(exec, e.GetProperty("workflow_exec_id").GetString()));
        Assert.Equal(4, byExecutionAndRun.Count);
        Assert.All(byExecutionAndRun, e => Assert.Equal(secondRun, e.GetProperty("workflow_run_id").GetString()));
        Assert.Equal(3, byRun.Count);
        Assert.All(byRun, e => Assert.Equal((exec, firstRun), (e.GetProperty("workflow_exec_id").GetString(), e.GetProperty("workflow_run_id").GetString())));
    }

    /// <summary>Follows <c>next_cursor</c> until it is null (at most 200 pages).</summary>
    private async Task<List<List<JsonElement>>> ListAllAsync(Query first)
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            var query = cursor is null ? first : first.Set("cursor", cursor);
            using var response = await Api.Http.GetAsync(query);
            var body = await Api.ExpectAsync(response, HttpStatusCode.OK);
            pages.Add([.. body.GetProperty("events").EnumerateArray()]);
            cursor = body.GetProperty("next_cursor").GetString();
            Assert.True(pages.Count < 200, "next_cursor never became null.");
        }
        while (cursor is not null);

        return pages;
    }
}
