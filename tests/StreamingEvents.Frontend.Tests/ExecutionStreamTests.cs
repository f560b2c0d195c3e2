using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// <c>GET /v1/workflows/executions/{execution_id}/stream</c>: DATABASE is the history up to the head and then the end of
/// the response, LIVE only what is published after connecting, HYBRID (the default) history then live.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class ExecutionStreamTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task Database_returns_the_history_up_to_the_head_and_then_ends_the_response()
    {
        var exec = Api.NewId("db");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        await Api.UpdateAsync(task.TaskId, new { n = 1 });
        await Api.UpdateAsync(task.TaskId, new { n = 2 });

        await using var stream = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE"));
        var records = await stream.WaitForEndAsync();

        Assert.Equal(ResumeTests.Sequences(1, 3), records.Select(r => r.Sequence));

        // Resumed with last_event_id, it replays the rest of the history, including what was published since.
        await Api.CompleteAsync(task.TaskId, new { n = 2 });
        await using var rest = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE").Set("last_event_id", 2));
        Assert.Equal([3L, 4L], (await rest.WaitForEndAsync()).Select(r => r.Sequence));
    }

    [Fact]
    public async Task Database_on_an_execution_that_published_nothing_ends_at_once_with_no_record()
    {
        await using var stream = await Api.StreamAsync(Query.Execution(Api.NewId("db-empty")).Set("event_source", "DATABASE"));

        Assert.Empty(await stream.WaitForEndAsync());
    }

    [Fact]
    public async Task Live_delivers_only_events_published_after_connecting_with_no_gap_from_the_first_one()
    {
        var exec = Api.NewId("live");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        var history = await Api.UpdateAsync(task.TaskId, new { n = 1 });

        await using var stream = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "LIVE"));

        // The server attaches the live subscription after the headers; publish until the first live record shows up.
        var firstArrived = stream.WaitForCountAsync(1);
        var published = new List<long>();
        for (var i = 2; i <= 200 && !firstArrived.IsCompleted; i++)
        {
            published.Add(await Api.UpdateAsync(task.TaskId, new { n = i }));
        }

        await firstArrived;
        var last = await Api.CompleteAsync(task.TaskId, new { n = 0 });
        var records = await stream.WaitForEventAsync(exec, last);

        Assert.True(records[0].Sequence > history, $"LIVE replayed history: the first record is {records[0].Sequence}.");
        Assert.Equal(ResumeTests.Sequences(records[0].Sequence, last), records.Select(r => r.Sequence));
        Assert.Contains(records[0].Sequence, published);
    }

    [Fact]
    public async Task Hybrid_is_the_default_and_gives_history_then_live()
    {
        var exec = Api.NewId("hybrid");
        var task = await Api.StartTaskAsync(exec, state: new { n = 0 });
        await Api.UpdateAsync(task.TaskId, new { n = 1 });

        await using var byDefault = await Api.StreamAsync(Query.Execution(exec));
        await using var explicitly = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "HYBRID"));
        await byDefault.WaitForEventAsync(exec, 2);
        await explicitly.WaitForEventAsync(exec, 2);
        await Api.UpdateAsync(task.TaskId, new { n = 2 });
        var last = await Api.CompleteAsync(task.TaskId, new { n = 2 });

        Assert.Equal(ResumeTests.Sequences(1, last), (await byDefault.WaitForEventAsync(exec, last)).Select(r => r.Sequence));
        Assert.Equal(ResumeTests.Sequences(1, last), (await explicitly.WaitForEventAsync(exec, last)).Select(r => r.Sequence));
    }

    [Fact]
    public async Task The_executions_route_carries_the_same_envelopes_as_the_events_route()
    {
        var exec = Api.NewId("same");
        await Api.PublishTaskAsync(exec, updates: 2, metadata: new { user = "ann" }, activityName: "llm");

        await using var database = await Api.StreamAsync(Query.Execution(exec).Set("event_source", "DATABASE"));
        var fromExecutions = await database.WaitForEndAsync();
        var fromEvents = await Api.TakeAsync(Query.MistralDefaults().Set("workflow_exec_id", exec), 4);

        Assert.Equal(fromEvents.Select(r => r.Data), fromExecutions.Select(r => r.Data));
        Assert.Equal(fromEvents.Select(r => r.Id), fromExecutions.Select(r => r.Id));
    }
}
