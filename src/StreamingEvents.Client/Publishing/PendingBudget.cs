namespace StreamingEvents.Publishing;

/// <summary>
/// Room for a task's updates that are queued or in flight, bounded by count and by bytes; waiters are served in call
/// order, and what each does once admitted (<c>admitted</c>, e.g. queue its update) runs in that order too. One update
/// larger than the byte bound is let in alone, so that any update the service accepts can be sent.
/// </summary>
internal sealed class PendingBudget(int maxCount, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(long Bytes, Action Admitted, TaskCompletionSource Ready)> _waiters = new();
    private int _count;
    private long _bytes;

    /// <summary>Takes room without waiting and runs <paramref name="admitted"/>; <c>false</c> if there is none, or others wait first.</summary>
    public bool TryTake(long bytes, Action admitted)
    {
        lock (_gate)
        {
            if (_waiters.Count > 0 || !Fits(bytes))
            {
                return false;
            }

            Take(bytes);
            admitted();
            return true;
        }
    }

    /// <summary>
    /// Waits for room, after earlier waiters, and runs <paramref name="admitted"/> when it is granted. Cancellation ends
    /// the wait only while room is not granted; once it is, <paramref name="admitted"/> has run and the call returns.
    /// </summary>
    public async Task TakeAsync(long bytes, Action admitted, CancellationToken cancellationToken)
    {
        LinkedListNode<(long, Action, TaskCompletionSource)> node;
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                Take(bytes);
                admitted();
                return;
            }

            node = _waiters.AddLast((bytes, admitted, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        try
        {
            await node.Value.Item3.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    throw;
                }
            }

            // Granted as the wait was canceled: the caller was admitted after all.
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
                first.Value.Admitted();
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
