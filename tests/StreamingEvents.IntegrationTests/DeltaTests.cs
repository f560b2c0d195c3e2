using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>Tasks that publish JSON-patch deltas, and consumers that rebuild whole states from them.</summary>
public abstract class DeltaTests(ClusterFixture fixture)
{
    private IStreamingEventsClient Client => fixture.Client;

    [Fact]
    public async Task A_subscriber_joining_a_delta_task_midway_rebuilds_every_whole_state_exactly()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var texts = new List<string>();
        await using (var task = await streams.StartTaskAsync("token", new TokenText(""), new TaskOptions { StateUpdates = StateUpdates.Deltas }))
        {
            var text = "";
            for (var i = 0; i < 150; i++)
            {
                text += $" word{i}";
                texts.Add(text);
                await task.UpdateStateAsync(new TokenText(text));
            }
        }

        // Join at sequence 100 (update #99): the base state comes from the stream, patches are applied on top.
        var events = await Client.SubscribeAsync(streams.Execution, StreamPosition.FromSequence(100)).WithWholeStates(Client, streams.Execution).TakeAsync(53);
        var rebuilt = events.Where(e => e.EventType == EventType.CustomTaskInProgress).Select(e => e.GetState<TokenText>()!.Text).ToList();
        Assert.Equal(texts[98..], rebuilt);
        Assert.Equal(texts[^1], events[^1].GetState<TokenText>()!.Text);
        Assert.All(events, e => Assert.NotEqual(PayloadEncoding.JsonPatch, e.Encoding));

        // As published, most of them were patches.
        var published = await Client.SubscribeAsync(streams.Execution, StreamPosition.FromSequence(100)).TakeAsync(53);
        Assert.True(published.Count(e => e.Encoding == PayloadEncoding.JsonPatch) > 45);
    }

    [Fact]
    public async Task Deltas_keep_the_bytes_per_token_flat_where_whole_states_grow_with_the_text()
    {
        var whole = await PublishTokensAsync(StateUpdates.WholeState, 300);
        var deltas = await PublishTokensAsync(StateUpdates.Deltas, 300);

        // Each envelope has ~900 bytes of fixed context; what differs is how the payload grows with the text.
        var wholeSizes = await EventSizesAsync(whole);
        var deltaSizes = await EventSizesAsync(deltas);
        Assert.True(wholeSizes[^2] - wholeSizes[50] > 1000, $"whole-state events grow: #51 {wholeSizes[50]} B, last update {wholeSizes[^2]} B");
        Assert.InRange(deltaSizes[^2] - deltaSizes[50], 0, 16);
        Assert.True(deltaSizes.Sum() < wholeSizes.Sum(), $"deltas {deltaSizes.Sum()} B vs whole states {wholeSizes.Sum()} B");

        // The task grain applies the patches too: its current state is the full text.
        var lastTask = (await Client.ReadAsync(deltas, StreamPosition.Start)).Events[0].TaskId;
        var state = await Client.GetTaskStateAsync(deltas, lastTask);
        Assert.EndsWith(" t299", state!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_patch_whose_whole_state_event_would_pass_one_mebibyte_is_refused_before_numbering_and_complete_still_publishes_the_state()
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        var half = new string('a', 600_000);
        await using var task = await streams.StartTaskAsync("token", new TokenText(half), new TaskOptions { StateUpdates = StateUpdates.Deltas });
        var small = await task.UpdateStateAsync(new TokenText(half + "b"));

        // The state after this append is under 1 MiB (so the handle sends its patch, the smaller), the event carrying it
        // is not: whole-state consumers would get that event, and complete without a state would publish it.
        var grown = half + "b" + new string('x', StreamingLimits.MaxEventBytes - half.Length - 64);
        var tooLarge = await Assert.ThrowsAsync<EventTooLargeException>(() => task.UpdateStateAsync(new TokenText(grown)));
        Assert.InRange(tooLarge.SizeBytes, StreamingLimits.MaxEventBytes + 1, 2 * StreamingLimits.MaxEventBytes);

        var after = await task.UpdateStateAsync(new TokenText("abc"));
        var completed = await task.CompleteAsync();
        Assert.Equal([small + 1, small + 2], [after, completed]);

        var events = await Client.SubscribeAsync(streams.Execution, StreamPosition.Start).WithWholeStates(Client, streams.Execution).TakeAsync(4);
        Assert.Equal([1L, 2, 3, 4], events.Select(e => e.BrokerSequence));
        Assert.Equal(EventType.CustomTaskCompleted, events[^1].EventType);
        Assert.Equal("abc", events[^1].GetState<TokenText>()!.Text);
        Assert.All(events, e => Assert.InRange(e.Json.Length, 1, StreamingLimits.MaxEventBytes));
    }

    private async Task<ExecutionId> PublishTokensAsync(StateUpdates mode, int tokens)
    {
        var streams = Client.ForExecution(ClusterFixture.NewExecution());
        await using var task = await streams.StartTaskAsync("token", new TokenText(""), new TaskOptions { StateUpdates = mode });
        var pending = new List<Task<long>>();
        var text = "";
        for (var i = 0; i < tokens; i++)
        {
            text += $" t{i}";
            pending.Add(task.UpdateStateAsync(new TokenText(text)));
        }

        await Task.WhenAll(pending);
        return streams.Execution;
    }

    private async Task<List<int>> EventSizesAsync(ExecutionId execution)
    {
        var sizes = new List<int>();
        var from = StreamPosition.Start;
        while (true)
        {
            var page = await Client.ReadAsync(execution, from);
            sizes.AddRange(page.Events.Select(e => e.Json.Length));
            if (page.ReachedHead)
            {
                return sizes;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }
    }

    private sealed record TokenText(string Text);
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteDeltaTests(SqliteClusterFixture fixture) : DeltaTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresDeltaTests(PostgresClusterFixture fixture) : DeltaTests(fixture);
