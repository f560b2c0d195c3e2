using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamingEvents.Contracts;

namespace StreamingEvents;

/// <summary>
/// Turns <c>json_patch</c> events back into whole-state events: each task's state is kept as events pass, and a patch is
/// applied to it. A subscription that starts in the middle of a task asks the stream for the task's state just before
/// the first patch it sees. Whole-state and other events pass unchanged.
/// </summary>
public sealed class WholeStateReconstructor
{
    private readonly Func<string, long, CancellationToken, Task<JsonNode?>> _stateBefore;
    private readonly Dictionary<string, JsonNode?> _states = new(StringComparer.Ordinal);

    /// <param name="stateBefore">A task's whole state before a sequence (<c>taskId, beforeSequence</c>), for tasks first seen mid-way.</param>
    public WholeStateReconstructor(Func<string, long, CancellationToken, Task<JsonNode?>> stateBefore) => _stateBefore = stateBefore;

    /// <summary>The event with a whole-state payload.</summary>
    /// <exception cref="InvalidOperationException">The task's earlier state is no longer retained, so the patch cannot be applied.</exception>
    public async ValueTask<StreamEvent> ToWholeStateAsync(StreamEvent streamEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        if (streamEvent.Encoding != PayloadEncoding.JsonPatch)
        {
            if (streamEvent.Encoding == PayloadEncoding.Json && !streamEvent.IsTerminal)
            {
                _states[streamEvent.TaskId] = Payload(JsonNode.Parse(streamEvent.Json.Span, documentOptions: JsonDefaults.Envelope)!)["value"]?.DeepClone();
            }
            else if (streamEvent.IsTerminal)
            {
                _states.Remove(streamEvent.TaskId);
            }

            return streamEvent;
        }

        if (!_states.TryGetValue(streamEvent.TaskId, out var state))
        {
            state = await _stateBefore(streamEvent.TaskId, streamEvent.BrokerSequence, cancellationToken)
                ?? throw new InvalidOperationException($"Task {streamEvent.TaskId} started before the oldest retained event; its state before #{streamEvent.BrokerSequence} is unknown.");
        }

        var envelope = JsonNode.Parse(streamEvent.Json.Span, documentOptions: JsonDefaults.Envelope)!;
        var payload = Payload(envelope);
        state = JsonPatch.Apply(state?.DeepClone(), payload["value"]!.AsArray());
        _states[streamEvent.TaskId] = state;
        payload["type"] = "json";
        payload["value"] = state?.DeepClone();
        return streamEvent.WithJson(JsonSerializer.SerializeToUtf8Bytes(envelope), PayloadEncoding.Json);
    }

    private static JsonObject Payload(JsonNode envelope) => envelope["data"]!["attributes"]!["payload"]!.AsObject();
}

/// <summary>Whole states for subscriptions whose tasks publish deltas.</summary>
public static class WholeStateExtensions
{
    /// <summary>
    /// The events of <paramref name="events"/> (one execution's subscription) with every <c>json_patch</c> payload
    /// replaced by the task's whole state, so <see cref="StreamEvent.GetState{T}"/> works on every state event.
    /// </summary>
    public static async IAsyncEnumerable<StreamEvent> WithWholeStates(this IAsyncEnumerable<StreamEvent> events, IStreamingEventsClient client,
        ExecutionId execution, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reconstructor = new WholeStateReconstructor((taskId, before, ct) => client.GetTaskStateAsync(execution, taskId, before, ct));
        await foreach (var streamEvent in events.WithCancellation(cancellationToken))
        {
            yield return await reconstructor.ToWholeStateAsync(streamEvent, cancellationToken);
        }
    }
}
