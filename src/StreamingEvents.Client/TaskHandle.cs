using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;
using StreamingEvents.Publishing;

namespace StreamingEvents;

/// <summary>
/// An open task: publish state updates with <see cref="UpdateStateAsync{TUpdate}"/> (merged into the state, like
/// Mistral's <c>update_state</c>) or <see cref="SetStateAsync"/> (replacing it); leaving an <c>await using</c> scope
/// publishes the one terminal event — <c>CUSTOM_TASK_COMPLETED</c> with the current <see cref="State"/>, or
/// <c>CUSTOM_TASK_CANCELED</c> if the token given at start was canceled by then.
/// </summary>
/// <remarks>
/// <para><b>Exactly once.</b> Every update and the terminal event are numbered by the handle (a publish sequence, with the
/// producer epoch of the task's start). When a publish has an unknown outcome — a timeout, a silo that died, storage that
/// did not confirm — the handle sends it again with the same numbers until it gets a definite answer; the service stores
/// it once and answers the original <c>broker_sequence</c>. Only a definite refusal (<see cref="EventTooLargeException"/>,
/// <see cref="TaskAlreadyFinishedException"/>, <see cref="ProducerFencedException"/>, …) or a spent retry budget
/// (<see cref="StreamingEventsClientOptions.PublishRetryBudget"/>: <see cref="PublishOutcomeUnknownException"/>) reaches
/// the caller. After a spent budget the handle keeps the publish and sends it again, still with its numbers, before
/// anything else: whatever happened, it is stored at most once, and the events after it stay in order.</para>
/// <para><c>await using</c> cannot see an exception thrown in its body, so a failing body would still publish
/// COMPLETED. Use <see cref="IStreamingEventsClient.RunTaskAsync{TState,TResult}"/>, which publishes
/// <c>CUSTOM_TASK_FAILED</c> when the body throws, or call <see cref="FailAsync(Exception, CancellationToken)"/> yourself.
/// A terminal event whose outcome is unknown is the one <see cref="DisposeAsync"/> sends again: the task ends the way it
/// was meant to.</para>
/// <para>Updates may be issued without awaiting each one: they are published in call order, many per call, and each
/// returned task completes with the event's <c>broker_sequence</c> once it is durable. Thread-safe.</para>
/// <para><b>Stop.</b> <see cref="CancellationToken"/> fires when the task is ended by someone else — a cancel of the task
/// or of its execution (<c>POST /v1/workflows/executions/{id}/cancel</c>), a timeout — so that the work producing it can
/// stop; the task is then already ended, and leaving the scope publishes nothing.</para>
/// </remarks>
/// <typeparam name="TState">The state type, serialized with System.Text.Json (records, or <see cref="JsonElement"/> for raw JSON).</typeparam>
public sealed class TaskHandle<TState> : IAsyncDisposable
{
    private readonly ITaskGrain _grain;
    private readonly JsonSerializerOptions _json;
    private readonly TaskHandleSettings _settings;
    private readonly CancellationToken _lifetime;
    private readonly PublishRetry _retry;
    private readonly PendingBudget _room;
    private readonly Lock _gate = new();
    private readonly LinkedList<Operation> _queue = new();
    private readonly bool _deltas;
    private readonly ExecutionControl.Lease? _lease;
    private readonly CancellationTokenSource _stop;

    /// <summary>The last state given (or merged), as UTF-8 JSON, and its member names (<c>null</c>: not an object).</summary>
    private byte[] _stateJson;
    private HashSet<string>? _stateNames;

    /// <summary>Set when <see cref="_state"/> lags <see cref="_stateJson"/> (a merge of another type): read back on demand.</summary>
    private bool _stateStale;

    /// <summary>The last state known to be stored, as the base of the next patch (delta mode).</summary>
    private JsonNode? _acknowledged;

    /// <summary>The publish sequence the next batch starts at: advanced only by batches that were stored.</summary>
    private long _nextPublishSequence = 1;

    /// <summary>A batch whose outcome stayed unknown: sent again, with its numbers, before anything else.</summary>
    private Batch? _unresolved;

    private Exception? _fenced;
    private bool _sending;
    private Operation? _terminal;
    private TState _state;
    private CustomTaskStatus _status = CustomTaskStatus.Running;

