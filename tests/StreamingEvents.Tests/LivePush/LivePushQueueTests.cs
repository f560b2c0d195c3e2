using StreamingEvents.LivePush;

namespace StreamingEvents.Tests.LivePush;

public sealed class LivePushQueueTests
{
    private static readonly TimeSpan Forever = Timeout.InfiniteTimeSpan;
    private static readonly StreamId Stream = StreamId.Create("se.exec", "default/a");

    [Fact]
    public async Task A_waiting_reader_is_woken_by_the_batch_that_ends_its_wait()
    {
        var queue = new LivePushQueue(maxBytes: 10_000);
        var take = queue.TakeAsync(10, Forever, CancellationToken.None);
        Assert.False(take.IsCompleted);

        queue.Enqueue(Stream, ["first"], bytes: 100);

        var taken = await take.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["first"], taken.Cast<LivePushBatch>().Select(b => (string)b.Events[0]));
    }

    [Fact]
    public async Task A_read_with_nothing_queued_returns_empty_after_its_idle_bound()
    {
        var queue = new LivePushQueue(maxBytes: 10_000);

        var taken = await queue.TakeAsync(10, TimeSpan.FromMilliseconds(1), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(taken);
    }

    [Fact]
    public async Task Batches_are_numbered_in_the_order_they_are_queued()
    {
        var queue = new LivePushQueue(maxBytes: 1_000_000);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(producer => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                queue.Enqueue(Stream, [producer], bytes: 10);
            }
        })));

        var taken = await queue.TakeAsync(0, Forever, CancellationToken.None);

        var tokens = taken.Select(b => b.SequenceToken.SequenceNumber).ToList();
        Assert.Equal(2000, tokens.Count);
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), tokens);
    }

    [Fact]
    public async Task A_full_queue_drops_its_oldest_batches_to_stay_within_its_bytes()
    {
        var queue = new LivePushQueue(maxBytes: 1_000);
        for (var i = 1; i <= 25; i++)
        {
            queue.Enqueue(Stream, [i], bytes: 100);
        }

        var taken = await queue.TakeAsync(0, Forever, CancellationToken.None);

        Assert.Equal(Enumerable.Range(16, 10), taken.Cast<LivePushBatch>().Select(b => (int)b.Events[0]));
        Assert.Equal(15, queue.Dropped);
    }

    [Fact]
    public async Task A_read_takes_at_most_its_count()
    {
        var queue = new LivePushQueue(maxBytes: 1_000_000);
        for (var i = 0; i < 10; i++)
        {
            queue.Enqueue(Stream, [i], bytes: 10);
        }

        Assert.Equal(4, (await queue.TakeAsync(4, Forever, CancellationToken.None)).Count);
        Assert.Equal(6, queue.Count);
    }

    [Fact]
    public async Task Cancellation_ends_a_waiting_read()
    {
        var queue = new LivePushQueue(maxBytes: 10_000);
        using var cancel = new CancellationTokenSource();
        var take = queue.TakeAsync(10, Forever, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => take);
    }

    [Fact]
    public void A_batch_of_events_weighs_its_json()
    {
        var batch = new StreamEventBatch([Event(1, 1000), Event(2, 3000)]);

        Assert.InRange(LivePushBatch.Weigh(batch), 4000, 4000 + 512);
    }

    [Fact]
    public void A_batch_hands_its_events_of_the_asked_type_to_the_consumer()
    {
        var batch = new LivePushBatch(Stream, ["a", 1, "b"], new Orleans.Providers.Streams.Common.EventSequenceTokenV2(7));

        var events = batch.GetEvents<string>().ToList();

        Assert.Equal(["a", "b"], events.Select(e => e.Item1));
        Assert.All(events, e => Assert.Equal(7, e.Item2.SequenceNumber));
    }

    internal static StreamEvent Event(long sequence, int bytes) =>
        new(sequence, "token", "t1", EventType.CustomTaskInProgress, 0, new byte[bytes]);
}
