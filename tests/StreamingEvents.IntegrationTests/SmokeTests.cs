using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

[Collection(SqliteCluster.Name)]
public sealed class SmokeTests(SqliteClusterFixture fixture)
{
    [Fact]
    public async Task A_task_publishes_and_a_subscriber_reads_it()
    {
        var streams = fixture.Client.ForExecution(ClusterFixture.NewExecution());
        await using (var task = await streams.StartTaskAsync("token", new TokenState([])))
        {
            await task.UpdateStateAsync(new TokenState(["Hel"]));
            await task.UpdateStateAsync(new TokenState(["Hel", "lo"]));
        }

        var events = await streams.SubscribeAsync(StreamPosition.Start).TakeAsync(4);
        Assert.Equal([1L, 2, 3, 4], events.Select(e => e.BrokerSequence));
        Assert.Equal(EventType.CustomTaskCompleted, events[^1].EventType);
        Assert.Equal(["Hel", "lo"], events[^1].GetState<TokenState>()!.Tokens);
    }

    private sealed record TokenState(IReadOnlyList<string> Tokens);
}
