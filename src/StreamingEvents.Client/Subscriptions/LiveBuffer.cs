using System.Threading.Channels;

namespace StreamingEvents.Subscriptions;

/// <summary>
/// Live batches waiting for a subscriber, bounded by event count and by the bytes of their envelopes. When a slow
/// consumer lets it fill up, it stops accepting and reports <see cref="Overflowed"/>: the subscription then drops it and
/// catches up from storage, so a slow consumer never holds back the push that feeds everyone else, and never holds more
/// memory than the bound.
/// </summary>
internal sealed class LiveBuffer(int capacityEvents, long capacityBytes, TimeProvider time)
{
    private readonly Channel<StreamEventBatch> _channel = Channel.CreateUnbounded<StreamEventBatch>(new UnboundedChannelOptions { SingleReader = true });
    private static readonly StreamEventBatch Wakeup = new([]);

    private int _events;
    private long _bytes;
    private volatile bool _overflowed;

    public bool Overflowed => _overflowed;

    /// <summary>Never waits: a full buffer drops the batch and marks the overflow.</summary>
    public Task OnBatchAsync(StreamEventBatch batch)
    {
        if (_overflowed)
        {
            return Task.CompletedTask;
        }

        var events = Interlocked.Add(ref _events, batch.Events.Length);
        var bytes = Interlocked.Add(ref _bytes, BytesOf(batch));
        if (events > capacityEvents || bytes > capacityBytes)
        {
            // Wake a waiting reader: it sees the overflow and catches up from storage at once.
            _overflowed = true;
            _channel.Writer.TryWrite(Wakeup);
        }
        else
        {
            _channel.Writer.TryWrite(batch);
        }

        return Task.CompletedTask;
    }

    /// <summary>The next batch, or <c>null</c> if none arrived within <paramref name="idle"/>.</summary>
    public async ValueTask<StreamEventBatch?> TakeAsync(TimeSpan idle, CancellationToken cancellationToken)
    {
        if (TryTake(out var batch))
        {
            return batch;
        }

        using var timeout = new CancellationTokenSource(idle, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (await _channel.Reader.WaitToReadAsync(linked.Token))
            {
                if (TryTake(out batch))
                {
                    return batch;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The idle bound passed: the caller probes the stream's head.
        }

        return null;
    }

    /// <summary>Empties the buffer after an overflow; the subscription catches up from storage.</summary>
    public void Reset()
    {
        while (_channel.Reader.TryRead(out _))
        {
        }

        Interlocked.Exchange(ref _events, 0);
        Interlocked.Exchange(ref _bytes, 0);
        _overflowed = false;
    }

    private bool TryTake(out StreamEventBatch batch)
    {
        if (_channel.Reader.TryRead(out batch!))
        {
            Interlocked.Add(ref _events, -batch.Events.Length);
            Interlocked.Add(ref _bytes, -BytesOf(batch));
            return true;
        }

        return false;
    }

    private static long BytesOf(StreamEventBatch batch)
    {
        long bytes = 0;
        foreach (var e in batch.Events)
        {
            bytes += e.Json.Length;
        }

        return bytes;
    }
}
