using System.Text;
using StreamingEvents.Subscriptions;
using StreamingEvents.Testing;
using StreamingEvents.Tests.Fakes;

namespace StreamingEvents.Tests.Client.Subscriptions;

public sealed class LiveBufferTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    private readonly TimerTrackingTimeProvider _time = new();

    [Fact]
    public async Task Batches_are_taken_in_the_order_they_were_pushed()
    {
        var buffer = new LiveBuffer(100, long.MaxValue, _time);
        await buffer.OnBatchAsync(Batch(1, 2));
        await buffer.OnBatchAsync(Batch(3));
        await buffer.OnBatchAsync(Batch(4, 5));

        Assert.Equal([1L, 2L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));
        Assert.Equal([3L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));
        Assert.Equal([4L, 5L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));
        Assert.False(buffer.Overflowed);
    }

    [Fact]
    public async Task A_waiting_take_gets_the_next_pushed_batch()
    {
        var buffer = new LiveBuffer(100, long.MaxValue, _time);
        var take = buffer.TakeAsync(Idle, CancellationToken.None).AsTask();
        await _time.WaitForArmedTimerAsync().Within();

        await buffer.OnBatchAsync(Batch(7));

        Assert.Equal([7L], Numbers(await take.Within()));
    }

    [Fact]
    public async Task A_take_returns_null_when_nothing_arrives_within_the_idle_time()
    {
        var buffer = new LiveBuffer(100, long.MaxValue, _time);
        var take = buffer.TakeAsync(Idle, CancellationToken.None).AsTask();
        await _time.WaitForArmedTimerAsync().Within();

        _time.Advance(Idle - TimeSpan.FromTicks(1));
        Assert.False(take.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        Assert.Null(await take.Within());
    }

    [Fact]
    public async Task A_canceled_take_throws_instead_of_reporting_idle()
    {
        var buffer = new LiveBuffer(100, long.MaxValue, _time);
        using var cancel = new CancellationTokenSource();
        var take = buffer.TakeAsync(Idle, cancel.Token).AsTask();
        await _time.WaitForArmedTimerAsync().Within();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => take.Within());
    }

    [Fact]
    public async Task Pushing_past_the_capacity_drops_the_batch_and_every_later_one_and_reports_the_overflow()
    {
        var buffer = new LiveBuffer(5, long.MaxValue, _time);
        await buffer.OnBatchAsync(Batch(1, 2, 3));
        await buffer.OnBatchAsync(Batch(4, 5, 6));
        await buffer.OnBatchAsync(Batch(7));

        Assert.True(buffer.Overflowed);
        Assert.Equal([1L, 2L, 3L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));

        // What follows is not the dropped batches but an empty wake-up, at once, so a waiting reader notices the overflow.
        var wakeup = await buffer.TakeAsync(Idle, CancellationToken.None);
        Assert.NotNull(wakeup);
        Assert.Empty(wakeup.Events);
        var take = buffer.TakeAsync(Idle, CancellationToken.None).AsTask();
        await _time.WaitForArmedTimerAsync().Within();
        _time.Advance(Idle);
        Assert.Null(await take.Within());
    }

    [Fact]
    public async Task Pushing_past_the_byte_capacity_overflows_though_the_count_fits()
    {
        var buffer = new LiveBuffer(100, capacityBytes: 10, _time);
        await buffer.OnBatchAsync(Batch(1, 2, 3, 4, 5)); // 2 bytes each: 10
        Assert.False(buffer.Overflowed);

        await buffer.OnBatchAsync(Batch(6));
        Assert.True(buffer.Overflowed);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));
    }

    [Fact]
    public async Task Taking_a_batch_frees_its_bytes()
    {
        var buffer = new LiveBuffer(100, capacityBytes: 8, _time);

        for (var i = 0; i < 10; i++)
        {
            await buffer.OnBatchAsync(Batch(1, 2, 3, 4));
            Assert.NotNull(await buffer.TakeAsync(Idle, CancellationToken.None));
        }

        Assert.False(buffer.Overflowed);
    }

    [Fact]
    public async Task Taking_a_batch_frees_its_room()
    {
        var buffer = new LiveBuffer(5, long.MaxValue, _time);

        for (var i = 0; i < 10; i++)
        {
            await buffer.OnBatchAsync(Batch(1, 2, 3, 4));
            Assert.NotNull(await buffer.TakeAsync(Idle, CancellationToken.None));
        }

        Assert.False(buffer.Overflowed);
    }

    [Fact]
    public async Task Reset_empties_the_buffer_and_accepts_batches_again()
    {
        var buffer = new LiveBuffer(3, long.MaxValue, _time);
        await buffer.OnBatchAsync(Batch(1, 2));
        await buffer.OnBatchAsync(Batch(3, 4));
        Assert.True(buffer.Overflowed);

        buffer.Reset();
        await buffer.OnBatchAsync(Batch(10, 11, 12));

        Assert.False(buffer.Overflowed);
        Assert.Equal([10L, 11L, 12L], Numbers(await buffer.TakeAsync(Idle, CancellationToken.None)));
    }

    [Fact]
    public async Task Buffers_sharing_a_byte_budget_overflow_when_it_is_spent_and_taking_a_batch_gives_its_bytes_back()
    {
        var budget = new ByteBudget(6); // three events of "{}"
        var first = new LiveBuffer(100, long.MaxValue, _time, budget);
        var second = new LiveBuffer(100, long.MaxValue, _time, budget);
        await first.OnBatchAsync(Batch(1, 2));
        await second.OnBatchAsync(Batch(1));
        Assert.Equal(6, budget.Used);

        // Within its own bounds, but the shared budget is spent: this buffer overflows, the other keeps its batch.
        await second.OnBatchAsync(Batch(2));
        Assert.True(second.Overflowed);
        Assert.False(first.Overflowed);
        Assert.Equal(6, budget.Used);

        Assert.Equal([1L, 2L], Numbers(await first.TakeAsync(Idle, CancellationToken.None)));
        Assert.Equal(2, budget.Used);
        second.Reset();
        Assert.Equal(0, budget.Used);
        await second.OnBatchAsync(Batch(3, 4, 5));
        Assert.False(second.Overflowed);
        Assert.Equal(6, budget.Used);
    }

    [Fact]
    public async Task A_closed_buffer_gives_back_what_it_held_and_takes_nothing_more()
    {
        var budget = new ByteBudget(100);
        var buffer = new LiveBuffer(100, long.MaxValue, _time, budget);
        await buffer.OnBatchAsync(Batch(1, 2, 3));
        Assert.Equal(6, budget.Used);

        buffer.Close();
        await buffer.OnBatchAsync(Batch(4));

        Assert.Equal(0, budget.Used);
        Assert.Null(await buffer.TakeAsync(TimeSpan.Zero, CancellationToken.None));
    }

    private static StreamEventBatch Batch(params long[] sequences) =>
        new([.. sequences.Select(s => new StreamEvent(s, "token", "task", EventType.CustomTaskInProgress, s, Encoding.UTF8.GetBytes("{}")))]);

    private static List<long> Numbers(StreamEventBatch? batch) =>
        [.. Assert.IsType<StreamEventBatch>(batch).Events.Select(e => e.BrokerSequence)];
}
