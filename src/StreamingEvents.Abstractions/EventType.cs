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

/// <summary>What kind of task an event belongs to: the execution itself, an activity, or a custom task.</summary>
public enum TaskKind : short
{
    /// <summary>A custom task published from workflow or activity code (<c>CUSTOM_TASK_*</c>).</summary>
    Custom = 0,
    /// <summary>The workflow execution's own lifecycle (<c>WORKFLOW_EXECUTION_*</c>).</summary>
    Workflow = 1,
    /// <summary>An activity's lifecycle (<c>ACTIVITY_TASK_*</c>).</summary>
    Activity = 2,
}

/// <summary>The place of an event in its task's life.</summary>
public enum EventRole : byte
{
    /// <summary>Opens the task.</summary>
    Start,
    /// <summary>Between start and end; any number of them.</summary>
    Progress,
    /// <summary>Ends the task; exactly one.</summary>
    Terminal,
    /// <summary>A type of the wire format this service does not publish.</summary>
    NotPublished,
}

/// <summary>How an event's attributes carry what it says.</summary>
public enum AttributeShape : byte
{
    /// <summary>A task state: <c>payload = {type: json|json_patch, value}</c>.</summary>
    State,
    /// <summary>A failure message: <c>failure = {message}</c>.</summary>
    Failure,
    /// <summary>A cancel reason: <c>reason</c> (string or null).</summary>
    Reason,
    /// <summary>A timeout type: <c>timeout_type</c> (string or null).</summary>
    TimeoutType,
    /// <summary>An input: <c>input = {type: json, value}</c> (and, for a workflow, <c>display_name</c>).</summary>
    Input,
    /// <summary>A result: <c>result = {type: json, value}</c>.</summary>
    Result,
    /// <summary>An attempt and its failure: <c>attempt</c>, <c>failure = {message}</c>.</summary>
    AttemptFailure,
    /// <summary>Nothing this service publishes.</summary>
    None,
}

/// <summary>
/// Everything the service knows about one event type, in one place: its wire name, the kind of task it belongs to,
/// its role in that task's life, the status a terminal one leads to, and the shape of its attributes. Validation,
/// planning, rendering, filtering, the CLI and the web page read these instead of listing types themselves.
/// </summary>
public sealed record EventTypeInfo(
    EventType Type,
    string WireName,
    TaskKind Kind,
    EventRole Role,
    AttributeShape Shape,
    CustomTaskStatus? EndsWith = null)
{
    /// <summary>Whether the type ends its task.</summary>
    public bool IsTerminal => Role == EventRole.Terminal;

    /// <summary>Whether the type ends the whole execution (<c>WORKFLOW_EXECUTION_COMPLETED</c>, <c>_FAILED</c>, <c>_CANCELED</c>).</summary>
    public bool EndsExecution => IsTerminal && Kind == TaskKind.Workflow;

    /// <summary>The wire name as UTF-8 bytes, for writers.</summary>
    public byte[] WireNameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(WireName);
}

