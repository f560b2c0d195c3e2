using System.Runtime.InteropServices;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

internal sealed partial class ExecutionStreamGrain
{
    private readonly Queue<PendingAppend> _pending = new();
    private Task _flush = Task.CompletedTask;
    private Task _pushes = Task.CompletedTask;
    private bool _needsReload;
    private bool _maintenanceDue;
    private long _lastTimestamp;

    private Task<AppendReceipt> Enqueue(PendingAppend request)
    {
        request.EnqueuedAt = _time.GetTimestamp();
        _pending.Enqueue(request);
        EnsureFlushing();
        return request.Completion.Task;
    }

    private void EnsureFlushing()
    {
        if (_flush.IsCompleted)
        {
            _flush = FlushAsync();
        }
    }

    /// <summary>
    /// The one place that numbers events: take what is queued, number it from the head, store it in one conditional
    /// append, and only then acknowledge, cache and push it. Repeats until the queue is empty.
    /// </summary>
    private async Task FlushAsync()
    {
        while (true)
        {
            try
            {
                if (_needsReload && !await TryReloadAsync())
                {
                    return;
                }

                if (_pending.Count == 0)
                {
                    if (!_maintenanceDue)
                    {
                        return;
                    }

                    _maintenanceDue = false;
                    await RunMaintenanceAsync();
                    continue;
                }

                if (!State.Exists && !await TryCreateStreamAsync())
                {
                    continue;
                }

                var plan = PlanBatch(TakeBatch());
                await RejectUnresolvedAsync(plan);
                if (plan.Accepted.Count > 0 && await CommitAsync(plan))
                {
                    await EnforceRetentionAfterAppendAsync();
                }
            }
            catch (Exception exception)
            {
                // A bug must not leave callers waiting forever: fail them, and reload before numbering again.
                LogFlushFailed(exception, _execution.Key);
                FailPending(exception as StreamingEventsException ?? new StorageUnavailableException($"Publishing to '{_execution.Key}' failed: {exception.Message}", exception));
                _needsReload = true;
                return;
            }
        }
    }

    private List<PendingAppend> TakeBatch()
    {
        var batch = new List<PendingAppend>();
        var events = 0;
        while (_pending.TryPeek(out var next) && (batch.Count == 0 || events + next.Drafts.Length <= _options.MaxEventsPerCommit))
        {
            batch.Add(_pending.Dequeue());
            events += next.Drafts.Length;
        }

        return batch;
    }

    /// <summary>Numbers and renders what can be published; refuses the rest before it gets a number.</summary>
    private Plan PlanBatch(List<PendingAppend> batch)
    {
        var plan = new Plan(State.Head, State.TaskCount);
        foreach (var request in batch)
        {
            try
            {
                if (request.Start is { } start)
                {
                    PlanStart(plan, request, start);
                }
                else if (!PlanAppend(plan, request))
                {
                    plan.Unresolved.Add(request);
                }
            }
            catch (StreamingEventsException exception)
            {
                request.Completion.TrySetException(exception);
            }
        }

        return plan;
    }

    private void PlanStart(Plan plan, PendingAppend request, TaskStart start)
    {
        CheckContext(start.Context);
        if (State.OpenTasks.ContainsKey(start.TaskId) || plan.Opened.ContainsKey(start.TaskId) || plan.Closed.Contains(start.TaskId))
        {
            throw new TaskAlreadyExistsException(start.TaskId);
        }

        var sequence = plan.NextSequence;
        var task = new StoredTask(plan.TaskCount + 1, start.TaskId, start.Type, start.Context.WorkflowRunId!, start.Metadata,
            CustomTaskStatus.Running, sequence, null)
        {
            ActivityName = start.ActivityName,
            ActivityId = start.ActivityId,
        };
        var stored = new StoredEvent(sequence, NextTimestamp(), task.TaskNo, EventType.CustomTaskStarted, PayloadEncoding.Json, start.InitialState);
        var rendered = RenderChecked(task, stored);

        plan.TaskCount++;
        plan.NewTasks.Add(task);
        plan.Opened[task.TaskId] = task;
        plan.Add(request, [stored], [rendered]);
    }

