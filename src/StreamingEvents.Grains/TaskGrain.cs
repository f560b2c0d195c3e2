using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>
/// One custom task (key: <see cref="TaskAddress.Key"/>). Calls are processed one at a time (not reentrant), so the
/// task's events reach its execution's stream in the order they were made. The stream stores each event exactly once —
/// it recognises a request sent again by its publish sequences or key — and makes the task's status durable in the same
/// commit; this grain caches the status and the task's current whole state, so that <c>complete</c> without a state
/// publishes it and patches are checked against it before they are numbered.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // finished tasks are rarely touched again (see ExecutionStreamGrain)
internal sealed class TaskGrain([FromKeyedServices(StreamingEventsNames.EventLogStorage)] IEventLogStorage storage) : Grain, ITaskGrain
{
    /// <summary>Writes a patched state however deep the patches made it, so that its depth is refused by rule, not by the writer.</summary>
    private static readonly JsonSerializerOptions PatchedWriter = new() { MaxDepth = 4 * StreamingLimits.MaxJsonDepth };

    /// <summary>The task's status; <c>null</c> until it is found (a task not found is looked up again on the next call).</summary>
    private TaskInfo? _info;

    private IExecutionStreamGrain? _stream;

    /// <summary>The current whole state, when <see cref="_stateKnown"/>; <c>null</c> then means it is no longer known.</summary>
    private ReadOnlyMemory<byte>? _state;

    private bool _stateKnown;

    /// <summary>The last publish sequence folded into <see cref="_state"/>, for sequenced requests.</summary>
    private long _foldedThrough;

    private TaskAddress Address => TaskAddress.Parse(this.GetPrimaryKeyString());

    public async Task<TaskStarted> StartAsync(TaskStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.Address != Address)
        {
            throw new InvalidIdentifierException("task_id", start.TaskId, $"the start of task '{Address}' must carry its id and namespace");
        }

        var execution = start.Context.Normalize().Execution;
        var stream = GrainFactory.GetGrain<IExecutionStreamGrain>(execution.Key);
        AppendReceipt receipt;
        try
        {
            receipt = await stream.StartTaskAsync(start);
        }
        catch
        {
            // Whatever the outcome, what this grain knew about the task may be out of date: look it up next time.
            Forget();
            throw;
        }

        if (receipt.Replayed == 0)
        {
            _stream = stream;
            _info = new TaskInfo(start.TaskId, execution, Lifecycle.StreamOf(start.Kind, start.Type), CustomTaskStatus.Running, receipt.FirstSequence, null,
                start.ActivityName, start.ActivityId, start.Kind);
            _state = start.InitialState;
            _stateKnown = true;
            _foldedThrough = 0;
        }
        else
        {
            // The same start was stored before (its answer was lost): the task may have moved on since.
            Forget();
        }

