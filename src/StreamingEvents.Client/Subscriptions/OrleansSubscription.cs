using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace StreamingEvents.Subscriptions;

/// <summary>An Orleans stream subscription that unsubscribes once, with a bound, when disposed.</summary>
internal sealed partial class OrleansSubscription<T>(StreamSubscriptionHandle<T> handle, string stream, ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan UnsubscribeTimeout = TimeSpan.FromSeconds(5);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await handle.UnsubscribeAsync().WaitAsync(UnsubscribeTimeout);
        }
        catch (Exception exception)
        {
            // The consumer is gone either way; a registration left behind is dropped by the stream when it fails to deliver.
            LogUnsubscribeFailed(logger, exception, stream);
        }
    }

    [LoggerMessage(2001, LogLevel.Debug, "Unsubscribing from the live push of {Stream} failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, string stream);
}
