using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents.Appends;

/// <summary>
/// Decides what one commit of an execution's stream writes and what every request in it is answered — without any I/O,
/// from the stream's stored state and what was looked up for the requests beforehand (<see cref="PendingAppend"/>'s
/// resolved fields). Requests are taken in queue order and see the effects of the ones before them:
/// <list type="bullet">
/// <item>new events get the next numbers, rendered once and checked against the 1 MiB cap before they get them;</item>
/// <item>a request a publisher sent before (same publish sequences, same request key, same start) answers the numbers
/// its events already have and stores nothing again; a request that overlaps stores only its new suffix;</item>
/// <item>a gap in publish sequences, an older producer epoch, a reused key, a finished or unknown task is refused.</item>
/// </list>
/// </summary>
internal sealed class AppendPlanner(
    EventLogState state,
    string executionKey,
    Func<StoredTask, StoredEvent, StreamEvent> render,
    Func<long> nextTimestamp)
{
    /// <summary>The most already-stored events a repeated request may ask to be told the numbers of.</summary>
    public const int MaxReplayedEvents = 100_000;

    public AppendPlan Plan(IEnumerable<PendingAppend> batch)
    {
        var plan = new AppendPlan(state);
        foreach (var request in batch)
        {
            try
            {
                if (request.Key is { } key && TryAnswerByKey(plan, request, key))
                {
                    continue;
                }

                if (request.Start is { } start)
                {
                    PlanStart(plan, request, start);
                }
                else
                {
                    PlanAppend(plan, request);
                }
            }
            catch (StreamingEventsException refusal)
            {
                plan.Refuse(request, refusal);
            }
        }

        return plan;
    }

    /// <summary>A request whose key was used before answers what that request published, or is refused.</summary>
    private bool TryAnswerByKey(AppendPlan plan, PendingAppend request, RequestKey key)
    {
        if (plan.Keys.TryGetValue(key.Key, out var planned))
        {
            if (!planned.Hash.AsSpan().SequenceEqual(key.RequestHash))
            {
                throw new IdempotencyKeyReusedException(key.Key);
            }

            plan.Replay(request, planned.Receipt with { Replayed = planned.Receipt.Count }, dependsOnCommit: true);
            return true;
        }

        if (request.StoredKey is { } stored)
        {
            if (stored.StreamId != state.StreamId || !stored.Key.RequestHash.AsSpan().SequenceEqual(key.RequestHash))
            {
                throw new IdempotencyKeyReusedException(key.Key);
            }

            plan.Replay(request, stored.Key.Receipt, dependsOnCommit: false);
            return true;
        }

        return false;
    }

    private void PlanStart(AppendPlan plan, PendingAppend request, TaskStart start)
    {
        CheckContext(start.Context);
        var existing = plan.Opened.GetValueOrDefault(start.TaskId) ?? state.OpenTasks.GetValueOrDefault(start.TaskId) ?? request.StoredTask?.Task;
        if (existing is not null)
        {
            var sameStream = plan.Opened.ContainsKey(start.TaskId) || state.OpenTasks.ContainsKey(start.TaskId) || request.StoredTask!.StreamKey == executionKey;
            if (!sameStream || start.ProducerId is null || existing.ProducerId != start.ProducerId || existing.Topic != start.Type)
            {
                throw new TaskAlreadyExistsException(start.TaskId);
            }

            // The same start again (its answer was lost): the original receipt.
            plan.Replay(request, new AppendReceipt(existing.StartedSequence, 1, Replayed: 1), dependsOnCommit: plan.Opened.ContainsKey(start.TaskId));
            return;
        }

        var sequence = plan.NextSequence;
        var task = new StoredTask(plan.TaskCount + 1, start.TaskId, start.Type, start.Context.WorkflowRunId!, start.Metadata,
            CustomTaskStatus.Running, sequence, null)
        {
            ActivityName = start.ActivityName,
            ActivityId = start.ActivityId,
            ProducerId = start.ProducerId,
        };
        var stored = new StoredEvent(sequence, nextTimestamp(), task.TaskNo, EventType.CustomTaskStarted, PayloadEncoding.Json, start.InitialState);
        var rendered = RenderChecked(task, stored);

        plan.TaskCount++;
        plan.NewTasks.Add(task);
        plan.Opened[task.TaskId] = task;
        plan.Producers[task.TaskNo] = ProducerState.Started(task.TaskNo, sequence);
        plan.Accept(request, [stored], [rendered], []);
    }

    private void PlanAppend(AppendPlan plan, PendingAppend request)
    {
        var publish = request.Request!;
        var task = plan.Closed.ContainsKey(request.TaskId)
            ? null
            : plan.Opened.GetValueOrDefault(request.TaskId) ?? state.OpenTasks.GetValueOrDefault(request.TaskId);
        if (task is null)
        {
            AnswerForNotOpenTask(plan, request, publish);
            return;
        }

        var producer = plan.Producers[task.TaskNo];
        var drafts = publish.Events;
        long first;
        var replayed = 0;
        var sequences = new List<long>(drafts.Length);
        if (publish.IsSequenced)
        {
            if (publish.Epoch != producer.Epoch)
            {
                throw new ProducerFencedException(task.TaskId, publish.Epoch, producer.Epoch);
            }

            first = publish.FirstPublishSequence;
            if (first > producer.LastPublishSequence + 1)
            {
                throw new PublishSequenceGapException(task.TaskId, producer.LastPublishSequence + 1, first);
            }

            // Events this publisher already stored: their numbers, not again.
            replayed = (int)Math.Min(drafts.Length, producer.LastPublishSequence - first + 1);
            for (var i = 0; i < replayed; i++)
            {
                sequences.Add(plan.SequenceOf(task.TaskNo, first + i, request.Prefetched)
                    ?? throw new InvalidPayloadException($"Publish sequence {first + i} of task '{task.TaskId}' is too old to be acknowledged again."));
            }
        }
        else
        {
            // Numbered here; the task's sequenced publisher, if any, can no longer be told apart from this one: fence it.
            first = producer.LastPublishSequence + 1;
            producer = producer with { Epoch = producer.Epoch + 1 };
        }

        if (replayed == drafts.Length)
        {
            plan.Replay(request, AppendReceipt.For(sequences, replayed), dependsOnCommit: plan.HasRun(task.TaskNo));
            return;
        }

        var stored = new StoredEvent[drafts.Length - replayed];
        var rendered = new StreamEvent[stored.Length];
        for (var i = 0; i < stored.Length; i++)
        {
            var draft = drafts[replayed + i];
            var body = draft.Type switch
            {
                EventType.CustomTaskFailed or EventType.CustomTaskCanceled or EventType.CustomTaskTimedOut => EventRenderer.EncodeText(draft.Text),
                _ => draft.Payload,
            };
            stored[i] = new StoredEvent(plan.NextSequence + i, nextTimestamp(), task.TaskNo, draft.Type, draft.Encoding, body);
            rendered[i] = RenderChecked(task, stored[i]);
            sequences.Add(stored[i].Sequence);
        }

        var firstNew = first + replayed;
        var lastNew = first + drafts.Length - 1;
        plan.Producers[task.TaskNo] = producer with
        {
            LastPublishSequence = lastNew,
            LastSequence = stored[^1].Sequence,
            BatchFirstPublishSequence = firstNew,
        };
        plan.AddRun(task.TaskNo, firstNew, stored[0].Sequence, stored.Length);

        var last = drafts[^1];
        if (last.Type.IsTerminal())
        {
            // Only a terminal its publisher numbered can be told apart when it comes again.
            Close(plan, task, last.Type.ToTerminalStatus(), stored[^1].Sequence, publish.IsSequenced ? (lastNew, producer.Epoch) : null);
        }

        plan.Accept(request, stored, rendered, sequences, replayed);
    }

    /// <summary>
    /// A request for a task that is not open here: a repeat of what ended it answers its numbers; anything else learns
    /// that the task ended (or never existed in this execution).
    /// </summary>
    private void AnswerForNotOpenTask(AppendPlan plan, PendingAppend request, PublishRequest publish)
    {
        var last = publish.FirstPublishSequence + publish.Events.Length - 1;
        if (plan.Closed.TryGetValue(request.TaskId, out var closed))
        {
            if (closed.Repeats(publish, last))
            {
                var sequences = new List<long>();
                for (var p = publish.FirstPublishSequence; p <= last; p++)
                {
                    sequences.Add(plan.SequenceOf(closed.TaskNo, p, request.Prefetched)
                        ?? throw new TaskAlreadyFinishedException(request.TaskId, closed.Status));
                }

                plan.Replay(request, AppendReceipt.For(sequences, sequences.Count), dependsOnCommit: true);
                return;
            }

            plan.Refuse(request, new TaskAlreadyFinishedException(request.TaskId, closed.Status), dependsOnCommit: true);
            return;
        }

        if (request.StoredTask is not { } found || found.StreamKey != executionKey)
        {
            throw new TaskNotFoundException(request.TaskId);
        }

        var task = found.Task;
        if (task.Status == CustomTaskStatus.Running)
        {
            // Open in storage but not in this activation's state: another activation wrote since this one loaded.
            plan.StateIsStale = true;
            throw new StreamWriteConflictException(executionKey);
        }

        if (new ClosedTask(task.TaskNo, task.Status, task.TerminalPublishSequence is { } terminalPublish && task.TerminalEpoch is { } terminalEpoch ? (terminalPublish, terminalEpoch) : null).Repeats(publish, last)
            && request.Prefetched is { } prefetched)
        {
            var sequences = new List<long>();
            for (var p = publish.FirstPublishSequence; p <= last; p++)
            {
                if (!prefetched.TryGetValue(p, out var sequence))
                {
                    throw new TaskAlreadyFinishedException(request.TaskId, task.Status);
                }

                sequences.Add(sequence);
            }

            plan.Replay(request, AppendReceipt.For(sequences, sequences.Count), dependsOnCommit: false);
            return;
        }

        throw new TaskAlreadyFinishedException(request.TaskId, task.Status);
    }

    private static void Close(AppendPlan plan, StoredTask task, CustomTaskStatus status, long sequence, (long PublishSequence, int Epoch)? numbered)
    {
        plan.Opened.Remove(task.TaskId);
        plan.Closed[task.TaskId] = new ClosedTask(task.TaskNo, status, numbered);
        plan.Producers.Remove(task.TaskNo);
        var started = plan.NewTasks.FindIndex(t => t.TaskId == task.TaskId);
        if (started >= 0)
        {
            // Started and ended in one commit: the new row carries its final status.
            plan.NewTasks[started] = plan.NewTasks[started] with
            {
                Status = status,
                TerminalSequence = sequence,
                TerminalPublishSequence = numbered?.PublishSequence,
                TerminalEpoch = numbered?.Epoch,
            };
        }
        else
        {
            plan.Finished.Add(new FinishedTask(task.TaskNo, task.TaskId, status, sequence, numbered?.PublishSequence, numbered?.Epoch));
        }
    }

    private StreamEvent RenderChecked(StoredTask task, StoredEvent stored)
    {
        var rendered = render(task, stored);
        if (rendered.Json.Length > StreamingLimits.MaxEventBytes)
        {
            throw new EventTooLargeException(rendered.Json.Length, StreamingLimits.MaxEventBytes);
        }

        return rendered;
    }

    /// <summary>An execution has one workflow name, parent and root; a task cannot change them.</summary>
    private void CheckContext(WorkflowContext given)
    {
        var existing = state.Context!;
        Check("workflow_name", existing.WorkflowName, given.WorkflowName);
        Check("root_workflow_exec_id", existing.RootWorkflowExecId, given.RootWorkflowExecId);
        Check("parent_workflow_exec_id", existing.ParentWorkflowExecId, given.ParentWorkflowExecId);

        void Check(string field, string? was, string? now)
        {
            if (!string.Equals(was, now, StringComparison.Ordinal))
            {
                throw new WorkflowContextConflictException(executionKey, field, was, now);
            }
        }
    }
}

