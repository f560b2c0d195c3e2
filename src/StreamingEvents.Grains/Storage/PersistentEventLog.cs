using StreamingEvents.Contracts;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace StreamingEvents.Storage;

/// <summary>
/// Marks a grain constructor parameter of type <see cref="IPersistentEventLog"/>: an append-only persisted state that
/// Orleans loads during activation, like <c>[PersistentState]</c>, from the named <see cref="IEventLogStorage"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
internal sealed class PersistentEventLogAttribute(string storageName) : Attribute, IFacetMetadata
{
    public string StorageName { get; } = storageName;
}

/// <summary>The persisted state of one execution stream: its counters and open tasks, loaded at activation.</summary>
internal sealed class EventLogState
{
    public long? StreamId { get; set; }

    public WorkflowContext? Context { get; set; }

    /// <summary>The last assigned (and durable) sequence; 0 before the first event.</summary>
    public long Head { get; set; }

    /// <summary>The oldest retained sequence; <see cref="Head"/> + 1 when nothing is retained.</summary>
    public long Oldest { get; set; } = 1;

    public long RetainedBytes { get; set; }

    public int TaskCount { get; set; }

    public DateTimeOffset? LastEventAt { get; set; }

    /// <summary>Where the execution is in its lifecycle.</summary>
    public ExecutionStatus ExecutionStatus { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public Dictionary<string, StoredTask> OpenTasks { get; } = new(StringComparer.Ordinal);

    /// <summary>The publishers of the open tasks, by task number.</summary>
    public Dictionary<int, ProducerState> Producers { get; } = [];

    public bool Exists => StreamId is not null;

    public void Load(StreamRecord? record)
    {
        OpenTasks.Clear();
        Producers.Clear();
        if (record is null)
        {
            StreamId = null;
            Context = null;
            Head = 0;
            Oldest = 1;
            RetainedBytes = 0;
            TaskCount = 0;
            LastEventAt = null;
            ExecutionStatus = ExecutionStatus.None;
            return;
        }

        StreamId = record.StreamId;
        Context = record.Context;
        Head = record.Head;
        Oldest = record.Oldest;
        RetainedBytes = record.RetainedBytes;
        TaskCount = record.TaskCount;
        LastEventAt = record.LastEventAt;
        ExecutionStatus = record.ExecutionStatus;
        CreatedAt = record.CreatedAt;
        foreach (var task in record.OpenTasks)
        {
            OpenTasks[task.TaskId] = task;
        }

        foreach (var producer in record.Producers)
        {
            Producers[producer.TaskNo] = producer;
        }

        // Streams written before publishers were recorded: their open tasks get a publisher at epoch 1 that has published
        // nothing sequenced yet, so the first sequenced request after the upgrade is accepted from publish sequence 1.
        foreach (var task in record.OpenTasks.Where(t => !Producers.ContainsKey(t.TaskNo)))
        {
            Producers[task.TaskNo] = ProducerState.Started(task.TaskNo, task.StartedSequence);
        }
    }
}

/// <summary>The append-only persisted state of an execution stream grain.</summary>
internal interface IPersistentEventLog
{
    EventLogState State { get; }

    /// <summary>Reloads the state from storage, e.g. after a write whose outcome is unknown.</summary>
    Task ReloadAsync();

    /// <summary>Creates the stream row; <c>false</c> if another writer created it first (reload, then retry).</summary>
    Task<bool> CreateAsync(WorkflowContext context);

    /// <summary>Appends durably, conditional on <see cref="EventLogState.Head"/>, and applies the append to the state.</summary>
    /// <exception cref="StreamWriteConflictException">Another writer moved the head; nothing was written.</exception>
    /// <exception cref="TaskAlreadyExistsException">A new task's id is taken in the namespace; nothing was written.</exception>
    /// <exception cref="StorageUnavailableException">The outcome is unknown.</exception>
    Task AppendAsync(StreamAppend append);

    Task<IReadOnlyList<StoredEvent>> ReadAsync(long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<StoredTask>> ReadTasksAsync(IReadOnlyCollection<int> taskNos);

    /// <summary>Deletes events below <paramref name="before"/> and raises <see cref="EventLogState.Oldest"/>.</summary>
    Task TrimAsync(long before);

    Task<long> FindRetentionBoundaryAsync(long keepBytes, long minTimestampUnixNanoseconds);

    /// <summary>Finds a task by id in this stream's namespace (in any of its streams).</summary>
    Task<TaskLocation?> FindTaskAsync(string taskId);

    /// <summary>The last <paramref name="count"/> numbers of a task's events up to <paramref name="throughSequence"/>, newest first.</summary>
    Task<IReadOnlyList<long>> ReadTaskSequencesAsync(int taskNo, long throughSequence, int count);

    /// <summary>An idempotency key of this stream's namespace, and the stream it published to.</summary>
    Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string key);
}

internal sealed class PersistentEventLog : IPersistentEventLog, ILifecycleObserver
{
    private readonly IEventLogStorage _storage;
    private readonly string _streamKey;
    private readonly string _namespace;
    private readonly TimeProvider _time;

    public PersistentEventLog(IGrainContext context, IEventLogStorage storage, TimeProvider time)
    {
        _storage = storage;
        _time = time;
        _streamKey = context.GrainId.Key.ToString()!;
        _namespace = ExecutionId.Parse(_streamKey).Namespace;
        context.ObservableLifecycle.Subscribe(nameof(PersistentEventLog), GrainLifecycleStage.SetupState, this);
    }

