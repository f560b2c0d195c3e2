using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>
/// Polls a condition the server exposes no signal for. Used only for <c>SseConnections.Count</c>: the frontend has no
/// awaitable for "a connection closed" (a hook is proposed in the test report). Bounded as a failure guard.
/// </summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? bound = null)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        using var timeout = new CancellationTokenSource(bound ?? Bounded.Default);
        while (!condition())
        {
            try
            {
                await timer.WaitForNextTickAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Not true within {bound ?? Bounded.Default}: {what}.");
            }
        }
    }
}
