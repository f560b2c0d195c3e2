using System.Threading.Channels;

namespace StreamingEvents.Storage;

/// <summary>
/// Group commit: callers submit items one by one; a few workers each take everything queued (up to a weight bound and
/// a byte bound) and commit it in one transaction. An idle committer commits a lone item at once, so latency stays one commit;
/// under load, the items that arrive during a commit share the next one, so commits per item fall as load rises.
/// Each caller's task completes only after the transaction holding its item committed.
/// </summary>
internal sealed class GroupCommitter<TItem, TResult> : IAsyncDisposable
{
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> _commit;
    private readonly Func<TItem, long> _weigh;
    private readonly long _maxBatchWeight;
    private readonly Func<TItem, long>? _measure;
    private readonly long _maxBatchBytes;
    private readonly Task[] _workers;

    private readonly Action<long, TimeSpan>? _committed;

    /// <param name="commit">Commits a batch in one transaction and returns one result per item.</param>
    /// <param name="weigh">The weight of an item (its event count).</param>
    /// <param name="maxBatchWeight">The most weight one commit carries, unless one item alone is heavier.</param>
    /// <param name="concurrentCommits">How many commits may be in flight at once.</param>
    /// <param name="committed">Told the weight and duration of every successful commit (metrics).</param>
    /// <param name="measure">The bytes an item carries (its bodies); <c>null</c> for no byte bound.</param>
    /// <param name="maxBatchBytes">The most bytes one commit carries, unless one item alone is larger.</param>
    public GroupCommitter(
        Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> commit,
        Func<TItem, long> weigh,
        long maxBatchWeight,
        int concurrentCommits,
        Action<long, TimeSpan>? committed = null,
        Func<TItem, long>? measure = null,
        long maxBatchBytes = long.MaxValue)
    {
        _committed = committed;
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrentCommits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchWeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchBytes, 1);
        _commit = commit;
        _weigh = weigh;
        _maxBatchWeight = maxBatchWeight;
        _measure = measure;
        _maxBatchBytes = maxBatchBytes;
        _workers = new Task[concurrentCommits];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(RunWorkerAsync);
        }
    }

    /// <summary>Queues an item; the task completes once the transaction holding it committed (or failed).</summary>
    public Task<TResult> SubmitAsync(TItem item)
    {
        var entry = new Entry(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(entry))
        {
            throw new ObjectDisposedException(nameof(GroupCommitter<TItem, TResult>), "The storage is shutting down.");
        }

        return entry.Completion.Task;
    }

    private async Task RunWorkerAsync()
    {
        var batch = new List<Entry>();
        var items = new List<TItem>();
        var reader = _queue.Reader;
        Entry? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            items.Clear();
            long weight = 0;
            long bytes = 0;
            while (weight < _maxBatchWeight && bytes < _maxBatchBytes && (carried is { } next || reader.TryRead(out next)))
            {
                carried = null;
                var itemWeight = _weigh(next.Item);
                var itemBytes = _measure?.Invoke(next.Item) ?? 0;
                if (batch.Count > 0 && (weight + itemWeight > _maxBatchWeight || bytes + itemBytes > _maxBatchBytes))
                {
                    // It would break a bound: it opens this worker's next batch instead. A statement past the server's
                    // limits (PostgreSQL refuses a message over 1 GB) would fail every append in it with an unknown outcome.
                    carried = next;
                    break;
                }

                batch.Add(next);
                items.Add(next.Item);
                weight += itemWeight;
                bytes += itemBytes;
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var results = await _commit(items, CancellationToken.None).ConfigureAwait(false);
                _committed?.Invoke(weight, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
            catch (Exception exception)
            {
                foreach (var entry in batch)
                {
                    entry.Completion.TrySetException(exception);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        // Workers drain what is queued: every submitted item gets its outcome.
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private readonly record struct Entry(TItem Item, TaskCompletionSource<TResult> Completion);
}
