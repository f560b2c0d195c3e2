namespace StreamingEvents.Testing;

/// <summary>
/// Enumerates an async sequence in the background and keeps what arrives, so a test can publish meanwhile and then
/// await "n items arrived" — an await on the items themselves, bounded only as a failure guard.
/// </summary>
public sealed class Collector<T> : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<T> _items = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public Collector(Func<CancellationToken, IAsyncEnumerable<T>> source) => _run = RunAsync(source);

    /// <summary>The enumeration's failure, if it ended with one.</summary>
    public Exception? Failure { get; private set; }

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> items arrived; fails if the enumeration failed first.</summary>
    public async Task<IReadOnlyList<T>> WaitForCountAsync(int count, TimeSpan? bound = null)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_items.Count >= count)
            {
                return [.. _items];
            }

            if (Failure is not null)
            {
                throw new InvalidOperationException($"The enumeration failed after {_items.Count} of {count} items.", Failure);
            }

            _waiters.Add((count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(bound ?? Bounded.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Collected {Items.Count} of {count} items within {bound ?? Bounded.Default}.");
        }

        return Items;
    }

    /// <summary>Completes when the enumeration ends (with its failure, if any).</summary>
    public Task Completion => _run;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (Failure is null)
        {
            await _run.WaitAsync(Bounded.Default);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(Func<CancellationToken, IAsyncEnumerable<T>> source)
    {
        await Task.Yield();
        try
        {
            await foreach (var item in source(_stop.Token).WithCancellation(_stop.Token))
            {
                lock (_gate)
                {
                    _items.Add(item);
                    foreach (var waiter in _waiters.Where(w => _items.Count >= w.Count).ToList())
                    {
                        waiter.Signal.TrySetResult();
                        _waiters.Remove(waiter);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            lock (_gate)
            {
                Failure = exception;
                foreach (var waiter in _waiters)
                {
                    waiter.Signal.TrySetException(exception);
                }

                _waiters.Clear();
            }

            throw;
        }
    }
}
