using Microsoft.Extensions.Options;

namespace StreamingEvents;

/// <summary>
/// Bounds the replay reads from storage that run at once on a silo (<see cref="StreamingEventsOptions.MaxConcurrentReplayReads"/>),
/// so that many subscribers catching up together wait their turn rather than starving the appends of live publishers.
/// A read whose caller gave up (a subscriber that disconnected, a call past its timeout) leaves the queue at once and
/// never runs, and one already running is canceled: abandoned reads must not hold the slots that live readers wait for.
/// </summary>
internal sealed class ReplayLimiter(IOptions<StreamingEventsOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _reads = new(options.Value.MaxConcurrentReplayReads);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await _reads.WaitAsync(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await read(cancellationToken);
        }
        finally
        {
            _reads.Release();
        }
    }

    public void Dispose() => _reads.Dispose();
}