        return new TaskStarted(start.TaskId, execution, Lifecycle.StreamOf(start.Kind, start.Type), receipt.FirstSequence, Replayed: receipt.Replayed > 0);
    }

    public async Task<AppendReceipt> UpdateAsync(PublishRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Events is not { Length: > 0 } || request.Events.Any(u => EventTypes.Find(u.Type) is not { Role: EventRole.Progress }))
        {
            throw new InvalidPayloadException("Updates publish CUSTOM_TASK_IN_PROGRESS (or ACTIVITY_TASK_RETRYING) events only; end a task with complete, fail or cancel.");
        }

        var info = await RequireAsync(request);
        if (info.Kind != TaskKind.Custom)
        {
            // A lifecycle has no state to fold: its stream checks the events against the task's kind.
            return await ForwardAsync(info, request);
        }

        foreach (var update in request.Events.Where(u => u.Encoding == PayloadEncoding.JsonPatch))
        {
            JsonPatch.Validate(update.Payload.Span);
        }

        if (request.Events.Any(u => u.Encoding == PayloadEncoding.Merge))
        {
            if (!_stateKnown)
            {
                await LoadStateAsync(info);
            }

            request = request with { Events = MergesAsPatches(request.Events, _state) };
        }

        // Fold first: a patch that does not apply to the current state, or makes it too large, is refused before
        // anything is numbered.
        if (!_stateKnown && request.Events.Any(u => u.Encoding == PayloadEncoding.JsonPatch))
        {
            await LoadStateAsync(info);
        }

        var state = _state;
        var folding = FirstToFold(request);
        TaskEventDraft[]? sized = null;
        for (var i = folding; i < request.Events.Length; i++)
        {
            var draft = request.Events[i];
            state = Fold(state, draft);
            if (draft.Encoding == PayloadEncoding.JsonPatch && state is { } whole)
            {
                // The stream checks that the event with this whole state (what whole-state consumers get, and what
                // complete without a state publishes) fits the limit, before it numbers the patch.
                sized ??= [.. request.Events];
                sized[i] = draft with { StateBytes = whole.Length };
            }
        }

        if (sized is not null)
        {
            request = request with { Events = sized };
        }

        var receipt = await ForwardAsync(info, request);
        var endsWithWholeState = request.Events[^1].Encoding == PayloadEncoding.Json;
        if (receipt.Replayed < receipt.Count && (_stateKnown || endsWithWholeState))
        {
            _state = state;
            _stateKnown = true;
            _foldedThrough = request.IsSequenced ? request.FirstPublishSequence + request.Events.Length - 1 : _foldedThrough;
        }

        return receipt;
    }

    public async Task<AppendReceipt> FinishAsync(PublishRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Events is not [var terminal] || !terminal.Type.IsTerminal() || terminal.Type == EventType.CustomTaskTimedOut)
        {
            throw new InvalidPayloadException("A task is finished with one terminal event (e.g. CUSTOM_TASK_COMPLETED, CUSTOM_TASK_FAILED or CUSTOM_TASK_CANCELED).");
        }

        var info = await RequireAsync(request);
        if (terminal is { Type: EventType.CustomTaskCompleted, Encoding: PayloadEncoding.None } && info.Status == CustomTaskStatus.Running && info.Kind == TaskKind.Custom)
        {
            if (!_stateKnown)
            {
                await LoadStateAsync(info);
            }

            request = request with { Events = [TaskEventDraft.Completed(_state ?? "null"u8.ToArray())] };
        }

        var receipt = await ForwardAsync(info, request);
        _info = info with { Status = terminal.Type.ToTerminalStatus(), TerminalSequence = receipt.LastSequence };
        if (request.Events[0].Encoding == PayloadEncoding.Json)
        {
            _state = request.Events[0].Payload;
        }

        return receipt;
    }

    public async Task<TaskInfo> GetInfoAsync() => await LoadAsync() ?? throw new TaskNotFoundException(Address.TaskId);

    public async Task<byte[]?> GetStateAsync()
    {
        var info = await LoadAsync() ?? throw new TaskNotFoundException(Address.TaskId);
        if (!_stateKnown)
        {
            await LoadStateAsync(info);
        }

        return _state?.ToArray();
    }

    /// <summary>
    /// Turns merges (<see cref="PayloadEncoding.Merge"/>, Mistral's <c>update_state</c>) into patches that <c>add</c> each
    /// top-level member of the update, folding them in order: a merge needs an object to merge into.
    /// </summary>
    private static TaskEventDraft[] MergesAsPatches(TaskEventDraft[] drafts, ReadOnlyMemory<byte>? state)
    {
        var result = new TaskEventDraft[drafts.Length];
        for (var i = 0; i < drafts.Length; i++)
        {
            var draft = drafts[i];
            if (draft.Encoding == PayloadEncoding.Merge)
            {
                // Stored states are validated JSON: an object is one whose first significant byte is '{'.
                if (state is { } current && current.Span.TrimStart(" \t\r\n"u8) is not [(byte)'{', ..])
                {
                    throw new InvalidPayloadException("An update is merged into the task's state, which is not a JSON object; replace the state instead.");
                }

                draft = TaskEventDraft.Patch(JsonPatch.MergeOperations(draft.Payload.Span));
            }

            result[i] = draft;
            state = Fold(state, draft);
        }

        return result;
    }

    /// <summary>The first event of a request not yet folded: a sequenced request sent again may repeat folded ones.</summary>
    private int FirstToFold(PublishRequest request) =>
        request.IsSequenced ? (int)Math.Clamp(_foldedThrough - request.FirstPublishSequence + 1, 0, request.Events.Length) : 0;

    private async Task<AppendReceipt> ForwardAsync(TaskInfo info, PublishRequest request)
    {
        try
        {
            return await Stream(info).AppendAsync(Address.TaskId, request);
        }
        catch (TaskAlreadyFinishedException finished)
        {
            // Ended elsewhere (e.g. timed out for inactivity): remember it.
            _info = info with { Status = finished.Status };
            throw;
        }
        catch (StreamingEventsException refused) when (!refused.IsTransient)
        {
            // Refused before anything was stored: what this grain knows still holds.
            throw;
        }
        catch
        {
            // The outcome is unknown: the state is read back from the stream when it is next needed.
            _stateKnown = false;
            throw;
        }
    }

    /// <summary>
    /// The task, which must exist; a finished task still takes requests that may be repeats (sequenced or keyed), which
    /// its stream answers with their numbers or refuses.
    /// </summary>
    private async Task<TaskInfo> RequireAsync(PublishRequest request)
    {
        var info = await LoadAsync() ?? throw new TaskNotFoundException(Address.TaskId);
        return info.Status == CustomTaskStatus.Running || request.IsSequenced || request.Key is not null
            ? info
            : throw new TaskAlreadyFinishedException(Address.TaskId, info.Status);
    }

    private async Task LoadStateAsync(TaskInfo info)
    {
        var snapshot = await Stream(info).GetTaskSnapshotAsync(Address.TaskId);
        _state = snapshot?.State;
        _foldedThrough = snapshot?.LastPublishSequence ?? 0;
        _stateKnown = true;
    }

    private IExecutionStreamGrain Stream(TaskInfo info) => _stream ??= GrainFactory.GetGrain<IExecutionStreamGrain>(info.Execution.Key);

    private void Forget()
    {
        _info = null;
        _stream = null;
        _state = null;
        _stateKnown = false;
        _foldedThrough = 0;
    }

    /// <summary>
    /// The state after <paramref name="draft"/>: its whole state, or the previous one patched. A <c>null</c> state is
    /// unknown (its beginning is no longer retained); patches then pass unchecked.
    /// </summary>
    private static ReadOnlyMemory<byte>? Fold(ReadOnlyMemory<byte>? state, TaskEventDraft draft)
    {
        switch (draft.Encoding)
        {
            case PayloadEncoding.Json:
                return draft.Payload;
            case PayloadEncoding.JsonPatch when state is { } current:
                var patched = JsonPatch.Apply(JsonNode.Parse(current.Span), JsonNode.Parse(draft.Payload.Span)!.AsArray());
                var folded = patched is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(patched, PatchedWriter);

                // Patches can build a state larger or deeper than any one of them; the state is held to the payload rules
                // too, because whole-state consumers and complete-without-state publish it.
                if (folded.Length > StreamingLimits.MaxEventBytes)
                {
                    throw new EventTooLargeException(folded.Length, StreamingLimits.MaxEventBytes);
                }

                JsonPayloads.Validate(folded, "patched state");
                return folded;
            default:
                return state;
        }
    }

    private async Task<TaskInfo?> LoadAsync()
    {
        if (_info is not null)
        {
            return _info;
        }

        var address = Address;
        TaskLocation? location;
        try
        {
            location = await storage.FindTaskAsync(address.Namespace, address.TaskId, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not StreamingEventsException)
        {
            throw new StorageUnavailableException($"Could not look up task '{address}': {exception.Message}", exception);
        }

        if (location is null)
        {
            return null;
        }

        var task = location.Task;
        _info = new TaskInfo(address.TaskId, ExecutionId.Parse(location.StreamKey), task.Topic, task.Status, task.StartedSequence, task.TerminalSequence,
            task.ActivityName, task.ActivityId, task.Kind);
        return _info;
    }
}
