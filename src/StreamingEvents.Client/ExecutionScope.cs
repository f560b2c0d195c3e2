using System.Text.Json;
using StreamingEvents.Contracts;
using StreamingEvents.Publishing;

namespace StreamingEvents;

/// <summary>
/// A workflow execution as its stream shows it: <c>WORKFLOW_EXECUTION_STARTED</c> first (published when the scope is
/// opened), then the events of its activities and tasks, then one of <c>WORKFLOW_EXECUTION_COMPLETED</c> (with a result),
/// <c>_FAILED</c> or <c>_CANCELED</c> — all in the execution's one contiguous sequence, so that a consumer that loops
/// until the workflow's terminal event (as Mistral's documentation does) ends.
/// </summary>
/// <remarks>
/// <para>Open one with <see cref="IStreamingEventsClient.StartExecutionAsync"/> in an <c>await using</c>, or run a body
/// with <see cref="IStreamingEventsClient.RunExecutionAsync{TResult}"/>, which publishes FAILED when it throws. Leaving
/// the scope without ending it publishes COMPLETED with no result, or CANCELED if the start's token was canceled.</para>
/// <para><b>Stop.</b> <see cref="CancellationToken"/> fires when the execution is canceled from outside
/// (<c>POST /v1/workflows/executions/{id}/cancel</c>) or ended for inactivity: the service has then already ended every open
/// task and the execution; leaving the scope publishes nothing more. Each event is published exactly once, retried like
/// <see cref="TaskHandle{TState}"/>'s.</para>
/// </remarks>
public sealed class ExecutionScope : IAsyncDisposable
{
    private readonly StreamingEventsClient _client;
    private readonly LifecyclePublisher _publisher;
    private readonly JsonSerializerOptions _json;
    private readonly ExecutionControl.Lease _lease;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationToken _lifetime;

    internal ExecutionScope(StreamingEventsClient client, WorkflowContext context, LifecyclePublisher publisher, JsonSerializerOptions json,
        ExecutionControl.Lease lease, CancellationToken lifetime)
    {
        _client = client;
        _publisher = publisher;
        _json = json;
        _lease = lease;
        _lifetime = lifetime;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        lease.Propagate(_stop);
        Context = context;
    }

    /// <summary>The execution's context (normalized: its name, run id and root are filled in).</summary>
    public WorkflowContext Context { get; }

    /// <summary>The execution.</summary>
    public ExecutionId Execution => Context.Execution;

    /// <summary>The <c>broker_sequence</c> of <c>WORKFLOW_EXECUTION_STARTED</c>.</summary>
    public long StartedSequence => _publisher.Started.BrokerSequence;

    /// <summary>Whether the execution's terminal event was published (here or from outside).</summary>
    public bool IsEnded => _publisher.Ended || _lease.Token.IsCancellationRequested;

    /// <summary>
    /// Fires when the work of the execution should stop: the token given at start was canceled, or the execution was
    /// canceled from outside or ended for inactivity (then it has already ended).
    /// </summary>
    public CancellationToken CancellationToken => _stop.Token;

    /// <summary>Publishes <c>WORKFLOW_EXECUTION_COMPLETED</c> with <paramref name="result"/> (any JSON value).</summary>
    /// <exception cref="TaskAlreadyFinishedException">The execution already ended.</exception>
    /// <exception cref="EventTooLargeException">The result is over 1 MiB.</exception>
    public Task<long> CompleteAsync<TResult>(TResult result, CancellationToken cancellationToken = default) =>
        _publisher.PublishAsync(TaskEventDraft.WorkflowCompleted(Payloads.Serialize(result, _json)), cancellationToken);

    /// <summary>Publishes <c>WORKFLOW_EXECUTION_COMPLETED</c> with no result.</summary>
    public Task<long> CompleteAsync(CancellationToken cancellationToken = default) =>
        _publisher.PublishAsync(TaskEventDraft.WorkflowCompleted(Payloads.Null), cancellationToken);

    /// <summary>
    /// Publishes <c>WORKFLOW_EXECUTION_FAILED</c> with <paramref name="message"/>; open tasks of the execution end first
    /// (custom tasks CANCELED, activities FAILED), in the same sequence.
    /// </summary>
    public Task<long> FailAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _publisher.PublishAsync(TaskEventDraft.WorkflowFailed(message), cancellationToken);
    }

    /// <summary>Publishes <c>WORKFLOW_EXECUTION_FAILED</c> with the exception's message.</summary>
    public Task<long> FailAsync(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return FailAsync(exception.Message, cancellationToken);
    }

    /// <summary>Publishes <c>WORKFLOW_EXECUTION_CANCELED</c>; open tasks of the execution end first, canceled.</summary>
    public Task<long> CancelAsync(string? reason = null, CancellationToken cancellationToken = default) =>
        _publisher.PublishAsync(TaskEventDraft.WorkflowCanceled(reason), cancellationToken);

    /// <summary>Opens a task of this execution (see <see cref="IStreamingEventsClient.StartTaskAsync{TState}"/>).</summary>
    public Task<TaskHandle<TState>> StartTaskAsync<TState>(string type, TState initialState, TaskOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.StartTaskAsync(Context, type, initialState, options, Linked(cancellationToken));

    /// <summary>Runs a task of this execution (see <see cref="IStreamingEventsClient.RunTaskAsync{TState,TResult}"/>).</summary>
    public Task<TResult> RunTaskAsync<TState, TResult>(string type, TState initialState, Func<TaskHandle<TState>, CancellationToken, Task<TResult>> body,
        TaskOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.RunTaskAsync(Context, type, initialState, body, options, Linked(cancellationToken));

    /// <summary>
    /// Opens an activity of this execution: publishes <c>ACTIVITY_TASK_STARTED</c> with <paramref name="input"/>; the tasks
    /// opened through the scope carry its name and id.
    /// </summary>
    public Task<ActivityScope> StartActivityAsync(string activityName, object? input = null, ActivityOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.StartActivityAsync(Context, activityName, input, options, Linked(cancellationToken));

    /// <summary>
    /// Runs <paramref name="body"/> as an activity, up to <see cref="ActivityOptions.MaxAttempts"/> times: COMPLETED with its
    /// result, <c>ACTIVITY_TASK_RETRYING</c> (with the attempt) after an attempt that threw while attempts remain,
    /// FAILED after the last. The body's last exception is rethrown; a cancellation is not retried.
    /// </summary>
    public Task<TResult> RunActivityAsync<TResult>(string activityName, Func<ActivityScope, CancellationToken, Task<TResult>> body,
        object? input = null, ActivityOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.RunActivityAsync(Context, activityName, body, input, options, Linked(cancellationToken));

    /// <summary>
    /// Publishes the terminal event unless one was: COMPLETED with no result, or CANCELED when the start's token was
    /// canceled. Nothing when the execution was ended from outside.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!IsEnded)
            {
                await (_lifetime.IsCancellationRequested ? CancelAsync("canceled") : CompleteAsync());
            }
        }
        catch (TaskAlreadyFinishedException)
        {
            // Ended from outside meanwhile: that is the execution's end.
        }
        finally
        {
            _lease.Dispose();
            _stop.Dispose();
            _publisher.Dispose();
        }
    }

    /// <summary>
    /// The caller's token when it has one, else the scope's. Not linked: a linked source per call would stay registered
    /// on the scope's token until the scope ends; a cancel of the execution reaches each task through its own watch.
    /// </summary>
    private CancellationToken Linked(CancellationToken cancellationToken) => cancellationToken.CanBeCanceled ? cancellationToken : CancellationToken;
}
