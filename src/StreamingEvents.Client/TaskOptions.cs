namespace StreamingEvents;

/// <summary>Per-task settings.</summary>
public sealed class TaskOptions
{
    /// <summary>The task id; default a new time-ordered unique id (<c>tsk_…</c>).</summary>
    public string? TaskId { get; init; }

    /// <summary>
    /// A JSON object attached as <c>metadata</c> to every event of the task (serialized with the client's JSON options);
    /// <c>null</c> for none.
    /// </summary>
    public object? Metadata { get; init; }

    /// <summary>The activity publishing the task, if any (matched by the <c>activity_name</c> filter; scope <c>activity</c>).</summary>
    public string? ActivityName { get; init; }

    /// <summary>The id of the activity publishing the task, if any (matched by the <c>activity_id</c> filter).</summary>
    public string? ActivityId { get; init; }

    /// <summary>
    /// How state updates are published (default <see cref="StateUpdates.WholeState"/>). With
    /// <see cref="StateUpdates.Deltas"/> each update is published as JSON-patch operations against the previous state when
    /// that is smaller — one token appended costs a few dozen bytes instead of the whole text again.
    /// </summary>
    public StateUpdates StateUpdates { get; init; } = StateUpdates.WholeState;

    /// <summary>A new task id.</summary>
    public static string NewTaskId() => "tsk_" + Guid.CreateVersion7().ToString("N");
}
