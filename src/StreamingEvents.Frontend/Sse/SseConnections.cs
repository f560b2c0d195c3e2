using System.Collections.Concurrent;

namespace StreamingEvents.Frontend.Sse;

/// <summary>
/// The open SSE responses. When the host stops they are ended at once (clients reconnect elsewhere with
/// <c>Last-Event-ID</c>) instead of holding shutdown until they time out.
/// </summary>
internal sealed class SseConnections : IDisposable
{
    private readonly ConcurrentDictionary<long, HttpContext> _open = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenRegistration _onStopping;
    private long _nextId;

    private readonly StreamingEventsMetrics _metrics;

    public SseConnections(IHostApplicationLifetime lifetime, StreamingEventsMetrics metrics)
    {
        _metrics = metrics;
        _onStopping = lifetime.ApplicationStopping.Register(_stopping.Cancel);
    }

    public int Count => _open.Count;

    /// <summary>Tracks a response; its token ends when the client leaves or the host stops.</summary>
    public Connection Open(HttpContext context)
    {
        var id = Interlocked.Increment(ref _nextId);
        _open[id] = context;
        _metrics.SseConnections.Add(1);
        return new Connection(this, id, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token));
    }

    /// <summary>Drops every open connection abruptly, as a network failure would.</summary>
    public void AbortAll()
    {
        foreach (var context in _open.Values)
        {
            context.Abort();
        }
    }

    public void Dispose()
    {
        _onStopping.Dispose();
        _stopping.Dispose();
    }

    internal sealed class Connection(SseConnections owner, long id, CancellationTokenSource lifetime) : IDisposable
    {
        public CancellationToken Token => lifetime.Token;

        public void Dispose()
        {
            if (owner._open.TryRemove(id, out _))
            {
                owner._metrics.SseConnections.Add(-1);
            }

            lifetime.Dispose();
        }
    }
}
