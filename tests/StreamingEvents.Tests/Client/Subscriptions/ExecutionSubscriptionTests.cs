using StreamingEvents.Subscriptions;
using StreamingEvents.Testing;
using StreamingEvents.Tests.Fakes;

namespace StreamingEvents.Tests.Client.Subscriptions;

public sealed class ExecutionSubscriptionTests
{
    private static readonly TimeSpan IdleProbeInterval = TimeSpan.FromSeconds(5);

    private readonly FakeEventSource _source = new();
    private readonly TimerTrackingTimeProvider _time = new();

    [Fact]
    public async Task History_is_replayed_from_the_position_then_live_events_follow_without_gap_or_duplicate()
    {
        _source.Append(10);
        await using var consumer = Subscribe(StreamPosition.FromSequence(4), pageSize: 3);

        Assert.Equal(Sequences(4, 10), Numbers(await consumer.WaitForCountAsync(7)));
        await _source.PushAsync([_source.Get(9), _source.Get(10), .. _source.Append(2)]);
        await _source.PublishAsync(3);

        Assert.Equal(Sequences(4, 15), Numbers(await consumer.WaitForCountAsync(12)));
        Assert.Equal([4L, 7L, 10L], _source.Reads);
    }

    [Fact]
    public async Task Start_replays_from_the_oldest_retained_event()
    {
        _source.Append(20);
        _source.TrimBefore(8);
        await using var consumer = Subscribe(StreamPosition.Start, pageSize: 5);

        Assert.Equal(Sequences(8, 20), Numbers(await consumer.WaitForCountAsync(13)));
        await _source.PublishAsync();
        Assert.Equal(Sequences(8, 21), Numbers(await consumer.WaitForCountAsync(14)));
    }

    public enum HandoverMoment
    {
        AfterLiveSubscribed,
        DuringFirstReadBeforeItsPage,
        DuringFirstReadAfterItsPage,
    }

    [Theory]
    [InlineData(HandoverMoment.AfterLiveSubscribed)]
    [InlineData(HandoverMoment.DuringFirstReadBeforeItsPage)]
    [InlineData(HandoverMoment.DuringFirstReadAfterItsPage)]
    public async Task Events_published_during_the_handover_are_delivered_exactly_once(HandoverMoment moment)
    {
        _source.Append(3);
        Func<Task> publishThree = () => _source.PublishAsync(3);
        switch (moment)
        {
            case HandoverMoment.AfterLiveSubscribed:
                _source.AfterSubscribe = publishThree;
                break;
            case HandoverMoment.DuringFirstReadBeforeItsPage:
                _source.BeforeRead = read => read == 0 ? publishThree() : Task.CompletedTask;
                break;
            case HandoverMoment.DuringFirstReadAfterItsPage:
                _source.AfterRead = read => read == 0 ? publishThree() : Task.CompletedTask;
                break;
        }

        await using var consumer = Subscribe(StreamPosition.Start);
        Assert.Equal(Sequences(1, 6), Numbers(await consumer.WaitForCountAsync(6)));
        await _source.PublishAsync();

        Assert.Equal(Sequences(1, 7), Numbers(await consumer.WaitForCountAsync(7)));
    }

    [Theory]
    [InlineData(1, 100_000, 1000, null)]
    [InlineData(2, 100_000, 7, null)]
    [InlineData(3, 8, 5, null)]
    [InlineData(4, 100_000, 6, "token")]
    [InlineData(5, 8, 3, "progress")]
    public async Task Dropped_duplicated_reordered_and_overlapping_pushes_never_reach_the_consumer(int seed, int bufferEvents, int pageSize, string? topic)
    {
        var random = new Random(seed);
        string[] topics = ["token", "progress"];
        for (var i = 0; i < 40; i++)
        {
            _source.Append(random.Next(1, 4), topics[random.Next(2)]);
        }

        const long From = 37;
        await using var consumer = Subscribe(StreamPosition.FromSequence(From), topic, bufferEvents: bufferEvents, pageSize: pageSize);
        var held = new List<StreamEvent[]>();
        for (var round = 0; round < 700; round++)
        {
            var batch = _source.Append(random.Next(1, 6), topics[random.Next(2)]);
            var roll = random.NextDouble();
            if (roll < 0.15)
            {
                // Lost.
            }
            else if (roll < 0.3)
            {
                held.Add(batch);
            }
            else if (roll < 0.4)
            {
                await _source.PushAsync(batch.Reverse());
            }
            else
            {
                await _source.PushAsync(batch);
                if (random.NextDouble() < 0.2)
                {
                    await _source.PushAsync(batch);
                }
            }

            if (random.NextDouble() < 0.1)
            {
                var last = _source.Head;
                var first = Math.Max(1, last - random.Next(1, 8));
                await _source.PushAsync(Sequences(first, last).Select(_source.Get));
            }

            if (held.Count > 0 && random.NextDouble() < 0.3)
            {
                var late = random.Next(held.Count);
                await _source.PushAsync(held[late]);
                held.RemoveAt(late);
            }
        }

        foreach (var late in held.OrderBy(_ => random.Next()))
        {
            await _source.PushAsync(late);
        }

        // The last event is pushed once more, reliably, so the end is reached without the idle probe.
        await _source.PushAsync([_source.Get(_source.Head)]);

        var expected = Sequences(From, _source.Head).Where(s => topic is null || _source.Get(s).Stream == topic).ToList();
        var received = await consumer.WaitForCountAsync(expected.Count);
        Assert.Equal(expected, Numbers(received));
        Assert.All(received, e => Assert.True(topic is null || e.Stream == topic));

        // Nothing more was delivered between the last expected event and the next one published.
        var extra = await _source.PublishAsync(topic: topic ?? "token");
        Assert.Equal([.. expected, extra[0].BrokerSequence], Numbers(await consumer.WaitForCountAsync(expected.Count + 1)));
    }