/// <summary>A task ended by a request of the plan.</summary>
internal readonly record struct ClosedTask(int TaskNo, CustomTaskStatus Status, (long PublishSequence, int Epoch)? Numbered)
{
    /// <summary>Whether a sequenced request ending at <paramref name="last"/> repeats what this task's publisher stored.</summary>
    public bool Repeats(PublishRequest request, long last) =>
        request.IsSequenced && Numbered is { } numbered && request.Epoch == numbered.Epoch && last <= numbered.PublishSequence;
}

/// <summary>
/// One queued request to an execution's stream: a task start, or a publish to a task (a server-made timeout is a publish
/// too). What the planner needs from storage is looked up before planning and kept here.
/// </summary>
internal sealed class PendingAppend(string taskId, TaskStart? start, PublishRequest? request)
{
    public string TaskId { get; } = taskId;

    public TaskStart? Start { get; } = start;

    public PublishRequest? Request { get; } = request;

    public RequestKey? Key => Start?.Key ?? Request?.Key;

    /// <summary>How many events the request asks to store at most.</summary>
    public int EventCount => Request?.Events.Length ?? 1;

    /// <summary>The payload bytes the request carries (states, patches, messages, metadata): what it holds in memory and adds to a commit.</summary>
    public long PayloadBytes { get; } = start is not null
        ? start.InitialState.Length + (long)(start.Metadata?.Length ?? 0)
        : request?.Events.Sum(e => e.Payload.Length + (long)(e.Text?.Length ?? 0)) ?? 0;

