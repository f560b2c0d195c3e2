using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

internal sealed partial class ExecutionStreamGrain
{
    public async Task<EventPage> ReadAsync(ReadRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.FromSequence < 0)
        {
            throw new InvalidIdentifierException("start_seq", request.FromSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), "a start_seq is 0 (the oldest retained) or a broker_sequence");
        }

        if (request.Topic is not null)
        {
            Names.ValidateStreamName(request.Topic);
        }

        var head = State.Head;
        var from = request.FromSequence == 0 ? State.Oldest : request.FromSequence;
        if (from < State.Oldest)
        {
            throw new StreamPositionExpiredException(_execution.Key, from, State.Oldest);
        }

        if (from > head)
        {
            return new EventPage([], from, head, State.Oldest);
        }

        var maxEvents = Math.Clamp(request.MaxEvents, 1, _options.MaxEventsPerRead);
        var events = new List<StreamEvent>();
        var next = _window.Contains(from)
            ? _window.CopyTo(events, from, maxEvents, _options.MaxBytesPerRead, request.Topic)
            : await ReadStoredAsync(events, from, head, maxEvents, request.Topic, cancellationToken);
        return new EventPage([.. events], next, head, State.Oldest);
    }

    /// <summary>Reads and renders stored events from <paramref name="from"/>, stopping where the memory window begins.</summary>
    private async Task<long> ReadStoredAsync(List<StreamEvent> output, long from, long head, int maxEvents, string? topic, CancellationToken cancellationToken)
    {
        var to = _window.Count > 0 && _window.FirstSequence > from ? Math.Min(head, _window.FirstSequence - 1) : head;
        var stored = await _replays.RunAsync(ct => _log.ReadAsync(from, to, maxEvents, ct), cancellationToken);
        if (stored.Count == 0 || stored[0].Sequence != from)
        {
            // Retention removed them after we looked at Oldest: report what is really the oldest now.
            var oldest = stored.Count > 0 ? stored[0].Sequence : to + 1;
            State.Oldest = Math.Max(State.Oldest, oldest);
            _window.DropBefore(State.Oldest);
            throw new StreamPositionExpiredException(_execution.Key, from, State.Oldest);
        }

        var tasks = await LoadTasksAsync(stored);
        long bytes = 0;
        var next = from;
        foreach (var item in stored)
        {
            if (item.Sequence != next)
            {
                throw new StorageUnavailableException($"Storage returned sequence {item.Sequence} of '{_execution.Key}' where {next} was expected.");
            }

            var task = tasks[item.TaskNo];
            if (topic is null || task.Topic == topic)
            {
                var rendered = Renderer.Render(task, item);
                if (output.Count > 0 && bytes + rendered.Json.Length > _options.MaxBytesPerRead)
                {
                    break;
                }

                output.Add(rendered);
                bytes += rendered.Json.Length;
            }

            next = item.Sequence + 1;
        }

        return next;
    }

    /// <summary>
    /// The rows of every task referenced by <paramref name="events"/>, from the cache or storage. The page renders from
    /// what this returns, never from the cache after the await: the grain is reentrant, and meanwhile a reload or another
    /// read may have emptied or trimmed the cache.
    /// </summary>
    private async Task<Dictionary<int, StoredTask>> LoadTasksAsync(IReadOnlyList<StoredEvent> events)
    {
        var tasks = new Dictionary<int, StoredTask>();
        var missing = new HashSet<int>();
        foreach (var taskNo in events.Select(e => e.TaskNo))
        {
            if (!tasks.ContainsKey(taskNo) && !missing.Contains(taskNo))
            {
                if (_tasks.TryGet(taskNo, out var cached))
                {
                    tasks[taskNo] = cached;
                }
                else
                {
                    missing.Add(taskNo);
                }
            }
        }

        if (missing.Count == 0)
        {
            return tasks;
        }

        foreach (var task in await _log.ReadTasksAsync(missing))
        {
            tasks[task.TaskNo] = task;
            _tasks.Set(task);
        }

        var absent = missing.Where(no => !tasks.ContainsKey(no)).ToList();
        if (absent.Count > 0)
        {
            throw new StorageUnavailableException($"Stored events of '{_execution.Key}' refer to unknown task number {absent[0]}.");
        }

        return tasks;
    }

    /// <summary>
    /// The task's last whole state, folded from its retained events (whole states and patches); <c>null</c> when its
    /// beginning is no longer retained.
    /// </summary>
    /// <exception cref="StreamPositionExpiredException">
    /// Retention removed events of the stream between two pages of the fold, and no later whole state of the task makes
    /// them irrelevant: folding on would skip patches and give a wrong state.
    /// </exception>
    public async Task<byte[]?> GetTaskStateAsync(string taskId, long beforeSequence = long.MaxValue)
    {
        var task = await FindTaskAsync(taskId);
        if (task is null || task.StartedSequence < State.Oldest)
        {
            return null;
        }

        JsonNode? state = null;
        long? skippedFrom = null;
        var last = Math.Min(task.TerminalSequence ?? State.Head, beforeSequence - 1);
        for (var from = task.StartedSequence; from <= last;)
        {
            var stored = await _log.ReadAsync(from, last, _options.MaxEventsPerRead);
            var first = stored.Count > 0 ? stored[0].Sequence : last + 1;
            if (first != from)
            {
                // Retention trimmed from the oldest end while this awaited storage: the task's events from 'from' on are
                // gone. Before anything was folded that is the start no longer retained; later, the state is unknown
                // until the task publishes a whole state again.
                State.Oldest = Math.Max(State.Oldest, first);
                _window.DropBefore(State.Oldest);
                if (from == task.StartedSequence)
                {
                    return null;
                }

                skippedFrom ??= from;
            }

            var next = first;
            foreach (var item in stored)
            {
                if (item.Sequence != next)
                {
                    throw new StorageUnavailableException($"Storage returned sequence {item.Sequence} of '{_execution.Key}' where {next} was expected.");
                }

                next = item.Sequence + 1;
                if (item.TaskNo != task.TaskNo || item.Encoding == PayloadEncoding.None)
                {
                    continue;
                }

                if (item.Encoding == PayloadEncoding.JsonPatch)
                {
                    if (skippedFrom is { } skipped)
                    {
                        throw new StreamPositionExpiredException(_execution.Key, skipped, State.Oldest);
                    }

                    state = JsonPatch.Apply(state, JsonNode.Parse(item.Body.Span)!.AsArray());
                }
                else
                {
                    state = JsonNode.Parse(item.Body.Span);
                    skippedFrom = null;
                }
            }

            from = next;
        }

        if (skippedFrom is { } missed)
        {
            throw new StreamPositionExpiredException(_execution.Key, missed, State.Oldest);
        }

        return state is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(state);
    }
}
