namespace StreamingEvents;

/// <summary>The event types of the wire format (<c>data.event_type</c>). Tasks publish the <c>CustomTask*</c> ones.</summary>
public enum EventType : short
{
    /// <summary><c>WORKFLOW_EXECUTION_STARTED</c></summary>
    WorkflowExecutionStarted = 1,
    /// <summary><c>WORKFLOW_EXECUTION_COMPLETED</c></summary>
    WorkflowExecutionCompleted = 2,
    /// <summary><c>WORKFLOW_EXECUTION_FAILED</c></summary>
    WorkflowExecutionFailed = 3,
    /// <summary><c>WORKFLOW_EXECUTION_CANCELED</c></summary>
    WorkflowExecutionCanceled = 4,
    /// <summary><c>WORKFLOW_EXECUTION_CONTINUED_AS_NEW</c></summary>
    WorkflowExecutionContinuedAsNew = 5,
    /// <summary><c>WORKFLOW_TASK_TIMED_OUT</c></summary>
    WorkflowTaskTimedOut = 10,
    /// <summary><c>WORKFLOW_TASK_FAILED</c></summary>
    WorkflowTaskFailed = 11,
    /// <summary><c>CUSTOM_TASK_STARTED</c>: a task opened, with its initial state.</summary>
    CustomTaskStarted = 20,
    /// <summary><c>CUSTOM_TASK_IN_PROGRESS</c>: a state update (full state or JSON patch).</summary>
    CustomTaskInProgress = 21,
    /// <summary><c>CUSTOM_TASK_COMPLETED</c>: terminal, with the final state.</summary>
    CustomTaskCompleted = 22,
    /// <summary><c>CUSTOM_TASK_FAILED</c>: terminal, with a failure message.</summary>
    CustomTaskFailed = 23,
    /// <summary><c>CUSTOM_TASK_TIMED_OUT</c>: terminal, published by the service for an abandoned task.</summary>
    CustomTaskTimedOut = 24,
    /// <summary><c>CUSTOM_TASK_CANCELED</c>: terminal, with an optional reason.</summary>
    CustomTaskCanceled = 25,
    /// <summary><c>ACTIVITY_TASK_STARTED</c></summary>
    ActivityTaskStarted = 30,
    /// <summary><c>ACTIVITY_TASK_COMPLETED</c></summary>
    ActivityTaskCompleted = 31,
    /// <summary><c>ACTIVITY_TASK_RETRYING</c></summary>
    ActivityTaskRetrying = 32,
    /// <summary><c>ACTIVITY_TASK_FAILED</c></summary>
    ActivityTaskFailed = 33,
}

/// <summary>Wire names of <see cref="EventType"/> and facts about them.</summary>
public static class EventTypes
{
    private static readonly Dictionary<EventType, string> WireNames = new()
    {
        [EventType.WorkflowExecutionStarted] = "WORKFLOW_EXECUTION_STARTED",
        [EventType.WorkflowExecutionCompleted] = "WORKFLOW_EXECUTION_COMPLETED",
        [EventType.WorkflowExecutionFailed] = "WORKFLOW_EXECUTION_FAILED",
        [EventType.WorkflowExecutionCanceled] = "WORKFLOW_EXECUTION_CANCELED",
        [EventType.WorkflowExecutionContinuedAsNew] = "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
        [EventType.WorkflowTaskTimedOut] = "WORKFLOW_TASK_TIMED_OUT",
        [EventType.WorkflowTaskFailed] = "WORKFLOW_TASK_FAILED",
        [EventType.CustomTaskStarted] = "CUSTOM_TASK_STARTED",
        [EventType.CustomTaskInProgress] = "CUSTOM_TASK_IN_PROGRESS",
        [EventType.CustomTaskCompleted] = "CUSTOM_TASK_COMPLETED",
        [EventType.CustomTaskFailed] = "CUSTOM_TASK_FAILED",
        [EventType.CustomTaskTimedOut] = "CUSTOM_TASK_TIMED_OUT",
        [EventType.CustomTaskCanceled] = "CUSTOM_TASK_CANCELED",
        [EventType.ActivityTaskStarted] = "ACTIVITY_TASK_STARTED",
        [EventType.ActivityTaskCompleted] = "ACTIVITY_TASK_COMPLETED",
        [EventType.ActivityTaskRetrying] = "ACTIVITY_TASK_RETRYING",
        [EventType.ActivityTaskFailed] = "ACTIVITY_TASK_FAILED",
    };

    private static readonly Dictionary<string, EventType> ByWireName =
        WireNames.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

    /// <summary>Every event type, in declaration order.</summary>
    public static IReadOnlyCollection<EventType> All { get; } = [.. WireNames.Keys];

    /// <summary>The wire name, e.g. <c>CUSTOM_TASK_IN_PROGRESS</c>.</summary>
    public static string ToWireName(this EventType type) =>
        WireNames.TryGetValue(type, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown event type.");

    /// <summary>Parses a wire name such as <c>CUSTOM_TASK_COMPLETED</c>.</summary>
    public static bool TryParse(string? wireName, out EventType type) =>
        ByWireName.TryGetValue(wireName ?? string.Empty, out type);

    /// <summary>Whether the type ends a custom task (completed, failed, timed out or canceled).</summary>
    public static bool IsTerminal(this EventType type) =>
        type is EventType.CustomTaskCompleted or EventType.CustomTaskFailed or EventType.CustomTaskTimedOut or EventType.CustomTaskCanceled;

    /// <summary>The task status a terminal event type leads to.</summary>
    public static CustomTaskStatus ToTerminalStatus(this EventType type) => type switch
    {
        EventType.CustomTaskCompleted => CustomTaskStatus.Completed,
        EventType.CustomTaskFailed => CustomTaskStatus.Failed,
        EventType.CustomTaskTimedOut => CustomTaskStatus.TimedOut,
        EventType.CustomTaskCanceled => CustomTaskStatus.Canceled,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a terminal event type."),
    };
}

/// <summary>The lifecycle status of a custom task.</summary>
public enum CustomTaskStatus : short
{
    /// <summary>Started and accepting updates.</summary>
    Running = 0,
    /// <summary>Ended with <c>CUSTOM_TASK_COMPLETED</c>.</summary>
    Completed = 1,
    /// <summary>Ended with <c>CUSTOM_TASK_FAILED</c>.</summary>
    Failed = 2,
    /// <summary>Ended with <c>CUSTOM_TASK_CANCELED</c>.</summary>
    Canceled = 3,
    /// <summary>Ended with <c>CUSTOM_TASK_TIMED_OUT</c>.</summary>
    TimedOut = 4,
}
