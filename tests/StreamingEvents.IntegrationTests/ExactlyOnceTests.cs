using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.IntegrationTests;

/// <summary>
/// Publishing is exactly once: a request sent again (same publish sequences, same start, same key) is answered with the
/// numbers its events already have and stored once — also after a restart, because a task's publisher is stored with the
/// events. Runs once per storage backend.
/// </summary>
public abstract class ExactlyOnceTests(ClusterFixture fixture)
{
    private IStreamingEventsClient Client => fixture.Client;

    [Fact]
    public async Task An_update_sent_again_answers_its_numbers_and_is_stored_once_and_an_overlap_stores_only_what_is_new()
    {
        var (grain, execution) = await StartAsync();

        var first = await grain.UpdateAsync(Updates(first: 1, 10, 11));
        var again = await grain.UpdateAsync(Updates(first: 1, 10, 11));
        var overlap = await grain.UpdateAsync(Updates(first: 2, 11, 12));

        Assert.Equal(new AppendReceipt(2, 2), first);
        Assert.Equal(new AppendReceipt(2, 2, Replayed: 2), again);
        Assert.Equal(new AppendReceipt(3, 2, Replayed: 1), overlap);
        Assert.Equal([10, 11, 12], (await Values(execution)).Select(v => v.Value));
    }

    [Fact]
    public async Task A_publisher_is_stored_with_the_events_so_a_repeat_is_recognised_after_a_restart()
    {
        var (grain, execution) = await StartAsync();
        await grain.UpdateAsync(Updates(first: 1, 1, 2));
        await grain.UpdateAsync(Updates(first: 3, 3));

        await fixture.RestartAsync();
        var after = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(execution.Namespace, grain.GetPrimaryKeyString().Split('/')[1]));

