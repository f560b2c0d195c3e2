using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>
/// The seed's semantics through the .NET SDK: <c>update_state</c> merges, the execution and activity lifecycles in the
/// one contiguous sequence, an execution's status, and a cancel from outside that reaches the producers' tokens.
/// </summary>
public abstract class LifecycleTests(ClusterFixture fixture)
{
    private IStreamingEventsClient Client => fixture.Client;

    /// <summary>The seed's "Progress Updates" example, line by line: the updates omit progress_total, and it survives.</summary>
    [Fact]
    public async Task The_seeds_progress_example_keeps_progress_total_in_every_state()
    {
        var context = ClusterFixture.NewExecution();
        var streams = Client.ForExecution(context);
        var text = "the quick brown fox";

        // async with Task(type="progress-stream", state=initial_state) as task: …
        var words = text.Split();
        var initialState = new JsonObject { ["processed_words"] = new JsonArray(), ["progress_idx"] = 0, ["progress_total"] = words.Length };
        await using (var task = await streams.StartTaskAsync("progress-stream", initialState, Bounded.Token()))
        {
            var state = task.State;
            for (var i = 0; i < words.Length; i++)
            {
                await task.UpdateStateAsync(new JsonObject
                {
                    ["processed_words"] = new JsonArray([.. state["processed_words"]!.AsArray().Select(w => w!.DeepClone()), words[i]]),
                    ["progress_idx"] = i + 1,
                });
                state = task.State;
            }
        }

        var seen = await ReadAllAsync(context.Execution, 1 + words.Length + 1);
        var states = seen.Select(e => e.GetState<JsonObject>()!).ToList();
        Assert.All(states, s => Assert.Equal(words.Length, s["progress_total"]!.GetValue<int>()));
        Assert.Equal(Enumerable.Range(0, words.Length + 1), states.Take(words.Length + 1).Select(s => s["progress_idx"]!.GetValue<int>()));
        Assert.Equal(text, string.Join(' ', states[^1]["processed_words"]!.AsArray().Select(w => w!.GetValue<string>())));
    }

    /// <summary>The seed's token example with a typed state: a whole typed state is merged as every member replaced.</summary>
    [Fact]
    public async Task The_seeds_token_example_with_a_typed_state_publishes_each_token()
    {
        var context = ClusterFixture.NewExecution();
        var streams = Client.ForExecution(context);
        TaskHandle<TokenState> published;
        await using (var task = await streams.StartTaskAsync("token-stream", new TokenState([]), Bounded.Token()))
        {
            foreach (var token in new[] { "Hel", "lo" })
            {
                await task.UpdateStateAsync(new TokenState([.. task.State.Tokens, token]));
            }

            published = task;
        }

        Assert.Equal("Hello", string.Concat(published.State.Tokens));
        var seen = await ReadAllAsync(context.Execution, 4);
        Assert.Equal(["Hel", "lo"], seen[^1].GetState<TokenState>()!.Tokens);
    }

    [Fact]
    public async Task A_partial_update_merges_into_a_typed_state_and_set_state_replaces_it()
    {
        var context = ClusterFixture.NewExecution();
        await using var task = await Client.ForExecution(context).StartTaskAsync("progress", new Progress(0, 10, "Loading"), Bounded.Token());

        await task.UpdateStateAsync(new { ProgressIdx = 3 });
        Assert.Equal(new Progress(3, 10, "Loading"), task.State);
        await task.SetStateAsync(new Progress(5, 5, "Done"));
        Assert.Equal(new Progress(5, 5, "Done"), task.State);
        await Assert.ThrowsAsync<InvalidPayloadException>(() => task.UpdateStateAsync("not an object"));

        var stored = await Client.GetTaskStateAsync(context.Execution, task.TaskId);
        Assert.Equal("""{"progress_idx":5,"progress_total":5,"title":"Done"}""", stored!.ToJsonString());
    }