    private bool PlanAppend(Plan plan, PendingAppend request)
    {
        if (plan.Closed.Contains(request.TaskId)
            || !(plan.Opened.TryGetValue(request.TaskId, out var task) || State.OpenTasks.TryGetValue(request.TaskId, out task)))
        {
            return false;
        }

        var stored = new StoredEvent[request.Drafts.Length];
        var rendered = new StreamEvent[request.Drafts.Length];
        for (var i = 0; i < request.Drafts.Length; i++)
        {
            var draft = request.Drafts[i];
            var body = draft.Type switch
            {
                EventType.CustomTaskFailed or EventType.CustomTaskCanceled or EventType.CustomTaskTimedOut => EventRenderer.EncodeText(draft.Text),
                _ => draft.Payload,
            };
            stored[i] = new StoredEvent(plan.NextSequence + i, NextTimestamp(), task.TaskNo, draft.Type, draft.Encoding, body);
            rendered[i] = RenderChecked(task, stored[i]);
        }

        var last = request.Drafts[^1];
        if (last.Type.IsTerminal())
        {
            var status = last.Type.ToTerminalStatus();
            var sequence = stored[^1].Sequence;
            plan.Opened.Remove(task.TaskId);
            plan.Closed.Add(task.TaskId);
            var started = plan.NewTasks.FindIndex(t => t.TaskId == task.TaskId);
            if (started >= 0)
            {
                // Started and ended in one commit: the new row carries its final status.
                plan.NewTasks[started] = plan.NewTasks[started] with { Status = status, TerminalSequence = sequence };
            }
            else
            {
                plan.Finished.Add(new FinishedTask(task.TaskNo, task.TaskId, status, sequence));
            }
        }

        plan.Add(request, stored, rendered);
        return true;
    }

    private StreamEvent RenderChecked(StoredTask task, in StoredEvent stored)
    {
        var rendered = Renderer.Render(task, stored);
        if (rendered.Json.Length > StreamingLimits.MaxEventBytes)
        {
            throw new EventTooLargeException(rendered.Json.Length, StreamingLimits.MaxEventBytes);
        }

        return rendered;
    }

    private EventRenderer Renderer => _renderer ?? throw new InvalidOperationException("The stream has no context yet.");

    /// <summary>An execution has one workflow name, parent and root; a task cannot change them.</summary>
    private void CheckContext(WorkflowContext given)
    {
        var existing = State.Context!;
        Check("workflow_name", existing.WorkflowName, given.WorkflowName);
        Check("root_workflow_exec_id", existing.RootWorkflowExecId, given.RootWorkflowExecId);
        Check("parent_workflow_exec_id", existing.ParentWorkflowExecId, given.ParentWorkflowExecId);

        void Check(string field, string? was, string? now)
        {
            if (!string.Equals(was, now, StringComparison.Ordinal))
            {
                throw new WorkflowContextConflictException(_execution.Key, field, was, now);
            }
        }
    }

    /// <summary>Appends for tasks that are not open here: finished ones get their status, the rest "not found".</summary>
    private async Task RejectUnresolvedAsync(Plan plan)
    {
        foreach (var request in plan.Unresolved)
        {
            var task = await FindTaskAsync(request.TaskId);
            request.Completion.TrySetException(task is { Status: not CustomTaskStatus.Running }
                ? new TaskAlreadyFinishedException(request.TaskId, task.Status)
                : new TaskNotFoundException(request.TaskId));
        }
    }

