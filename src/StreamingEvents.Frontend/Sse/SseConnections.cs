using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;

namespace StreamingEvents.Frontend.Sse;

/// <summary>
/// The open SSE responses. When the host stops they are ended at once (clients reconnect elsewhere with
/// <c>Last-Event-ID</c>) instead of holding shutdown until they time out.
/// </summary>
internal sealed class SseConnections : IDisposable
{
    private readonly ConcurrentDictionary<long, HttpContext> _open = new();
    private readonly ConcurrentDictionary<string, int> _perKey = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenRegistration _onStopping;
    private long _nextId;

    private readonly StreamingEventsMetrics _metrics;

    private readonly IOptionsMonitor<AuthOptions> _auth;

    public SseConnections(IHostApplicationLifetime lifetime, StreamingEventsMetrics metrics, IOptionsMonitor<AuthOptions> auth)
    {
        _metrics = metrics;
        _auth = auth;
        _onStopping = lifetime.ApplicationStopping.Register(_stopping.Cancel);
    }

    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

    public int Count => _open.Count;

    /// <summary>Completes when at most <paramref name="count"/> connections are open (e.g. all closed after a drain).</summary>
    public Task WhenCountAtMostAsync(int count, CancellationToken cancellationToken = default)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((count, reached));
        }

        Signal();
        return reached.Task.WaitAsync(cancellationToken);
    }

    private void Signal()
    {
        lock (_waiters)
        {
            foreach (var waiter in _waiters.Where(w => _open.Count <= w.Count).ToList())
            {
                waiter.Reached.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Tracks a response; its token ends when the client leaves or the host stops.</summary>
    /// <exception cref="ApiProblemException">429: the caller's key already holds its most connections.</exception>
    public Connection Open(HttpContext context)
    {
        var key = Tenancy.KeyId(context);
        var limit = _auth.CurrentValue.MaxConnectionsPerKey;
        if (_perKey.AddOrUpdate(key, 1, (_, count) => count + 1) > limit)
        {
            Release(key);
            throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "too_many_connections",
                $"This API key already holds {limit} open streams (StreamingEvents:Auth:MaxConnectionsPerKey); close one first.");
        }

        var id = Interlocked.Increment(ref _nextId);
        _open[id] = context;
        _metrics.SseConnections.Add(1);
        return new Connection(this, id, key, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token));
    }

    private void Release(string key) => _perKey.AddOrUpdate(key, 0, (_, count) => count - 1);

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

    internal sealed class Connection(SseConnections owner, long id, string key, CancellationTokenSource lifetime) : IDisposable
    {
        public CancellationToken Token => lifetime.Token;

        public void Dispose()
        {
            if (owner._open.TryRemove(id, out _))
            {
                owner._metrics.SseConnections.Add(-1);
                owner.Release(key);
                owner.Signal();
            }

            lifetime.Dispose();
        }
    }
}