    [Fact]
    public async Task A_gap_in_the_push_is_filled_by_reading_the_source()
    {
        await using var consumer = Subscribe(StreamPosition.Start);
        await _time.WaitForArmedTimerAsync().Within();
        Assert.Equal([0L], _source.Reads);

        var events = _source.Append(3);
        await _source.PushAsync([events[2]]);

        Assert.Equal(Sequences(1, 3), Numbers(await consumer.WaitForCountAsync(3)));
        Assert.Equal([0L, 1L], _source.Reads);
    }

    [Fact]
    public async Task A_push_that_stands_for_events_it_does_not_carry_is_completed_from_the_source_at_once()
    {
        await using var consumer = Subscribe(StreamPosition.Start);
        await _time.WaitForArmedTimerAsync().Within();

        // As the grain pushes a commit whose last events are too large for a push message: the first alone, through 3.
        var events = _source.Append(3);
        await _source.PushAsync(new StreamEventBatch([events[0]], Through: 3));

        // The clock does not move: the batch itself, not the idle probe, makes the subscription read 2 and 3.
        Assert.Equal(Sequences(1, 3), Numbers(await consumer.WaitForCountAsync(3, TimeSpan.FromSeconds(3))));
        Assert.Equal([0L, 2L], _source.Reads);
        Assert.Equal(0, _source.HeadRequests);
    }

    [Fact]
    public async Task Contiguous_pushes_are_delivered_without_reading_the_source_again()
    {
        await using var consumer = Subscribe(StreamPosition.Start);
        await _time.WaitForArmedTimerAsync().Within();

        for (var i = 0; i < 20; i++)
        {
            await _source.PublishAsync(2);
        }

        Assert.Equal(Sequences(1, 40), Numbers(await consumer.WaitForCountAsync(40)));
        Assert.Equal([0L], _source.Reads);
    }

    [Fact]
    public async Task Live_starts_at_the_event_after_the_head()
    {
        _source.Append(5);
        await using var consumer = Subscribe(StreamPosition.Live);
        await _source.HeadRequested.Within();

        await _source.PushAsync([_source.Get(4), _source.Get(5)]);
        await _source.PublishAsync(2);

        Assert.Equal([6L, 7L], Numbers(await consumer.WaitForCountAsync(2)));
        Assert.Empty(_source.Reads);
    }

    [Fact]
    public async Task A_position_above_the_head_waits_for_that_sequence()
    {
        _source.Append(3);
        await using var consumer = Subscribe(StreamPosition.FromSequence(6));

        await _source.PublishAsync(2);
        await _source.PublishAsync(2);
        await _source.PublishAsync();

        Assert.Equal([6L, 7L, 8L], Numbers(await consumer.WaitForCountAsync(3)));
    }