        Assert.Equal(new AppendReceipt(4, 1, Replayed: 1), await after.UpdateAsync(Updates(first: 3, 3)));
        Assert.Equal(new AppendReceipt(2, 2, Replayed: 2), await after.UpdateAsync(Updates(first: 1, 1, 2)));
        Assert.Equal(new AppendReceipt(5, 1), await after.UpdateAsync(Updates(first: 4, 4)));
        Assert.Equal([1, 2, 3, 4], (await Values(execution)).Select(v => v.Value));
    }

    [Fact]
    public async Task A_gap_or_an_older_epoch_is_refused_and_stores_nothing()
    {
        var (grain, execution) = await StartAsync();
        await grain.UpdateAsync(Updates(first: 1, 1));

        var gap = await Assert.ThrowsAsync<PublishSequenceGapException>(() => grain.UpdateAsync(Updates(first: 3, 3)));
        Assert.Equal((2L, 3L), (gap.Expected, gap.Given));

        // An update without publish sequences (as the HTTP API sends them) takes the task over: the epoch moves on.
        await grain.UpdateAsync(PublishRequest.Of(TaskEventDraft.Progress("100"u8.ToArray())));
        var fenced = await Assert.ThrowsAsync<ProducerFencedException>(() => grain.UpdateAsync(Updates(first: 2, 2)));
        Assert.Equal((1, 2), (fenced.Epoch, fenced.CurrentEpoch));
        Assert.Equal([1, 100], (await Values(execution)).Select(v => v.Value));
    }

    [Fact]
    public async Task The_same_start_again_answers_its_receipt_and_another_start_with_the_id_is_refused()
    {
        var context = ClusterFixture.NewExecution();
        var start = new TaskStart("tsk_" + Guid.NewGuid().ToString("N"), context, "counter", "0"u8.ToArray(), ProducerId: "producer-a");
        var grain = fixture.Cluster.Client.GetTaskGrain(start.Address);
        var started = await grain.StartAsync(start);
        await grain.UpdateAsync(Updates(first: 1, 1));

        var again = await grain.StartAsync(start);
        await fixture.RestartAsync();
        var afterRestart = await fixture.Cluster.Client.GetTaskGrain(start.Address).StartAsync(start);
        await Assert.ThrowsAsync<TaskAlreadyExistsException>(() => fixture.Cluster.Client.GetTaskGrain(start.Address).StartAsync(start with { ProducerId = "producer-b" }));
        var elsewhere = start with { Context = ClusterFixture.NewExecution() };
        await Assert.ThrowsAsync<TaskAlreadyExistsException>(() => fixture.Cluster.Client.GetTaskGrain(start.Address).StartAsync(elsewhere));

        Assert.False(started.Replayed);
        Assert.Equal(started with { Replayed = true }, again);
        Assert.Equal(started with { Replayed = true }, afterRestart);
        Assert.Equal(2, (await Client.GetStreamInfoAsync(context.Execution)).Head);
        Assert.Equal(0, (await Client.GetStreamInfoAsync(elsewhere.Context.Execution)).Head);
    }

    [Fact]
    public async Task A_terminal_event_sent_again_answers_its_receipt_and_the_task_ends_once()
    {
        var (grain, execution) = await StartAsync();
        await grain.UpdateAsync(Updates(first: 1, 1));
        var completed = new PublishRequest([TaskEventDraft.Completed("2"u8.ToArray())], 1, 2);

        var first = await grain.FinishAsync(completed);
        var again = await grain.FinishAsync(completed);
        var repeatOfUpdate = await grain.UpdateAsync(Updates(first: 1, 1));
        var another = await Assert.ThrowsAsync<TaskAlreadyFinishedException>(() => grain.FinishAsync(new PublishRequest([TaskEventDraft.Failed("no")], 1, 3)));

        Assert.Equal(new AppendReceipt(3, 1), first);
        Assert.Equal(new AppendReceipt(3, 1, Replayed: 1), again);
        Assert.Equal(new AppendReceipt(2, 1, Replayed: 1), repeatOfUpdate);
        Assert.Equal(CustomTaskStatus.Completed, another.Status);
        var events = await StoredEvents.ReadAllAsync(Client, execution);
        Assert.Equal([EventType.CustomTaskCompleted], events.Where(e => e.IsTerminal).Select(e => e.Type));
    }

    [Fact]
    public async Task Task_ids_are_unique_within_a_namespace_only()
    {
        var taskId = "tsk_" + Guid.NewGuid().ToString("N");
        var inA = await Client.StartTaskAsync(ClusterFixture.NewExecution() with { Namespace = "tenant-a" }, "counter", 0, new TaskOptions { TaskId = taskId });
        var inB = await Client.StartTaskAsync(ClusterFixture.NewExecution() with { Namespace = "tenant-b" }, "counter", 0, new TaskOptions { TaskId = taskId });
        await Assert.ThrowsAsync<TaskAlreadyExistsException>(() =>
            Client.StartTaskAsync(ClusterFixture.NewExecution() with { Namespace = "tenant-a" }, "counter", 0, new TaskOptions { TaskId = taskId }));

        await inA.UpdateStateAsync(1);
        await inB.UpdateStateAsync(2);
        Assert.Equal("tenant-a", (await Client.GetTaskAsync(taskId, "tenant-a")).Execution.Namespace);
        Assert.Equal("tenant-b", (await Client.GetTaskAsync(taskId, "tenant-b")).Execution.Namespace);
        await Assert.ThrowsAsync<TaskNotFoundException>(() => Client.GetTaskAsync(taskId, "tenant-c"));
    }

    [Fact]
    public async Task A_start_whose_answer_was_lost_is_sent_again_and_the_task_works_as_if_nothing_happened()
    {
        var context = ClusterFixture.NewExecution();
        var taskId = "tsk_" + Guid.NewGuid().ToString("N");
        // Lost between the task grain and the stream (the task grain must not remember "no such task"), and between the
        // client and the task grain.
        ReplyFaults.LoseAnswers(nameof(IExecutionStreamGrain.StartTaskAsync), context.Normalize().Execution.Key, count: 1);
        ReplyFaults.LoseAnswers(nameof(ITaskGrain.StartAsync), new TaskAddress(context.Namespace, taskId).Key, count: 1);

        await using var task = await Client.StartTaskAsync(context, "counter", 0, new TaskOptions { TaskId = taskId });
        Assert.Equal(2, await task.UpdateStateAsync(1));
        Assert.Equal(3, await task.CompleteAsync());

        var events = await StoredEvents.ReadAllAsync(Client, context.Execution);
        Assert.Equal([EventType.CustomTaskStarted, EventType.CustomTaskInProgress, EventType.CustomTaskCompleted], events.Select(e => e.Type));
    }

    [Fact]
    public async Task Updates_and_a_failure_whose_answers_were_lost_are_stored_once_and_the_failure_is_the_terminal_event()
    {
        var context = ClusterFixture.NewExecution();
        var handle = await Client.StartTaskAsync(context, "counter", 0);
        var key = new TaskAddress(context.Namespace, handle.TaskId).Key;
        ReplyFaults.LoseAnswers(nameof(ITaskGrain.UpdateAsync), key, count: 3);
        ReplyFaults.LoseAnswers(nameof(ITaskGrain.FinishAsync), key, count: 1);

        var sequences = new List<long>();
        for (var value = 1; value <= 5; value++)
        {
            sequences.Add(await handle.UpdateStateAsync(value));
        }

        await handle.FailAsync("it broke");
        await handle.DisposeAsync();

        Assert.Equal([2L, 3, 4, 5, 6], sequences);
        var events = await StoredEvents.ReadAllAsync(Client, context.Execution);
        Assert.Equal([1, 2, 3, 4, 5], events.Where(e => e.IsUpdate).Select(e => e.Value));
        Assert.Equal([EventType.CustomTaskFailed], events.Where(e => e.IsTerminal).Select(e => e.Type));
    }

    private async Task<(ITaskGrain Grain, ExecutionId Execution)> StartAsync()
    {
        var context = ClusterFixture.NewExecution();
        var start = new TaskStart("tsk_" + Guid.NewGuid().ToString("N"), context, "counter", "0"u8.ToArray(), ProducerId: Guid.NewGuid().ToString("N"));
        var grain = fixture.Cluster.Client.GetTaskGrain(start.Address);
        Assert.Equal(1, (await grain.StartAsync(start)).Epoch);
        return (grain, context.Normalize().Execution);
    }

    private static PublishRequest Updates(long first, params int[] values) =>
        new([.. values.Select(v => TaskEventDraft.Progress(System.Text.Encoding.UTF8.GetBytes(v.ToString(System.Globalization.CultureInfo.InvariantCulture))))], 1, first);

    private async Task<List<StoredValue>> Values(ExecutionId execution) =>
        [.. (await StoredEvents.ReadAllAsync(Client, execution)).Where(e => e.IsUpdate)];
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteExactlyOnceTests(SqliteClusterFixture fixture) : ExactlyOnceTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresExactlyOnceTests(PostgresClusterFixture fixture) : ExactlyOnceTests(fixture);

