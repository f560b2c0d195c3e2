using Orleans.Utilities;
using StreamingEvents.Appends;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>The execution's lifecycle: its status, its end from outside (cancel, inactivity), and the producers told of it.</summary>
internal sealed partial class ExecutionStreamGrain
{
    /// <summary>How many processes may watch one execution at once (each SDK client is one watcher, whatever its tasks).</summary>
    internal const int MaxWatchers = 1024;

    /// <summary>How long a watch lasts unless renewed; the SDK renews it well within (see <c>ExecutionControl</c>).</summary>
    internal static readonly TimeSpan WatchExpiry = TimeSpan.FromMinutes(3);

    private ObserverManager<IExecutionControlObserver>? _watchers;

    private ObserverManager<IExecutionControlObserver> Watchers => _watchers ??= new(WatchExpiry, _logger) { GetDateTime = () => _time.GetUtcNow().UtcDateTime };

    public async Task<ExecutionInfo> GetExecutionAsync()
    {
        if (!State.Exists)
        {
            throw new ExecutionNotFoundException(_execution.Key);
        }

        var context = State.Context!;
        var workflow = await FindTaskAsync(Lifecycle.WorkflowTaskId(_execution));
        var start = workflow is null ? null : await ReadOneAsync(workflow.StartedSequence);
        var end = workflow?.TerminalSequence is { } terminal ? await ReadOneAsync(terminal) : null;
        var startTime = start is { } started ? FromUnixNanoseconds(started.TimestampUnixNanoseconds) : State.CreatedAt;
        DateTimeOffset? endTime = end is { } ended
            ? FromUnixNanoseconds(ended.TimestampUnixNanoseconds)
            : State.ExecutionStatus == ExecutionStatus.None && State.OpenTasks.Count == 0 ? State.LastEventAt : null;
        var result = end is { Type: EventType.WorkflowExecutionCompleted } completed ? LifecycleAttributes.ResultOf(completed.Body.Span) : null;
        return new ExecutionInfo(context, State.ExecutionStatus, startTime, endTime, result, State.OpenTasks.Count, State.Head);
    }

    public async Task<ExecutionInfo> CancelExecutionAsync(string? reason)
    {
        if (!State.Exists)
        {
            throw new ExecutionNotFoundException(_execution.Key);
        }

        await Enqueue(new PendingAppend(Lifecycle.WorkflowTaskId(_execution), null, null, new ExecutionEnd(reason, TimedOut: false)));
        return await GetExecutionAsync();
    }

    public Task WatchAsync(IExecutionControlObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var watchers = Watchers;
        if (watchers.Count >= MaxWatchers)
        {
            watchers.ClearExpired();
            if (watchers.Count >= MaxWatchers && !watchers.Observers.ContainsKey(observer))
            {
                throw new SubscriptionLimitException(MaxWatchers);
            }
        }

        watchers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    public Task UnwatchAsync(IExecutionControlObserver observer)
    {
        _watchers?.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    /// <summary>Tells the watching producers of tasks (or the whole execution) that were ended by someone else.</summary>
    private void NotifyWatchers(List<(string? TaskId, string? Reason)> notifications)
    {
        if (notifications.Count == 0 || _watchers is not { Count: > 0 } watchers)
        {
            return;
        }

        foreach (var (taskId, reason) in notifications)
        {
            watchers.Notify(observer => observer.OnCanceled(_execution.Key, taskId, reason));
        }
    }

    /// <summary>
    /// Ends the execution for inactivity when its lifecycle is open and nothing at all was published to it for the
    /// inactivity timeout: its open tasks time out (activities fail), then <c>WORKFLOW_EXECUTION_FAILED</c>.
    /// </summary>
    private Task<AppendReceipt>? EnqueueExecutionTimeout()
    {
        if (State.ExecutionStatus != ExecutionStatus.Running || State.LastEventAt is not { } last
            || _time.GetUtcNow() - last < _options.TaskInactivityTimeout || _executionTimeoutQueued)
        {
            return null;
        }

        _executionTimeoutQueued = true;
        LogTaskTimedOut(_execution.Key, Lifecycle.WorkflowTaskId(_execution));
        var reason = $"Nothing was published to the execution for {_options.TaskInactivityTimeout}.";
        return Enqueue(new PendingAppend(Lifecycle.WorkflowTaskId(_execution), null, null, new ExecutionEnd(reason, TimedOut: true)));
    }

    private bool _executionTimeoutQueued;

    private async Task<StoredEvent?> ReadOneAsync(long sequence)
    {
        if (sequence < State.Oldest)
        {
            return null;
        }

        var found = await _log.ReadAsync(sequence, sequence, 1);
        return found.Count == 1 ? found[0] : null;
    }

    private static DateTimeOffset FromUnixNanoseconds(long nanoseconds) => DateTimeOffset.UnixEpoch.AddTicks(nanoseconds / 100);
}