    [Fact]
    public async Task A_topic_filter_delivers_only_that_topic_in_ascending_order()
    {
        for (var i = 0; i < 30; i++)
        {
            _source.Append(1 + (i % 3), i % 4 == 0 ? "progress" : "token");
        }

        await using var consumer = Subscribe(StreamPosition.FromSequence(5), "progress", pageSize: 4);
        for (var i = 0; i < 30; i++)
        {
            var batch = _source.Append(1 + (i % 2), i % 3 == 0 ? "progress" : "token");
            await _source.PushAsync(batch);
            await _source.PushAsync(batch);
        }

        var expected = Sequences(5, _source.Head).Where(s => _source.Get(s).Stream == "progress").ToList();
        var received = await consumer.WaitForCountAsync(expected.Count);

        Assert.Equal(expected, Numbers(received));
        Assert.All(received, e => Assert.Equal("progress", e.Stream));
    }

    [Fact]
    public async Task A_slow_consumer_whose_buffer_overflows_catches_up_from_the_source_exactly()
    {
        _source.Append(2);
        await using var subscription = Run(StreamPosition.Start, bufferEvents: 5, pageSize: 100).GetAsyncEnumerator();
        Assert.Equal(1, await NextAsync(subscription));

        // The consumer holds event 1 while 18 events are pushed: the buffer takes 5 and then overflows.
        for (var i = 0; i < 18; i++)
        {
            await _source.PublishAsync();
        }

        var received = new List<long> { 1 };
        while (received.Count < 20)
        {
            received.Add(await NextAsync(subscription));
        }

        Assert.Equal(Sequences(1, 20), received);
        Assert.Equal([0L, 3L], _source.Reads);

        // After the catch-up the live push feeds it again.
        await _source.PublishAsync();
        Assert.Equal(21, await NextAsync(subscription));
        Assert.Equal(2, _source.Reads.Count);
    }

    [Fact]
    public async Task A_push_larger_than_the_buffer_while_the_subscription_waits_is_caught_up_without_waiting_for_the_idle_probe()
    {
        await using var consumer = Subscribe(StreamPosition.Start, bufferEvents: 4);
        await _time.WaitForArmedTimerAsync().Within();

        await _source.PublishAsync(10);

        // The clock does not move: only the overflow itself can trigger the catch-up.
        Assert.Equal(Sequences(1, 10), Numbers(await consumer.WaitForCountAsync(10, TimeSpan.FromSeconds(3))));
    }

    [Fact]
    public async Task A_lost_final_push_is_recovered_by_the_idle_probe()
    {
        _source.Append(3);
        await using var consumer = Subscribe(StreamPosition.Start);
        await consumer.WaitForCountAsync(3);
        await _time.WaitForTimersCreatedAsync(1).Within();

        _source.Append();
        Assert.Equal(0, _source.HeadRequests);
        _time.Advance(IdleProbeInterval);

        Assert.Equal(Sequences(1, 4), Numbers(await consumer.WaitForCountAsync(4)));
        Assert.Equal(1, _source.HeadRequests);
        Assert.Equal([0L, 4L], _source.Reads);
    }

    [Fact]
    public async Task An_idle_probe_that_finds_nothing_new_reads_nothing_and_keeps_the_live_subscription()
    {
        await using var consumer = Subscribe(StreamPosition.Start);
        await _time.WaitForTimersCreatedAsync(1).Within();

        for (var probe = 1; probe <= 3; probe++)
        {
            _time.Advance(IdleProbeInterval);

            // The probe asks for the head, then waits again on a new timer.
            await _time.WaitForTimersCreatedAsync(probe + 1).Within();
            Assert.Equal(probe, _source.HeadRequests);
        }

        await _source.PublishAsync();
        Assert.Equal([1L], Numbers(await consumer.WaitForCountAsync(1)));
        Assert.Equal([0L], _source.Reads);
        Assert.Single(_source.Subscriptions);
    }

    [Fact]
    public async Task Two_probes_that_find_lost_events_renew_the_live_subscription()
    {
        _source.Append(2);
        await using var consumer = Subscribe(StreamPosition.Start);
        await consumer.WaitForCountAsync(2);

        await _time.WaitForTimersCreatedAsync(1).Within();
        _source.Append();
        _time.Advance(IdleProbeInterval);
        await consumer.WaitForCountAsync(3);
        Assert.Single(_source.Subscriptions);

        await _time.WaitForTimersCreatedAsync(2).Within();
        _source.Append();
        _time.Advance(IdleProbeInterval);
        await consumer.WaitForCountAsync(4);

        var subscriptions = _source.Subscriptions;
        Assert.Equal(2, subscriptions.Count);
        Assert.True(subscriptions[0].IsDisposed);
        Assert.False(subscriptions[1].IsDisposed);
        await _source.PublishAsync();
        Assert.Equal(Sequences(1, 5), Numbers(await consumer.WaitForCountAsync(5)));
    }