/// <summary>
/// Answers that come back after the caller's response timeout: the SDK sends the publish again (with its numbers) and the
/// late first answer is ignored; every update is stored once and acknowledged with its own number.
/// </summary>
public sealed class DelayedAnswerTests(DelayedAnswerTests.ShortTimeoutFixture fixture) : IClassFixture<DelayedAnswerTests.ShortTimeoutFixture>
{
    [Fact]
    public async Task Updates_answered_after_the_response_timeout_are_stored_once_and_acknowledged_with_their_numbers()
    {
        var context = ClusterFixture.NewExecution();
        var handle = await fixture.Client.StartTaskAsync(context, "counter", 0);
        ReplyFaults.DelayAnswers(nameof(ITaskGrain.UpdateAsync), new TaskAddress(context.Namespace, handle.TaskId).Key, count: 2, TimeSpan.FromSeconds(2));

        var sequences = new List<long>();
        for (var value = 1; value <= 4; value++)
        {
            sequences.Add(await handle.UpdateStateAsync(value).Within());
        }

        await handle.DisposeAsync();

        Assert.Equal([2L, 3, 4, 5], sequences);
        var events = await StoredEvents.ReadAllAsync(fixture.Client, context.Execution);
        Assert.Equal([1, 2, 3, 4], events.Where(e => e.IsUpdate).Select(e => e.Value));
        Assert.Single(events, e => e.IsTerminal);
    }

    public sealed class ShortTimeoutFixture : ClusterFixture
    {
        protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new SqliteBackend());

        protected override void ConfigureOrleansClient(IClientBuilder client) =>
            client.Services.Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = TimeSpan.FromSeconds(1));
    }
}