    private async Task<bool> CommitAsync(Plan plan)
    {
        var append = new StreamAppend(State.StreamId!.Value, State.Head, plan.Events, plan.NewTasks, plan.Finished, plan.TaskCount, plan.AddedBytes);
        try
        {
            await _log.AppendAsync(append);
        }
        catch (StreamWriteConflictException exception)
        {
            // Another activation owns this stream now: stop numbering here.
            LogWriteConflict(_execution.Key, append.ExpectedHead);
            plan.Fail(exception);
            FailPending(exception);
            _needsReload = true;
            DeactivateOnIdle();
            return false;
        }
        catch (StreamingEventsException exception)
        {
            // Unknown outcome: the numbers may or may not be taken. Reload the head before numbering anything else.
            LogAppendFailed(exception, _execution.Key, append.Events.Count);
            plan.Fail(exception);
            _needsReload = true;
            return false;
        }

        foreach (var task in plan.NewTasks)
        {
            _tasks[task.TaskNo] = task;
        }

        foreach (var finished in plan.Finished)
        {
            _tasks[finished.TaskNo] = _tasks[finished.TaskNo] with { Status = finished.Status, TerminalSequence = finished.Sequence };
            _lastActivity.Remove(finished.TaskId);
        }

        foreach (var stored in plan.Events)
        {
            var task = _tasks[stored.TaskNo];
            if (task.Status == CustomTaskStatus.Running)
            {
                _lastActivity[task.TaskId] = stored.TimestampUnixNanoseconds;
            }
        }

        foreach (var rendered in plan.Rendered)
        {
            _window.Append(rendered);
        }

        plan.Acknowledge(_metrics, _time);
        Push(plan.Rendered);
        return true;
    }

    /// <summary>
    /// The most a push message carries. Stream providers bound a message (the memory provider's cache refuses one over
    /// 1 MiB), so a commit is pushed in parts, and an event larger than this alone is left to storage.
    /// </summary>
    private const int MaxPushBytes = 512 * 1024;

    /// <summary>An allowance per event for what a push carries besides its JSON (sequence, names, ids).</summary>
    private const int PushOverheadBytes = 256;

    /// <summary>
    /// Pushes committed events to live subscribers, in commit order. The push is best effort by design: subscribers
    /// detect any gap by sequence and read it from storage, so a failed push delays delivery but loses nothing.
    /// </summary>
    private void Push(List<StreamEvent> list)
    {
        var events = CollectionsMarshal.AsSpan(list);
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var size = events[i].Json.Length + PushOverheadBytes;
            if (size > MaxPushBytes)
            {
                // Too large for a push message: the batch covers it without carrying it, and subscribers read it from storage.
                PushBatch(new StreamEventBatch(events[start..i].ToArray(), events[i].BrokerSequence));
                start = i + 1;
                bytes = 0;
                continue;
            }

            if (bytes + size > MaxPushBytes)
            {
                PushBatch(new StreamEventBatch(events[start..i].ToArray()));
                start = i;
                bytes = 0;
            }

            bytes += size;
        }

