using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>
/// One custom task. Calls are processed one at a time (not reentrant), so the task's events reach its execution's stream
/// in the order they were made. The task's status is made durable by the stream, in the same commit as its events; this
/// grain caches it, and keeps the task's current whole state so that <c>complete</c> without a state publishes it.
/// </summary>
internal sealed class TaskGrain([FromKeyedServices(StreamingEventsNames.EventLogStorage)] IEventLogStorage storage) : Grain, ITaskGrain
{
    /// <summary>Writes a patched state however deep the patches made it, so that its depth is refused by rule, not by the writer.</summary>
    private static readonly JsonSerializerOptions PatchedWriter = new() { MaxDepth = 4 * StreamingLimits.MaxJsonDepth };

    private bool _loaded;
    private TaskInfo? _info;
    private byte[]? _state;

    /// <summary>Whether <see cref="_state"/> was set or looked up; a <c>null</c> state after lookup is unknown.</summary>
    private bool _stateKnown;

    private string TaskId => this.GetPrimaryKeyString();

    public async Task<TaskStarted> StartAsync(TaskStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.TaskId != TaskId)
        {
            throw new InvalidIdentifierException("task_id", start.TaskId, $"the start of task '{TaskId}' must carry its id");
        }

        if (await LoadAsync() is not null)
        {
            throw new TaskAlreadyExistsException(TaskId);
        }

        var execution = start.Context.Normalize().Execution;
        var receipt = await GrainFactory.GetGrain<IExecutionStreamGrain>(execution.Key).StartTaskAsync(start);
        _info = new TaskInfo(TaskId, execution, start.Type, CustomTaskStatus.Running, receipt.FirstSequence, null, start.ActivityName, start.ActivityId);
        _state = start.InitialState.ToArray();
        _stateKnown = true;
        return new TaskStarted(TaskId, execution, start.Type, receipt.FirstSequence);
    }

    public async Task<AppendReceipt> UpdateAsync(TaskEventDraft[] updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Any(u => u.Type != EventType.CustomTaskInProgress))
        {
            throw new InvalidPayloadException("Updates publish CUSTOM_TASK_IN_PROGRESS events only; end a task with complete, fail or cancel.");
        }

        var info = await RequireRunningAsync();
        foreach (var update in updates.Where(u => u.Encoding == PayloadEncoding.JsonPatch))
        {
            JsonPatch.Validate(update.Payload.Span);
        }

        // Fold first: a patch that does not apply to the current state is refused before anything is published.
        if (!_stateKnown && updates.Any(u => u.Encoding == PayloadEncoding.JsonPatch))
        {
            await GetStateAsync();
        }

        var state = _state;
        foreach (var update in updates)
        {
            state = Fold(state, update);
        }

        var receipt = await ForwardAsync(info, updates);
        _state = state;
        _stateKnown = true;
        return receipt;
    }

    public async Task<AppendReceipt> FinishAsync(TaskEventDraft terminal)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        if (!terminal.Type.IsTerminal() || terminal.Type == EventType.CustomTaskTimedOut)
        {
            throw new InvalidPayloadException("A task is finished with CUSTOM_TASK_COMPLETED, CUSTOM_TASK_FAILED or CUSTOM_TASK_CANCELED.");
        }

        var info = await RequireRunningAsync();
        if (terminal is { Type: EventType.CustomTaskCompleted, Encoding: PayloadEncoding.None })
        {
            terminal = TaskEventDraft.Completed(await GetStateAsync() ?? "null"u8.ToArray());
        }

        var receipt = await ForwardAsync(info, [terminal]);
        _state = Fold(_state, terminal);
        _info = info with { Status = terminal.Type.ToTerminalStatus(), TerminalSequence = receipt.LastSequence };
        return receipt;
    }

    public async Task<TaskInfo> GetInfoAsync() => await LoadAsync() ?? throw new TaskNotFoundException(TaskId);

    public async Task<byte[]?> GetStateAsync()
    {
        var info = await LoadAsync() ?? throw new TaskNotFoundException(TaskId);
        if (!_stateKnown)
        {
            _state = await GrainFactory.GetGrain<IExecutionStreamGrain>(info.Execution.Key).GetTaskStateAsync(TaskId);
            _stateKnown = true;
        }

        return _state;
    }

    private async Task<AppendReceipt> ForwardAsync(TaskInfo info, TaskEventDraft[] events)
    {
        try
        {
            return await GrainFactory.GetGrain<IExecutionStreamGrain>(info.Execution.Key).AppendAsync(TaskId, events);
        }
        catch (TaskAlreadyFinishedException finished)
        {
            // Ended elsewhere (e.g. timed out for inactivity): remember it.
            _info = info with { Status = finished.Status };
            throw;
        }
    }

    /// <summary>
    /// The state after <paramref name="draft"/>: its whole state, or the previous one patched. A <c>null</c> state is
    /// unknown (its beginning is no longer retained); patches then pass unchecked.
    /// </summary>
    private static byte[]? Fold(byte[]? state, TaskEventDraft draft)
    {
        switch (draft.Encoding)
        {
            case PayloadEncoding.Json:
                return draft.Payload.ToArray();
            case PayloadEncoding.JsonPatch when state is not null:
                var patched = JsonPatch.Apply(JsonNode.Parse(state), JsonNode.Parse(draft.Payload.Span)!.AsArray());
                var folded = patched is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(patched, PatchedWriter);

                // Patches can build a state deeper than any one of them; the state is held to the payload rules too.
                JsonPayloads.Validate(folded, "patched state");
                return folded;
            default:
                return state;
        }
    }

    private async Task<TaskInfo> RequireRunningAsync()
    {
        var info = await LoadAsync() ?? throw new TaskNotFoundException(TaskId);
        return info.Status == CustomTaskStatus.Running ? info : throw new TaskAlreadyFinishedException(TaskId, info.Status);
    }

    private async Task<TaskInfo?> LoadAsync()
    {
        if (_loaded)
        {
            return _info;
        }

        TaskLocation? location;
        try
        {
            location = await storage.FindTaskAsync(TaskId, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not StreamingEventsException)
        {
            throw new StorageUnavailableException($"Could not look up task '{TaskId}': {exception.Message}", exception);
        }

        if (location is not null)
        {
            var task = location.Task;
            _info = new TaskInfo(TaskId, ExecutionId.Parse(location.StreamKey), task.Topic, task.Status, task.StartedSequence, task.TerminalSequence,
                task.ActivityName, task.ActivityId);
        }

        _loaded = true;
        return _info;
    }
}
