using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace StreamingEvents.LivePush;

/// <summary>
/// One queue of the live push on one silo: producers on this silo add batches, this silo's pulling agent for the queue
/// takes them. Batches are numbered in the order they are queued (the order the agent's cache needs), the queue is bounded
/// in bytes (the oldest batches make room), and a waiting reader is woken by the batch that ends its wait.
/// </summary>
internal sealed class LivePushQueue(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Queue<LivePushBatch> _batches = new();
    private long _bytes;
    private long _lastToken;
    private long _dropped;
    private TaskCompletionSource? _waiter;

    /// <summary>Batches dropped because the queue was full (its agent was not keeping up or not running).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _batches.Count;
            }
        }
    }

    public void Enqueue(StreamId streamId, object[] events, long bytes)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            while (_batches.Count > 0 && _bytes + bytes > maxBytes)
            {
                _bytes -= _batches.Dequeue().Bytes;
                _dropped++;
            }

            _batches.Enqueue(new LivePushBatch(streamId, events, new EventSequenceTokenV2(++_lastToken), bytes));
            _bytes += bytes;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> batches (all when not positive), waiting up to <paramref name="idle"/> for
    /// the first one; an empty list when none came.
    /// </summary>
    public async Task<IList<IBatchContainer>> TakeAsync(int maxCount, TimeSpan idle, CancellationToken cancellationToken)
    {
        Task waiting;
        lock (_gate)
        {
            if (_batches.Count > 0)
            {
                return TakeLocked(maxCount);
            }

            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting = _waiter.Task;
        }

        try
        {
            await waiting.WaitAsync(idle, cancellationToken);
        }
        catch (TimeoutException)
        {
            return [];
        }

        lock (_gate)
        {
            return TakeLocked(maxCount);
        }
    }

    private List<IBatchContainer> TakeLocked(int maxCount)
    {
        var count = maxCount > 0 ? Math.Min(maxCount, _batches.Count) : _batches.Count;
        var taken = new List<IBatchContainer>(count);
        for (var i = 0; i < count; i++)
        {
            var batch = _batches.Dequeue();
            _bytes -= batch.Bytes;
            taken.Add(batch);
        }

        return taken;
    }
}

/// <summary>The pulling agent's side of a <see cref="LivePushQueue"/>.</summary>
internal sealed class LivePushReceiver(LivePushQueue queue, LivePushOptions options) : IQueueAdapterReceiver
{
    public Task Initialize(TimeSpan timeout) => Task.CompletedTask;

#pragma warning disable CS0618 // The legacy overload is part of the interface; the agent calls the one with a token.
    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);
#pragma warning restore CS0618

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken) =>
        queue.TakeAsync(maxCount, options.IdleWait, cancellationToken);

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => Task.CompletedTask;

    public Task Shutdown(TimeSpan timeout) => Task.CompletedTask;
}
