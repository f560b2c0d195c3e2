using Orleans.Runtime.Messaging;

namespace StreamingEvents.Subscriptions;

/// <summary>
/// Failures a subscription waits out rather than ends with: the cluster is changing (a silo died, a gateway went away,
/// a call timed out) or storage is briefly unreachable. Reading is idempotent and the subscription knows its position,
/// so retrying cannot lose or repeat an event.
/// </summary>
internal static class TransientErrors
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    public static bool IsTransient(Exception exception) => exception switch
    {
        StreamingEventsException typed => typed.IsTransient,
        TimeoutException or OrleansMessageRejectionException or GatewayTooBusyException or ClientNotAvailableException or LimitExceededException => true,
        ConnectionFailedException => true,
        _ => false,
    };

    /// <summary>Calls until it succeeds or fails for good, backing off from 100 ms to 2 s between transient failures.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }
}
