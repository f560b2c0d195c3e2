using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// A subscription over many executions follows at most <c>MaxExecutionsPerSubscription</c> running executions at once;
/// an execution whose lifecycle ended is let go once its last event is delivered, and executions found already ended
/// are replayed a few at a time, so neither a long-lived subscription nor a new one over a long history hits the limit
/// for executions that are over.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class WildcardBoundsTests
{
    private const int Limit = 3;
    private const int Executions = 8;
    private const int EventsPerExecution = 5; // started, task started, update, task completed, completed

    [Fact]
    public async Task Ended_executions_are_let_go_so_more_than_the_limit_pass_through_a_subscription_and_a_new_one_replays_them_all()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, client: o => o.MaxExecutionsPerSubscription = Limit);
        var client = cluster.Client;
        var workflowName = "bounded-" + Guid.NewGuid().ToString("N")[..8];
        var query = new ExecutionQuery(WorkflowName: workflowName);
        await using var live = new Collector<CursorEvent>(ct => client.SubscribeManyAsync(query, cancellationToken: ct));

        // One execution runs the whole time and holds one of the places.
        await using var running = await client.StartExecutionAsync(ClusterFixture.NewExecution(workflowName));
        await live.WaitForCountAsync(1);
        for (var i = 1; i <= Executions; i++)
        {
            await using (var execution = await client.StartExecutionAsync(ClusterFixture.NewExecution(workflowName)))
            {
                await using var task = await client.ForExecution(execution.Context).StartTaskAsync("token", "");
                await task.UpdateStateAsync("done");
                await task.CompleteAsync();
                await execution.CompleteAsync();
            }

            await live.WaitForCountAsync(1 + (i * EventsPerExecution));
        }

        AssertEveryExecutionExact(live.Items, Executions + 1);

        // A new subscription finds eight executions that ended, more than its limit, and one running.
        await using var late = new Collector<CursorEvent>(ct => client.SubscribeManyAsync(query, cancellationToken: ct));
        AssertEveryExecutionExact(await late.WaitForCountAsync(1 + (Executions * EventsPerExecution)), Executions + 1);

        // Both still follow the running one to its end.
        await running.CompleteAsync();
        AssertEveryExecutionExact(await live.WaitForCountAsync(2 + (Executions * EventsPerExecution)), Executions + 1);
        AssertEveryExecutionExact(await late.WaitForCountAsync(2 + (Executions * EventsPerExecution)), Executions + 1);
        Assert.Null(live.Failure);
        Assert.Null(late.Failure);
    }

    private static void AssertEveryExecutionExact(IReadOnlyList<CursorEvent> events, int executions)
    {
        var byExecution = events.GroupBy(e => e.Execution).ToList();
        Assert.Equal(executions, byExecution.Count);
        foreach (var one in byExecution)
        {
            Assert.Equal(Enumerable.Range(1, one.Count()).Select(i => (long)i), one.Select(e => e.Event.BrokerSequence));
        }
    }
}
