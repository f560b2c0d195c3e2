using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StreamingEvents.Contracts;
using StreamingEvents.Publishing;
using StreamingEvents.Subscriptions;

namespace StreamingEvents;

/// <summary>The <see cref="IStreamingEventsClient"/> over an Orleans cluster client (or a co-hosted silo's client).</summary>
public sealed partial class StreamingEventsClient(
    IClusterClient cluster,
    IOptions<StreamingEventsClientOptions> options,
    ILogger<StreamingEventsClient> logger,
    TimeProvider? time = null,
    StreamingEventsMetrics? metrics = null) : IStreamingEventsClient, IDisposable
{
    private readonly StreamingEventsClientOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _controlGate = new();
    private ExecutionControl? _control;

    /// <summary>Brings cancels from outside to this process's producers (created with the first producer).</summary>
    internal ExecutionControl Control
    {
        get
        {
            lock (_controlGate)
            {
                return _control ??= new ExecutionControl(cluster, _time, logger);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_controlGate)
        {
            _control?.Dispose();
        }
    }

    /// <inheritdoc/>
    public ExecutionStreams ForExecution(WorkflowContext context) => new(this, context);

    /// <inheritdoc/>
    public async Task<TaskHandle<TState>> StartTaskAsync<TState>(WorkflowContext context, string type, TState initialState, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var normalized = context.Normalize();
        Names.ValidateStreamName(type);
        var taskId = options?.TaskId is { } id ? Names.ValidateIdentifier(id, "task_id") : TaskOptions.NewTaskId();
        var json = JsonSerializer.SerializeToUtf8Bytes(initialState, _options.JsonSerializerOptions);
        if (json.Length > StreamingLimits.MaxEventBytes)
        {
            throw new EventTooLargeException(json.Length, StreamingLimits.MaxEventBytes);
        }

        var metadata = options?.Metadata is { } value ? JsonSerializer.SerializeToUtf8Bytes(value, _options.JsonSerializerOptions) : null;
        var grain = cluster.GetTaskGrain(new TaskAddress(normalized.Namespace, taskId));
        TaskHandle<TState>? handle = null;
        var lease = Control.Watch(normalized.Execution, taskId, () => handle?.EndedElsewhere());
        var start = new TaskStart(taskId, normalized, type, json, metadata, options?.ActivityName, options?.ActivityId, ProducerId: Guid.NewGuid().ToString("N"));
        var retry = new PublishRetry(_options.PublishRetryBudget, _time, _options.PublishHedgeDelay);

        // Sent again while its outcome is unknown; the same start (same producer id) is stored once.
        var starting = retry.RunAsync(() => grain.StartAsync(start), taskId, CancellationToken.None);
        TaskStarted started;
        try
        {
            started = await starting.WaitAsync(cancellationToken);
            await lease.Ready;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller stopped waiting, but the start may be stored: then the task is ended now, as canceled, instead
            // of timing out half an hour later with no handle to end it.
            lease.Dispose();
            _ = CancelAbandonedStartAsync(grain, starting, retry);
            throw;
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        handle = new TaskHandle<TState>(grain, started, initialState, json, _options.JsonSerializerOptions, HandleSettings(options), cancellationToken, lease);
        if (lease.Token.IsCancellationRequested)
        {
            // Ended from outside between the start and the handle.
            handle.EndedElsewhere();
        }

        return handle;
    }

    private TaskHandleSettings HandleSettings(TaskOptions? options) => new(
        _options.MaxUpdatesPerCall, _options.MaxBytesPerCall, _options.MaxPendingUpdates, _options.MaxPendingBytes, _options.PendingUpdatesFullMode,
        options?.StateUpdates ?? StateUpdates.WholeState, _options.PublishRetryBudget, _time, _options.PublishHedgeDelay);

    private async Task CancelAbandonedStartAsync(ITaskGrain grain, Task<TaskStarted> starting, PublishRetry retry)
    {
        TaskStarted started;
        try
        {
            started = await starting;
        }
        catch (Exception exception) when (exception is StreamingEventsException)
        {
            // Never stored (refused) or unknown after the whole budget: nothing to end here.
            return;
        }

        try
        {
            await retry.RunAsync(() => grain.FinishAsync(new PublishRequest([TaskEventDraft.Canceled("canceled while starting")], started.Epoch, 1)),
                started.TaskId, CancellationToken.None);
        }
        catch (StreamingEventsException exception)
        {
            LogTerminalNotPublished(exception, started.TaskId);
        }
    }

    /// <inheritdoc/>
    public async Task<TResult> RunTaskAsync<TState, TResult>(WorkflowContext context, string type, TState initialState,
        Func<TaskHandle<TState>, CancellationToken, Task<TResult>> body, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var task = await StartTaskAsync(context, type, initialState, options, cancellationToken);
        TResult result;
        try
        {
            result = await body(task, task.CancellationToken);
        }
        catch (Exception exception)
        {
            var token = task.CancellationToken;
            var endedElsewhere = token.IsCancellationRequested || task.Status is not CustomTaskStatus.Running && !task.IsFinishing;
            endedElsewhere |= await EndAfterBodyAsync(task, IsCancellation(exception, token) ? t => t.CancelAsync("canceled") : t => t.FailAsync(exception));
            if (CanceledInstead(exception, endedElsewhere, token) is { } canceled)
            {
                throw canceled;
            }

            throw;
        }

        if (!task.IsFinishing && task.Status == CustomTaskStatus.Running)
        {
            await task.CompleteAsync(CancellationToken.None);
        }

        await task.DisposeAsync();
        return result;
    }

    /// <summary>Publishes the terminal event of a body that threw; the body's exception is what the caller sees.</summary>
    /// <returns>Whether the terminal event was refused because the task had already been ended elsewhere.</returns>
    private async Task<bool> EndAfterBodyAsync<TState>(TaskHandle<TState> task, Func<TaskHandle<TState>, Task<long>> end)
    {
        var refused = false;
        try
        {
            if (!task.IsFinishing && task.Status == CustomTaskStatus.Running)
            {
                try
                {
                    await end(task);
                }
                catch (Exception exception) when (exception is TaskAlreadyFinishedException or ExecutionFinishedException)
                {
                    refused = true;
                }
            }

            // Ended by the body or from outside (a cancel that stopped it): only a terminal event of unknown outcome is
            // sent again; the cancel watch is released.
            await task.DisposeAsync();
        }
        catch (StreamingEventsException exception)
        {
            LogTerminalNotPublished(exception, task.TaskId);
        }

        return refused;
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<StreamEvent> SubscribeAsync(ExecutionId execution, StreamPosition from = default, string? topic = null, CancellationToken cancellationToken = default)
    {
        if (topic is not null)
        {
            Names.ValidateStreamName(topic);
        }

        var settings = new SubscriptionSettings(_options.SubscriptionBufferEvents, _options.SubscriptionBufferBytes, _options.IdleProbeInterval, _options.ReplayPageSize, _time, metrics);
        return ExecutionSubscription.RunAsync(Source(execution), from, topic, settings, cancellationToken);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<CursorEvent> SubscribeManyAsync(ExecutionQuery query, string? cursor = null, long startSequence = 0, string? topic = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        Names.ValidateNamespace(query.Namespace);
        if (topic is not null)
        {
            Names.ValidateStreamName(topic);
        }

        var position = cursor is null ? new WildcardCursor(startSequence) : WildcardCursor.Decode(cursor);
        var settings = new MultiSubscriptionSettings(
            new SubscriptionSettings(_options.SubscriptionBufferEvents, _options.SubscriptionBufferBytes, _options.IdleProbeInterval, _options.ReplayPageSize, _time, metrics),
            _options.DiscoveryInterval,
            _options.MaxExecutionsPerSubscription,
            _options.WildcardBufferBytes);
        return MultiExecutionSubscription.RunAsync(new OrleansExecutionDirectory(cluster, _options.StreamProviderName, logger), query, position, topic, settings, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ExecutionSummary[]> ListExecutionsAsync(ExecutionQuery query, int limit = 50, long beforeStreamId = long.MaxValue, CancellationToken cancellationToken = default) =>
        cluster.GetGrain<IExecutionRegistryGrain>(0).FindNewestAsync(query, beforeStreamId, limit).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<EventPage> ReadAsync(ExecutionId execution, StreamPosition from, int maxEvents = 1000, string? topic = null, CancellationToken cancellationToken = default)
    {
        if (from.IsLive)
        {
            throw new ArgumentException("Reading history needs a position, not Live.", nameof(from));
        }

        return Source(execution).ReadAsync(from.Sequence, maxEvents, topic, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<StreamInfo> GetStreamInfoAsync(ExecutionId execution, CancellationToken cancellationToken = default) =>
        cluster.GetGrain<IExecutionStreamGrain>(execution.Key).GetInfoAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task<JsonNode?> GetTaskStateAsync(ExecutionId execution, string taskId, long beforeSequence = long.MaxValue, CancellationToken cancellationToken = default)
    {
        var state = await cluster.GetGrain<IExecutionStreamGrain>(execution.Key)
            .GetTaskStateAsync(Names.ValidateIdentifier(taskId, "task_id"), beforeSequence).WaitAsync(cancellationToken);
        return state is null ? null : JsonNode.Parse(state);
    }

    /// <inheritdoc/>
    public Task<TaskInfo> GetTaskAsync(string taskId, string @namespace = WorkflowContext.DefaultNamespace, CancellationToken cancellationToken = default) =>
        cluster.GetTaskGrain(new TaskAddress(@namespace, taskId)).GetInfoAsync().WaitAsync(cancellationToken);

    private OrleansEventSource Source(ExecutionId execution) => new(cluster, execution, _options.StreamProviderName, logger);

    [LoggerMessage(2002, LogLevel.Warning, "Task {TaskId} threw, and its FAILED/CANCELED event could not be published; it will time out")]
    private partial void LogTerminalNotPublished(Exception exception, string taskId);
}
