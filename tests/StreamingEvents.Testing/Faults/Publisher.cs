using System.Collections.Concurrent;
using System.Diagnostics;

namespace StreamingEvents.Testing.Faults;

/// <summary>An acknowledged update: the number it got, the value it carried, when it was issued and acknowledged (timestamps).</summary>
public readonly record struct Ack(long Sequence, int Value, long StartedAt, long AckedAt)
{
    public TimeSpan Latency => Stopwatch.GetElapsedTime(StartedAt, AckedAt);
}

/// <summary>An update that was not acknowledged: it failed visibly, with this exception.</summary>
public readonly record struct Failure(int Value, Exception Exception, long StartedAt, long FailedAt);

/// <summary>
/// Publishes distinct integer values to one task, with up to <c>window</c> updates in flight, and records the outcome of
/// each: acknowledged (with its number) or failed (with its exception). Waits are on these outcomes, never on time.
/// </summary>
public sealed class Publisher(TaskHandle<int> handle, int firstValue, int window = 1)
{
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentQueue<Failure> _failures = new();
    private readonly List<(Func<Publisher, bool> Condition, TaskCompletionSource Met)> _waits = [];
    private readonly Lock _gate = new();
    private volatile bool _lastFailed;

    public TaskHandle<int> Handle { get; } = handle;

    public ExecutionId Execution => Handle.Execution;

    public IReadOnlyCollection<Ack> Acks => _acks;

    public IReadOnlyCollection<Failure> Failures => _failures;

    /// <summary>After a failure, the next update waits this long (a publisher's retry back-off, not a synchronisation).</summary>
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Publishes until <paramref name="stop"/> or <paramref name="maxUpdates"/>, then waits for every outcome.</summary>
    public async Task RunAsync(CancellationToken stop, int maxUpdates = 1_000_000)
    {
        using var room = new SemaphoreSlim(window);
        var outcomes = new List<Task>();
        for (var value = firstValue; value < firstValue + maxUpdates && !stop.IsCancellationRequested; value++)
        {
            try
            {
                await room.WaitAsync(stop);
                if (_lastFailed)
                {
                    _lastFailed = false;
                    await Task.Delay(RetryPause, stop);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            outcomes.Add(TrackAsync(value, room));
            if (outcomes.Count >= 4096)
            {
                outcomes.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(outcomes);
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked after every outcome.</summary>
    public Task WaitForAsync(Func<Publisher, bool> condition, TimeSpan bound, string what)
    {
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(this))
            {
                return Task.CompletedTask;
            }

            _waits.Add((condition, met));
        }

        return met.Task.WaitAsync(bound).ContinueWith(
            t => t.IsFaulted
                ? throw new TimeoutException($"{Execution.WorkflowExecId}: not {what} within {bound} ({_acks.Count} acknowledged, {_failures.Count} failed).", t.Exception)
                : t,
            TaskScheduler.Default).Unwrap();
    }

    public Task WaitForAcksAsync(int count, TimeSpan? bound = null) =>
        WaitForAsync(p => p.Acks.Count >= count, bound ?? TimeSpan.FromSeconds(60), $"{count} acknowledged");

    public int AcksStartedAfter(long timestamp) => _acks.Count(a => a.StartedAt > timestamp);

    public int FailuresStartedAfter(long timestamp) => _failures.Count(f => f.StartedAt > timestamp);

    /// <summary>The failures by exception type (and whether it says it is transient), for reports.</summary>
    public static string Describe(IEnumerable<Failure> failures) => string.Join(", ", failures
        .GroupBy(f => f.Exception is StreamingEventsException typed ? $"{typed.GetType().Name}(IsTransient={typed.IsTransient})" : f.Exception.GetType().Name)
        .OrderByDescending(g => g.Count())
        .Select(g => $"{g.Key} x{g.Count()}"));

    private async Task TrackAsync(int value, SemaphoreSlim room)
    {
        var startedAt = Stopwatch.GetTimestamp();
        try
        {
            var sequence = await Handle.UpdateStateAsync(value, CancellationToken.None);
            _acks.Enqueue(new Ack(sequence, value, startedAt, Stopwatch.GetTimestamp()));
        }
        catch (Exception exception)
        {
            _failures.Enqueue(new Failure(value, exception, startedAt, Stopwatch.GetTimestamp()));
            _lastFailed = true;
        }
        finally
        {
            room.Release();
            Signal();
        }
    }

    private void Signal()
    {
        lock (_gate)
        {
            foreach (var wait in _waits.Where(w => w.Condition(this)).ToList())
            {
                wait.Met.TrySetResult();
                _waits.Remove(wait);
            }
        }
    }
}