    internal TaskHandle(ITaskGrain grain, TaskStarted started, TState initialState, byte[] initialJson, JsonSerializerOptions json, TaskHandleSettings settings,
        CancellationToken lifetime, ExecutionControl.Lease? lease = null)
    {
        _grain = grain;
        _lease = lease;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        lease?.Propagate(_stop);
        _stateJson = initialJson;
        _stateNames = ShallowMerge.MemberNames(initialJson);
        _json = json;
        _settings = settings;
        _lifetime = lifetime;
        _retry = new PublishRetry(settings.RetryBudget, settings.Time, settings.HedgeDelay);
        _room = new PendingBudget(settings.MaxPendingUpdates, settings.MaxPendingBytes);
        _deltas = settings.Updates == StateUpdates.Deltas;
        _acknowledged = _deltas ? JsonSerializer.SerializeToNode(initialState, json) : null;
        _state = initialState;
        TaskId = started.TaskId;
        Execution = started.Execution;
        Type = started.Stream;
        StartedSequence = started.BrokerSequence;
        Epoch = started.Epoch;
    }

    /// <summary>The task id (<c>custom_task_id</c>).</summary>
    public string TaskId { get; }

    /// <summary>The execution the task publishes to.</summary>
    public ExecutionId Execution { get; }

    /// <summary>The task type: the <c>stream</c> (topic) of its events.</summary>
    public string Type { get; }

    /// <summary>The <c>broker_sequence</c> of the task's <c>CUSTOM_TASK_STARTED</c> event.</summary>
    public long StartedSequence { get; }

    /// <summary>The producer epoch of this handle: a newer publisher of the same task fences older ones.</summary>
    public int Epoch { get; }

    /// <summary>The task's current state: the last one set, with every update since merged in (or the initial state).</summary>
    public TState State
    {
        get
        {
            lock (_gate)
            {
                if (_stateStale)
                {
                    _state = JsonSerializer.Deserialize<TState>(_stateJson, _json)!;
                    _stateStale = false;
                }

                return _state;
            }
        }
    }