    [Fact]
    public async Task An_execution_scope_frames_its_activities_and_tasks_and_reports_its_result()
    {
        var context = ClusterFixture.NewExecution("chat");
        var answer = await Client.RunExecutionAsync(context, async (execution, ct) =>
        {
            var attempts = 0;
            return await execution.RunActivityAsync("generate", async (activity, ct2) =>
            {
                attempts++;
                await activity.RunTaskAsync<TokenState, int>("token", new TokenState([]), async (task, ct3) =>
                {
                    await task.UpdateStateAsync(new TokenState(["42"]), ct3);
                    return 0;
                }, cancellationToken: ct2);
                return attempts < 2 ? throw new InvalidOperationException("the model hiccupped") : "42";
            }, input: new { prompt = "why?" }, new ActivityOptions { MaxAttempts = 3 }, ct);
        }, input: new { question = "why?" }, displayName: "Why", cancellationToken: Bounded.Token());

        Assert.Equal("42", answer);
        var events = await ReadAllAsync(context.Execution, 11, stopAtTerminal: false);
        Assert.Equal(
        [
            EventType.WorkflowExecutionStarted, EventType.ActivityTaskStarted,
            EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskCompleted, EventType.ActivityTaskRetrying,
            EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskCompleted,
            EventType.ActivityTaskCompleted, EventType.WorkflowExecutionCompleted,
        ], events.Select(e => e.EventType));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), events.Select(e => e.BrokerSequence));
        Assert.All(events.Where(e => e.EventType.Info().Kind == TaskKind.Activity), e => Assert.Equal("generate", e.ActivityName));
        Assert.All(events.Where(e => e.Stream == "token"), e => Assert.Equal("generate", e.ActivityName));

        var retrying = Attributes(events[5]);
        Assert.Equal(1, retrying.GetProperty("attempt").GetInt32());
        Assert.Equal("the model hiccupped", retrying.GetProperty("failure").GetProperty("message").GetString());
        Assert.Equal("42", Attributes(events[^2]).GetProperty("result").GetProperty("value").GetString());
        Assert.Equal("Why", Attributes(events[0]).GetProperty("display_name").GetString());

        var info = await Client.GetExecutionAsync(context.Execution);
        Assert.Equal(ExecutionStatus.Completed, info.Status);
        Assert.Equal("\"42\"", System.Text.Encoding.UTF8.GetString(info.Result!));
        Assert.NotNull(info.EndTime);
        await Assert.ThrowsAsync<ExecutionFinishedException>(() => Client.ForExecution(context).StartTaskAsync("late", 1));
    }

    [Fact]
    public async Task A_body_that_throws_fails_its_activity_with_the_attempt_and_then_its_execution()
    {
        var context = ClusterFixture.NewExecution();
        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => Client.RunExecutionAsync<int>(context, (execution, ct) =>
            execution.RunActivityAsync<int>("fetch", (_, _) => throw new TimeoutException("no answer"), options: new ActivityOptions { MaxAttempts = 2 }, cancellationToken: ct),
            cancellationToken: Bounded.Token()));

        Assert.Equal("no answer", thrown.Message);
        var events = await ReadAllAsync(context.Execution, 5, stopAtTerminal: false);
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.ActivityTaskStarted, EventType.ActivityTaskRetrying, EventType.ActivityTaskFailed, EventType.WorkflowExecutionFailed],
            events.Select(e => e.EventType));
        Assert.Equal(2, Attributes(events[3]).GetProperty("attempt").GetInt32());
        Assert.Equal(ExecutionStatus.Failed, (await Client.GetExecutionAsync(context.Execution)).Status);
    }

    [Fact]
    public async Task A_cancel_from_outside_fires_every_producer_token_and_ends_tasks_and_execution_once()
    {
        var context = ClusterFixture.NewExecution();
        var generating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = Client.RunExecutionAsync(context, async (execution, ct) =>
        {
            return await execution.RunTaskAsync<TokenState, int>("token", new TokenState([]), async (task, taskToken) =>
            {
                await task.UpdateStateAsync(new TokenState(["a"]), taskToken);
                generating.TrySetResult();
                await Task.Delay(Timeout.Infinite, taskToken); // an LLM that would go on for ever
                return 0;
            }, cancellationToken: ct);
        }, cancellationToken: Bounded.Token());

        await generating.Task.Within();
        var canceled = await Client.CancelExecutionAsync(context.Execution, "stop generating");
        Assert.Equal(ExecutionStatus.Canceled, canceled.Status);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Within());
        var events = await ReadAllAsync(context.Execution, 5, stopAtTerminal: false);
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskCanceled, EventType.WorkflowExecutionCanceled],
            events.Select(e => e.EventType));
        Assert.Equal("stop generating", Attributes(events[^1]).GetProperty("reason").GetString());

        // Nothing more was published by the producers that stopped.
        Assert.Equal(5, (await Client.GetStreamInfoAsync(context.Execution)).Head);
    }

    [Fact]
    public async Task A_task_canceled_over_its_own_route_fires_its_handles_token()
    {
        var context = ClusterFixture.NewExecution();
        await using var task = await Client.ForExecution(context).StartTaskAsync("token", new TokenState([]), Bounded.Token());
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = task.CancellationToken.Register(stopped.SetResult);

        // What POST /v1/tasks/{id}/cancel does: an unsequenced terminal event from another publisher.
        await fixture.Cluster.Client.GetTaskGrain(new TaskAddress(context.Namespace, task.TaskId)).FinishAsync(PublishRequest.Of(TaskEventDraft.Canceled("stop")));

        await stopped.Task.Within();
        Assert.Equal(CustomTaskStatus.Canceled, task.Status);
        await task.DisposeAsync();
        Assert.Equal(2, (await Client.GetStreamInfoAsync(context.Execution)).Head); // started, canceled: the dispose published nothing
    }

    private async Task<List<StreamEvent>> ReadAllAsync(ExecutionId execution, int count, bool stopAtTerminal = true)
    {
        var events = new List<StreamEvent>();
        await foreach (var e in Client.SubscribeAsync(execution, StreamPosition.FromSequence(1), cancellationToken: Bounded.Token()))
        {
            events.Add(e);
            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }

    private static JsonElement Attributes(StreamEvent e) =>
        JsonDocument.Parse(e.Json).RootElement.GetProperty("data").GetProperty("attributes").Clone();

    private sealed record TokenState(IReadOnlyList<string> Tokens);

    private sealed record Progress(int ProgressIdx, int ProgressTotal, string Title);
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteLifecycleTests(SqliteClusterFixture fixture) : LifecycleTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresLifecycleTests(PostgresClusterFixture fixture) : LifecycleTests(fixture);