    public TaskCompletionSource<AppendReceipt> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long EnqueuedAt { get; set; }

    /// <summary>The task as stored, when it is not open in the stream's state (closed, elsewhere, or unknown: null).</summary>
    public TaskLocation? StoredTask { get; set; }

    /// <summary>The stored use of this request's key, if any.</summary>
    public (long StreamId, StoredRequestKey Key)? StoredKey { get; set; }

    /// <summary>Numbers of already stored events this request repeats, by publish sequence (looked up in storage).</summary>
    public Dictionary<long, long>? Prefetched { get; set; }

    public void ResetLookups()
    {
        StoredTask = null;
        StoredKey = null;
        Prefetched = null;
    }
}

/// <summary>What one commit writes, and whom it answers how.</summary>
internal sealed class AppendPlan(EventLogState state)
{
    private readonly Dictionary<int, List<(long FirstPublishSequence, long FirstSequence, int Count)>> _runs = [];

    public long NextSequence { get; private set; } = state.Head + 1;

    public int TaskCount { get; set; } = state.TaskCount;

    public List<StoredEvent> Events { get; } = [];

    public List<StreamEvent> Rendered { get; } = [];

    public List<StoredTask> NewTasks { get; } = [];

    public List<FinishedTask> Finished { get; } = [];

