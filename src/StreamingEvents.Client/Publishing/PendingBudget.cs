namespace StreamingEvents.Publishing;

/// <summary>
/// Room for a task's updates that are queued or in flight, bounded by count and by bytes; waiters are served in call
/// order. One update larger than the byte bound is let in alone, so that any update the service accepts can be sent.
/// </summary>
internal sealed class PendingBudget(int maxCount, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> _waiters = new();
    private int _count;
    private long _bytes;

    /// <summary>Takes room without waiting; <c>false</c> if there is none, or others wait for it first.</summary>
    public bool TryTake(long bytes)
    {
        lock (_gate)
        {
            if (_waiters.Count > 0 || !Fits(bytes))
            {
                return false;
            }

            Take(bytes);
            return true;
        }
    }

    /// <summary>Waits for room, after earlier waiters.</summary>
    public async Task TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                Take(bytes);
                return;
            }

            node = _waiters.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        try
        {
            await node.Value.Item2.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            bool granted;
            lock (_gate)
            {
                granted = node.List is null;
                if (!granted)
                {
                    _waiters.Remove(node);
                }
            }

            if (granted)
            {
                // Room was granted as the wait was canceled: give it back.
                Release(bytes);
            }

            throw;
        }
    }

    public void Release(long bytes)
    {
        lock (_gate)
        {
            _count--;
            _bytes -= bytes;
            while (_waiters.First is { } first && Fits(first.Value.Bytes))
            {
                _waiters.RemoveFirst();
                Take(first.Value.Bytes);
                first.Value.Ready.TrySetResult();
            }
        }
    }

    private bool Fits(long bytes) => _count < maxCount && (_count == 0 || _bytes + bytes <= maxBytes);

    private void Take(long bytes)
    {
        _count++;
        _bytes += bytes;
    }
}
