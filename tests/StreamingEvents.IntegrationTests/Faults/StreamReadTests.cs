using Orleans.Configuration;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// Reads of a stream grain interleaved with other calls at chosen points (the event log's hooks): what a concurrent
/// call, a retention trim or a caller giving up does to a read in progress.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class StreamReadTests
{
    [Fact]
    public async Task A_replay_read_whose_caller_gave_up_while_it_waited_for_a_slot_never_reaches_storage()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o =>
        {
            o.MaxConcurrentReplayReads = 1;
            o.MemoryWindowEvents = 0;
        }, configureSilo: HookedEventLog.Install,
        // The canceled call below ends only once the stream grain has seen the cancellation, not at once on the client.
        configureClient: client => client.Configure<ClientMessagingOptions>(o => o.WaitForCancellationAcknowledgement = true));
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());
        await using (var task = await streams.StartTaskAsync("token", 0))
        {
            await task.UpdateStateAsync(1);
        }

        // The one slot is taken by a read that storage holds. (Reads of a single event are the maintenance timer's.)
        var replayReads = 0;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.BeforeReadEvents = async (_, from, to) =>
        {
            if (to > from && Interlocked.Increment(ref replayReads) == 1)
            {
                entered.TrySetResult();
                await release.Task;
            }
        };
        var holding = cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1));
        await entered.Task.Within();

        // The grain itself, not the SDK, whose read returns as soon as its token is canceled.
        using var giveUp = new CancellationTokenSource();
        var abandoned = cluster.Orleans.GetGrain<IExecutionStreamGrain>(streams.Execution.Key).ReadAsync(new ReadRequest(1, 100, null), giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        release.SetResult();
        Assert.Equal(3, (await holding.Within()).Events.Length);

        // Calls to a grain start in the order they arrive: had the abandoned read run, it would have run before this one.
        Assert.Equal(3, (await cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1)).Within()).Events.Length);
        Assert.Equal(2, Volatile.Read(ref replayReads));
    }

    [Fact]
    public async Task A_stream_left_with_no_open_task_frees_its_recent_window_and_reads_it_back_from_storage()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, configureSilo: HookedEventLog.Install);
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var replayReads = 0;
        storage.BeforeReadEvents = (_, from, to) =>
        {
            // Reads of a single event are the maintenance timer's.
            if (to > from)
            {
                Interlocked.Increment(ref replayReads);
            }

            return Task.CompletedTask;
        };
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());
        var task = await streams.StartTaskAsync("token", 0);
        await task.UpdateStateAsync(1);

        // While a task is open, recent events are served from memory.
        Assert.Equal(2, (await cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1)).Within()).Events.Length);
        Assert.Equal(0, Volatile.Read(ref replayReads));

        // Once none is, the activation may linger idle for many minutes (an ended execution); its window is freed.
        await task.DisposeAsync();
        var events = (await cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1)).Within()).Events;
        Assert.Equal([1L, 2, 3], events.Select(e => e.BrokerSequence));
        Assert.Equal(EventType.CustomTaskCompleted, events[^1].EventType);
        Assert.Equal(1, Volatile.Read(ref replayReads));

        // A new task makes it a live stream again, numbered on.
        await using var next = await streams.StartTaskAsync("token", 0);
        Assert.Equal(5, await next.UpdateStateAsync(1));
    }

    [Fact]
    public async Task A_reload_that_empties_the_task_cache_while_a_read_loads_missing_tasks_does_not_break_the_read()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o => o.MemoryWindowEvents = 1, configureSilo: HookedEventLog.Install);
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());

        // Task b is closed before this activation; task a is closed in it, so a is cached and b is not.
        await using (await streams.StartTaskAsync("b", 0))
        {
        }

        await cluster.Orleans.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await using (await streams.StartTaskAsync("a", 0))
        {
        }

        // With no task open, the stream keeps neither events nor closed tasks in memory: a read of 1-4 loads the tasks'
        // rows from storage; it is held there.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.BeforeReadTasks = async (_, _) =>
        {
            entered.TrySetResult();
            await release.Task;
        };
        var read = cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1));
        await entered.Task.Within();
        storage.BeforeReadTasks = null;

        // Meanwhile an append's outcome is unknown: the stream reloads its state from storage, and its task cache with it.
        var failures = 0;
        storage.BeforeAppend = _ => Interlocked.Increment(ref failures) == 1
            ? Task.FromException(new InvalidOperationException("connection lost (injected)"))
            : Task.CompletedTask;
        await using (await streams.StartTaskAsync("c", 0))
        {
        }

        Assert.True(failures > 1, "The injected append failure did not happen.");
        release.SetResult();

        var page = await read.Within();
        Assert.Equal([1L, 2L, 3L, 4L], page.Events.Select(e => e.BrokerSequence));
        Assert.Equal(["b", "b", "a", "a"], page.Events.Select(e => e.Stream));
    }

    [Fact]
    public async Task A_stream_with_many_tasks_keeps_only_the_open_ones_and_a_bounded_number_of_closed_ones_in_memory()
    {
        const long CacheBytes = 8 * 1024;
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o =>
        {
            o.TaskCacheBytes = CacheBytes;
            o.MemoryWindowEvents = 4;
        }, configureSilo: GrainInstances.Install);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());
        var open = await streams.StartTaskAsync("open", 0);
        for (var i = 0; i < 200; i++)
        {
            await using var task = await streams.StartTaskAsync("closed", i);
            await task.UpdateStateAsync(i + 1);
        }

        var cache = GrainInstances.Of<ExecutionStreamGrain>(streams.Execution.Key).CachedTasks;
        Assert.InRange(cache.ClosedBytes, 1, CacheBytes);
        Assert.InRange(cache.Count, 2, 1 + CacheBytes / 256);
        Assert.True(cache.TryGet(1, out var first) && first.TaskId == open.TaskId, "The open task must stay cached.");

        // A replay of the whole history renders every event with its task, reading the dropped rows again.
        var events = await cluster.Client.SubscribeAsync(streams.Execution, StreamPosition.Start).TakeAsync(1 + 200 * 3);
        Assert.Equal(Enumerable.Range(1, 601).Select(n => (long)n), events.Select(e => e.BrokerSequence));
        Assert.Equal(200, events.Where(e => e.Stream == "closed").Select(e => e.TaskId).Distinct().Count());
        Assert.All(events.Where(e => e.Stream == "closed").GroupBy(e => e.TaskId), task => Assert.Equal(3, task.Count()));
        Assert.InRange(cache.ClosedBytes, 1, CacheBytes);
    }

    [Fact]
    public async Task A_task_state_whose_patches_retention_trims_between_two_pages_of_the_fold_fails_as_expired_instead_of_skipping_them()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o => o.MaxEventsPerRead = 2, configureSilo: HookedEventLog.Install);
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());

        // Events 1 (start) to 6: the text grows by one word each, published as patches against the previous state.
        await using var task = await streams.StartTaskAsync("token", new TextState(new string('x', 200)), new TaskOptions { StateUpdates = StateUpdates.Deltas });
        for (var i = 1; i <= 5; i++)
        {
            await task.UpdateStateAsync(new TextState(new string('x', 200) + string.Concat(Enumerable.Range(1, i).Select(n => $" w{n}"))));
        }

        var published = await cluster.Client.SubscribeAsync(streams.Execution, StreamPosition.Start).TakeAsync(6);
        Assert.Equal(Enumerable.Repeat(PayloadEncoding.JsonPatch, 5), published.Skip(1).Select(e => e.Encoding));

        // The fold reads two events a page; before its second page, retention removes 1-4.
        var trims = 0;
        storage.BeforeReadEvents = async (streamId, from, to) =>
        {
            if (from == 3 && to > from && Interlocked.Increment(ref trims) == 1)
            {
                await storage.Inner.TrimAsync(streamId, 5, CancellationToken.None);
            }
        };

        var expired = await Assert.ThrowsAsync<StreamPositionExpiredException>(() => cluster.Client.GetTaskStateAsync(streams.Execution, task.TaskId).Within());
        Assert.Equal(1, trims);
        Assert.Equal(3, expired.Requested);
        Assert.Equal(5, expired.OldestAvailable);
    }

    [Fact]
    public async Task A_task_state_folds_across_a_retention_trim_between_pages_when_a_later_whole_state_replaces_what_was_trimmed()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o => o.MaxEventsPerRead = 2, configureSilo: HookedEventLog.Install);
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("token", new TextState("start"));
        for (var i = 1; i <= 5; i++)
        {
            await task.UpdateStateAsync(new TextState($"update {i}"));
        }

        var trims = 0;
        storage.BeforeReadEvents = async (streamId, from, to) =>
        {
            if (from == 3 && to > from && Interlocked.Increment(ref trims) == 1)
            {
                await storage.Inner.TrimAsync(streamId, 5, CancellationToken.None);
            }
        };

        var state = await cluster.Client.GetTaskStateAsync(streams.Execution, task.TaskId).Within();
        Assert.Equal(1, trims);
        Assert.Equal("update 5", state!["value"]!.GetValue<string>());
    }

    private sealed record TextState(string Value);
}
