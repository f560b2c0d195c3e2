using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>The guarantees of the product spec, against a running cluster. Runs once per storage backend.</summary>
public abstract class StreamSemanticsTests(ClusterFixture fixture)
{
    protected IStreamingEventsClient Client => fixture.Client;

    [Fact]
    public async Task Every_event_of_every_topic_gets_the_next_number_of_its_execution_starting_at_one()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var tokens = await streams.StartTaskAsync("token", new Tokens([]));
        var progress = await streams.StartTaskAsync("progress", new Progress(0, 3));
        var search = await streams.StartTaskAsync("search_result", new JsonObject { ["hits"] = 0 });
        for (var i = 1; i <= 3; i++)
        {
            await tokens.UpdateStateAsync(new Tokens([.. tokens.State.Items, $"t{i}"]));
            await progress.UpdateStateAsync(new Progress(i, 3));
            await search.UpdateStateAsync(new JsonObject { ["hits"] = i });
        }

        await tokens.DisposeAsync();
        await progress.DisposeAsync();
        await search.DisposeAsync();

        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal(Enumerable.Range(1, 15).Select(i => (long)i), events.Select(e => e.BrokerSequence));
        foreach (var (task, type) in new[] { (tokens.TaskId, "token"), (progress.TaskId, "progress"), (search.TaskId, "search_result") })
        {
            var own = events.Where(e => e.TaskId == task).ToList();
            Assert.All(own, e => Assert.Equal(type, e.Stream));
            Assert.Equal(EventType.CustomTaskStarted, own[0].EventType);
            Assert.Equal(EventType.CustomTaskCompleted, Assert.Single(own, e => e.IsTerminal).EventType);
            Assert.Equal(3, own.Count(e => e.EventType == EventType.CustomTaskInProgress));
        }

