namespace StreamingEvents;

/// <summary>An event of a subscription over many executions, with the cursor to resume right after it.</summary>
/// <param name="Event">The event.</param>
/// <param name="Execution">The execution it belongs to.</param>
/// <param name="Cursor">Pass it back as the cursor of a new subscription to continue after this event, exactly.</param>
public sealed record CursorEvent(StreamEvent Event, ExecutionId Execution, string Cursor);