    public EventLogState State { get; } = new();

    public Task OnStart(CancellationToken cancellationToken = default) => ReloadAsync();

    public Task OnStop(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task ReloadAsync() => GuardAsync(async () => State.Load(await _storage.LoadStreamAsync(_streamKey, CancellationToken.None)));

    public Task<bool> CreateAsync(WorkflowContext context) => GuardAsync(async () =>
    {
        var created = await _storage.CreateStreamAsync(_streamKey, context, CancellationToken.None);
        if (created is null)
        {
            return false;
        }

        State.Load(created);
        return true;
    });

    public async Task AppendAsync(StreamAppend append)
    {
        var outcome = await GuardAsync(() => _storage.AppendAsync(append, CancellationToken.None));
        switch (outcome)
        {
            case AppendOutcome.Conflict:
                throw new StreamWriteConflictException(_streamKey);
            case AppendOutcome.TaskIdTaken:
                throw new TaskAlreadyExistsException(append.NewTasks.Count == 1 ? append.NewTasks[0].TaskId : string.Join(", ", append.NewTasks.Select(t => t.TaskId)));
        }

        State.Head = append.NewHead;
        State.RetainedBytes += append.AddedBytes;
        State.TaskCount = append.TaskCount;
        State.LastEventAt = _time.GetUtcNow();
        foreach (var task in append.NewTasks)
        {
            if (task.Status == CustomTaskStatus.Running)
            {
                State.OpenTasks[task.TaskId] = task;
            }
        }

        foreach (var finished in append.FinishedTasks)
        {
            State.OpenTasks.Remove(finished.TaskId);
        }

        State.ExecutionStatus = append.ExecutionStatus ?? State.ExecutionStatus;
        State.Producers.Clear();
        foreach (var producer in append.Producers)
        {
            State.Producers[producer.TaskNo] = producer;
        }
    }

    public Task<IReadOnlyList<StoredEvent>> ReadAsync(long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken = default) =>
        State.StreamId is { } id
            ? GuardAsync(() => _storage.ReadEventsAsync(id, fromSequence, toSequence, maxEvents, cancellationToken))
            : Task.FromResult<IReadOnlyList<StoredEvent>>([]);

    public Task<IReadOnlyList<StoredTask>> ReadTasksAsync(IReadOnlyCollection<int> taskNos) =>
        State.StreamId is { } id && taskNos.Count > 0
            ? GuardAsync(() => _storage.ReadTasksAsync(id, taskNos, CancellationToken.None))
            : Task.FromResult<IReadOnlyList<StoredTask>>([]);

    public async Task TrimAsync(long before)
    {
        if (State.StreamId is not { } id || before <= State.Oldest)
        {
            return;
        }

        var result = await GuardAsync(() => _storage.TrimAsync(id, Math.Min(before, State.Head + 1), CancellationToken.None));
        State.Oldest = Math.Max(State.Oldest, result.Oldest);
        State.RetainedBytes = result.RetainedBytes;
    }

    public Task<long> FindRetentionBoundaryAsync(long keepBytes, long minTimestampUnixNanoseconds) =>
        State.StreamId is { } id
            ? GuardAsync(() => _storage.FindRetentionBoundaryAsync(id, State.Head, keepBytes, minTimestampUnixNanoseconds, CancellationToken.None))
            : Task.FromResult(State.Oldest);

    public Task<TaskLocation?> FindTaskAsync(string taskId) =>
        GuardAsync(() => _storage.FindTaskAsync(_namespace, taskId, CancellationToken.None));

    public Task<IReadOnlyList<long>> ReadTaskSequencesAsync(int taskNo, long throughSequence, int count) =>
        State.StreamId is { } id
            ? GuardAsync(() => _storage.ReadTaskSequencesAsync(id, taskNo, throughSequence, count, CancellationToken.None))
            : Task.FromResult<IReadOnlyList<long>>([]);

    public Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string key) =>
        GuardAsync(() => _storage.FindRequestKeyAsync(_namespace, key, CancellationToken.None));

    /// <summary>Storage drivers throw their own exception types; callers see one typed, retriable error.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception exception) when (exception is not StreamingEventsException and not OperationCanceledException)
        {
            throw new StorageUnavailableException($"Storage failed for stream '{_streamKey}': {exception.Message}", exception);
        }
    }

    private Task<bool> GuardAsync(Func<Task> operation) => GuardAsync(async () =>
    {
        await operation();
        return true;
    });
}

internal sealed class PersistentEventLogAttributeMapper : IAttributeToFactoryMapper<PersistentEventLogAttribute>
{
    public Factory<IGrainContext, object> GetFactory(ParameterInfo parameter, PersistentEventLogAttribute attribute)
    {
        if (parameter.ParameterType != typeof(IPersistentEventLog))
        {
            throw new ArgumentException(
                $"Parameter '{parameter.Name}' of '{parameter.Member.DeclaringType}' has [PersistentEventLog] but is not an {nameof(IPersistentEventLog)}.",
                parameter.Name);
        }

        return context => new PersistentEventLog(
            context,
            context.ActivationServices.GetRequiredKeyedService<IEventLogStorage>(attribute.StorageName),
            context.ActivationServices.GetRequiredKeyedService<TimeProvider>(StreamingEventsNames.Clock));
    }
}