    /// <summary>
    /// Fires when the work on this task should stop: the token given at start was canceled, or the task (or its whole
    /// execution) was ended by someone else — canceled over HTTP, by <c>POST /v1/workflows/executions/{id}/cancel</c>,
    /// or timed out. In the second case the task has already ended and leaving the scope publishes nothing.
    /// </summary>
    public CancellationToken CancellationToken => _stop.Token;

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
                return TerminalPendingLocked;
            }
        }
    }

    /// <summary>A terminal event that was not refused: in flight, stored, or of unknown outcome (and sent again).</summary>
    private bool TerminalPendingLocked => _terminal is { Refused: false };

    /// <summary>
    /// Merges <paramref name="update"/> into the state and publishes the result as <c>CUSTOM_TASK_IN_PROGRESS</c>, like
    /// Mistral's <c>update_state</c>: the update's top-level members replace the state's, the others are kept (the state
    /// and the update are JSON objects: a record, a dictionary, an anonymous object named with the same JSON naming).
    /// A whole typed state replaces every member. At most <see cref="StreamingEventsClientOptions.MaxPendingUpdates"/>
    /// updates (and <see cref="StreamingEventsClientOptions.MaxPendingBytes"/>) are queued or in flight per task; a call
    /// beyond that waits for room (in call order), so a publisher that outruns storage is slowed, not buffered without end;
    /// with <see cref="PendingUpdatesFullMode.Throw"/> it is refused at once instead. <paramref name="cancellationToken"/>
    /// cancels the wait for room only: once queued, the update is published, and the call returns its number.
    /// </summary>
    /// <returns>The event's <c>broker_sequence</c>, once it is durable.</returns>
    /// <exception cref="InvalidPayloadException">The state or the update is not a JSON object (use <see cref="SetStateAsync"/>).</exception>
    /// <exception cref="EventTooLargeException">The event would be over 1 MiB; nothing was published.</exception>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    /// <exception cref="ProducerFencedException">A newer publisher took the task over; nothing was published.</exception>
    /// <exception cref="PublishOutcomeUnknownException">No answer within the retry budget; the handle sends it again first.</exception>
    /// <exception cref="PendingUpdatesFullException">The task's backlog is full and its mode is <see cref="PendingUpdatesFullMode.Throw"/>.</exception>
    public Task<long> UpdateStateAsync<TUpdate>(TUpdate update, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var changes = JsonSerializer.SerializeToUtf8Bytes(update, _json);
        var whole = update is TState typed && typeof(TUpdate) == typeof(TState) ? typed : default;
        var isWhole = typeof(TUpdate) == typeof(TState);
        byte[] current;
        HashSet<string>? names;
        lock (_gate)
        {
            (current, names) = (_stateJson, _stateNames);
        }

        // Merged against the latest state now, for the size; merged again when queued if an update came in between.
        var merged = Apply(current, names);
        return PublishAsync(state => ReferenceEquals(state.Json, current) ? merged : Apply(state.Json, state.Names), merged.Json.Length, cancellationToken);

        (byte[] Json, HashSet<string>? Names, TState? State, bool Stale) Apply(byte[] state, HashSet<string>? stateNames)
        {
            if (isWhole && (stateNames is null || changes.AsSpan().TrimStart((byte)' ') is not [(byte)'{', ..]))
            {
                // A whole typed state that is not an object (a string, a number, a list) replaces the state.
                CheckSize(changes);
                return (changes, null, whole, false);
            }

            var (bytes, mergedNames) = ShallowMerge.Merge(state, stateNames, changes);
            CheckSize(bytes);

            // The update named every member: it is the new state, and the typed state is the update itself.
            return isWhole && ReferenceEquals(bytes, changes) ? (bytes, mergedNames, whole, false) : (bytes, mergedNames, default, true);
        }
    }

    /// <summary>
    /// Replaces the state with <paramref name="state"/> and publishes it as <c>CUSTOM_TASK_IN_PROGRESS</c> (Mistral's
    /// <c>set_state</c>); any JSON value. Queued, bounded and answered like <see cref="UpdateStateAsync{TUpdate}"/>.
    /// </summary>
    /// <returns>The event's <c>broker_sequence</c>, once it is durable.</returns>
    /// <exception cref="EventTooLargeException">The event would be over 1 MiB; nothing was published.</exception>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> SetStateAsync(TState state, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var whole = JsonSerializer.SerializeToUtf8Bytes(state, _json);
        CheckSize(whole);
        return PublishAsync(_ => (whole, ShallowMerge.MemberNames(whole), state, false), whole.Length, cancellationToken);
    }

    private static void CheckSize(byte[] json)
    {
        if (json.Length > StreamingLimits.MaxEventBytes)
        {
            throw new EventTooLargeException(json.Length, StreamingLimits.MaxEventBytes);
        }
    }

    /// <summary>
    /// Queues an update in call order. <paramref name="next"/> makes the new whole state from the current one (its JSON and
    /// member names), under the handle's lock: the new JSON, its names, the typed state (or that it is to be read back).
    /// </summary>
    private async Task<long> PublishAsync(
        Func<(byte[] Json, HashSet<string>? Names), (byte[] Json, HashSet<string>? Names, TState? State, bool Stale)> next, int bytes, CancellationToken cancellationToken)
    {
        Operation? operation = null;
        Exception? refusal = null;

        // Queued when admitted, in call order (the budget admits waiters in the order they came).
        void Enqueue()
        {
            lock (_gate)
            {
                if (TerminalPendingLocked || _status != CustomTaskStatus.Running)
                {
                    refusal = new TaskAlreadyFinishedException(TaskId, _status);
                    return;
                }

                try
                {
                    var (json, names, state, stale) = next((_stateJson, _stateNames));
                    (_stateJson, _stateNames, _stateStale) = (json, names, stale);
                    if (!stale)
                    {
                        _state = state!;
                    }

                    operation = new Operation(TaskEventDraft.Progress(json), IsTerminal: false)
                    {
                        Whole = _deltas ? JsonNode.Parse(json) : null,
                        Bytes = json.Length,
                    };
                }
                catch (StreamingEventsException invalid)
                {
                    refusal = invalid;
                    return;
                }

                EnqueueLocked(operation);
            }
        }

        if (_settings.WhenFull == PendingUpdatesFullMode.Throw)
        {
            if (!_room.TryTake(bytes, Enqueue))
            {
                throw new PendingUpdatesFullException(TaskId, _settings.MaxPendingUpdates);
            }
        }
        else
        {
            await _room.TakeAsync(bytes, Enqueue, cancellationToken);
        }

        try
        {
            return refusal is null ? await operation!.Completion.Task : throw refusal;
        }
        finally
        {
            _room.Release(bytes);
        }
    }

    /// <summary>Publishes <c>CUSTOM_TASK_COMPLETED</c> with the current <see cref="State"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> CompleteAsync(CancellationToken cancellationToken = default) =>
        FinishAsync(() => TaskEventDraft.Completed(_stateJson), cancellationToken);

    /// <summary>Publishes <c>CUSTOM_TASK_COMPLETED</c> with <paramref name="finalState"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    public Task<long> CompleteAsync(TState finalState, CancellationToken cancellationToken = default)
    {
        var draft = Completed(finalState);
        return FinishAsync(() =>
        {
            (_state, _stateJson, _stateStale) = (finalState, draft.Payload.ToArray(), false);
            _stateNames = ShallowMerge.MemberNames(_stateJson);
            return draft;
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
    /// the token given at start is canceled. A terminal event whose outcome is unknown is sent again (the same event,
    /// stored at most once) rather than replaced. Safe to call more than once.
    /// </summary>
    /// <exception cref="StreamingEventsException">The terminal event could not be published.</exception>
    public async ValueTask DisposeAsync()
    {
        Task<long> terminal;
        lock (_gate)
        {
            if (_status != CustomTaskStatus.Running && !TerminalPendingLocked)
            {
                // The service ended the task already (canceled from outside, timed out): there is nothing left to publish.
                _lease?.Dispose();
                return;
            }

            if (_terminal is { Refused: false } existing)
            {
                terminal = existing.Batch is { } batch && _unresolved == batch ? ResendLocked(batch) : existing.Completion.Task;
            }
            else
            {
                terminal = BeginTerminalLocked(_lifetime.IsCancellationRequested ? TaskEventDraft.Canceled("canceled") : TaskEventDraft.Completed(_stateJson));
            }
        }

        await terminal;
        _lease?.Dispose();
    }

    /// <summary>The task was ended by someone else (its stream said so): nothing more is published for it.</summary>
    internal void EndedElsewhere()
    {
        lock (_gate)
        {
            if (_status == CustomTaskStatus.Running && !TerminalPendingLocked)
            {
                _status = CustomTaskStatus.Canceled;
            }
        }
    }

    private Task<long> FinishAsync(Func<TaskEventDraft> draft, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (TerminalPendingLocked)
            {
                throw new TaskAlreadyFinishedException(TaskId, _status);
            }

            return BeginTerminalLocked(draft()).WaitAsync(cancellationToken);
        }
    }

    private Task<long> BeginTerminalLocked(TaskEventDraft draft)
    {
        var operation = new Operation(draft, IsTerminal: true) { Bytes = draft.Payload.Length };
        _terminal = operation;
        EnqueueLocked(operation);
        return operation.Completion.Task;
    }

    /// <summary>Sends an unresolved terminal batch again; completes with its number once it is answered.</summary>
    private Task<long> ResendLocked(Batch batch)
    {
        StartSendingLocked();
        return AwaitAsync(batch.Answered.Task);

        static async Task<long> AwaitAsync(Task<AppendReceipt> answer) => (await answer).LastSequence;
    }

    private TaskEventDraft Completed(TState state)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, _json);
        return json.Length > StreamingLimits.MaxEventBytes
            ? throw new EventTooLargeException(json.Length, StreamingLimits.MaxEventBytes)
            : TaskEventDraft.Completed(json);
    }

    private void EnqueueLocked(Operation operation)
    {
        _queue.AddLast(operation);
        StartSendingLocked();
    }

    private void StartSendingLocked()
    {
        if (!_sending)
        {
            _sending = true;
            _ = Task.Run(SendLoopAsync);
        }
    }

    /// <summary>
    /// Sends in order: an unresolved batch first, then queued operations in batches (bounded by count and bytes), a
    /// terminal event alone. Stops when nothing is left, or when a batch's outcome stayed unknown (the next publish or
    /// <see cref="DisposeAsync"/> starts it again, with that batch first).
    /// </summary>
    private async Task SendLoopAsync()
    {
        while (true)
        {
            Batch batch;
            lock (_gate)
            {
                if (_unresolved is { } unresolved)
                {
                    batch = unresolved;
                }
                else if (TakeBatchLocked() is { } taken)
                {
                    batch = taken;
                }
                else
                {
                    _sending = false;
                    return;
                }
            }

            if (!await SendAsync(batch))
            {
                // It stays first in line: the next publish or DisposeAsync sends it again. What waited behind it for the
                // whole budget is not sent (nothing of it stored), so that its callers get an answer too.
                List<Operation> waiting;
                lock (_gate)
                {
                    waiting = DrainLocked();
                    _sending = false;
                }

                var notSent = new PublishNotSentException(TaskId, batch.Answered.Task.IsCompleted ? null : batch.LastFailure);
                foreach (var operation in waiting)
                {
                    if (operation.IsTerminal)
                    {
                        operation.Refused = true;
                    }

                    operation.Completion.TrySetException(notSent);
                }

                return;
            }
        }
    }

    /// <summary>Takes the next batch and numbers it; <c>null</c> when nothing is queued.</summary>
    private Batch? TakeBatchLocked()
    {
        while (_queue.First is { } first && _fenced is { } fenced)
        {
            _queue.RemoveFirst();
            first.Value.Completion.TrySetException(fenced);
        }

        var operations = new List<Operation>();
        long bytes = 0;
        while (_queue.First is { } next)
        {
            var operation = next.Value;
            var fits = operations.Count < _settings.MaxUpdatesPerCall && bytes + operation.Bytes <= _settings.MaxBytesPerCall;
            if (operations.Count > 0 && (operation.IsTerminal || operation.SendAlone || operations[0].SendAlone || !fits))
            {
                break;
            }

            _queue.RemoveFirst();
            operations.Add(operation);
            bytes += operation.Bytes;
            if (operation.IsTerminal)
            {
                break;
            }
        }

        if (operations.Count == 0)
        {
            return null;
        }

        // Numbered now, not when queued: a refused batch takes no numbers, so the ones after it leave no gap.
        var drafts = new TaskEventDraft[operations.Count];
        var basis = _acknowledged;
        for (var i = 0; i < operations.Count; i++)
        {
            var operation = operations[i];
            drafts[i] = operation.Whole is { } whole && !operation.IsTerminal ? Smaller(basis, whole, operation.Draft) : operation.Draft;
            basis = operation.Whole ?? basis;
        }

        var batch = new Batch(operations, new PublishRequest(drafts, Epoch, _nextPublishSequence));
        foreach (var operation in operations)
        {
            operation.Batch = batch;
        }

        return batch;
    }

    /// <summary>The patch from <paramref name="basis"/> to <paramref name="whole"/> when it is the smaller event.</summary>
    private static TaskEventDraft Smaller(JsonNode? basis, JsonNode whole, TaskEventDraft wholeDraft)
    {
        if (basis is null)
        {
            return wholeDraft;
        }

        var operations = JsonSerializer.SerializeToUtf8Bytes(JsonPatch.Diff(basis, whole));
        return operations.Length < wholeDraft.Payload.Length ? TaskEventDraft.Patch(operations) : wholeDraft;
    }

    /// <summary>Sends one batch until it is answered; <c>false</c> if its outcome stayed unknown.</summary>
    private async Task<bool> SendAsync(Batch batch)
    {
        try
        {
            var receipt = await _retry.RunAsync(
                () => batch.IsTerminal ? _grain.FinishAsync(batch.Request) : _grain.UpdateAsync(batch.Request), TaskId, CancellationToken.None);
            lock (_gate)
            {
                _unresolved = null;
                _nextPublishSequence = batch.Request.FirstPublishSequence + batch.Operations.Count;
                _acknowledged = batch.Operations.LastOrDefault(o => o.Whole is not null)?.Whole ?? _acknowledged;
                if (batch.IsTerminal)
                {
                    _status = batch.Request.Events[0].Type.ToTerminalStatus();
                }
            }

            for (var i = 0; i < batch.Operations.Count; i++)
            {
                batch.Operations[i].Completion.TrySetResult(receipt.SequenceAt(i));
            }

            batch.Answered.TrySetResult(receipt);
        }
        catch (Exception refusal) when (PublishRetry.IsDefiniteRefusal(refusal))
        {
            Refused(batch, refusal);
            batch.Answered.TrySetException(refusal);
            _ = batch.Answered.Task.Exception; // Observed: DisposeAsync may not be the one waiting for it.
        }
        catch (Exception unknown)
        {
            // No answer within the budget (or an error that says nothing about the outcome): keep the numbers, tell the
            // callers, and send it again before anything else.
            var error = unknown as PublishOutcomeUnknownException ?? new PublishOutcomeUnknownException(TaskId, 1, unknown);
            lock (_gate)
            {
                _unresolved = batch;
                batch.LastFailure = error;
            }

            foreach (var operation in batch.Operations)
            {
                operation.Completion.TrySetException(error);
            }

            return false;
        }

        return true;
    }

    /// <summary>A definite refusal: nothing of the batch was stored and its numbers are free again.</summary>
    private void Refused(Batch batch, Exception refusal)
    {
        List<Operation> failed = [.. batch.Operations];
        lock (_gate)
        {
            _unresolved = null;
            if (refusal is EventTooLargeException or InvalidPayloadException && batch.Operations.Count > 1)
            {
                // One of them is refused and nothing was numbered: send them one by one, so each caller gets its own answer.
                for (var i = batch.Operations.Count - 1; i >= 0; i--)
                {
                    var operation = batch.Operations[i];
                    operation.SendAlone = true;
                    _queue.AddFirst(operation);
                }

                return;
            }

            switch (refusal)
            {
                case TaskAlreadyFinishedException finished:
                    _status = finished.Status;
                    failed.AddRange(DrainLocked());
                    break;
                case ExecutionFinishedException:
                    _status = CustomTaskStatus.Canceled;
                    failed.AddRange(DrainLocked());
                    break;
                case ProducerFencedException:
                    _fenced = refusal;
                    failed.AddRange(DrainLocked());
                    break;
            }

            foreach (var operation in batch.Operations.Where(o => o.IsTerminal))
            {
                operation.Refused = true;
            }
        }

        foreach (var operation in failed)
        {
            operation.Completion.TrySetException(refusal);
        }

        if (refusal is TaskAlreadyFinishedException or ExecutionFinishedException && !batch.IsTerminal)
        {
            // Ended by someone else and the notice did not come (or not yet): the work producing it stops now.
            _lease?.End();
        }
    }

    private List<Operation> DrainLocked()
    {
        var drained = _queue.ToList();
        _queue.Clear();
        return drained;
    }

    /// <summary>One update or terminal event, from the call that made it to its answer.</summary>
    private sealed record Operation(TaskEventDraft Draft, bool IsTerminal)
    {
        /// <summary>The whole state as a node, the base of the next patch (delta mode).</summary>
        public JsonNode? Whole { get; init; }

        public long Bytes { get; init; }

        /// <summary>Sent in a batch of its own (after its batch was refused as a whole).</summary>
        public bool SendAlone { get; set; }

        /// <summary>A terminal event that was refused: another may be published.</summary>
        public bool Refused { get; set; }

        /// <summary>The batch it was numbered in.</summary>
        public Batch? Batch { get; set; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Operations numbered together, and the request that carries them (sent again unchanged).</summary>
    private sealed class Batch(List<Operation> operations, PublishRequest request)
    {
        public List<Operation> Operations { get; } = operations;

        public PublishRequest Request { get; } = request;

        public bool IsTerminal => Operations[0].IsTerminal;

        /// <summary>Why its last attempts got no answer.</summary>
        public Exception? LastFailure { get; set; }

        /// <summary>The batch's definite answer: its receipt, or its refusal.</summary>
        public TaskCompletionSource<AppendReceipt> Answered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The SDK options a task handle uses.</summary>
internal sealed record TaskHandleSettings(
    int MaxUpdatesPerCall,
    long MaxBytesPerCall,
    int MaxPendingUpdates,
    long MaxPendingBytes,
    PendingUpdatesFullMode WhenFull,
    StateUpdates Updates,
    TimeSpan RetryBudget,
    TimeProvider Time,
    TimeSpan? HedgeDelay = null);
