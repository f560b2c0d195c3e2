using System.Diagnostics;

namespace StreamingEvents.Testing.Faults;

/// <summary>
/// Enumerates a subscription in the background and checks, event by event, that it is exact: the first event is the
/// expected one and every next one is the previous plus one. Keeps only numbers (and, if asked, arrival times), so
/// hundreds of them can follow thousands of events.
/// </summary>
public sealed class SequenceSubscriber : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<(long Sequence, TaskCompletionSource Reached)> _waits = [];
    private readonly Dictionary<long, long>? _arrivals;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private long _first;
    private long _last;
    private long _count;

    /// <param name="source">The subscription.</param>
    /// <param name="expectedFirst">The sequence the subscription must start with.</param>
    /// <param name="keepArrivals">Whether to note when each sequence arrived (<see cref="ArrivedAt"/>).</param>
    public SequenceSubscriber(Func<CancellationToken, IAsyncEnumerable<StreamEvent>> source, long expectedFirst, bool keepArrivals = false)
    {
        ExpectedFirst = expectedFirst;
        _arrivals = keepArrivals ? [] : null;
        _run = RunAsync(source);
    }

    public long ExpectedFirst { get; }

    /// <summary>The first deviation from the exact sequence, if any.</summary>
    public string? Anomaly { get; private set; }

    /// <summary>The failure that ended the subscription, if any.</summary>
    public Exception? Failure { get; private set; }

    public long First => Interlocked.Read(ref _first);

    public long Last => Interlocked.Read(ref _last);

    public long Count => Interlocked.Read(ref _count);

    /// <summary>When <paramref name="sequence"/> arrived (a <see cref="Stopwatch"/> timestamp), if it did.</summary>
    public long? ArrivedAt(long sequence)
    {
        lock (_gate)
        {
            return _arrivals is not null && _arrivals.TryGetValue(sequence, out var at) ? at : null;
        }
    }

    /// <summary>Completes when the subscriber delivered <paramref name="sequence"/>; fails if the subscription failed.</summary>
    public Task WaitForAsync(long sequence, TimeSpan bound)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_last >= sequence)
            {
                return Task.CompletedTask;
            }

            if (Failure is not null)
            {
                return Task.FromException(new InvalidOperationException($"The subscription failed at {_last}, before {sequence}.", Failure));
            }

            _waits.Add((sequence, reached));
        }

        return reached.Task.WaitAsync(bound).ContinueWith(
            t => t.IsFaulted && t.Exception!.InnerException is TimeoutException
                ? throw new TimeoutException($"The subscriber from {ExpectedFirst} reached {Last}, not {sequence}, within {bound}.")
                : t,
            TaskScheduler.Default).Unwrap();
    }

    /// <summary>Asserts that the subscriber delivered exactly <see cref="ExpectedFirst"/>..<paramref name="last"/>.</summary>
    public void AssertExactThrough(long last)
    {
        // One snapshot: the subscription keeps delivering while this runs, so its figures are read together.
        long first, reached, count;
        lock (_gate)
        {
            (first, reached, count) = (_first, _last, _count);
        }

        Assert.Null(Failure);
        Assert.Null(Anomaly);
        Assert.Equal(ExpectedFirst, first);
        Assert.True(reached >= last, $"The subscriber from {ExpectedFirst} reached {reached}, not {last}.");
        Assert.Equal(reached - ExpectedFirst + 1, count);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private async Task RunAsync(Func<CancellationToken, IAsyncEnumerable<StreamEvent>> source)
    {
        await Task.Yield();
        try
        {
            await foreach (var streamEvent in source(_stop.Token).WithCancellation(_stop.Token))
            {
                var sequence = streamEvent.BrokerSequence;
                lock (_gate)
                {
                    var expected = _count == 0 ? ExpectedFirst : _last + 1;
                    if (sequence != expected && Anomaly is null)
                    {
                        Anomaly = $"Expected {expected}, got {sequence} (after {_count} events from {ExpectedFirst}).";
                    }

                    if (_count == 0)
                    {
                        Interlocked.Exchange(ref _first, sequence);
                    }

                    Interlocked.Exchange(ref _last, Math.Max(_last, sequence));
                    Interlocked.Increment(ref _count);
                    _arrivals?.TryAdd(sequence, Stopwatch.GetTimestamp());
                    if (_waits.Count > 0)
                    {
                        foreach (var wait in _waits.Where(w => _last >= w.Sequence).ToList())
                        {
                            wait.Reached.TrySetResult();
                            _waits.Remove(wait);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            lock (_gate)
            {
                Failure = exception;
                foreach (var wait in _waits)
                {
                    wait.Reached.TrySetException(new InvalidOperationException($"The subscription failed at {_last}.", exception));
                }

                _waits.Clear();
            }
        }
    }
}