    [Fact]
    public async Task An_expired_position_surfaces_to_the_consumer_and_releases_the_live_subscription()
    {
        _source.Append(10);
        _source.TrimBefore(6);
        await using var subscription = Run(StreamPosition.FromSequence(3)).GetAsyncEnumerator();

        var error = await Assert.ThrowsAsync<StreamPositionExpiredException>(() => subscription.MoveNextAsync().AsTask().Within());

        Assert.Equal(3, error.Requested);
        Assert.Equal(6, error.OldestAvailable);
        Assert.Equal("default/exec", error.Execution);
        Assert.True(Assert.Single(_source.Subscriptions).IsDisposed);
    }

    [Fact]
    public async Task A_slow_consumer_that_falls_behind_retention_gets_the_expired_position()
    {
        _source.Append(2);
        await using var subscription = Run(StreamPosition.Start, bufferEvents: 3).GetAsyncEnumerator();
        Assert.Equal(1, await NextAsync(subscription));
        for (var i = 0; i < 10; i++)
        {
            await _source.PublishAsync();
        }

        _source.TrimBefore(9);

        Assert.Equal(2, await NextAsync(subscription));
        var error = await Assert.ThrowsAsync<StreamPositionExpiredException>(() => subscription.MoveNextAsync().AsTask().Within());
        Assert.Equal(3, error.Requested);
        Assert.Equal(9, error.OldestAvailable);
    }

    [Fact]
    public async Task Disposing_the_enumerator_disposes_the_live_subscription()
    {
        _source.Append(3);
        var subscription = Run(StreamPosition.Start).GetAsyncEnumerator();
        Assert.Equal(1, await NextAsync(subscription));
        var live = Assert.Single(_source.Subscriptions);
        Assert.False(live.IsDisposed);

        await subscription.DisposeAsync();

        Assert.Equal(1, live.Disposals);
    }

    [Fact]
    public async Task The_next_history_page_is_requested_before_the_consumer_gets_the_current_one()
    {
        _source.Append(10);
        await using var subscription = Run(StreamPosition.Start, pageSize: 4).GetAsyncEnumerator();

        Assert.Equal(1, await NextAsync(subscription));

        Assert.Equal([0L, 5L], _source.Reads);
    }

    [Fact]
    public async Task A_consumer_that_stops_during_a_replay_never_sees_the_outcome_of_the_page_it_did_not_ask_for()
    {
        _source.Append(10);
        var secondPage = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _source.BeforeRead = read => read == 1 ? secondPage.Task : Task.CompletedTask;
        var subscription = Run(StreamPosition.Start, pageSize: 4).GetAsyncEnumerator();
        Assert.Equal(1, await NextAsync(subscription));
        var live = Assert.Single(_source.Subscriptions);

        var disposal = subscription.DisposeAsync().AsTask();
        secondPage.SetException(new InvalidOperationException("the read of a page nobody waits for failed"));

        await disposal.Within();
        Assert.Equal(1, live.Disposals);
        Assert.Equal([0L, 5L], _source.Reads);
    }

    [Fact]
    public async Task Canceling_the_subscription_disposes_the_live_subscription()
    {
        var consumer = Subscribe(StreamPosition.Start);
        await _time.WaitForArmedTimerAsync().Within();
        var live = Assert.Single(_source.Subscriptions);

        await consumer.DisposeAsync();

        Assert.Null(consumer.Failure);
        Assert.Equal(1, live.Disposals);
    }

    private IAsyncEnumerable<StreamEvent> Run(StreamPosition from, string? topic = null, int bufferEvents = 10_000, int pageSize = 1000, CancellationToken cancellationToken = default) =>
        ExecutionSubscription.RunAsync(_source, from, topic, new SubscriptionSettings(bufferEvents, long.MaxValue, IdleProbeInterval, pageSize, _time), cancellationToken);

    private Collector<StreamEvent> Subscribe(StreamPosition from, string? topic = null, int bufferEvents = 10_000, int pageSize = 1000) =>
        new(ct => Run(from, topic, bufferEvents, pageSize, ct));

    private static async Task<long> NextAsync(IAsyncEnumerator<StreamEvent> subscription)
    {
        Assert.True(await subscription.MoveNextAsync().AsTask().Within(), "The subscription ended.");
        return subscription.Current.BrokerSequence;
    }

    private static List<long> Numbers(IEnumerable<StreamEvent> events) => [.. events.Select(e => e.BrokerSequence)];

    private static IEnumerable<long> Sequences(long first, long last)
    {
        for (var sequence = first; sequence <= last; sequence++)
        {
            yield return sequence;
        }
    }
}