/// <summary>The table of event types (<see cref="EventTypeInfo"/>) and shortcuts to it.</summary>
public static class EventTypes
{
    private static readonly EventTypeInfo[] Table =
    [
        new(EventType.WorkflowExecutionStarted, "WORKFLOW_EXECUTION_STARTED", TaskKind.Workflow, EventRole.Start, AttributeShape.Input),
        new(EventType.WorkflowExecutionCompleted, "WORKFLOW_EXECUTION_COMPLETED", TaskKind.Workflow, EventRole.Terminal, AttributeShape.Result, CustomTaskStatus.Completed),
        new(EventType.WorkflowExecutionFailed, "WORKFLOW_EXECUTION_FAILED", TaskKind.Workflow, EventRole.Terminal, AttributeShape.Failure, CustomTaskStatus.Failed),
        new(EventType.WorkflowExecutionCanceled, "WORKFLOW_EXECUTION_CANCELED", TaskKind.Workflow, EventRole.Terminal, AttributeShape.Reason, CustomTaskStatus.Canceled),
        new(EventType.WorkflowExecutionContinuedAsNew, "WORKFLOW_EXECUTION_CONTINUED_AS_NEW", TaskKind.Workflow, EventRole.NotPublished, AttributeShape.None),
        new(EventType.WorkflowTaskTimedOut, "WORKFLOW_TASK_TIMED_OUT", TaskKind.Workflow, EventRole.NotPublished, AttributeShape.None),
        new(EventType.WorkflowTaskFailed, "WORKFLOW_TASK_FAILED", TaskKind.Workflow, EventRole.NotPublished, AttributeShape.None),
        new(EventType.CustomTaskStarted, "CUSTOM_TASK_STARTED", TaskKind.Custom, EventRole.Start, AttributeShape.State),
        new(EventType.CustomTaskInProgress, "CUSTOM_TASK_IN_PROGRESS", TaskKind.Custom, EventRole.Progress, AttributeShape.State),
        new(EventType.CustomTaskCompleted, "CUSTOM_TASK_COMPLETED", TaskKind.Custom, EventRole.Terminal, AttributeShape.State, CustomTaskStatus.Completed),
        new(EventType.CustomTaskFailed, "CUSTOM_TASK_FAILED", TaskKind.Custom, EventRole.Terminal, AttributeShape.Failure, CustomTaskStatus.Failed),
        new(EventType.CustomTaskTimedOut, "CUSTOM_TASK_TIMED_OUT", TaskKind.Custom, EventRole.Terminal, AttributeShape.TimeoutType, CustomTaskStatus.TimedOut),
        new(EventType.CustomTaskCanceled, "CUSTOM_TASK_CANCELED", TaskKind.Custom, EventRole.Terminal, AttributeShape.Reason, CustomTaskStatus.Canceled),
        new(EventType.ActivityTaskStarted, "ACTIVITY_TASK_STARTED", TaskKind.Activity, EventRole.Start, AttributeShape.Input),
        new(EventType.ActivityTaskCompleted, "ACTIVITY_TASK_COMPLETED", TaskKind.Activity, EventRole.Terminal, AttributeShape.Result, CustomTaskStatus.Completed),
        new(EventType.ActivityTaskRetrying, "ACTIVITY_TASK_RETRYING", TaskKind.Activity, EventRole.Progress, AttributeShape.AttemptFailure),
        new(EventType.ActivityTaskFailed, "ACTIVITY_TASK_FAILED", TaskKind.Activity, EventRole.Terminal, AttributeShape.AttemptFailure, CustomTaskStatus.Failed),
    ];

    private static readonly EventTypeInfo?[] ByType = IndexByType();

    private static readonly Dictionary<string, EventTypeInfo> ByWireName = Table.ToDictionary(info => info.WireName, StringComparer.Ordinal);

    /// <summary>Every event type of the wire format.</summary>
    public static IReadOnlyList<EventTypeInfo> All => Table;

    /// <summary>What is known about <paramref name="type"/>.</summary>
    public static EventTypeInfo Info(this EventType type) =>
        Find(type) ?? throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown event type.");

    /// <summary>What is known about <paramref name="type"/>, or <c>null</c> for a value that is no event type.</summary>
    public static EventTypeInfo? Find(EventType type) => (uint)type < (uint)ByType.Length ? ByType[(int)type] : null;

    /// <summary>The wire name, e.g. <c>CUSTOM_TASK_IN_PROGRESS</c>.</summary>
    public static string ToWireName(this EventType type) => type.Info().WireName;

    /// <summary>Parses a wire name such as <c>CUSTOM_TASK_COMPLETED</c>.</summary>
    public static bool TryParse(string? wireName, out EventType type)
    {
        var found = ByWireName.TryGetValue(wireName ?? string.Empty, out var info);
        type = found ? info!.Type : default;
        return found;
    }

    /// <summary>Whether the type ends its task (a custom task, an activity or the execution).</summary>
    public static bool IsTerminal(this EventType type) => Find(type) is { IsTerminal: true };

    /// <summary>Whether the type ends the whole execution.</summary>
    public static bool EndsExecution(this EventType type) => Find(type) is { EndsExecution: true };

    /// <summary>The task status a terminal event type leads to.</summary>
    public static CustomTaskStatus ToTerminalStatus(this EventType type) =>
        type.Info().EndsWith ?? throw new ArgumentOutOfRangeException(nameof(type), type, "Not a terminal event type.");

    /// <summary>The types a task of <paramref name="kind"/> publishes in <paramref name="role"/>.</summary>
    public static IEnumerable<EventTypeInfo> Of(TaskKind kind, EventRole role) => Table.Where(info => info.Kind == kind && info.Role == role);

    private static EventTypeInfo?[] IndexByType()
    {
        var index = new EventTypeInfo?[Table.Max(info => (int)info.Type) + 1];
        foreach (var info in Table)
        {
            index[(int)info.Type] = info;
        }

        return index;
    }

    /// <summary>The type that opens a task of <paramref name="kind"/>.</summary>
    public static EventType StartOf(TaskKind kind) => kind switch
    {
        TaskKind.Workflow => EventType.WorkflowExecutionStarted,
        TaskKind.Activity => EventType.ActivityTaskStarted,
        _ => EventType.CustomTaskStarted,
    };
}

/// <summary>The lifecycle status of a task (custom task, activity or the execution itself).</summary>
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
