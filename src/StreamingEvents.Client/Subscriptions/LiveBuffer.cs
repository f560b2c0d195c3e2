using System.Threading.Channels;

namespace StreamingEvents.Subscriptions;

/// <summary>
/// Live batches waiting for a subscriber, bounded by event count and by the bytes of their envelopes. When a slow
/// consumer lets it fill up, it stops accepting and reports <see cref="Overflowed"/>: the subscription then drops it and
/// catches up from storage, so a slow consumer never holds back the push that feeds everyone else, and never holds more
/// memory than the bound. Buffers of one subscription over many executions also share a <see cref="ByteBudget"/>.
/// </summary>
internal sealed class LiveBuffer(int capacityEvents, long capacityBytes, TimeProvider time, ByteBudget? shared = null)
{
    /// <summary>Batches with the bytes they were counted for (measured once, when accepted).</summary>
    private readonly Channel<(StreamEventBatch Batch, long Bytes)> _channel =
        Channel.CreateUnbounded<(StreamEventBatch, long)>(new UnboundedChannelOptions { SingleReader = true });

    private static readonly StreamEventBatch Wakeup = new([]);

    private readonly Lock _gate = new();
    private int _events;
    private long _bytes;
    private volatile bool _overflowed;
    private bool _closed;

    public bool Overflowed => _overflowed;

    /// <summary>Never waits: a full buffer drops the batch and marks the overflow.</summary>
    public Task OnBatchAsync(StreamEventBatch batch)
    {
        if (_overflowed)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (!_closed)
            {
                Accept(batch);
            }
        }

        return Task.CompletedTask;
    }

    private void Accept(StreamEventBatch batch)
    {
        var batchBytes = BytesOf(batch);
        var events = Interlocked.Add(ref _events, batch.Events.Length);
        var bytes = Interlocked.Add(ref _bytes, batchBytes);
        if (events > capacityEvents || bytes > capacityBytes || (shared is not null && !shared.TryTake(batchBytes)))
        {
            // Wake a waiting reader: it sees the overflow and catches up from storage at once.
            _overflowed = true;
            _channel.Writer.TryWrite((Wakeup, 0));
        }
        else
        {
            _channel.Writer.TryWrite((batch, batchBytes));
        }
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
        while (TryTake(out _))
        {
        }

        Interlocked.Exchange(ref _events, 0);
        Interlocked.Exchange(ref _bytes, 0);
        _overflowed = false;
    }

    /// <summary>Takes no more batches and gives what it holds back to the shared budget: the subscription ended.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }

        Reset();
    }

    private bool TryTake(out StreamEventBatch batch)
    {
        if (_channel.Reader.TryRead(out var item))
        {
            batch = item.Batch;
            Interlocked.Add(ref _events, -batch.Events.Length);
            Interlocked.Add(ref _bytes, -item.Bytes);
            shared?.Return(item.Bytes);
            return true;
        }

        batch = null!;
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
