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
                else if (request.End is { } end)
                {
                    PlanEnd(plan, request, end);
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

        if (plan.Status.IsFinished())
        {
            throw new ExecutionFinishedException(executionKey, plan.Status);
        }

        var sequence = plan.NextSequence;
        var task = new StoredTask(plan.TaskCount + 1, start.TaskId, start.Type, start.Context.WorkflowRunId!, start.Metadata,
            CustomTaskStatus.Running, sequence, null)
        {
            ActivityName = start.ActivityName,
            ActivityId = start.ActivityId,
            ProducerId = start.ProducerId,
            Kind = start.Kind,
        };
        var type = EventTypes.StartOf(start.Kind);
        var body = start.Kind == TaskKind.Custom
            ? start.InitialState
            : LifecycleAttributes.Encode(type.Info(), start.InitialState.Span, start.DisplayName, 1, state.Context!.WorkflowName ?? WorkflowContext.DefaultWorkflowName);
        var stored = new StoredEvent(sequence, nextTimestamp(), task.TaskNo, type, PayloadEncoding.Json, body);
        var rendered = RenderChecked(task, stored);

        plan.TaskCount++;
        plan.NewTasks.Add(task);
        plan.Opened[task.TaskId] = task;
        plan.Producers[task.TaskNo] = ProducerState.Started(task.TaskNo, sequence);
        if (start.Kind == TaskKind.Workflow)
        {
            plan.Status = ExecutionStatus.Running;
        }

        plan.Accept(request, [stored], [rendered], []);
    }

    /// <summary>
    /// Ends the execution from outside (a user's cancel, or the whole execution silent past the inactivity timeout): every
    /// open task ends, then the execution's own terminal event, in this one commit. An execution that already ended is
    /// left as it is.
    /// </summary>
    private void PlanEnd(AppendPlan plan, PendingAppend request, ExecutionEnd end)
    {
        if (plan.Status.IsFinished())
        {
            plan.Replay(request, new AppendReceipt(plan.NextSequence, 0), dependsOnCommit: plan.StatusChanged);
            return;
        }

        var stored = new List<StoredEvent>();
        var rendered = new List<StreamEvent>();
        EndOpenTasks(plan, end, except: request.TaskId, stored, rendered);

        var terminal = end.TimedOut
            ? TaskEventDraft.WorkflowFailed(end.Reason ?? "The execution timed out.")
            : TaskEventDraft.WorkflowCanceled(end.Reason);
        var workflow = plan.Opened.GetValueOrDefault(request.TaskId) ?? state.OpenTasks.GetValueOrDefault(request.TaskId);
        if (workflow is null)
        {
            // Published without a lifecycle of its own: the execution's task exists from its terminal event on, so that
            // consumers reading until WORKFLOW_EXECUTION_* see one.
            workflow = new StoredTask(plan.TaskCount + 1, request.TaskId, Lifecycle.WorkflowStream, state.Context!.WorkflowRunId!, null,
                CustomTaskStatus.Running, plan.NextSequence + stored.Count, null) { Kind = TaskKind.Workflow };
            plan.TaskCount++;
            plan.NewTasks.Add(workflow);
        }

        var last = Numbered(plan, workflow, terminal, stored.Count);
        stored.Add(last.Stored);
        rendered.Add(last.Rendered);
        Close(plan, workflow, terminal.Type.ToTerminalStatus(), last.Stored.Sequence, null);
        plan.Status = end.TimedOut ? ExecutionStatus.TimedOut : ExecutionStatus.Canceled;
        plan.Notify(null, end.Reason);
        plan.Accept(request, [.. stored], [.. rendered], []);
    }

    /// <summary>
    /// Ends every open task but <paramref name="except"/> (the execution's own), in task order, with the event its kind
    /// ends with when the execution ends around it: a custom task is canceled (timed out, when the execution timed out),
    /// an activity fails in its current attempt.
    /// </summary>
    private void EndOpenTasks(AppendPlan plan, ExecutionEnd end, string except, List<StoredEvent> stored, List<StreamEvent> rendered)
    {
        var open = state.OpenTasks.Values.Where(t => !plan.Closed.ContainsKey(t.TaskId)).Concat(plan.Opened.Values)
            .Where(t => t.TaskId != except)
            .DistinctBy(t => t.TaskNo)
            .OrderBy(t => t.TaskNo)
            .ToList();
        foreach (var task in open)
        {
            var message = end.Reason ?? (end.TimedOut ? "The execution timed out." : "The execution ended.");
            var draft = task.Kind switch
            {
                TaskKind.Activity => TaskEventDraft.ActivityFailed(message, Attempt(plan, task)),
                _ when end.TimedOut => TaskEventDraft.TimedOut(InactivityTimeoutType),
                _ => TaskEventDraft.Canceled(end.Reason),
            };
            var (storedEvent, renderedEvent) = Numbered(plan, task, draft, stored.Count);
            stored.Add(storedEvent);
            rendered.Add(renderedEvent);
            Close(plan, task, draft.Type.ToTerminalStatus(), storedEvent.Sequence, null);
        }
    }

    /// <summary>The <c>timeout_type</c> of a task ended for inactivity.</summary>
    internal const string InactivityTimeoutType = "HEARTBEAT";

    /// <summary>An activity's current attempt: its publisher numbers one <c>ACTIVITY_TASK_RETRYING</c> per failed attempt.</summary>
    private static int Attempt(AppendPlan plan, StoredTask activity) =>
        (int)Math.Min(int.MaxValue, (plan.Producers.TryGetValue(activity.TaskNo, out var producer) ? producer.LastPublishSequence : 0) + 1);

    /// <summary>A server-made event of <paramref name="task"/>, numbered after <paramref name="offset"/> events already planned.</summary>
    private (StoredEvent Stored, StreamEvent Rendered) Numbered(AppendPlan plan, StoredTask task, TaskEventDraft draft, int offset)
    {
        var stored = new StoredEvent(plan.NextSequence + offset, nextTimestamp(), task.TaskNo, draft.Type, draft.Encoding, Body(draft));
        return (stored, RenderChecked(task, stored));
    }

    /// <summary>
    /// What an event stores: a custom task's payload (as given, not copied) or text, a lifecycle event's attributes. The
    /// draft's kind matches the task's: checked before planning (<see cref="PlanAppend"/>), or made by the server.
    /// </summary>
    private ReadOnlyMemory<byte> Body(TaskEventDraft draft)
    {
        var info = draft.Type.Info();
        return info.Kind != TaskKind.Custom
            ? LifecycleAttributes.Encode(draft, state.Context!.WorkflowName ?? WorkflowContext.DefaultWorkflowName)
            : info.Shape is AttributeShape.Failure or AttributeShape.Reason or AttributeShape.TimeoutType
                ? EventRenderer.EncodeText(draft.Text)
                : draft.Payload;
    }

    private static string KindName(TaskKind kind) => kind switch
    {
        TaskKind.Workflow => "the execution's own lifecycle",
        TaskKind.Activity => "an activity",
        _ => "a custom task",
    };

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

        var drafts = publish.Events;
        foreach (var draft in drafts)
        {
            if (draft.Type.Info().Kind != task.Kind)
            {
                throw new InvalidPayloadException($"{draft.Type.ToWireName()} cannot be published to {KindName(task.Kind)} ('{task.TaskId}').");
            }
        }

        var producer = plan.Producers[task.TaskNo];
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

        var last = drafts[^1];
        var endsExecution = last.Type.EndsExecution();
        List<StoredEvent> ending = [];
        List<StreamEvent> endingRendered = [];
        if (endsExecution)
        {
            // The execution ends: its open tasks end first, so that its own terminal event is the last of its stream.
            var reason = last.Type switch
            {
                EventType.WorkflowExecutionCompleted => "The execution completed.",
                EventType.WorkflowExecutionFailed => last.Text is null ? "The execution failed." : $"The execution failed: {last.Text}",
                _ => last.Text,
            };
            EndOpenTasks(plan, new ExecutionEnd(reason, TimedOut: false), except: task.TaskId, ending, endingRendered);
        }

        var stored = new StoredEvent[ending.Count + drafts.Length - replayed];
        var rendered = new StreamEvent[stored.Length];
        ending.CopyTo(stored);
        endingRendered.CopyTo(rendered);
        for (var i = ending.Count; i < stored.Length; i++)
        {
            var draft = drafts[replayed + i - ending.Count];
            stored[i] = new StoredEvent(plan.NextSequence + i, nextTimestamp(), task.TaskNo, draft.Type, draft.Encoding, Body(draft));
            rendered[i] = RenderChecked(task, stored[i], draft.StateBytes);
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
        plan.AddRun(task.TaskNo, firstNew, stored[ending.Count].Sequence, stored.Length - ending.Count);

        if (last.Type.IsTerminal())
        {
            // Only a terminal its publisher numbered can be told apart when it comes again.
            Close(plan, task, last.Type.ToTerminalStatus(), stored[^1].Sequence, publish.IsSequenced ? (lastNew, producer.Epoch) : null);
            if (!publish.IsSequenced)
            {
                // Ended by someone other than its publisher (a cancel over HTTP, a timeout): the publisher is told.
                plan.Notify(task.TaskId, last.Text);
            }
        }

        if (endsExecution)
        {
            plan.Status = ExecutionStatuses.Of(last.Type);
            plan.Notify(null, last.Text);
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

    /// <summary>Renders an event and refuses it past 1 MiB, before it is numbered.</summary>
    /// <param name="task">The event's task.</param>
    /// <param name="stored">The event as it is stored.</param>
    /// <param name="stateBytes">
    /// For a patch, the bytes of the whole state it makes (0 when unknown): the same event with that state instead of the
    /// patch (what whole-state consumers get; <c>complete</c> without a state is no larger) must fit too. It is estimated
    /// from the patch's envelope with <c>"json_patch"</c> kept, a few bytes more than the whole-state one, so a completion
    /// numbered a little later, with a longer sequence, still fits.
    /// </param>
    private StreamEvent RenderChecked(StoredTask task, StoredEvent stored, int stateBytes = 0)
    {
        var rendered = render(task, stored);
        var size = rendered.Json.Length;
        if (stored.Encoding == PayloadEncoding.JsonPatch && stateBytes > 0)
        {
            size = Math.Max(size, rendered.Json.Length - stored.Body.Length + stateBytes);
        }

        if (size > StreamingLimits.MaxEventBytes)
        {
            throw new EventTooLargeException(size, StreamingLimits.MaxEventBytes);
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

/// <summary>How an execution is ended from outside: canceled (with a reason), or timed out for inactivity.</summary>
internal sealed record ExecutionEnd(string? Reason, bool TimedOut);

/// <summary>
/// One queued request to an execution's stream: a task start, a publish to a task (a server-made timeout is a publish
/// too), or the end of the whole execution (<see cref="End"/>, for its own task). What the planner needs from storage is
/// looked up before planning and kept here.
/// </summary>
internal sealed class PendingAppend(string taskId, TaskStart? start, PublishRequest? request, ExecutionEnd? end = null)
{
    public string TaskId { get; } = taskId;

    public TaskStart? Start { get; } = start;

    public PublishRequest? Request { get; } = request;

    public ExecutionEnd? End { get; } = end;

    public RequestKey? Key => Start?.Key ?? Request?.Key;

    /// <summary>How many events the request asks to store at most (an execution's end: its own, and one per open task).</summary>
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

    /// <summary>Where the execution is after this plan.</summary>
    public ExecutionStatus Status
    {
        get;
        set
        {
            StatusChanged |= value != field;
            field = value;
        }
    } = state.ExecutionStatus;

    /// <summary>Whether this plan moves the execution's status (stored with its events).</summary>
    public bool StatusChanged { get; private set; }

    /// <summary>
    /// Tasks ended by someone other than their publisher (<c>TaskId</c>), or the whole execution (<c>null</c>): their
    /// publishers are told once the commit is durable, so that they stop working on them.
    /// </summary>
    public List<(string? TaskId, string? Reason)> Notifications { get; } = [];

    public void Notify(string? taskId, string? reason) => Notifications.Add((taskId, reason));

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
