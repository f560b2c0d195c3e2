using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>Retention by count, bytes and age, and inactivity timeouts, on a cluster with a fake StreamingEvents clock.</summary>
public abstract class RetentionAndTimeoutTests(ControlledClusterFixture fixture)
{
    private IStreamingEventsClient Client => fixture.Client;

    [Fact]
    public async Task Retention_by_count_trims_the_oldest_events_and_never_changes_numbering()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("progress", 0);
        for (var i = 1; i <= 120; i++)
        {
            await task.UpdateStateAsync(i);
        }

        var info = await Grain(streams).ApplyRetentionAsync();
        Assert.Equal(121, info.Head);
        Assert.True(info.OldestRetained > 1);
        Assert.InRange(info.RetainedEvents, 1, ControlledClusterFixture.MaxEvents);

        var expired = await Assert.ThrowsAsync<StreamPositionExpiredException>(() => streams.SubscribeAsync(StreamPosition.FromSequence(1)).TakeAsync(1));
        Assert.Equal(info.OldestRetained, expired.OldestAvailable);
        Assert.Equal(1, expired.Requested);

        var retained = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync((int)info.RetainedEvents);
        Assert.Equal(Enumerable.Range((int)info.OldestRetained, (int)info.RetainedEvents).Select(i => (long)i), retained.Select(e => e.BrokerSequence));
        Assert.Equal(122, await task.UpdateStateAsync(121));
    }

    [Fact]
    public async Task Retention_by_bytes_keeps_the_newest_events_within_the_limit()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("document", "");
        var chunk = new string('x', 100_000);
        for (var i = 0; i < 25; i++)
        {
            await task.UpdateStateAsync(chunk);
        }

        var info = await Grain(streams).ApplyRetentionAsync();
        Assert.InRange(info.RetainedBytes, 1, StreamingLimits.MaxEventBytes);
        Assert.True(info.OldestRetained > 10, $"Oldest retained is {info.OldestRetained}.");
        var retained = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync((int)info.RetainedEvents);
        Assert.Equal(info.OldestRetained, retained[0].BrokerSequence);
        Assert.Equal(26, retained[^1].BrokerSequence);
    }

    [Fact]
    public async Task Retention_by_age_removes_events_older_than_the_limit()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using (var old = await streams.StartTaskAsync("progress", 0))
        {
            for (var i = 1; i <= 5; i++)
            {
                await old.UpdateStateAsync(i);
            }
        }

        fixture.Clock!.Advance(TimeSpan.FromDays(8));
        await using var recent = await streams.StartTaskAsync("progress", 0);
        await recent.UpdateStateAsync(1);
        await recent.UpdateStateAsync(2);

        var info = await Grain(streams).ApplyRetentionAsync();
        Assert.Equal(8, info.OldestRetained);
        Assert.Equal(10, info.Head);
        await Assert.ThrowsAsync<StreamPositionExpiredException>(() => streams.SubscribeAsync(StreamPosition.FromSequence(7)).TakeAsync(1));
        Assert.Equal(8, (await streams.SubscribeAsync(StreamPosition.Start).TakeAsync(1))[0].BrokerSequence);
    }

    [Fact]
    public async Task An_open_task_silent_past_the_inactivity_timeout_ends_with_timed_out()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("progress", 0);
        await task.UpdateStateAsync(1);
        await using var other = await streams.StartTaskAsync("token", 0);

        fixture.Clock!.Advance(fixture.InactivityTimeout - TimeSpan.FromMinutes(1));
        await other.UpdateStateAsync(1);
        fixture.Clock.Advance(TimeSpan.FromMinutes(2));
        await Grain(streams).CheckTimeoutsAsync();

        var events = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync(5);
        var timedOut = Assert.Single(events, e => e.EventType == EventType.CustomTaskTimedOut);
        Assert.Equal(task.TaskId, timedOut.TaskId);
        Assert.Equal("HEARTBEAT", timedOut.GetTaskAttributes().TimeoutType);

        var refused = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => task.UpdateStateAsync(2));
        Assert.Equal(CustomTaskStatus.TimedOut, refused.Status);
        await task.DisposeAsync(); // nothing more to publish: no second terminal event
        Assert.Equal(CustomTaskStatus.TimedOut, (await Client.GetTaskAsync(task.TaskId)).Status);
        Assert.Equal(5, (await streams.GetStreamInfoAsync()).Head);
    }

    [Fact]
    public async Task An_idempotency_key_is_remembered_for_its_retention_and_forgotten_after_it()
    {
        var context = ClusterFixture.NewExecution();
        var task = await Client.StartTaskAsync(context, "progress", 0);
        var grain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(context.Namespace, task.TaskId));
        var key = new RequestKey("key-" + Guid.NewGuid().ToString("N"), [1, 2, 3]);
        var request = PublishRequest.Of(TaskEventDraft.Progress("1"u8.ToArray()), key);
        StreamingEvents.Hosting.TaskTimeoutSweeper Sweeper() =>
            fixture.Cluster.GetSiloServiceProvider().GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<StreamingEvents.Hosting.TaskTimeoutSweeper>().Single();
        StreamingEvents.Storage.IEventLogStorage Storage() =>
            fixture.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<StreamingEvents.Storage.IEventLogStorage>(StreamingEventsNames.EventLogStorage);

        var first = await grain.UpdateAsync(request);
        fixture.Clock!.Advance(TimeSpan.FromHours(23));
        await Sweeper().SweepAsync(CancellationToken.None);
        await fixture.RestartAsync();
        var withinRetention = await fixture.Cluster.Client.GetTaskGrain(new TaskAddress(context.Namespace, task.TaskId)).UpdateAsync(request);
        fixture.Clock.Advance(TimeSpan.FromHours(2));
        await Sweeper().SweepAsync(CancellationToken.None);

        Assert.Equal(first with { Replayed = 1 }, withinRetention);
        Assert.Null(await Storage().FindRequestKeyAsync(context.Namespace, key.Key, CancellationToken.None));
    }

    [Fact]
    public async Task A_task_left_open_across_a_restart_is_timed_out_by_the_sweeper()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("progress", 0);
        await task.UpdateStateAsync(1);

        // The worker is gone and so is every activation; only storage remembers the open task.
        await fixture.RestartAsync();
        await using var subscriber = new Collector<StreamEvent>(ct => Client.SubscribeAsync(streams.Execution, StreamPosition.Start, cancellationToken: ct));
        await subscriber.WaitForCountAsync(2);
        fixture.Clock!.Advance(TimeSpan.FromHours(2));

        var events = await subscriber.WaitForCountAsync(3);
        Assert.Equal(EventType.CustomTaskTimedOut, events[2].EventType);
        Assert.Equal(task.TaskId, events[2].TaskId);
    }

    /// <summary>
    /// Every event type the service publishes (the descriptor table decides which), written to storage and read back by a
    /// new cluster: the same envelope, byte for byte, as the first cluster served.
    /// </summary>
    [Fact]
    public async Task Every_published_event_type_reads_back_the_same_from_storage_after_a_restart()
    {
        // A task silent past the inactivity timeout: CUSTOM_TASK_TIMED_OUT. First, so the clock moves before the others start.
        var timedOut = Client.ForExecution(ClusterFixture.NewExecution());
        await timedOut.StartTaskAsync("progress", 0);
        fixture.Clock!.Advance(fixture.InactivityTimeout + TimeSpan.FromMinutes(1));
        await Grain(timedOut).CheckTimeoutsAsync();

        // An execution with every activity and custom task outcome, completed with a result.
        var completed = ClusterFixture.NewExecution();
        await using (var execution = await Client.StartExecutionAsync(completed, input: new { question = "why" }, displayName: "All types"))
        {
            await using (var activity = await execution.StartActivityAsync("fetch", input: new { url = "https://example.org" }))
            {
                await activity.RetryAsync("no answer");
                await using (var task = await activity.StartTaskAsync("token", new { text = "" }))
                {
                    await task.UpdateStateAsync(new { text = "a" });
                    await task.CompleteAsync();
                }

                await activity.CompleteAsync(new { pages = 2 });
            }

            await using (var activity = await execution.StartActivityAsync("index"))
            {
                await activity.FailAsync("disk full");
            }

            await using (var task = await execution.StartTaskAsync("search", 0))
            {
                await task.FailAsync("bad query");
            }

            await using (var task = await execution.StartTaskAsync("plan", 0))
            {
                await task.CancelAsync("not needed");
            }

            await execution.CompleteAsync(new { answer = 42 });
        }

        var failed = ClusterFixture.NewExecution();
        await using (var execution = await Client.StartExecutionAsync(failed))
        {
            await execution.FailAsync("model unavailable");
        }

        var canceled = ClusterFixture.NewExecution();
        await using (await Client.StartExecutionAsync(canceled))
        {
            await Client.CancelExecutionAsync(canceled.Execution, "stop generating");
        }

        ExecutionId[] executions = [timedOut.Execution, completed.Execution, failed.Execution, canceled.Execution];
        var before = new List<StreamEvent>();
        foreach (var execution in executions)
        {
            before.AddRange(await ReadAllAsync(execution));
        }

        var published = EventTypes.All.Where(info => info.Role != EventRole.NotPublished).Select(info => info.Type);
        Assert.Equal(published.Order(), before.Select(e => e.EventType).Distinct().Order());

        await fixture.RestartAsync();
        var after = new List<StreamEvent>();
        foreach (var execution in executions)
        {
            after.AddRange(await ReadAllAsync(execution));
        }

        Assert.Equal(before.Select(Stored), after.Select(Stored));
        static (long, EventType, string) Stored(StreamEvent e) => (e.BrokerSequence, e.EventType, System.Text.Encoding.UTF8.GetString(e.Json.Span));
    }

    private async Task<List<StreamEvent>> ReadAllAsync(ExecutionId execution)
    {
        var events = new List<StreamEvent>();
        for (var from = StreamPosition.Start; ;)
        {
            var page = await Client.ReadAsync(execution, from, 1000);
            events.AddRange(page.Events);
            if (page.ReachedHead)
            {
                return events;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }
    }

    private IExecutionStreamGrain Grain(ExecutionStreams streams) =>
        fixture.Cluster.Client.GetGrain<IExecutionStreamGrain>(streams.Execution.Key);
}

[Collection(SqliteControlled.Name)]
public sealed class SqliteRetentionAndTimeoutTests(SqliteControlledFixture fixture) : RetentionAndTimeoutTests(fixture);

[Collection(PostgresControlled.Name)]
public sealed class PostgresRetentionAndTimeoutTests(PostgresControlledFixture fixture) : RetentionAndTimeoutTests(fixture);
