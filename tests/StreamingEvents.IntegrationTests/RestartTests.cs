using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>Durability and numbering across a full stop of the cluster and a start of a new one on the same storage.</summary>
public abstract class RestartTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Numbering_continues_across_a_full_restart_and_a_resume_from_mid_history_is_exact()
    {
        var streams = fixture.Client.ForExecution(ClusterFixture.NewExecution());
        var acknowledged = new List<long>();
        await using (var finished = await streams.StartTaskAsync("token", 0))
        {
            for (var i = 1; i <= 30; i++)
            {
                acknowledged.Add(await finished.UpdateStateAsync(i));
            }
        }

        var open = await streams.StartTaskAsync("progress", 0);
        for (var i = 1; i <= 5; i++)
        {
            acknowledged.Add(await open.UpdateStateAsync(i));
        }

        var headBefore = (await streams.GetStreamInfoAsync()).Head;
        Assert.Equal(38, headBefore);

        await fixture.RestartAsync();

        var client = fixture.Client;
        streams = client.ForExecution(streams.Context);
        Assert.Equal(headBefore, (await streams.GetStreamInfoAsync()).Head);
        Assert.Equal(CustomTaskStatus.Running, (await client.GetTaskAsync(open.TaskId)).Status);

        await using var subscriber = new Collector<StreamEvent>(ct => streams.SubscribeAsync(StreamPosition.FromSequence(20), cancellationToken: ct));
        var history = await subscriber.WaitForCountAsync((int)headBefore - 19);
        Assert.Equal(Range(20, headBefore), history.Select(e => e.BrokerSequence));

        // The task left open before the restart goes on where it was, and a new task follows it.
        var openGrain = fixture.Cluster.Client.GetTaskGrain(new TaskAddress(WorkflowContext.DefaultNamespace, open.TaskId));
        Assert.Equal(headBefore + 1, (await openGrain.UpdateAsync(new PublishRequest([TaskEventDraft.Progress("6"u8.ToArray())]))).FirstSequence);
        Assert.Equal(headBefore + 2, (await openGrain.FinishAsync(PublishRequest.Of(TaskEventDraft.Completed()))).FirstSequence);
        await using (var after = await streams.StartTaskAsync("token", 0))
        {
            Assert.Equal(headBefore + 3, after.StartedSequence);
            await after.UpdateStateAsync(1);
        }

        var all = await subscriber.WaitForCountAsync((int)(headBefore + 5) - 19);
        Assert.Equal(Range(20, headBefore + 5), all.Select(e => e.BrokerSequence));
        Assert.Equal("6", all.Single(e => e.BrokerSequence == headBefore + 2).GetTaskAttributes().Payload!.Value.GetRawText());

        // Every acknowledged event from before the restart is still there, with its number.
        var stored = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync((int)headBefore + 5);
        Assert.Equal(Range(1, headBefore + 5), stored.Select(e => e.BrokerSequence));
        Assert.All(acknowledged, sequence => Assert.Equal(open.TaskId == stored[(int)sequence - 1].TaskId ? "progress" : "token", stored[(int)sequence - 1].Stream));
    }

    private static IEnumerable<long> Range(long first, long last) => Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);

    [Fact]
    public async Task An_executions_end_its_status_and_its_lifecycle_events_survive_a_full_restart()
    {
        var context = ClusterFixture.NewExecution("chat");
        await fixture.Client.RunExecutionAsync(context, (execution, ct) =>
            execution.RunActivityAsync("answer", (_, _) => Task.FromResult(42), cancellationToken: ct));
        var canceled = ClusterFixture.NewExecution("chat");
        await using (var running = await fixture.Client.StartExecutionAsync(canceled))
        {
            await running.StartTaskAsync("token", 1);
            await fixture.Client.CancelExecutionAsync(canceled.Execution, "stop");
        }

        await fixture.RestartAsync();

        var client = fixture.Client;
        var completed = await client.GetExecutionAsync(context.Execution);
        Assert.Equal((ExecutionStatus.Completed, "42"), (completed.Status, System.Text.Encoding.UTF8.GetString(completed.Result!)));
        Assert.Equal(ExecutionStatus.Canceled, (await client.GetExecutionAsync(canceled.Execution)).Status);
        await Assert.ThrowsAsync<ExecutionFinishedException>(() => client.ForExecution(context).StartTaskAsync("late", 1));
        await Assert.ThrowsAsync<ExecutionFinishedException>(() => client.ForExecution(canceled).StartTaskAsync("late", 1));

        var page = await client.ReadAsync(canceled.Execution, StreamPosition.FromSequence(1));
        Assert.Equal([EventType.WorkflowExecutionStarted, EventType.CustomTaskStarted, EventType.CustomTaskCanceled, EventType.WorkflowExecutionCanceled],
            page.Events.Select(e => e.EventType));
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteRestartTests(SqliteClusterFixture fixture) : RestartTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresRestartTests(PostgresClusterFixture fixture) : RestartTests(fixture);