        if (start < events.Length)
        {
            PushBatch(new StreamEventBatch(events[start..].ToArray()));
        }
    }

    private void PushBatch(StreamEventBatch batch) =>
        _pushes = PushAfterAsync(_pushes, () => _live!.OnNextAsync(batch), batch.Through);

    /// <summary>Announces a new execution to wildcard subscribers (who also re-list, so a lost announcement only delays).</summary>
    private void AnnounceCreated()
    {
        var summary = new ExecutionSummary(State.StreamId!.Value, State.Context!, State.Head, State.Oldest, State.TaskCount, State.OpenTasks.Count, _time.GetUtcNow());
        var announcements = this.GetStreamProvider(_options.StreamProviderName)
            .GetStream<ExecutionSummary>(StreamId.Create(StreamingEventsNames.ExecutionsNamespace, _execution.Namespace));
        _pushes = PushAfterAsync(_pushes, () => announcements.OnNextAsync(summary), 0);
    }

    private async Task PushAfterAsync(Task previous, Func<Task> push, long sequence)
    {
        await previous;
        try
        {
            await push();
        }
        catch (Exception exception)
        {
            LogPushFailed(exception, _execution.Key, sequence);
        }
    }

    private async Task<bool> TryCreateStreamAsync()
    {
        var first = _pending.FirstOrDefault(p => p.Start is not null);
        if (first is null)
        {
            // Nothing was ever published here, so no task of this execution exists.
            while (_pending.TryDequeue(out var request))
            {
                request.Completion.TrySetException(new TaskNotFoundException(request.TaskId));
            }

            return false;
        }

        try
        {
            if (await _log.CreateAsync(first.Start!.Context))
            {
                OnStateLoaded();
                AnnounceCreated();
                return true;
            }

            await _log.ReloadAsync();
        }
        catch (StreamingEventsException exception)
        {
            FailPending(exception);
            _needsReload = true;
            return false;
        }

        OnStateLoaded();
        return State.Exists;
    }

    private async Task<bool> TryReloadAsync()
    {
        try
        {
            await _log.ReloadAsync();
        }
        catch (StreamingEventsException exception)
        {
            FailPending(exception);
            return false;
        }

        _needsReload = false;
        OnStateLoaded();
        return true;
    }

    private void FailPending(Exception exception)
    {
        while (_pending.TryDequeue(out var request))
        {
            request.Completion.TrySetException(exception);
        }

        foreach (var waiter in _retentionWaiters)
        {
            waiter.TrySetException(exception);
        }

        _retentionWaiters.Clear();
    }

    /// <summary>Event timestamps never go backwards within a stream, whatever the clocks of successive silos say.</summary>
    private long NextTimestamp()
    {
        _lastTimestamp = Math.Max(ToUnixNanoseconds(_time.GetUtcNow()), Math.Max(_lastTimestamp, State.LastEventAt is { } last ? ToUnixNanoseconds(last) : 0));
        return _lastTimestamp;
    }

    private sealed class PendingAppend(string taskId, TaskStart? start, TaskEventDraft[] drafts)
    {
        public string TaskId { get; } = taskId;

        public TaskStart? Start { get; } = start;

        public TaskEventDraft[] Drafts { get; } = drafts;

        public TaskCompletionSource<AppendReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long EnqueuedAt { get; set; }
    }

    /// <summary>What one commit will write, and whom it answers.</summary>
    private sealed class Plan(long head, int taskCount)
    {
        public long NextSequence { get; private set; } = head + 1;

        public int TaskCount { get; set; } = taskCount;

        public List<StoredEvent> Events { get; } = [];

        public List<StreamEvent> Rendered { get; } = [];

        public List<StoredTask> NewTasks { get; } = [];

        public List<FinishedTask> Finished { get; } = [];

        public Dictionary<string, StoredTask> Opened { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Closed { get; } = new(StringComparer.Ordinal);

        public List<(PendingAppend Request, AppendReceipt Receipt)> Accepted { get; } = [];

        public List<PendingAppend> Unresolved { get; } = [];

        public long AddedBytes { get; private set; }

        public void Add(PendingAppend request, StoredEvent[] stored, StreamEvent[] rendered)
        {
            Accepted.Add((request, new AppendReceipt(NextSequence, stored.Length)));
            Events.AddRange(stored);
            Rendered.AddRange(rendered);
            AddedBytes += stored.Sum(e => (long)e.Body.Length);
            NextSequence += stored.Length;
        }

        public void Acknowledge(StreamingEventsMetrics metrics, TimeProvider time)
        {
            metrics.EventsPublished.Add(Events.Count);
            metrics.BytesPublished.Add(Rendered.Sum(e => (long)e.Json.Length));
            foreach (var (request, receipt) in Accepted)
            {
                metrics.PublishDuration.Record(time.GetElapsedTime(request.EnqueuedAt).TotalSeconds);
                request.Completion.TrySetResult(receipt);
            }
        }

        public void Fail(Exception exception)
        {
            foreach (var (request, _) in Accepted)
            {
                request.Completion.TrySetException(exception);
            }
        }
    }
}
