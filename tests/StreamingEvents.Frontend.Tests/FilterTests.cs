using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// The filters of <c>GET /v1/workflows/events/stream</c>, sent as Mistral's clients send them: every parameter present,
/// <c>*</c> for the unset ones, <c>start_seq=0</c>. Each test publishes matching and non-matching events in one execution
/// and ends with a matching one, so receiving that last one proves nothing else was due.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class FilterTests(SharedServer fixture)
{
    private static readonly string[] OneToken = ["x"];
    private static readonly string[] OneTag = ["a"];

    private Api Api => fixture.Api;

    [Fact]
    public async Task Every_parameter_set_to_star_delivers_every_event_of_every_topic_scope_and_type()
    {
        var exec = Api.NewId("star");
        var tokens = await Api.StartTaskAsync(exec, "token", metadata: new { user = "ann" }, activityName: "llm", activityId: "act-1");
        var progress = await Api.StartTaskAsync(exec, "progress", new { step = 0 });
        await Api.UpdateAsync(tokens.TaskId, new { tokens = OneToken });
        await Api.FailAsync(progress.TaskId, "boom");
        var last = await Api.CancelAsync(tokens.TaskId, "stop");

        var query = Query.MistralDefaults().Set("workflow_exec_id", exec).Add("workflow_event_types", "*").Add("metadata_filters", "*");
        var records = await Api.TakeAsync(query, (int)last);

        Assert.Equal(ResumeTests.Sequences(1, 5), records.Select(r => r.Sequence));
        Assert.Equal(["token", "progress", "token", "progress", "token"], records.Select(r => r.Stream));
    }

    [Fact]
    public async Task Stream_selects_one_topic_and_keeps_the_sequence_numbers_of_the_execution()
    {
        var exec = Api.NewId("topic");
        var tokens = await Api.StartTaskAsync(exec, "token");
        var progress = await Api.StartTaskAsync(exec, "progress", new { step = 0 });
        var expected = new List<long> { progress.Sequence };
        for (var i = 1; i <= 3; i++)
        {
            await Api.UpdateAsync(tokens.TaskId, new { tokens = new[] { $"t{i}" } });
            expected.Add(await Api.UpdateAsync(progress.TaskId, new { step = i }));
        }

        await Api.CompleteAsync(tokens.TaskId, new { tokens = OneToken });
        expected.Add(await Api.CompleteAsync(progress.TaskId, new { step = 3 }));

        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("stream", "progress"), exec, expected);

        // start_seq is a position in the execution's numbering, whatever the topic.
        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("stream", "progress").Set("start_seq", expected[2]), exec, expected[2..]);
    }

    [Fact]
    public async Task Workflow_event_types_select_those_types_as_a_repeated_parameter_and_as_a_comma_list()
    {
        var exec = Api.NewId("types");
        var first = await Api.StartTaskAsync(exec, state: new { n = 0 });
        var progress1 = await Api.UpdateAsync(first.TaskId, new { n = 1 });
        var completed = await Api.CompleteAsync(first.TaskId, new { n = 1 });
        var second = await Api.StartTaskAsync(exec, state: new { n = 0 });
        var progress2 = await Api.PatchAsync(second.TaskId, new[] { new { op = "replace", path = "/n", value = 2 } });
        var failed = await Api.FailAsync(second.TaskId, "no");
        var third = await Api.StartTaskAsync(exec, state: new { n = 0 });
        var canceled = await Api.CancelAsync(third.TaskId);

        var repeated = Query.MistralDefaults().Set("workflow_exec_id", exec)
            .Add("workflow_event_types", "CUSTOM_TASK_STARTED").Add("workflow_event_types", "CUSTOM_TASK_CANCELED");
        await ExpectExactlyAsync(repeated, exec, [first.Sequence, second.Sequence, third.Sequence, canceled]);

        var commaList = Query.MistralDefaults().Set("workflow_exec_id", exec).Add("workflow_event_types", "CUSTOM_TASK_IN_PROGRESS,CUSTOM_TASK_COMPLETED,CUSTOM_TASK_FAILED");
        await ExpectExactlyAsync(commaList, exec, [progress1, completed, progress2, failed]);
    }

    [Fact]
    public async Task Metadata_filters_select_the_tasks_whose_metadata_holds_every_given_value()
    {
        var exec = Api.NewId("meta");
        var ann = await Api.PublishTaskAsync(exec, updates: 1, metadata: new { user = "ann", tier = 2, tags = OneTag });
        var bob = await Api.PublishTaskAsync(exec, updates: 1, metadata: new { user = "bob", tier = 2 });
        await Api.PublishTaskAsync(exec, updates: 1);
        var annAgain = await Api.PublishTaskAsync(exec, updates: 0, metadata: new { user = "ann", tier = 3 });

        await ExpectExactlyAsync(Metadata(exec, """{"user":"ann"}"""), exec, [.. ann, .. annAgain]);
        await ExpectExactlyAsync(Metadata(exec, """{"tier":2}"""), exec, [.. ann, .. bob]);
        await ExpectExactlyAsync(Metadata(exec, """{"user":"ann","tier":3}"""), exec, annAgain);
        await ExpectExactlyAsync(Metadata(exec, """{"tags":["a"]}"""), exec, ann);
    }

    [Fact]
    public async Task Scope_separates_tasks_published_by_an_activity_from_tasks_published_by_the_workflow()
    {
        var exec = Api.NewId("scope");
        var workflow1 = await Api.PublishTaskAsync(exec, updates: 1);
        var activity1 = await Api.PublishTaskAsync(exec, updates: 1, activityName: "search", activityId: "a1");
        var workflow2 = await Api.PublishTaskAsync(exec, updates: 0);
        var activity2 = await Api.PublishTaskAsync(exec, updates: 0, activityName: "search", activityId: "a2");

        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("scope", "workflow"), exec, [.. workflow1, .. workflow2]);
        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("scope", "activity"), exec, [.. activity1, .. activity2]);
    }

    [Fact]
    public async Task Activity_name_and_activity_id_select_the_tasks_of_that_activity()
    {
        var exec = Api.NewId("activity");
        var search1 = await Api.PublishTaskAsync(exec, updates: 1, activityName: "search", activityId: "s1");
        var summarize = await Api.PublishTaskAsync(exec, updates: 1, activityName: "summarize", activityId: "z1");
        await Api.PublishTaskAsync(exec, updates: 0);
        var search2 = await Api.PublishTaskAsync(exec, updates: 0, activityName: "search", activityId: "s2");

        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("activity_name", "search"), exec, [.. search1, .. search2]);
        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("activity_id", "s1"), exec, search1);
        await ExpectExactlyAsync(Query.MistralDefaults().Set("workflow_exec_id", exec).Set("activity_name", "summarize").Set("scope", "activity"), exec, summarize);
    }

    [Fact]
    public async Task Filters_apply_to_a_wildcard_stream_too()
    {
        var name = Api.NewId("wf");
        var a = Api.NewId("wild-filter-a");
        var b = Api.NewId("wild-filter-b");
        await Api.PublishTaskAsync(a, updates: 1, type: "progress", workflowName: name);
        var tokensA = await Api.PublishTaskAsync(a, updates: 2, workflowName: name, metadata: new { user = "ann" });
        var tokensB = await Api.PublishTaskAsync(b, updates: 1, workflowName: name, metadata: new { user = "ann" });
        await Api.PublishTaskAsync(b, updates: 1, workflowName: name, metadata: new { user = "bob" });
        var lastB = await Api.PublishTaskAsync(b, updates: 0, workflowName: name, metadata: new { user = "ann" });

        var query = Query.MistralDefaults().Set("workflow_name", name).Set("stream", "token").Set("metadata_filters", """{"user":"ann"}""")
            .Add("workflow_event_types", "CUSTOM_TASK_IN_PROGRESS").Add("workflow_event_types", "CUSTOM_TASK_COMPLETED");
        await using var stream = await Api.StreamAsync(query);
        var records = await stream.WaitAsync(r => r.Any(x => x.ExecId == a && x.Sequence == tokensA[^1]) && r.Any(x => x.ExecId == b && x.Sequence == lastB[^1]), "the last events");

        Assert.Equal(tokensA[1..], records.Where(r => r.ExecId == a).Select(r => r.Sequence));
        Assert.Equal([.. tokensB[1..], lastB[^1]], records.Where(r => r.ExecId == b).Select(r => r.Sequence));
    }

    private static Query Metadata(string exec, string json) => Query.MistralDefaults().Set("workflow_exec_id", exec).Set("metadata_filters", json);

    private async Task ExpectExactlyAsync(Query query, string exec, IReadOnlyList<long> expected)
    {
        await using var stream = await Api.StreamAsync(query);
        var records = await stream.WaitForEventAsync(exec, expected[^1]);
        Assert.Equal(expected, records.Select(r => r.Sequence));
    }
}
