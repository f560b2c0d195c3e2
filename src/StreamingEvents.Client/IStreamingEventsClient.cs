using System.Text.Json.Nodes;
using StreamingEvents.Contracts;

namespace StreamingEvents;

/// <summary>
/// Publishes tasks to, and subscribes to, the streams of workflow executions. Register it with
/// <c>services.AddStreamingEventsClient()</c> next to an Orleans client or silo.
/// </summary>
public interface IStreamingEventsClient
{
    /// <summary>A publisher and subscriber bound to one workflow execution.</summary>
    ExecutionStreams ForExecution(WorkflowContext context);

    /// <summary>
    /// Opens a task on topic <paramref name="type"/>, publishing <c>CUSTOM_TASK_STARTED</c> with the initial state. A start
    /// whose outcome is unknown is sent again (stored once) within <see cref="StreamingEventsClientOptions.PublishRetryBudget"/>;
    /// if <paramref name="cancellationToken"/> is canceled meanwhile and the start turns out stored, the task is ended as
    /// canceled. The token also stays the handle's lifetime: canceled when the handle is disposed, the task ends canceled.
    /// </summary>
    /// <exception cref="InvalidStreamNameException"><paramref name="type"/> breaks the naming rule.</exception>
    /// <exception cref="TaskAlreadyExistsException">An explicit task id was used before in the namespace.</exception>
    /// <exception cref="EventTooLargeException">The initial state is over 1 MiB.</exception>
    /// <exception cref="PublishOutcomeUnknownException">No answer within the retry budget.</exception>
    Task<TaskHandle<TState>> StartTaskAsync<TState>(WorkflowContext context, string type, TState initialState, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="body"/> as a task: COMPLETED when it returns (with the task's current state, unless the body
    /// ended the task itself), FAILED with the exception's message when it throws, CANCELED when it is canceled through
    /// <paramref name="cancellationToken"/>. The body's exception is rethrown.
    /// </summary>
    Task<TResult> RunTaskAsync<TState, TResult>(WorkflowContext context, string type, TState initialState,
        Func<TaskHandle<TState>, CancellationToken, Task<TResult>> body, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The events of one execution from <paramref name="from"/> (inclusive) on, all topics or only <paramref name="topic"/>:
    /// the retained history in order, then live events as they are published, with no gap and no duplicate in between.
    /// Ends only when canceled. To resume, pass <see cref="StreamPosition.After"/> of the last event received.
    /// </summary>
    /// <exception cref="StreamPositionExpiredException">The position is older than the oldest retained event.</exception>
    IAsyncEnumerable<StreamEvent> SubscribeAsync(ExecutionId execution, StreamPosition from = default, string? topic = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The events of every execution matching <paramref name="query"/>, including executions created while it runs:
    /// each execution from <paramref name="startSequence"/> (0: its oldest retained event) or from where
    /// <paramref name="cursor"/> left it, in order per execution, merged in arrival order. Each item carries the cursor
    /// to resume right after it.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="cursor"/> is not a cursor from a previous subscription.</exception>
    /// <exception cref="SubscriptionLimitException">More executions match than one subscription follows.</exception>
    IAsyncEnumerable<CursorEvent> SubscribeManyAsync(ExecutionQuery query, string? cursor = null, long startSequence = 0, string? topic = null, CancellationToken cancellationToken = default);

    /// <summary>Executions matching <paramref name="query"/>, newest first, below <paramref name="beforeStreamId"/> (paging).</summary>
    Task<ExecutionSummary[]> ListExecutionsAsync(ExecutionQuery query, int limit = 50, long beforeStreamId = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>One page of stored events from <paramref name="from"/> (history only; no waiting).</summary>
    /// <exception cref="StreamPositionExpiredException">The position is older than the oldest retained event.</exception>
    Task<EventPage> ReadAsync(ExecutionId execution, StreamPosition from, int maxEvents = 1000, string? topic = null, CancellationToken cancellationToken = default);

    /// <summary>The execution stream's head, retention and task counts.</summary>
    Task<StreamInfo> GetStreamInfoAsync(ExecutionId execution, CancellationToken cancellationToken = default);

    /// <summary>
    /// A task's whole state just before <paramref name="beforeSequence"/> (the latest by default), folded from its
    /// retained events; <c>null</c> when its start is no longer retained.
    /// </summary>
    /// <exception cref="StreamPositionExpiredException">Retention removed events of the task while they were folded.</exception>
    Task<JsonNode?> GetTaskStateAsync(ExecutionId execution, string taskId, long beforeSequence = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>A task's status (task ids are unique within a namespace).</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    Task<TaskInfo> GetTaskAsync(string taskId, string @namespace = WorkflowContext.DefaultNamespace, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens an execution's lifecycle: publishes <c>WORKFLOW_EXECUTION_STARTED</c> with <paramref name="input"/> and
    /// <paramref name="displayName"/>; the scope publishes the execution's terminal event (see <see cref="ExecutionScope"/>).
    /// Canceled through <paramref name="cancellationToken"/>, the execution ends CANCELED when the scope is left.
    /// </summary>
    /// <exception cref="ExecutionFinishedException">The execution already ended.</exception>
    Task<ExecutionScope> StartExecutionAsync(WorkflowContext context, object? input = null, string? displayName = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="body"/> as an execution: <c>WORKFLOW_EXECUTION_COMPLETED</c> with its result when it returns,
    /// <c>_FAILED</c> with the exception's message when it throws, <c>_CANCELED</c> when it is canceled (through
    /// <paramref name="cancellationToken"/>, or from outside: then the service already ended it). The body's exception is rethrown.
    /// </summary>
    Task<TResult> RunExecutionAsync<TResult>(WorkflowContext context, Func<ExecutionScope, CancellationToken, Task<TResult>> body,
        object? input = null, string? displayName = null, CancellationToken cancellationToken = default);

    /// <summary>Opens an activity of an execution: publishes <c>ACTIVITY_TASK_STARTED</c> (see <see cref="ActivityScope"/>).</summary>
    Task<ActivityScope> StartActivityAsync(WorkflowContext context, string activityName, object? input = null, ActivityOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="body"/> as an activity, up to <see cref="ActivityOptions.MaxAttempts"/> times, publishing
    /// <c>ACTIVITY_TASK_RETRYING</c> between attempts, and COMPLETED with its result or FAILED with the last attempt.
    /// </summary>
    Task<TResult> RunActivityAsync<TResult>(WorkflowContext context, string activityName, Func<ActivityScope, CancellationToken, Task<TResult>> body,
        object? input = null, ActivityOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>An execution's status (Mistral's <c>WorkflowExecutionResponse</c>), start and end time and result.</summary>
    /// <exception cref="ExecutionNotFoundException">Nothing was published to the execution.</exception>
    Task<ExecutionInfo> GetExecutionAsync(ExecutionId execution, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels an execution from outside: its open tasks end (custom tasks CANCELED, activities FAILED), then
    /// <c>WORKFLOW_EXECUTION_CANCELED</c>, all durable before this returns; the producers' cancellation tokens then fire.
    /// Canceling an execution that already ended changes nothing and answers its status.
    /// </summary>
    /// <exception cref="ExecutionNotFoundException">Nothing was published to the execution.</exception>
    Task<ExecutionInfo> CancelExecutionAsync(ExecutionId execution, string? reason = null, CancellationToken cancellationToken = default);
}