        Assert.Equal(["t1", "t2", "t3"], events.Last(e => e.TaskId == tokens.TaskId).GetState<Tokens>()!.Items);
        Assert.Equal(3, events.Last(e => e.TaskId == search.TaskId).GetState<JsonObject>()!["hits"]!.GetValue<int>());
    }

    [Fact]
    public async Task Subscribing_from_n_replays_history_from_n_then_continues_live()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("token", new Tokens([]));
        for (var i = 0; i < 150; i++)
        {
            await task.UpdateStateAsync(new Tokens([$"{i}"]));
        }

        await using var subscriber = new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.FromSequence(42), cancellationToken: ct));
        var history = await subscriber.WaitForCountAsync(151 - 41);
        Assert.Equal(Sequence(42, 151), history.Select(e => e.BrokerSequence));

        for (var i = 0; i < 20; i++)
        {
            await task.UpdateStateAsync(new Tokens([$"live {i}"]));
        }

        await task.DisposeAsync();
        var all = await subscriber.WaitForCountAsync(172 - 41);
        Assert.Equal(Sequence(42, 172), all.Select(e => e.BrokerSequence));
        Assert.Equal(EventType.CustomTaskCompleted, all[^1].EventType);
        Assert.Equal(["live 19"], all[^1].GetState<Tokens>()!.Items);
    }

    [Fact]
    public async Task Resuming_with_last_sequence_plus_one_continues_without_gap_or_duplicate()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("token", new Tokens([]));
        for (var i = 0; i < 10; i++)
        {
            await task.UpdateStateAsync(new Tokens([$"{i}"]));
        }

        var first = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync(5);
        var resumed = await streams.SubscribeAsync(StreamPosition.After(first[^1].BrokerSequence)).TakeAsync(6);
        Assert.Equal(Sequence(1, 11), first.Concat(resumed).Select(e => e.BrokerSequence));
    }

    [Fact]
    public async Task A_topic_filter_delivers_exactly_the_events_of_that_topic()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using (var tokens = await streams.StartTaskAsync("token", 0))
        await using (var progress = await streams.StartTaskAsync("progress", 0))
        {
            for (var i = 1; i <= 5; i++)
            {
                await tokens.UpdateStateAsync(i);
                await progress.UpdateStateAsync(i);
            }
        }

        var all = await ReadAllAsync(streams.Execution);
        var expected = all.Where(e => e.Stream == "progress").Select(e => e.BrokerSequence).ToList();
        var filtered = await streams.SubscribeAsync(StreamPosition.Start, "progress").TakeAsync(expected.Count);
        Assert.Equal(expected, filtered.Select(e => e.BrokerSequence));
        Assert.Equal(7, expected.Count);
    }

    [Fact]
    public async Task A_position_above_the_head_waits_for_that_number()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("progress", 0);
        await using var subscriber = new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.FromSequence(5), cancellationToken: ct));
        for (var i = 1; i <= 6; i++)
        {
            await task.UpdateStateAsync(i);
        }

        var received = await subscriber.WaitForCountAsync(3);
        Assert.Equal([5L, 6, 7], received.Select(e => e.BrokerSequence));
    }

    [Fact]
    public async Task Live_position_delivers_only_events_published_after_subscribing()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("progress", 0);
        await task.UpdateStateAsync(1);
        var info = await streams.GetStreamInfoAsync();
        await using var subscriber = new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.Live, cancellationToken: ct));

        // When the subscription attaches is not observable from here, so publish until the first event arrives:
        // every step awaits a real acknowledgement, and the count bounds the loop.
        var arrived = subscriber.WaitForCountAsync(1);
        for (var i = 0; i < 500 && !arrived.IsCompleted; i++)
        {
            await task.UpdateStateAsync(2);
        }

        var first = (await subscriber.WaitForCountAsync(1))[0];
        Assert.True(first.BrokerSequence > info.Head, $"Live delivered {first.BrokerSequence}, at or below the head {info.Head} at subscription.");
    }

    [Fact]
    public async Task Subscribers_that_start_at_random_positions_while_tasks_publish_at_full_speed_see_the_exact_sequence()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        string[] topics = ["token", "progress", "search_result"];
        var random = new Random(1234);
        const int Tasks = 6;
        const int UpdatesPerTask = 150;
        var subscribers = new List<(long From, string? Topic, Collector<StreamEvent> Collector)>();
        try
        {
            var publishers = Enumerable.Range(0, Tasks).Select(async t =>
            {
                await using var task = await streams.StartTaskAsync(topics[t % topics.Length], new Tokens([]));
                var pending = new List<Task<long>>();
                for (var i = 0; i < UpdatesPerTask; i++)
                {
                    // Pipelined: several updates in flight at once, as a fast token stream does.
                    pending.Add(task.UpdateStateAsync(new Tokens([$"{t}:{i}"])));
                    if (pending.Count == 16)
                    {
                        await Task.WhenAll(pending);
                        pending.Clear();
                    }
                }

                await Task.WhenAll(pending);
            }).ToList();

            // Subscribers join while the publishers run, at positions behind, at and ahead of the head.
            while (publishers.Any(p => !p.IsCompleted) && subscribers.Count < 12)
            {
                var head = (await streams.GetStreamInfoAsync()).Head;
                var from = Math.Max(1, head + random.Next(-200, 20));
                var topic = subscribers.Count % 3 == 2 ? topics[random.Next(topics.Length)] : null;
                subscribers.Add((from, topic, new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.FromSequence(from), topic, ct))));
                await Task.Yield();
            }

            await Task.WhenAll(publishers).Within(TimeSpan.FromMinutes(2));
            var all = await ReadAllAsync(streams.Execution);
            Assert.Equal(Sequence(1, Tasks * (UpdatesPerTask + 2)), all.Select(e => e.BrokerSequence));
            Assert.NotEmpty(subscribers);
            foreach (var (from, topic, collector) in subscribers)
            {
                var expected = all.Where(e => e.BrokerSequence >= from && (topic is null || e.Stream == topic)).Select(e => e.BrokerSequence).ToList();
                var received = await collector.WaitForCountAsync(expected.Count, TimeSpan.FromMinutes(1));
                Assert.Equal(expected, received.Select(e => e.BrokerSequence));
            }
        }
        finally
        {
            foreach (var (_, _, collector) in subscribers)
            {
                await collector.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Leaving_the_scope_twice_publishes_one_completed_event_and_later_updates_are_refused()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("progress", new Progress(0, 1));
        await task.UpdateStateAsync(new Progress(1, 1));
        await task.DisposeAsync();
        await task.DisposeAsync();

        Assert.Equal(CustomTaskStatus.Completed, task.Status);
        await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => task.UpdateStateAsync(new Progress(2, 1)));
        await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => task.FailAsync("late"));
        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal([EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskCompleted], events.Select(e => e.EventType));
        Assert.Equal(new Progress(1, 1), events[^1].GetState<Progress>());
        Assert.Equal(CustomTaskStatus.Completed, (await Client.GetTaskAsync(task.TaskId)).Status);
    }

    [Fact]
    public async Task The_task_grain_refuses_a_second_terminal_event_even_from_another_caller()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("progress", 0);
        await task.CompleteAsync();
        var grain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, task.TaskId));
        var refused = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => grain.FinishAsync(PublishRequest.Of(TaskEventDraft.Failed("again"))));
        Assert.Equal(CustomTaskStatus.Completed, refused.Status);
        await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress("1"u8.ToArray())])));
        Assert.Equal(2, (await ReadAllAsync(streams.Execution)).Count);
    }

    [Fact]
    public async Task A_body_that_throws_publishes_failed_with_its_message_and_the_exception_reaches_the_caller()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => streams.RunTaskAsync<Progress, int>("progress", new Progress(0, 2), async (task, ct) =>
        {
            await task.UpdateStateAsync(new Progress(1, 2), ct);
            throw new InvalidOperationException("the model went away");
        }));

        Assert.Equal("the model went away", thrown.Message);
        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal([EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskFailed], events.Select(e => e.EventType));
        Assert.Equal("the model went away", events[^1].GetTaskAttributes().Failure!.Message);
    }

    [Fact]
    public async Task A_body_that_returns_publishes_completed_with_the_last_state()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var result = await streams.RunTaskAsync<Tokens, string>("token", new Tokens([]), async (task, ct) =>
        {
            foreach (var token in HelloTokens)
            {
                await task.UpdateStateAsync(new Tokens([.. task.State.Items, token]), ct);
            }

            return string.Concat(task.State.Items);
        });

        Assert.Equal("Hello", result);
        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal(EventType.CustomTaskCompleted, events[^1].EventType);
        Assert.Equal(["Hel", "lo"], events[^1].GetState<Tokens>()!.Items);
    }

    [Fact]
    public async Task Cancellation_publishes_canceled_both_from_the_scope_and_from_run_task()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        using (var canceled = new CancellationTokenSource())
        {
            await using var task = await streams.StartTaskAsync("progress", 0, canceled.Token);
            await task.UpdateStateAsync(1);
            await canceled.CancelAsync();
        }

        using var run = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streams.RunTaskAsync<int, int>("progress", 0, async (task, ct) =>
        {
            await task.UpdateStateAsync(1, ct);
            await run.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return 0;
        }, run.Token));

        var terminals = (await ReadAllAsync(streams.Execution)).Where(e => e.IsTerminal).ToList();
        Assert.Equal([EventType.CustomTaskCanceled, EventType.CustomTaskCanceled], terminals.Select(e => e.EventType));
    }

    [Fact]
    public async Task An_event_over_one_mebibyte_is_refused_before_numbering_and_the_task_stays_usable()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("token", "");
        var probeSequence = await task.UpdateStateAsync(new string('a', 100));
        var probe = (await ReadAllAsync(streams.Execution)).Single(e => e.BrokerSequence == probeSequence);
        var overhead = probe.Json.Length - 102; // the JSON string's quotes and 100 characters

        // Payloads whose envelope (same digit count of the sequence) is exactly the limit, and one byte over.
        var atLimit = new string('b', StreamingLimits.MaxEventBytes - overhead - 2);
        var overLimit = atLimit + "b";
        var tooLarge = await Assert.ThrowsAsync<EventTooLargeException>(() => task.UpdateStateAsync(overLimit));
        Assert.Equal(StreamingLimits.MaxEventBytes + 1, tooLarge.SizeBytes);
        await Assert.ThrowsAsync<EventTooLargeException>(() => task.UpdateStateAsync(new string('c', StreamingLimits.MaxEventBytes + 10)));

        var accepted = await task.UpdateStateAsync(atLimit);
        Assert.Equal(probeSequence + 1, accepted);
        var atLimitEvent = (await ReadAllAsync(streams.Execution)).Single(e => e.BrokerSequence == accepted);
        Assert.Equal(StreamingLimits.MaxEventBytes, atLimitEvent.Json.Length);
        Assert.Equal(accepted + 1, await task.UpdateStateAsync("small again"));
    }

    [Theory]
    [InlineData("Token")]
    [InlineData("")]
    [InlineData("token stream")]
    [InlineData("tökens")]
    [InlineData("a/b")]
    public async Task A_stream_name_outside_the_rule_is_refused_with_the_rule(string name)
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var refused = await Assert.ThrowsAsync<InvalidStreamNameException>(() => streams.StartTaskAsync(name, 0));
        Assert.Contains("lowercase letters a-z, digits 0-9, '_', '-' and '.'", refused.Message, StringComparison.Ordinal);

        // The server enforces the same rule for callers that bypass the SDK.
        var start = new TaskStart(TaskOptions.NewTaskId(), streams.Context, name, "0"u8.ToArray());
        await Assert.ThrowsAsync<InvalidStreamNameException>(() => fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, start.TaskId)).StartAsync(start));
    }

    [Fact]
    public async Task Names_at_the_limits_of_the_rule_are_accepted()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var longest = await streams.StartTaskAsync(new string('a', 128), 0);
        await using var symbols = await streams.StartTaskAsync("search_result.v2-beta", 0);
        await Assert.ThrowsAsync<InvalidStreamNameException>(() => streams.StartTaskAsync(new string('a', 129), 0));
    }

    [Fact]
    public async Task Raw_json_states_and_metadata_round_trip()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var initial = JsonDocument.Parse("""{"tokens":[],"nested":{"x":[1,2.5,null,true]}}""").RootElement;
        await using (var task = await streams.StartTaskAsync("token", initial, new TaskOptions { Metadata = new { Source = "test", Attempt = 2 } }))
        {
            await task.UpdateStateAsync(JsonDocument.Parse("""{"tokens":["é","😀"],"nested":null}""").RootElement);
        }

        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal(JsonSerializer.Serialize(initial), JsonSerializer.Serialize(events[0].GetState<JsonElement>()));
        Assert.Equal("😀", events[1].GetState<JsonElement>().GetProperty("tokens")[1].GetString());
        var metadata = events[2].ToEnvelope().Metadata!.Value;
        Assert.Equal("test", metadata.GetProperty("source").GetString());
        Assert.Equal(2, metadata.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Events_follow_the_wire_format()
    {
        var context = ClusterFixture.NewExecution("wire-test") with { ParentWorkflowExecId = "parent-1", RootWorkflowExecId = "root-1", WorkflowRunId = "run-9" };
        var streams = Client.ForExecution(context);
        await using (var task = await streams.StartTaskAsync("token", new Tokens([])))
        {
            await task.UpdateStateAsync(new Tokens(["a"]));
        }

        foreach (var streamEvent in await ReadAllAsync(streams.Execution))
        {
            using var json = JsonDocument.Parse(streamEvent.Json);
            var root = json.RootElement;
            Assert.Equal(["stream", "broker_sequence", "timestamp", "data", "workflow_context"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal("token", root.GetProperty("stream").GetString());
            Assert.Equal(streamEvent.BrokerSequence, root.GetProperty("broker_sequence").GetInt64());
            Assert.True(DateTimeOffset.TryParse(root.GetProperty("timestamp").GetString(), out _));
            var data = root.GetProperty("data");
            Assert.Equal(
                ["event_id", "event_timestamp", "root_workflow_exec_id", "parent_workflow_exec_id", "continued_run_id", "first_execution_run_id",
                 "schedule_id", "workflow_exec_id", "workflow_run_id", "workflow_name", "event_type", "attributes"],
                data.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.Number, data.GetProperty("event_timestamp").ValueKind);
            Assert.Equal("root-1", data.GetProperty("root_workflow_exec_id").GetString());
            Assert.Equal("parent-1", data.GetProperty("parent_workflow_exec_id").GetString());
            Assert.Equal(JsonValueKind.Null, data.GetProperty("continued_run_id").ValueKind);
            Assert.Equal("run-9", data.GetProperty("workflow_run_id").GetString());
            Assert.Equal("wire-test", data.GetProperty("workflow_name").GetString());
            var attributes = data.GetProperty("attributes");
            Assert.Equal(streamEvent.TaskId, attributes.GetProperty("custom_task_id").GetString());
            Assert.Equal("token", attributes.GetProperty("custom_task_type").GetString());
            Assert.Equal("json", attributes.GetProperty("payload").GetProperty("type").GetString());
            var workflowContext = root.GetProperty("workflow_context");
            Assert.Equal("default", workflowContext.GetProperty("namespace").GetString());
            Assert.Equal(context.WorkflowExecId, workflowContext.GetProperty("workflow_exec_id").GetString());
        }
    }

    [Fact]
    public async Task Json_patch_updates_are_published_as_patches_and_the_task_keeps_the_patched_state()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var started = await streams.StartTaskAsync("token", new JsonObject { ["text"] = "" });
        var grain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, started.TaskId));
        await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Patch("""[{"op":"append","path":"/text","value":"Hel"}]"""u8.ToArray())]));
        await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Patch("""[{"op":"append","path":"/text","value":"lo"}]"""u8.ToArray())]));
        await Assert.ThrowsAsync<InvalidPayloadException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Patch("""[{"op":"append","path":"/missing","value":"x"}]"""u8.ToArray())])));
        await grain.FinishAsync(PublishRequest.Of(TaskEventDraft.Completed()));

        var events = await ReadAllAsync(streams.Execution);
        Assert.Equal(4, events.Count);
        Assert.Equal("json_patch", events[1].GetTaskAttributes().Payload!.Type);
        Assert.Equal("Hello", events[^1].GetState<JsonObject>()!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Commits_too_large_for_one_push_message_reach_live_subscribers_without_waiting_for_the_idle_probe()
    {
        // A client whose idle probe never fires within the test: what it receives after catching up came by the push.
        var pushOnly = new StreamingEventsClient(fixture.Cluster.Client,
            Options.Create(new StreamingEventsClientOptions { IdleProbeInterval = TimeSpan.FromHours(1) }), NullLogger<StreamingEventsClient>.Instance);
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var started = await streams.StartTaskAsync("token", "");
        var grain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, started.TaskId));

        await using var live = pushOnly.SubscribeAsync(streams.Execution, StreamPosition.FromSequence(2)).GetAsyncEnumerator();
        var second = live.MoveNextAsync().AsTask();
        await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress("\"small\""u8.ToArray())]));
        Assert.True(await second.Within());
        Assert.Equal(2, live.Current.BrokerSequence);

        // One commit of 1.2 MB: the memory stream refuses messages over 1 MiB, so it must be pushed in parts. Nothing
        // else is published meanwhile, so a lost push would show no gap and wait for the (hour-long) probe.
        static byte[] State(int chars) => Encoding.UTF8.GetBytes($"\"{new string('x', chars)}\"");
        await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress(State(400_000)), TaskEventDraft.Progress(State(400_000)), TaskEventDraft.Progress(State(400_000))]));
        Assert.Equal([3L, 4, 5], await NextSequencesAsync(3));

        // One event close to the 1 MiB cap: too large for any push message, announced by the push and read from storage.
        await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress(State(1_047_000))]));
        Assert.Equal([6L], await NextSequencesAsync(1));
        Assert.True(live.Current.Json.Length > 1_047_000);

        async Task<List<long>> NextSequencesAsync(int count)
        {
            var sequences = new List<long>();
            while (sequences.Count < count && await live.MoveNextAsync().AsTask().Within(TimeSpan.FromSeconds(30)))
            {
                sequences.Add(live.Current.BrokerSequence);
            }

            return sequences;
        }
    }

    [Fact]
    public async Task Patches_that_would_nest_the_state_deeper_than_the_limit_are_refused_and_nothing_is_numbered()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        const int levels = 40;
        var deep = new string('[', levels) + new string(']', levels);
        var started = await streams.StartTaskAsync("token", JsonNode.Parse(deep)!);
        var grain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, started.TaskId));

        // The patch alone is within the limit; the state it builds is not: the innermost array gets another deep array.
        var innermost = "/" + string.Join('/', Enumerable.Repeat("0", levels - 1)) + "/-";
        var error = await Assert.ThrowsAsync<InvalidPayloadException>(() =>
            grain.UpdateAsync(new PublishRequest([TaskEventDraft.Patch(Encoding.UTF8.GetBytes($$"""[{"op":"add","path":"{{innermost}}","value":{{deep}}}]"""))])));
        Assert.Contains("patched state", error.Message, StringComparison.Ordinal);

        // The refused patch took no number and left the state as it was.
        Assert.Equal(2L, (await grain.UpdateAsync(new PublishRequest([TaskEventDraft.Patch("""[{"op":"replace","path":"","value":[]}]"""u8.ToArray())]))).LastSequence);
        Assert.Equal("[]", (await Client.GetTaskStateAsync(streams.Execution, started.TaskId))!.ToJsonString());
    }

    [Fact]
    public async Task Unknown_tasks_and_bad_payloads_get_typed_errors()
    {
        var client = fixture.Cluster.Client;
        await Assert.ThrowsAsync<TaskNotFoundException>(() => Client.GetTaskAsync("no-such-task"));
        await Assert.ThrowsAsync<TaskNotFoundException>(() => client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, "no-such-task")).UpdateAsync(new PublishRequest([TaskEventDraft.Progress("1"u8.ToArray())])));

        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("progress", 0);
        var grain = client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, task.TaskId));
        await Assert.ThrowsAsync<InvalidPayloadException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress("{not json"u8.ToArray())])));
        await Assert.ThrowsAsync<InvalidPayloadException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress("1 2"u8.ToArray())])));
        await Assert.ThrowsAsync<InvalidPayloadException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress(new byte[] { 0x22, 0xFF, 0x22 })])));
        await Assert.ThrowsAsync<InvalidPayloadException>(() => grain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress(Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)))])));
        await Assert.ThrowsAsync<TaskAlreadyExistsException>(() => streams.StartTaskAsync("progress", 0, new TaskOptions { TaskId = task.TaskId }));

        // Nothing of the refused calls was numbered.
        Assert.Equal(2L, await task.UpdateStateAsync(1));
    }

    [Fact]
    public async Task A_task_cannot_change_the_workflow_of_its_execution()
    {
        var context = ClusterFixture.NewExecution("first-name");
        await using var first = await Client.StartTaskAsync(context, "progress", 0);
        await Assert.ThrowsAsync<WorkflowContextConflictException>(() => Client.StartTaskAsync(context with { WorkflowName = "other-name" }, "progress", 0));
        await using var sameRunOtherRun = await Client.StartTaskAsync(context with { WorkflowRunId = "run-2" }, "progress", 0);
        Assert.Equal(2, sameRunOtherRun.StartedSequence);
    }

    private async Task<List<StreamEvent>> ReadAllAsync(ExecutionId execution)
    {
        var events = new List<StreamEvent>();
        var from = StreamPosition.Start;
        while (true)
        {
            var page = await Client.ReadAsync(execution, from, 500);
            events.AddRange(page.Events);
            if (page.ReachedHead)
            {
                return events;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }
    }

    private static IEnumerable<long> Sequence(long first, long last) => Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);

    private static readonly string[] HelloTokens = ["Hel", "lo"];

    private sealed record Tokens(IReadOnlyList<string> Items);

    private sealed record Progress(int ProgressIdx, int ProgressTotal);
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteStreamSemanticsTests(SqliteClusterFixture fixture) : StreamSemanticsTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresStreamSemanticsTests(PostgresClusterFixture fixture) : StreamSemanticsTests(fixture);
