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

    /// <summary>A new task id.</summary>
    public static string NewTaskId() => "tsk_" + Guid.CreateVersion7().ToString("N");
}
