using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using StreamingEvents.Appends;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>
/// The stream of one workflow execution. It numbers every event of every topic of the execution from one counter, and
/// the counter advances only in the transaction that stores the events it numbers: an acknowledged event is durable, and
/// a number is never given twice (a second activation's conditional write fails). Concurrent calls are batched into one
/// append; the live push and replays are served from the same numbering.
/// </summary>
/// <remarks>
/// Reentrant: appends queue up while a commit is in flight and go together in the next one. All mutation of the
/// numbering happens in one flush loop (<see cref="FlushAsync"/>), which runs on the grain's single-threaded scheduler.
/// Collected after 2 idle minutes rather than Orleans' default: executions end all the time and are rarely touched
/// again, and the soak measured their idle activations growing the heap by about 100 MB a minute at 10k events/s.
/// </remarks>
[Reentrant]
[CollectionAgeLimit(Minutes = 2)]
internal sealed partial class ExecutionStreamGrain : Grain, IExecutionStreamGrain
{
    private readonly IPersistentEventLog _log;
    private readonly StreamingEventsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ExecutionStreamGrain> _logger;
    private readonly EventWindow _window;
    private readonly StreamingEventsMetrics _metrics;
    private readonly ILocalSiloDetails _silo;
    private readonly ReplayLimiter _replays;

    /// <summary>Task rows by number, for rendering: every open task and the closed ones used recently (bounded in bytes).</summary>
    private readonly TaskCache _tasks;

    /// <summary>Last event time (Unix ns) of each open task, for the inactivity timeout.</summary>
    private readonly Dictionary<string, long> _lastActivity = new(StringComparer.Ordinal);

    private ExecutionId _execution;
    private EventRenderer? _renderer;
    private IAsyncStream<StreamEventBatch>? _live;

    public ExecutionStreamGrain(
        [PersistentEventLog(StreamingEventsNames.EventLogStorage)] IPersistentEventLog log,
        IOptions<StreamingEventsOptions> options,
        [FromKeyedServices(StreamingEventsNames.Clock)] TimeProvider time,
        StreamingEventsMetrics metrics,
        ReplayLimiter replays,
        ILocalSiloDetails silo,
        ILogger<ExecutionStreamGrain> logger)
    {
        _silo = silo;
        _replays = replays;
        _metrics = metrics;
        _log = log;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _window = new EventWindow(_options.MemoryWindowEvents, _options.MemoryWindowBytes);
        _tasks = new TaskCache(_options.TaskCacheBytes);
    }

    /// <summary>The task rows held in memory (tests observe the bound through it).</summary>
    internal TaskCache CachedTasks => _tasks;

    private EventLogState State => _log.State;

