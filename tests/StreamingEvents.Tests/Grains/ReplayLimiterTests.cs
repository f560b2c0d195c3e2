using Microsoft.Extensions.Options;
using StreamingEvents.Testing;

namespace StreamingEvents.Tests.Grains;

public sealed class ReplayLimiterTests
{
    [Fact]
    public async Task A_read_whose_caller_gave_up_while_it_waited_leaves_the_queue_and_never_runs()
    {
        using var limiter = Limiter(1);
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = limiter.RunAsync(_ => release.Task, CancellationToken.None);
        var ran = false;
        using var giveUp = new CancellationTokenSource();
        var abandoned = limiter.RunAsync(_ =>
        {
            ran = true;
            return Task.FromResult(0);
        }, giveUp.Token);

        await giveUp.CancelAsync();

        // It ends at once, while the slot is still taken, not when its turn would have come.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());
        Assert.False(holding.IsCompleted);
        release.SetResult(1);
        Assert.Equal(1, await holding.Within());
        Assert.Equal(2, await limiter.RunAsync(_ => Task.FromResult(2), CancellationToken.None).Within());
        Assert.False(ran);
    }

    [Fact]
    public async Task A_running_read_is_canceled_with_its_caller_and_frees_its_slot()
    {
        using var limiter = Limiter(1);
        using var giveUp = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = limiter.RunAsync(async token =>
        {
            started.SetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return 0;
        }, giveUp.Token);
        await started.Task.Within();

        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Within());
        Assert.Equal(3, await limiter.RunAsync(_ => Task.FromResult(3), CancellationToken.None).Within());
    }

    private static ReplayLimiter Limiter(int reads) => new(Options.Create(new StreamingEventsOptions { MaxConcurrentReplayReads = reads }));
}
