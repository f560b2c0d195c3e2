using Microsoft.Extensions.Time.Testing;

namespace StreamingEvents.Tests.Fakes;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows which of its timers are armed (created and not yet disposed), so a test
/// can await "the code under test is now waiting on the clock" before advancing it, instead of guessing with a delay.
/// </summary>
internal sealed class TimerTrackingTimeProvider : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private int _armed;
    private int _created;

    /// <summary>Completes once at least one timer is armed.</summary>
    public Task WaitForArmedTimerAsync() => WaitUntilAsync(() => _armed > 0);

    /// <summary>Completes once <paramref name="count"/> timers were created in all.</summary>
    public Task WaitForTimersCreatedAsync(int count) => WaitUntilAsync(() => _created >= count);

    private Task WaitUntilAsync(Func<bool> condition)
    {
        lock (_gate)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, signal));
            return signal.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(base.CreateTimer(callback, state, dueTime, period), this);
        lock (_gate)
        {
            _created++;
            _armed++;
            foreach (var waiter in _waiters.Where(w => w.Condition()).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }

        return timer;
    }

    private void Disarmed()
    {
        lock (_gate)
        {
            _armed--;
        }
    }

    private sealed class TrackedTimer(ITimer inner, TimerTrackingTimeProvider owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Disarmed();
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
