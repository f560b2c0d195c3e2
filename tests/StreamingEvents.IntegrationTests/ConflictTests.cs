using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Storage;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>Conditional appends: a stale writer fails and no number is ever given twice.</summary>
public abstract class ConflictTests(ClusterFixture fixture)
{
    private IEventLogStorage Storage =>
        fixture.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IEventLogStorage>(StreamingEventsNames.EventLogStorage);

    [Fact]
    public async Task An_append_against_a_stale_head_is_refused_and_writes_nothing()
    {
        var (streamId, task) = await CreateStreamAsync();
        Assert.Equal(AppendOutcome.Committed, await Storage.AppendAsync(Append(streamId, task, expectedHead: 0, count: 2), default));
        Assert.Equal(AppendOutcome.Conflict, await Storage.AppendAsync(Append(streamId, task, expectedHead: 0, count: 3), default));

        var events = await Storage.ReadEventsAsync(streamId, 1, long.MaxValue, 100, default);
        Assert.Equal([1L, 2], events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Racing_writers_with_the_same_head_commit_exactly_one_append()
    {
        var (streamId, task) = await CreateStreamAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Storage.AppendAsync(Append(streamId, task, expectedHead: 0, count: 2), default)));
        Assert.Single(outcomes, o => o == AppendOutcome.Committed);
        var events = await Storage.ReadEventsAsync(streamId, 1, long.MaxValue, 100, default);
        Assert.Equal([1L, 2], events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task A_stale_append_in_a_group_commit_fails_alone()
    {
        var streams = new List<(long Id, StoredTask Task)>();
        for (var i = 0; i < 8; i++)
        {
            streams.Add(await CreateStreamAsync());
        }

        var appends = streams.Select((s, i) => Storage.AppendAsync(Append(s.Id, s.Task, expectedHead: i == 3 ? 7 : 0, count: 1), default)).ToList();
        var outcomes = await Task.WhenAll(appends);
        Assert.Equal(AppendOutcome.Conflict, outcomes[3]);
        Assert.Equal(7, outcomes.Count(o => o == AppendOutcome.Committed));
    }

    [Fact]
    public async Task A_new_task_whose_id_another_execution_took_fails_only_its_own_streams_append()
    {
        var (firstId, firstTask) = await CreateStreamAsync();
        Assert.Equal(AppendOutcome.Committed, await Storage.AppendAsync(Append(firstId, firstTask, expectedHead: 0, count: 1), default));

        var (takenId, _) = await CreateStreamAsync();
        var others = new List<(long Id, StoredTask Task)>();
        for (var i = 0; i < 4; i++)
        {
            others.Add(await CreateStreamAsync());
        }

        // Submitted together, so that they share a group commit where the storage batches them.
        var taken = Storage.AppendAsync(Append(takenId, firstTask, expectedHead: 0, count: 2), default);
        var rest = others.Select(o => Storage.AppendAsync(Append(o.Id, o.Task, expectedHead: 0, count: 1), default)).ToList();

        Assert.Equal(AppendOutcome.TaskIdTaken, await taken);
        Assert.All(await Task.WhenAll(rest), outcome => Assert.Equal(AppendOutcome.Committed, outcome));
        Assert.Empty(await Storage.ReadEventsAsync(takenId, 1, long.MaxValue, 100, default));
        var location = await Storage.FindTaskAsync(WorkflowContext.DefaultNamespace, firstTask.TaskId, default);
        Assert.Equal(firstId, (await Storage.LoadStreamAsync(location!.StreamKey, default))!.StreamId);
    }

    [Fact]
    public async Task A_grain_overtaken_by_another_writer_stops_and_numbering_continues_after_the_other_writers_events()
    {
        var streams = fixture.Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("progress", 0);
        await task.UpdateStateAsync(1);
        await task.UpdateStateAsync(2);

        // Another activation (e.g. on a silo that believed the first one dead) starts a task of its own behind this one's
        // back, keeping what it loaded of the first task's publisher.
        var record = await Storage.LoadStreamAsync(streams.Execution.Key, default);
        var stored = Assert.Single(record!.OpenTasks);
        Assert.Equal((2L, 3L), (Assert.Single(record.Producers).LastPublishSequence, record.Producers[0].LastSequence));
        var other = new StoredTask(2, TaskOptions.NewTaskId(), "progress", stored.WorkflowRunId, null, CustomTaskStatus.Running, 4, null);
        var otherEvents = new List<StoredEvent>
        {
            new(4, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000, 2, EventType.CustomTaskStarted, PayloadEncoding.Json, "0"u8.ToArray()),
            new(5, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000, 2, EventType.CustomTaskInProgress, PayloadEncoding.Json, "1"u8.ToArray()),
        };
        var behindTheBack = new StreamAppend(record.StreamId, 3, otherEvents, [other], [], 2, 2)
        {
            Producers = [.. record.Producers, new ProducerState(2, 1, 1, 5, 1)],
            Namespace = streams.Execution.Namespace,
        };
        Assert.Equal(AppendOutcome.Committed, await Storage.AppendAsync(behindTheBack, default));

        // This activation's next append conflicts; the SDK repeats it against a fresh activation.
        Assert.Equal(6, await task.UpdateStateAsync(3));
        var events = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync(6);
        Assert.Equal([1L, 2, 3, 4, 5, 6], events.Select(e => e.BrokerSequence));
    }

    private async Task<(long StreamId, StoredTask Task)> CreateStreamAsync()
    {
        var context = ClusterFixture.NewExecution().Normalize();
        var record = await Storage.CreateStreamAsync(context.Execution.Key, context, default);
        var task = new StoredTask(1, TaskOptions.NewTaskId(), "progress", context.WorkflowRunId!, null, CustomTaskStatus.Running, 1, null);
        return (record!.StreamId, task);
    }

    private static StreamAppend Append(long streamId, StoredTask task, long expectedHead, int count)
    {
        var events = Enumerable.Range(1, count)
            .Select(i => new StoredEvent(expectedHead + i, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000, task.TaskNo,
                expectedHead == 0 && i == 1 ? EventType.CustomTaskStarted : EventType.CustomTaskInProgress, PayloadEncoding.Json, "0"u8.ToArray()))
            .ToList();
        return new StreamAppend(streamId, expectedHead, events, expectedHead == 0 ? [task] : [], [], 1, count) { Namespace = WorkflowContext.DefaultNamespace };
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteConflictTests(SqliteClusterFixture fixture) : ConflictTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresConflictTests(PostgresClusterFixture fixture) : ConflictTests(fixture);
