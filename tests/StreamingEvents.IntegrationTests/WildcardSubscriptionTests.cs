using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>Subscriptions over many executions: discovery, per-execution order, and exact resume by cursor.</summary>
public abstract class WildcardSubscriptionTests(ClusterFixture fixture)
{
    private IStreamingEventsClient Client => fixture.Client;

    [Fact]
    public async Task A_wildcard_subscription_merges_existing_and_new_executions_and_a_cursor_resumes_each_exactly()
    {
        var workflowName = "wild-" + Guid.NewGuid().ToString("N")[..8];
        var root = "root-" + Guid.NewGuid().ToString("N")[..8];
        var first = ClusterFixture.NewExecution(workflowName) with { RootWorkflowExecId = root };
        var second = ClusterFixture.NewExecution(workflowName) with { RootWorkflowExecId = root };
        var other = ClusterFixture.NewExecution("someone-else");
        await PublishAsync(first, 3);
        await PublishAsync(second, 2);
        await PublishAsync(other, 2);

        var query = new ExecutionQuery(WorkflowName: workflowName);
        await using var subscriber = new Collector<CursorEvent>(ct => Client.SubscribeManyAsync(query, cancellationToken: ct));
        await subscriber.WaitForCountAsync(5 + 4);

        // An execution that starts while the subscription runs is picked up.
        var third = ClusterFixture.NewExecution(workflowName) with { RootWorkflowExecId = root };
        await PublishAsync(third, 4);
        await PublishAsync(first, 1);
        var all = await subscriber.WaitForCountAsync(9 + 6 + 3);

        Assert.DoesNotContain(all, e => e.Execution == other.Normalize().Execution);
        foreach (var context in new[] { first, second, third })
        {
            var sequences = all.Where(e => e.Execution == context.Normalize().Execution).Select(e => e.Event.BrokerSequence).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        }

        // Resume from the cursor of a middle event: exactly the events after it, per execution.
        var middle = all[all.Count / 2];
        var resumed = await Client.SubscribeManyAsync(query, middle.Cursor).TakeAsync(all.Count - all.Count / 2 - 1);
        var expected = all.Skip(all.Count / 2 + 1).Select(e => (e.Execution.Key, e.Event.BrokerSequence)).Order().ToList();
        Assert.Equal(expected, resumed.Select(e => (e.Execution.Key, e.Event.BrokerSequence)).Order().ToList());

        // The same query by root id finds the same executions.
        var byRoot = await Client.ListExecutionsAsync(new ExecutionQuery(RootWorkflowExecId: root));
        Assert.Equal(3, byRoot.Length);
        Assert.Equal(third.WorkflowExecId, byRoot[0].Context.WorkflowExecId);
    }

    [Fact]
    public async Task A_wildcard_subscription_with_a_start_sequence_and_topic_applies_them_to_every_execution()
    {
        var workflowName = "wild-" + Guid.NewGuid().ToString("N")[..8];
        var a = ClusterFixture.NewExecution(workflowName);
        var b = ClusterFixture.NewExecution(workflowName);
        await PublishAsync(a, 4);
        await PublishAsync(b, 4);

        var events = await Client.SubscribeManyAsync(new ExecutionQuery(WorkflowName: workflowName), startSequence: 3, topic: "token").TakeAsync(8);
        Assert.All(events, e => Assert.True(e.Event.BrokerSequence >= 3));
        Assert.All(events, e => Assert.Equal("token", e.Event.Stream));
        Assert.Equal(4, events.Count(e => e.Execution == a.Normalize().Execution));
    }

    private async Task PublishAsync(WorkflowContext context, int updates)
    {
        await using var task = await Client.StartTaskAsync(context, "token", 0);
        for (var i = 1; i <= updates; i++)
        {
            await task.UpdateStateAsync(i);
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWildcardSubscriptionTests(SqliteClusterFixture fixture) : WildcardSubscriptionTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWildcardSubscriptionTests(PostgresClusterFixture fixture) : WildcardSubscriptionTests(fixture);
