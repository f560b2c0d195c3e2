using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;

namespace StreamingEvents;

/// <summary>
/// An open task: publish state updates with <see cref="UpdateStateAsync"/>; leaving an <c>await using</c> scope
/// publishes the one terminal event — <c>CUSTOM_TASK_COMPLETED</c> with the current <see cref="State"/>, or
/// <c>CUSTOM_TASK_CANCELED</c> if the token given at start was canceled by then.
/// </summary>
/// <remarks>
/// <para><c>await using</c> cannot see an exception thrown in its body, so a failing body would still publish
/// COMPLETED. Use <see cref="IStreamingEventsClient.RunTaskAsync{TState,TResult}"/>, which publishes
/// <c>CUSTOM_TASK_FAILED</c> when the body throws, or call <see cref="FailAsync(Exception, CancellationToken)"/> yourself.</para>
/// <para>Updates may be issued without awaiting each one: they are published in call order, many per call, and each
/// returned task completes with the event's <c>broker_sequence</c> once it is durable. Thread-safe.</para>
/// </remarks>
/// <typeparam name="TState">The state type, serialized with System.Text.Json (records, or <see cref="JsonElement"/> for raw JSON).</typeparam>
public sealed class TaskHandle<TState> : IAsyncDisposable
{
    /// <summary>Attempts for a call refused by a write conflict (nothing written, so it is safe to repeat).</summary>
    internal const int MaxConflictAttempts = 3;

    private readonly ITaskGrain _grain;
    private readonly JsonSerializerOptions _json;
    private readonly int _maxUpdatesPerCall;
    private readonly CancellationToken _lifetime;
    private readonly Lock _gate = new();
    private readonly Queue<Operation> _queue = new();
    private readonly bool _deltas;

    /// <summary>Room for updates queued or in flight: a publisher outrunning storage waits here, memory stays bounded.</summary>
    private readonly SemaphoreSlim _room;
    private readonly int _maxPendingUpdates;
    private readonly PendingUpdatesFullMode _whenFull;
    private JsonNode? _published;
    private bool _resync;
    private bool _sending;
    private Task<long>? _terminal;
    private TState _state;
    private CustomTaskStatus _status = CustomTaskStatus.Running;

    internal TaskHandle(ITaskGrain grain, TaskStarted started, TState initialState, JsonSerializerOptions json, int maxUpdatesPerCall, CancellationToken lifetime,
        StateUpdates updates = StateUpdates.WholeState, int maxPendingUpdates = 10_000, PendingUpdatesFullMode whenFull = PendingUpdatesFullMode.Wait)
    {
        _room = new SemaphoreSlim(maxPendingUpdates, maxPendingUpdates);
        _maxPendingUpdates = maxPendingUpdates;
        _whenFull = whenFull;
        _deltas = updates == StateUpdates.Deltas;
        _published = _deltas ? JsonSerializer.SerializeToNode(initialState, json) : null;
        _grain = grain;
        _json = json;
        _maxUpdatesPerCall = maxUpdatesPerCall;
        _lifetime = lifetime;
        _state = initialState;
        TaskId = started.TaskId;
        Execution = started.Execution;
        Type = started.Stream;
        StartedSequence = started.BrokerSequence;
    }

    /// <summary>The task id (<c>custom_task_id</c>).</summary>
    public string TaskId { get; }

    /// <summary>The execution the task publishes to.</summary>
    public ExecutionId Execution { get; }

    /// <summary>The task type: the <c>stream</c> (topic) of its events.</summary>
    public string Type { get; }

    /// <summary>The <c>broker_sequence</c> of the task's <c>CUSTOM_TASK_STARTED</c> event.</summary>
    public long StartedSequence { get; }

