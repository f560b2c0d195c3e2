using System.Runtime.InteropServices;
using StreamingEvents.Appends;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

internal sealed partial class ExecutionStreamGrain
{
    /// <summary>Keys remembered per activation; a retry that comes later is found in storage.</summary>
    private const int MaxRecentKeys = 1024;

    private readonly Queue<PendingAppend> _pending = new();
    private readonly Dictionary<string, StoredRequestKey> _recentKeys = new(StringComparer.Ordinal);
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
    /// The one place that numbers events: take what is queued, look up what the planner needs from storage, plan the
    /// commit (<see cref="AppendPlanner"/>), store it in one conditional append, and only then acknowledge, cache and push
    /// it. Repeats until the queue is empty. Whatever fails, every request taken from the queue gets an answer.
    /// </summary>
    private async Task FlushAsync()
    {
        while (true)
        {
            List<PendingAppend>? batch = null;
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

                batch = TakeBatch();
                await ResolveAsync(batch);
                var plan = new AppendPlanner(State, _execution.Key, (task, stored) => Renderer.Render(task, stored), NextTimestamp).Plan(batch);
                if (plan.StateIsStale)
                {
                    _needsReload = true;
                }

                if (plan.AcceptedCount > 0)
                {
                    if (await CommitAsync(plan))
                    {
                        await EnforceRetentionAfterAppendAsync();
                    }
                }
                else
                {
                    plan.Acknowledge(_metrics, _time);
                }
            }
            catch (Exception exception)
            {
                // A storage failure in a lookup, or a bug: fail every request taken or queued (nothing of them was
                // numbered), and reload before numbering again.
                LogFlushFailed(exception, _execution.Key);
                var failure = exception as StreamingEventsException ?? new StorageUnavailableException($"Publishing to '{_execution.Key}' failed: {exception.Message}", exception);
                foreach (var request in batch ?? [])
                {
                    request.Completion.TrySetException(failure);
                }

                FailPending(failure);
                _needsReload = true;
                return;
            }
        }
    }

    private List<PendingAppend> TakeBatch()
    {
        var batch = new List<PendingAppend>();
        var events = 0;
        long bytes = 0;
        while (_pending.TryPeek(out var next)
            && (batch.Count == 0 || (events + next.EventCount <= _options.MaxEventsPerCommit && bytes + next.PayloadBytes <= _options.MaxBytesPerCommit)))
        {
            batch.Add(_pending.Dequeue());
            events += next.EventCount;
            bytes += next.PayloadBytes;
        }

        return batch;
    }

    /// <summary>
    /// Looks up what planning needs from storage: a request key's earlier use, a task that is not open here, and the
    /// numbers of stored events that a repeated sequenced request asks about beyond the last stored batch.
    /// </summary>
    private async Task ResolveAsync(List<PendingAppend> batch)
    {
        foreach (var request in batch)
        {
            request.ResetLookups();
            if (request.Key is { } key)
            {
                request.StoredKey = _recentKeys.TryGetValue(key.Key, out var recent) ? (State.StreamId!.Value, recent) : await _log.FindRequestKeyAsync(key.Key);
            }

            var open = State.OpenTasks.GetValueOrDefault(request.TaskId);
            if (open is null)
            {
                request.StoredTask = await _log.FindTaskAsync(request.TaskId);
            }

            if (request.Request is not { IsSequenced: true } publish)
            {
                continue;
            }

            var last = publish.FirstPublishSequence + publish.Events.Length - 1;
            if (open is not null && State.Producers.TryGetValue(open.TaskNo, out var producer)
                && publish.FirstPublishSequence <= producer.LastPublishSequence && publish.FirstPublishSequence < producer.BatchFirstPublishSequence)
            {
                request.Prefetched = await PrefetchAsync(open.TaskNo, producer.LastSequence, producer.LastPublishSequence, publish.FirstPublishSequence);
            }
            else if (request.StoredTask is { Task: { TerminalSequence: { } terminal, TerminalPublishSequence: { } terminalPublish } closed } location
                && location.StreamKey == _execution.Key && last <= terminalPublish)
            {
                request.Prefetched = await PrefetchAsync(closed.TaskNo, terminal, terminalPublish, publish.FirstPublishSequence);
            }
        }
    }

    /// <summary>
    /// The numbers of a task's events from publish sequence <paramref name="from"/> to the one at
    /// <paramref name="throughSequence"/>: every stored event of a task took the next publish sequence, so counting the
    /// task's events back from a known one finds each.
    /// </summary>
    private async Task<Dictionary<long, long>?> PrefetchAsync(int taskNo, long throughSequence, long throughPublishSequence, long from)
    {
        var count = throughPublishSequence - from + 1;
        if (count is < 1 or > AppendPlanner.MaxReplayedEvents)
        {
            return null;
        }

        var sequences = await _log.ReadTaskSequencesAsync(taskNo, throughSequence, (int)count);
        var found = new Dictionary<long, long>(sequences.Count);
        for (var i = 0; i < sequences.Count; i++)
        {
            found[throughPublishSequence - i] = sequences[i];
        }

        return found;
    }

    private async Task<bool> CommitAsync(AppendPlan plan)
    {
        var producers = plan.Producers.Values.ToList();
        var append = new StreamAppend(State.StreamId!.Value, State.Head, plan.Events, plan.NewTasks, plan.Finished, plan.TaskCount, plan.AddedBytes)
        {
            Producers = producers,
            Keys = plan.StoredKeys(_execution.Namespace),
            Namespace = _execution.Namespace,
            ExecutionStatus = plan.StatusChanged ? plan.Status : null,
        };
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
        catch (TaskAlreadyExistsException)
        {
            // A new task's id is taken in this namespace by another execution; nothing was written. Refuse the starts
            // whose id is taken and queue everything else of the plan again, ahead of what came after it.
            await RequeueAfterTakenTaskIdAsync(plan);
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
            _tasks.Set(task);
        }

        foreach (var finished in plan.Finished)
        {
            // An open task is always cached; were it not, its row is read from storage when it is next rendered.
            if (_tasks.TryGet(finished.TaskNo, out var task))
            {
                _tasks.Set(task with
                {
                    Status = finished.Status,
                    TerminalSequence = finished.Sequence,
                    TerminalPublishSequence = finished.PublishSequence,
                    TerminalEpoch = finished.Epoch,
                });
            }

            _lastActivity.Remove(finished.TaskId);
        }

        foreach (var stored in plan.Events)
        {
            if (_tasks.TryGet(stored.TaskNo, out var task) && task.Status == CustomTaskStatus.Running && task.Kind == TaskKind.Custom)
            {
                _lastActivity[task.TaskId] = stored.TimestampUnixNanoseconds;
            }
        }

        foreach (var rendered in plan.Rendered)
        {
            _window.Append(rendered);
        }

        if (State.OpenTasks.Count == 0)
        {
            // Nothing is open: the stream may get nothing for a long time or ever again (its execution ended), while
            // its activation lingers until Orleans collects it. Late readers read storage instead; the recent window and
            // the closed tasks' rows are freed now. (The soak measured windows of ended executions growing the frontend
            // by 600 MB a minute at 10k events/s.)
            _window.Clear();
            _tasks.Clear();
        }

        RememberKeys(append.Keys);
        plan.Acknowledge(_metrics, _time);
        Push(plan.Rendered);
        NotifyWatchers(plan.Notifications);
        return true;
    }

    private async Task RequeueAfterTakenTaskIdAsync(AppendPlan plan)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in plan.NewTasks)
        {
            if (await _log.FindTaskAsync(task.TaskId) is not null)
            {
                taken.Add(task.TaskId);
            }
        }

        var again = new List<PendingAppend>();
        foreach (var (request, _, _) in plan.Answers)
        {
            if (request.Start is not null && taken.Contains(request.TaskId))
            {
                request.Completion.TrySetException(new TaskAlreadyExistsException(request.TaskId));
            }
            else
            {
                again.Add(request);
            }
        }

        foreach (var request in _pending)
        {
            again.Add(request);
        }

        _pending.Clear();
        foreach (var request in again)
        {
            _pending.Enqueue(request);
        }
    }

    /// <summary>Keys used by requests of this activation, so that a retry right after its request needs no lookup.</summary>
    private void RememberKeys(IReadOnlyList<StoredRequestKey> keys)
    {
        foreach (var key in keys)
        {
            if (_recentKeys.Count >= MaxRecentKeys)
            {
                _recentKeys.Clear();
            }

            _recentKeys[key.Key] = key;
        }
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
        var summary = new ExecutionSummary(State.StreamId!.Value, State.Context!, State.Head, State.Oldest, State.TaskCount, State.OpenTasks.Count, _time.GetUtcNow(), State.ExecutionStatus);
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
}
