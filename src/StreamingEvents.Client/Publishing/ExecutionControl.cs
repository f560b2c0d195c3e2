using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StreamingEvents.Contracts;

namespace StreamingEvents.Publishing;

/// <summary>
/// Brings a cancel from outside — <c>POST /v1/workflows/executions/{id}/cancel</c>, a task's <c>/cancel</c>, a timeout —
/// to the producers of this process. One grain observer per client watches every execution that this process publishes
/// to (the first task, scope or handle of an execution asks its stream to be told; the last one to end stops it). The
/// stream tells it after the cancel is durable; it then marks the producers' tasks ended and fires their tokens.
/// </summary>
/// <remarks>
/// Watches are held in the stream grain's memory and expire unless renewed (<see cref="RenewInterval"/>); a stream that
/// moved to another silo forgets them until the next renewal. A producer that missed a notification still learns of the
/// cancel from its next publish (refused as finished), which fires its token too.
/// </remarks>
internal sealed partial class ExecutionControl : IExecutionControlObserver, IDisposable
{
    /// <summary>How often the watches are renewed: well within the stream's expiry of three minutes.</summary>
    internal static readonly TimeSpan RenewInterval = TimeSpan.FromMinutes(1);

    private readonly IGrainFactory _grains;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Watched> _executions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ITimer _renewal;
    private IExecutionControlObserver? _reference;

    public ExecutionControl(IGrainFactory grains, TimeProvider time, ILogger logger)
    {
        _grains = grains;
        _logger = logger;
        _renewal = time.CreateTimer(_ => RenewAll(), null, RenewInterval, RenewInterval);
    }

    /// <summary>How many executions are watched (diagnostics and tests).</summary>
    public int WatchedExecutions => _executions.Count;

    /// <summary>
    /// Watches <paramref name="execution"/> for the producer of <paramref name="taskId"/> (<c>null</c>: the execution
    /// itself); <paramref name="onEnded"/> runs first, synchronously, when it is canceled from outside, then the lease's
    /// token fires. Dispose the lease when the producer is done.
    /// </summary>
    public Lease Watch(ExecutionId execution, string? taskId, Action? onEnded = null)
    {
        Watched watched;
        Lease lease;
        lock (_gate)
        {
            watched = _executions.GetOrAdd(execution.Key, key => new Watched(key));
            lease = new Lease(this, watched, taskId, onEnded);
            watched.Leases.Add(lease);
            if (watched.Leases.Count == 1)
            {
                watched.Ready = WatchAsync(watched);
            }
        }

        lease.Ready = watched.Ready;
        return lease;
    }

    /// <inheritdoc/>
    public void OnCanceled(string executionKey, string? taskId, string? reason)
    {
        if (!_executions.TryGetValue(executionKey, out var watched))
        {
            return;
        }

        List<Lease> ended;
        lock (_gate)
        {
            ended = [.. watched.Leases.Where(lease => taskId is null || lease.TaskId == taskId)];
        }

        LogCanceled(executionKey, taskId ?? "(execution)", ended.Count);
        foreach (var lease in ended)
        {
            lease.End();
        }
    }

    public void Dispose() => _renewal.Dispose();

    private void Release(Lease lease)
    {
        lock (_gate)
        {
            var watched = lease.Watched;
            if (!watched.Leases.Remove(lease) || watched.Leases.Count > 0)
            {
                return;
            }

            _executions.TryRemove(new KeyValuePair<string, Watched>(watched.Key, watched));
        }

        _ = UnwatchAsync(lease.Watched.Key);
    }

    private IExecutionControlObserver Reference
    {
        get
        {
            lock (_gate)
            {
                // Held here for the client's lifetime: Orleans keeps only a weak reference to an observer object.
                return _reference ??= _grains.CreateObjectReference<IExecutionControlObserver>(this);
            }
        }
    }

    private async Task WatchAsync(Watched watched)
    {
        try
        {
            await _grains.GetGrain<IExecutionStreamGrain>(watched.Key).WatchAsync(Reference);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The producer still learns of a cancel from its next publish; the renewal tries again.
            LogWatchFailed(exception, watched.Key);
        }
    }

    private async Task UnwatchAsync(string key)
    {
        try
        {
            await _grains.GetGrain<IExecutionStreamGrain>(key).UnwatchAsync(Reference);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The watch expires by itself.
            LogWatchFailed(exception, key);
        }
    }

    private void RenewAll()
    {
        foreach (var watched in _executions.Values)
        {
            _ = WatchAsync(watched);
        }
    }

    [LoggerMessage(2101, LogLevel.Debug, "Execution {Execution}: {Target} canceled from outside; {Count} producers told")]
    private partial void LogCanceled(string execution, string target, int count);

    [LoggerMessage(2102, LogLevel.Warning, "Could not (un)watch execution {Execution} for cancels; producers learn of one from their next publish")]
    private partial void LogWatchFailed(Exception exception, string execution);

    /// <summary>One watched execution and the producers of this process that publish to it.</summary>
    internal sealed class Watched(string key)
    {
        public string Key { get; } = key;

        public List<Lease> Leases { get; } = [];

        public Task Ready { get; set; } = Task.CompletedTask;
    }

    /// <summary>One producer's watch: its token fires when its task (or the execution) is canceled from outside.</summary>
    internal sealed class Lease : IDisposable
    {
        private readonly ExecutionControl _owner;
        private readonly CancellationTokenSource _canceled = new();
        private readonly Action? _onEnded;
        private CancellationTokenSource? _dependent;
        private int _disposed;

        internal Lease(ExecutionControl owner, Watched watched, string? taskId, Action? onEnded)
        {
            _owner = owner;
            Watched = watched;
            TaskId = taskId;
            _onEnded = onEnded;
        }

        public string? TaskId { get; }

        internal Watched Watched { get; }

        /// <summary>Completes when the stream was asked to watch (never faults).</summary>
        public Task Ready { get; internal set; } = Task.CompletedTask;

        /// <summary>Fires when the producer's task or execution was ended by someone else.</summary>
        public CancellationToken Token => _canceled.Token;

        /// <summary>Marks the producer's work ended and fires <see cref="Token"/> (once).</summary>
        public void End()
        {
            if (Volatile.Read(ref _disposed) != 0 || _canceled.IsCancellationRequested)
            {
                return;
            }

            _onEnded?.Invoke();

            // Callbacks run on the thread pool, not on the caller (an Orleans callback, or a publish's completion); both
            // tokens read canceled from now on.
            _ = _canceled.CancelAsync();
            CancelDependent();
        }

        /// <summary>
        /// Cancels <paramref name="dependent"/> (a producer's own token source) in the same step as <see cref="Token"/>,
        /// not later from a callback the way a linked source would: a producer that sees its task refused as canceled
        /// also sees its token canceled.
        /// </summary>
        public void Propagate(CancellationTokenSource dependent)
        {
            Volatile.Write(ref _dependent, dependent);
            if (_canceled.IsCancellationRequested)
            {
                CancelDependent();
            }
        }

        private void CancelDependent()
        {
            if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _dependent, null) is not { } dependent)
            {
                return;
            }

            try
            {
                _ = dependent.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The producer ended (and disposed its source) while the cancel came: nothing is left to stop.
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _owner.Release(this);
            }
        }
    }
}