    public Dictionary<string, StoredTask> Opened { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ClosedTask> Closed { get; } = new(StringComparer.Ordinal);

    /// <summary>The open tasks' publishers as this plan leaves them.</summary>
    public Dictionary<int, ProducerState> Producers { get; } = new(state.Producers);

    /// <summary>Keys of accepted requests, with what they were answered.</summary>
    public Dictionary<string, (byte[] Hash, AppendReceipt Receipt)> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests answered once the commit is durable (or failed with it when it is not).</summary>
    public List<(PendingAppend Request, AppendReceipt? Receipt, Exception? Refusal)> Answers { get; } = [];

    public long AddedBytes { get; private set; }

    public int AcceptedCount { get; private set; }

    /// <summary>Set when a lookup showed that storage moved on since the state was loaded: reload before numbering again.</summary>
    public bool StateIsStale { get; set; }

    public void Accept(PendingAppend request, StoredEvent[] stored, StreamEvent[] rendered, List<long> sequences, int replayed = 0)
    {
        var receipt = sequences.Count == 0 ? new AppendReceipt(NextSequence, stored.Length) : AppendReceipt.For(sequences, replayed);
        Answers.Add((request, receipt, null));
        AcceptedCount++;
        Events.AddRange(stored);
        Rendered.AddRange(rendered);
        foreach (var item in stored)
        {
            AddedBytes += item.Body.Length;
        }

        NextSequence += stored.Length;
        if (request.Key is { } key)
        {
            Keys[key.Key] = (key.RequestHash, receipt);
        }
    }

    /// <summary>Answers a repeated request with numbers its events already have.</summary>
    public void Replay(PendingAppend request, AppendReceipt receipt, bool dependsOnCommit)
    {
        if (dependsOnCommit)
        {
            Answers.Add((request, receipt, null));
        }
        else
        {
            request.Completion.TrySetResult(receipt);
        }
    }

    /// <summary>Refuses a request; at once unless the refusal depends on what this commit does.</summary>
    public void Refuse(PendingAppend request, Exception refusal, bool dependsOnCommit = false)
    {
        if (dependsOnCommit)
        {
            Answers.Add((request, null, refusal));
        }
        else
        {
            request.Completion.TrySetException(refusal);
        }
    }

    public void AddRun(int taskNo, long firstPublishSequence, long firstSequence, int count)
    {
        if (!_runs.TryGetValue(taskNo, out var runs))
        {
            runs = [];
            _runs[taskNo] = runs;
        }

        runs.Add((firstPublishSequence, firstSequence, count));
    }

    public bool HasRun(int taskNo) => _runs.ContainsKey(taskNo);

    /// <summary>
    /// The number of a task's event by publish sequence: from this plan, from the last stored batch, or from what was
    /// looked up; <c>null</c> when none of them knows it.
    /// </summary>
    public long? SequenceOf(int taskNo, long publishSequence, Dictionary<long, long>? prefetched)
    {
        if (_runs.TryGetValue(taskNo, out var runs))
        {
            foreach (var run in runs)
            {
                if (publishSequence >= run.FirstPublishSequence && publishSequence < run.FirstPublishSequence + run.Count)
                {
                    return run.FirstSequence + (publishSequence - run.FirstPublishSequence);
                }
            }
        }

        if (state.Producers.TryGetValue(taskNo, out var stored) && stored.SequenceOf(publishSequence) is { } sequence)
        {
            return sequence;
        }

        return prefetched is not null && prefetched.TryGetValue(publishSequence, out var found) ? found : null;
    }

    /// <summary>The stored form of the accepted keys.</summary>
    public List<StoredRequestKey> StoredKeys(string @namespace) =>
        [.. Keys.Select(k => new StoredRequestKey(@namespace, k.Key, k.Value.Hash, k.Value.Receipt.FirstSequence, k.Value.Receipt.Count, k.Value.Receipt.Sequences))];

    public void Acknowledge(StreamingEventsMetrics metrics, TimeProvider time)
    {
        metrics.EventsPublished.Add(Events.Count);
        long bytes = 0;
        foreach (var rendered in Rendered)
        {
            bytes += rendered.Json.Length;
        }

        metrics.BytesPublished.Add(bytes);
        foreach (var (request, receipt, refusal) in Answers)
        {
            if (receipt is not null)
            {
                metrics.PublishDuration.Record(time.GetElapsedTime(request.EnqueuedAt).TotalSeconds);
                request.Completion.TrySetResult(receipt);
            }
            else
            {
                request.Completion.TrySetException(refusal!);
            }
        }
    }

    public void Fail(Exception exception)
    {
        foreach (var (request, _, _) in Answers)
        {
            request.Completion.TrySetException(exception);
        }
    }
}
