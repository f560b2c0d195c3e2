using Microsoft.Extensions.Options;

namespace StreamingEvents;

/// <summary>
/// Bounds the replay reads from storage that run at once on a silo (<see cref="StreamingEventsOptions.MaxConcurrentReplayReads"/>),
/// so that many subscribers catching up together wait their turn rather than starving the appends of live publishers.
/// </summary>
internal sealed class ReplayLimiter(IOptions<StreamingEventsOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _reads = new(options.Value.MaxConcurrentReplayReads);

    public async Task<T> RunAsync<T>(Func<Task<T>> read)
    {
        await _reads.WaitAsync();
        try
        {
            return await read();
        }
        finally
        {
            _reads.Release();
        }
    }

    public void Dispose() => _reads.Dispose();
}