    private EventRenderer Renderer => _renderer ?? throw new InvalidOperationException("The stream has no context yet.");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _execution = ExecutionId.Parse(this.GetPrimaryKeyString());
        _live = this.GetStreamProvider(_options.StreamProviderName)
            .GetStream<StreamEventBatch>(StreamId.Create(StreamingEventsNames.StreamNamespace, _execution.Key));
        OnStateLoaded();
        _metrics.ActiveStreams.Add(1);
        this.RegisterGrainTimer(
            OnMaintenanceTimerAsync,
            new GrainTimerCreationOptions(_options.MaintenanceInterval, _options.MaintenanceInterval) { Interleave = true, KeepAlive = false });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _metrics.ActiveStreams.Add(-1);
        FailPending(new StreamWriteConflictException(_execution.Key));
        try
        {
            await _pushes.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogPushesAbandoned(_execution.Key);
        }
    }

    public Task<AppendReceipt> StartTaskAsync(TaskStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        Names.ValidateIdentifier(start.TaskId, "task_id");
        Names.ValidateStreamName(start.Type);
        var context = start.Context.Normalize();
        if (context.Execution != _execution)
        {
            throw new InvalidIdentifierException("workflow_context", context.Execution.Key, $"a task of execution '{_execution.Key}' must carry its context");
        }

        if (start.ActivityName is not null)
        {
            Names.ValidateWorkflowName(start.ActivityName, "activity_name");
        }

        if (start.ActivityId is not null)
        {
            Names.ValidateIdentifier(start.ActivityId, "activity_id");
        }

        switch (start.Kind)
        {
            case TaskKind.Workflow when start.TaskId != Lifecycle.WorkflowTaskId(_execution):
                throw new InvalidIdentifierException("task_id", start.TaskId, $"the lifecycle of execution '{_execution.Key}' is task '{Lifecycle.WorkflowTaskId(_execution)}'");
            case TaskKind.Activity when start.ActivityName is null:
                throw new InvalidIdentifierException("activity_name", string.Empty, "an activity's lifecycle needs its name");
            case not (TaskKind.Custom or TaskKind.Workflow or TaskKind.Activity):
                throw new InvalidPayloadException($"Unknown task kind {start.Kind}.");
        }

        JsonPayloads.Validate(start.InitialState.Span, start.Kind == TaskKind.Custom ? "initial state" : "input");
        if (start.Metadata is { } metadata)
        {
            JsonPayloads.Validate(metadata, "metadata", System.Text.Json.JsonValueKind.Object);
        }

        if (start.DisplayName is { Length: > Names.MaxIdentifierLength })
        {
            throw new InvalidPayloadException($"A display name has at most {Names.MaxIdentifierLength} characters.");
        }

        return Enqueue(new PendingAppend(start.TaskId, start with { Context = context, Type = Lifecycle.StreamOf(start.Kind, start.Type) }, null));
    }

    public Task<AppendReceipt> AppendAsync(string taskId, PublishRequest request)
    {
        Names.ValidateIdentifier(taskId, "task_id");
        ArgumentNullException.ThrowIfNull(request);
        var events = request.Events;
        if (events is not { Length: > 0 })
        {
            throw new InvalidPayloadException("An append needs at least one event.");
        }

        if (request.FirstPublishSequence < 0 || (request.IsSequenced && request.Epoch < 1))
        {
            throw new InvalidPayloadException("A sequenced append carries the producer epoch (1 or more) and publish sequences from 1.");
        }

        TaskEventDraft[]? normalized = null;
        for (var i = 0; i < events.Length; i++)
        {
            var draft = Validated(events[i], isLast: i == events.Length - 1);
            if (!ReferenceEquals(draft, events[i]))
            {
                normalized ??= [.. events];
                normalized[i] = draft;
            }
        }

        return Enqueue(new PendingAppend(taskId, null, normalized is null ? request : request with { Events = normalized }));
    }

    public Task<StreamInfo> GetInfoAsync() => Task.FromResult(new StreamInfo(
        _execution, State.Exists, State.Head, State.Oldest, State.RetainedBytes, State.TaskCount, State.OpenTasks.Count, State.Context, State.LastEventAt,
        _silo.SiloAddress.ToString()));

    public async Task<TaskInfo?> GetTaskAsync(string taskId)
    {
        var task = await FindTaskAsync(taskId);
        return task is null ? null : new TaskInfo(task.TaskId, _execution, task.Topic, task.Status, task.StartedSequence, task.TerminalSequence, task.ActivityName, task.ActivityId, task.Kind);
    }

    public async Task<TaskSnapshot?> GetTaskSnapshotAsync(string taskId)
    {
        var task = await FindTaskAsync(taskId);
        if (task is null)
        {
            return null;
        }

        // The publish sequence first, then the state folded up to its event: both describe the same point, whatever is
        // committed meanwhile.
        if (State.Producers.TryGetValue(task.TaskNo, out var producer))
        {
            return new TaskSnapshot(await GetTaskStateAsync(taskId, producer.LastSequence + 1), producer.LastPublishSequence);
        }

        return new TaskSnapshot(await GetTaskStateAsync(taskId), task.TerminalPublishSequence ?? 0);
    }

    private async Task<StoredTask?> FindTaskAsync(string taskId)
    {
        if (State.OpenTasks.TryGetValue(taskId, out var open))
        {
            return open;
        }

        var found = await _log.FindTaskAsync(taskId);
        return found is not null && found.StreamKey == _execution.Key ? found.Task : null;
    }

    /// <summary>
    /// Checks a draft against its type's shape (<see cref="EventTypes"/>) and returns it as it is stored: patch operations
    /// always carry <c>value</c> (<c>null</c> for <c>remove</c>), whatever came in, because Mistral's Python SDK requires it.
    /// </summary>
    private static TaskEventDraft Validated(TaskEventDraft draft, bool isLast)
    {
        var info = EventTypes.Find(draft.Type);
        if (info is null || info.Role is EventRole.NotPublished or EventRole.Start)
        {
            throw new InvalidPayloadException($"Event type {draft.Type} cannot be appended; tasks are opened by their start.");
        }

        var valid = (info.Shape, draft.Encoding) switch
        {
            (AttributeShape.State, PayloadEncoding.Json) => Check(() => JsonPayloads.Validate(draft.Payload.Span, info.IsTerminal ? "final state" : "state")),
            (AttributeShape.State, PayloadEncoding.JsonPatch) when !info.IsTerminal => true,
            (AttributeShape.State, PayloadEncoding.None) when info.IsTerminal => true,
            (AttributeShape.Input or AttributeShape.Result, PayloadEncoding.Json) => Check(() => JsonPayloads.Validate(draft.Payload.Span, info.Shape == AttributeShape.Input ? "input" : "result")),
            (AttributeShape.Input or AttributeShape.Result, PayloadEncoding.None) => true,
            (AttributeShape.Failure, _) => draft.Text is not null,
            (AttributeShape.AttemptFailure, _) => draft.Text is not null && draft.Attempt >= 1,
            (AttributeShape.Reason or AttributeShape.TimeoutType, _) => true,
            _ => false,
        };
        if (!valid)
        {
            throw new InvalidPayloadException(
                $"A task cannot publish {info.WireName} with a {draft.Encoding} payload{(info.Shape is AttributeShape.Failure or AttributeShape.AttemptFailure ? " and no message or attempt" : string.Empty)}.");
        }

        if (info.IsTerminal && !isLast)
        {
            throw new InvalidPayloadException($"{info.WireName} ends the task; it must be the last event of a call.");
        }

        return draft.Encoding == PayloadEncoding.JsonPatch ? draft with { Payload = JsonPatch.Normalize(draft.Payload) } : draft;

        static bool Check(Action validate)
        {
            validate();
            return true;
        }
    }

    private void OnStateLoaded()
    {
        _window.Clear();
        _tasks.Clear();
        _lastActivity.Clear();
        _renderer = State.Context is { } context ? new EventRenderer(context, _options.EventTimestampUnit) : null;
        var lastEvent = ToUnixNanoseconds(State.LastEventAt ?? _time.GetUtcNow());
        foreach (var task in State.OpenTasks.Values)
        {
            _tasks.Set(task);
            if (task.Kind == TaskKind.Custom)
            {
                // Lifecycles end for inactivity only when the whole execution is silent (EnqueueExecutionTimeout).
                _lastActivity[task.TaskId] = lastEvent;
            }
        }

        _executionTimeoutQueued = false;
    }

    private static long ToUnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
}
