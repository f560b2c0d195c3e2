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
/// </remarks>
[Reentrant]
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

        JsonPayloads.Validate(start.InitialState.Span, "initial state");
        if (start.Metadata is { } metadata)
        {
            JsonPayloads.Validate(metadata, "metadata", System.Text.Json.JsonValueKind.Object);
        }

        return Enqueue(new PendingAppend(start.TaskId, start with { Context = context }, null));
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

        for (var i = 0; i < events.Length; i++)
        {
            ValidateDraft(events[i], isLast: i == events.Length - 1);
        }

        return Enqueue(new PendingAppend(taskId, null, request));
    }

    public Task<StreamInfo> GetInfoAsync() => Task.FromResult(new StreamInfo(
        _execution, State.Exists, State.Head, State.Oldest, State.RetainedBytes, State.TaskCount, State.OpenTasks.Count, State.Context, State.LastEventAt,
        _silo.SiloAddress.ToString()));

    public async Task<TaskInfo?> GetTaskAsync(string taskId)
    {
        var task = await FindTaskAsync(taskId);
        return task is null ? null : new TaskInfo(task.TaskId, _execution, task.Topic, task.Status, task.StartedSequence, task.TerminalSequence, task.ActivityName, task.ActivityId);
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

    private static void ValidateDraft(TaskEventDraft draft, bool isLast)
    {
        switch (draft.Type)
        {
            case EventType.CustomTaskInProgress when draft.Encoding == PayloadEncoding.Json:
                JsonPayloads.Validate(draft.Payload.Span, "state");
                break;
            case EventType.CustomTaskInProgress when draft.Encoding == PayloadEncoding.JsonPatch:
                JsonPatch.Validate(draft.Payload.Span);
                break;
            case EventType.CustomTaskCompleted when draft.Encoding == PayloadEncoding.Json:
                JsonPayloads.Validate(draft.Payload.Span, "final state");
                break;
            case EventType.CustomTaskCompleted when draft.Encoding == PayloadEncoding.None:
            case EventType.CustomTaskFailed when draft.Text is not null:
            case EventType.CustomTaskCanceled or EventType.CustomTaskTimedOut:
                break;
            default:
                throw new InvalidPayloadException(
                    $"A task cannot publish {draft.Type.ToWireName()} with a {draft.Encoding} payload{(draft.Type == EventType.CustomTaskFailed ? " and no message" : string.Empty)}.");
        }

        if (draft.Type.IsTerminal() && !isLast)
        {
            throw new InvalidPayloadException($"{draft.Type.ToWireName()} ends the task; it must be the last event of a call.");
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
            _lastActivity[task.TaskId] = lastEvent;
        }
    }

    private static long ToUnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
}
