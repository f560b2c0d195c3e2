using StreamingEvents.Appends;
using StreamingEvents.Contracts;

namespace StreamingEvents;

internal sealed partial class ExecutionStreamGrain
{
    /// <summary>The <c>timeout_type</c> of a task ended for inactivity.</summary>
    internal const string InactivityTimeoutType = AppendPlanner.InactivityTimeoutType;

    private readonly List<TaskCompletionSource> _retentionWaiters = [];

    private Task OnMaintenanceTimerAsync(CancellationToken cancellationToken)
    {
        if (State.Exists && State.Head > 0)
        {
            _maintenanceDue = true;
            EnsureFlushing();
        }

        return Task.CompletedTask;
    }

    public async Task CheckTimeoutsAsync()
    {
        var timeouts = EnqueueTimeouts();
        foreach (var timeout in timeouts)
        {
            try
            {
                await timeout;
            }
            catch (TaskAlreadyFinishedException)
            {
                // It finished on its own while the timeout was queued: exactly one terminal event either way.
            }
        }
    }

    public async Task<StreamInfo> ApplyRetentionAsync()
    {
        // Through the flush loop, like every other write of this stream.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _retentionWaiters.Add(done);
        _maintenanceDue = true;
        EnsureFlushing();
        await done.Task;
        return await GetInfoAsync();
    }

    private async Task RunMaintenanceAsync()
    {
        EnqueueTimeouts();
        try
        {
            await EnforceRetentionAsync();
            await TrimByAgeAsync();
        }
        catch (StorageUnavailableException exception)
        {
            // Retention is retried after the next append or maintenance tick; publishing must not fail because of it.
            LogTrimFailed(exception, _execution.Key);
        }

        foreach (var waiter in _retentionWaiters)
        {
            waiter.TrySetResult();
        }

        _retentionWaiters.Clear();
    }

    /// <summary>Queues <c>CUSTOM_TASK_TIMED_OUT</c> for open tasks silent for longer than the inactivity timeout.</summary>
    private List<Task<AppendReceipt>> EnqueueTimeouts()
    {
        var deadline = ToUnixNanoseconds(_time.GetUtcNow() - _options.TaskInactivityTimeout);
        var expired = _lastActivity.Where(pair => pair.Value < deadline).Select(pair => pair.Key).ToList();
        var timeouts = new List<Task<AppendReceipt>>(expired.Count);
        foreach (var taskId in expired)
        {
            LogTaskTimedOut(_execution.Key, taskId);
            _lastActivity.Remove(taskId);
            timeouts.Add(Enqueue(new PendingAppend(taskId, null, PublishRequest.Of(TaskEventDraft.TimedOut(InactivityTimeoutType)))));
        }

        if (EnqueueExecutionTimeout() is { } executionTimeout)
        {
            timeouts.Add(executionTimeout);
        }

        return timeouts;
    }

    private async Task EnforceRetentionAfterAppendAsync()
    {
        try
        {
            await EnforceRetentionAsync();
        }
        catch (StorageUnavailableException exception)
        {
            LogTrimFailed(exception, _execution.Key);
        }
    }

    /// <summary>Keeps the retained events within the count and byte limits; trimming never changes numbering.</summary>
    private async Task EnforceRetentionAsync()
    {
        var retention = _options.Retention;
        var before = State.Oldest;
        if (State.Head - State.Oldest + 1 > retention.MaxEvents)
        {
            // Trim a tenth below the limit so that trims are occasional, not one per append.
            var keep = Math.Max(1, retention.MaxEvents - retention.MaxEvents / 10);
            before = State.Head - keep + 1;
        }

        if (State.RetainedBytes > retention.MaxBytes)
        {
            before = Math.Max(before, await _log.FindRetentionBoundaryAsync(retention.MaxBytes - retention.MaxBytes / 10, long.MinValue));
        }

        await TrimAsync(before);
    }

    private async Task TrimByAgeAsync()
    {
        if (State.Oldest > State.Head)
        {
            return;
        }

        var cutoff = ToUnixNanoseconds(_time.GetUtcNow() - _options.Retention.MaxAge);
        var oldest = await _log.ReadAsync(State.Oldest, State.Oldest, 1);
        if (oldest.Count == 1 && oldest[0].TimestampUnixNanoseconds < cutoff)
        {
            await TrimAsync(await _log.FindRetentionBoundaryAsync(long.MaxValue, cutoff));
        }
    }

    private async Task TrimAsync(long before)
    {
        if (before <= State.Oldest)
        {
            return;
        }

        await _log.TrimAsync(before);
        _window.DropBefore(State.Oldest);
        LogTrimmed(_execution.Key, State.Oldest);
    }
}