    /// <summary>The last state given to <see cref="UpdateStateAsync"/> (or the initial state).</summary>
    public TState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary><see cref="CustomTaskStatus.Running"/> until the terminal event is durable.</summary>
    public CustomTaskStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>Whether a terminal event was published or is being published.</summary>
    public bool IsFinishing
    {
        get
        {
            lock (_gate)
            {
                return _terminal is { IsFaulted: false };
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="state"/> as <c>CUSTOM_TASK_IN_PROGRESS</c>. At most
    /// <see cref="StreamingEventsClientOptions.MaxPendingUpdates"/> updates are queued or in flight per task; a call
    /// beyond that waits for room (in call order), so a publisher that outruns storage is slowed, not buffered without end;
    /// with <see cref="PendingUpdatesFullMode.Throw"/> it is refused at once instead.
    /// </summary>
    /// <returns>The event's <c>broker_sequence</c>, once it is durable.</returns>
    /// <exception cref="EventTooLargeException">The event would be over 1 MiB; nothing was published.</exception>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    /// <exception cref="StorageUnavailableException">Not acknowledged; it may be retried.</exception>
    /// <exception cref="PendingUpdatesFullException">The task's backlog is full and its mode is <see cref="PendingUpdatesFullMode.Throw"/>.</exception>
    public async Task<long> UpdateStateAsync(TState state, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var whole = JsonSerializer.SerializeToUtf8Bytes(state, _json);
        if (_whenFull == PendingUpdatesFullMode.Throw)
        {
            if (!_room.Wait(0, CancellationToken.None))
            {
                throw new PendingUpdatesFullException(TaskId, _maxPendingUpdates);
            }
        }
        else
        {
            await _room.WaitAsync(cancellationToken);
        }

        Operation operation;
        try
        {
            lock (_gate)
            {
                if (_terminal is { IsFaulted: false })
                {
                    throw new TaskAlreadyFinishedException(TaskId, _status);
                }

                // The patch is computed against the previous update in call order, which is also publishing order.
                var patch = _deltas ? Delta(whole) : null;
                if (patch is null && whole.Length > StreamingLimits.MaxEventBytes)
                {
                    throw new EventTooLargeException(whole.Length, StreamingLimits.MaxEventBytes);
                }

                operation = new Operation(TaskEventDraft.Progress(whole), IsTerminal: false) { Patch = patch };
                _state = state;
                EnqueueLocked(operation);
            }
        }
        catch
        {
            _room.Release();
            throw;
        }

        try
        {
            return await operation.Completion.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            if (operation.Completion.Task.IsCompleted)
            {
                _room.Release();
            }
            else
            {
                // The caller stopped waiting; the update is still queued and frees its room when it is settled.
                _ = operation.Completion.Task.ContinueWith(_ => _room.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Publishes <c>CUSTOM_TASK_COMPLETED</c> with the current <see cref="State"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> CompleteAsync(CancellationToken cancellationToken = default) =>
        FinishAsync(() => TaskEventDraft.Completed(Serialize(_state)), cancellationToken);

    /// <summary>Publishes <c>CUSTOM_TASK_COMPLETED</c> with <paramref name="finalState"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> CompleteAsync(TState finalState, CancellationToken cancellationToken = default)
    {
        var json = Serialize(finalState);
        return FinishAsync(() =>
        {
            _state = finalState;
            return TaskEventDraft.Completed(json);
        }, cancellationToken);
    }

    /// <summary>Publishes <c>CUSTOM_TASK_FAILED</c> with <paramref name="message"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> FailAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return FinishAsync(() => TaskEventDraft.Failed(message), cancellationToken);
    }

    /// <summary>Publishes <c>CUSTOM_TASK_FAILED</c> with the exception's message.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> FailAsync(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return FailAsync(exception.Message, cancellationToken);
    }

    /// <summary>Publishes <c>CUSTOM_TASK_CANCELED</c>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> CancelAsync(string? reason = null, CancellationToken cancellationToken = default) =>
        FinishAsync(() => TaskEventDraft.Canceled(reason), cancellationToken);

    /// <summary>
    /// Publishes the terminal event unless one was already published: COMPLETED with the current state, or CANCELED if
    /// the token given at start is canceled. Safe to call more than once.
    /// </summary>
    /// <exception cref="StreamingEventsException">The terminal event could not be published.</exception>
    public async ValueTask DisposeAsync()
    {
        Task<long> terminal;
        lock (_gate)
        {
            if (_status != CustomTaskStatus.Running && _terminal is not { IsFaulted: false })
            {
                // The service ended the task already (it timed out): there is nothing left to publish.
                return;
            }

            terminal = _terminal is { IsFaulted: false } existing
                ? existing
                : BeginTerminalLocked(_lifetime.IsCancellationRequested ? TaskEventDraft.Canceled("canceled") : TaskEventDraft.Completed(Serialize(_state)));
        }

        await terminal;
    }

    private Task<long> FinishAsync(Func<TaskEventDraft> draft, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_terminal is { IsFaulted: false })
            {
                throw new TaskAlreadyFinishedException(TaskId, _status);
            }

            return BeginTerminalLocked(draft()).WaitAsync(cancellationToken);
        }
    }

    private Task<long> BeginTerminalLocked(TaskEventDraft draft)
    {
        var operation = new Operation(draft, IsTerminal: true);
        EnqueueLocked(operation);
        _terminal = operation.Completion.Task;
        return _terminal;
    }

    /// <summary>The patch from the last published state to <paramref name="whole"/>, if it is the smaller event.</summary>
    private TaskEventDraft? Delta(byte[] whole)
    {
        var next = JsonNode.Parse(whole);
        var operations = JsonSerializer.SerializeToUtf8Bytes(JsonPatch.Diff(_published, next));
        _published = next;
        return operations.Length < whole.Length ? TaskEventDraft.Patch(operations) : null;
    }

    private byte[] Serialize(TState state)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, _json);
        return json.Length > StreamingLimits.MaxEventBytes ? throw new EventTooLargeException(json.Length, StreamingLimits.MaxEventBytes) : json;
    }

    private void EnqueueLocked(Operation operation)
    {
        _queue.Enqueue(operation);
        if (!_sending)
        {
            _sending = true;
            _ = Task.Run(SendLoopAsync);
        }
    }

    /// <summary>Sends queued operations in order: updates in batches, a terminal event alone after them.</summary>
    private async Task SendLoopAsync()
    {
        while (true)
        {
            var batch = new List<Operation>();
            lock (_gate)
            {
                while (_queue.TryPeek(out var next) && batch.Count < _maxUpdatesPerCall && !(next.IsTerminal && batch.Count > 0))
                {
                    batch.Add(_queue.Dequeue());
                    if (next.IsTerminal)
                    {
                        break;
                    }
                }

                if (batch.Count == 0)
                {
                    _sending = false;
                    return;
                }
            }

            await SendAsync(batch);
        }
    }

    /// <summary>Sends one batch; every operation's task gets the outcome (no exception escapes).</summary>
    private async Task SendAsync(List<Operation> batch, int attempt = 1)
    {
        try
        {
            if (batch[0].IsTerminal)
            {
                var receipt = await _grain.FinishAsync(batch[0].Draft);
                lock (_gate)
                {
                    _status = batch[0].Draft.Type.ToTerminalStatus();
                }

                batch[0].Completion.TrySetResult(receipt.LastSequence);
                return;
            }

            var updates = await _grain.UpdateAsync([.. batch.Select(ChooseDraft)]);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(updates.FirstSequence + i);
            }
        }
        catch (EventTooLargeException) when (batch.Count > 1)
        {
            // One event of the batch is too large and nothing was numbered: publish them one by one so that each
            // caller gets its own outcome.
            foreach (var operation in batch)
            {
                await SendAsync([operation]);
            }
        }
        catch (StreamWriteConflictException) when (attempt < MaxConflictAttempts)
        {
            // Another activation of the stream got there first and nothing of this batch was written: send it again.
            await SendAsync(batch, attempt + 1);
        }
        catch (TaskAlreadyFinishedException finished)
        {
            lock (_gate)
            {
                _status = finished.Status;
            }

            Fail(batch, finished);
        }
        catch (Exception exception)
        {
            // The outcome is unknown (it may be stored or not): the next update carries the whole state again.
            _resync = _deltas;
            Fail(batch, exception);
        }
    }

    /// <summary>A patch only when every earlier update is known to be published; otherwise the whole state.</summary>
    private TaskEventDraft ChooseDraft(Operation operation)
    {
        if (operation.Patch is { } patch && !_resync)
        {
            return patch;
        }

        _resync = false;
        return operation.Draft;
    }

    private static void Fail(List<Operation> batch, Exception exception)
    {
        foreach (var operation in batch)
        {
            operation.Completion.TrySetException(exception);
        }
    }

    private sealed record Operation(TaskEventDraft Draft, bool IsTerminal)
    {
        /// <summary>The same update as patch operations, when that is smaller (delta mode).</summary>
        public TaskEventDraft? Patch { get; init; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
