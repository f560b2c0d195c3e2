using StreamingEvents.Publishing;
using StreamingEvents.Testing;

namespace StreamingEvents.Tests.Client;

public sealed class PublishRetryTests
{
    [Fact]
    public async Task A_call_without_an_answer_is_sent_again_after_the_hedge_delay_and_the_first_answer_wins()
    {
        var retry = new PublishRetry(TimeSpan.FromSeconds(30), TimeProvider.System, hedgeDelay: TimeSpan.FromMilliseconds(50));
        var never = new TaskCompletionSource<int>();
        var calls = 0;

        var result = await retry.RunAsync(() => Interlocked.Increment(ref calls) == 1 ? never.Task : Task.FromResult(42), "t1", CancellationToken.None).Within();

        Assert.Equal(42, result);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_call_that_fails_fast_while_another_hangs_is_retried_after_a_back_off_not_the_hedge_delay()
    {
        var retry = new PublishRetry(TimeSpan.FromSeconds(30), TimeProvider.System, hedgeDelay: TimeSpan.FromMilliseconds(100));
        var never = new TaskCompletionSource<int>();
        var calls = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();

        var result = await retry.RunAsync(() => Interlocked.Increment(ref calls) switch
        {
            1 => never.Task,
            2 => Task.FromException<int>(new TimeoutException("the silo is gone")),
            _ => Task.FromResult(7),
        }, "t1", CancellationToken.None).Within();

        Assert.Equal(7, result);
        Assert.Equal(3, calls);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_definite_refusal_is_thrown_as_it_is()
    {
        var retry = new PublishRetry(TimeSpan.FromSeconds(30), TimeProvider.System);

        await Assert.ThrowsAsync<EventTooLargeException>(() => retry.RunAsync<int>(() => throw new EventTooLargeException(2, 1), "t1", CancellationToken.None));
    }

    [Fact]
    public async Task Without_an_answer_within_the_budget_the_outcome_is_unknown()
    {
        var retry = new PublishRetry(TimeSpan.FromMilliseconds(200), TimeProvider.System, hedgeDelay: TimeSpan.FromMilliseconds(30));
        var calls = 0;

        var unknown = await Assert.ThrowsAsync<PublishOutcomeUnknownException>(() =>
            retry.RunAsync<int>(() => { Interlocked.Increment(ref calls); return new TaskCompletionSource<int>().Task; }, "t1", CancellationToken.None)).Within();

        Assert.InRange(calls, 2, 4);
        Assert.Equal(calls, unknown.Attempts);
    }

    [Fact]
    public async Task Cancellation_ends_the_retries_with_an_unknown_outcome()
    {
        var retry = new PublishRetry(TimeSpan.FromSeconds(30), TimeProvider.System);
        using var cancel = new CancellationTokenSource();
        var running = retry.RunAsync(() => Task.FromException<int>(new StorageUnavailableException("down")), "t1", cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAsync<PublishOutcomeUnknownException>(() => running).Within();
    }
}
