using System.Text.Json;
using StreamingEvents.Contracts;
using StreamingEvents.Publishing;

namespace StreamingEvents;

/// <summary>How an activity is run.</summary>
public sealed class ActivityOptions
{
    /// <summary>The activity's id (its lifecycle's <c>task_id</c>); a new one by default.</summary>
    public string? ActivityId { get; init; }

    /// <summary>How many times <c>RunActivityAsync</c> runs the body before the activity fails (1 by default: no retry).</summary>
    public int MaxAttempts { get; init; } = 1;
}

/// <summary>
/// One activity of an execution as its stream shows it: <c>ACTIVITY_TASK_STARTED</c> with its input when opened, then its
/// tasks (which carry the activity's name and id), <c>ACTIVITY_TASK_RETRYING</c> between attempts, and
/// <c>ACTIVITY_TASK_COMPLETED</c> with its result or <c>ACTIVITY_TASK_FAILED</c> with the attempt that failed last.
/// Leaving an <c>await using</c> scope without ending it publishes COMPLETED with no result.
/// </summary>
public sealed class ActivityScope : IAsyncDisposable
{
    private readonly StreamingEventsClient _client;
    private readonly LifecyclePublisher _publisher;
    private readonly JsonSerializerOptions _json;
    private readonly ExecutionControl.Lease _lease;
    private readonly CancellationTokenSource _stop;

    internal ActivityScope(StreamingEventsClient client, WorkflowContext context, string activityName, LifecyclePublisher publisher,
        JsonSerializerOptions json, ExecutionControl.Lease lease, CancellationToken lifetime)
    {
        _client = client;
        _publisher = publisher;
        _json = json;
        _lease = lease;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        lease.Propagate(_stop);
        Context = context;
        ActivityName = activityName;
    }

    /// <summary>The execution's context.</summary>
    public WorkflowContext Context { get; }

    /// <summary>The activity's name (<c>activity_name</c>).</summary>
    public string ActivityName { get; }

    /// <summary>The activity's id: the <c>task_id</c> of its lifecycle events.</summary>
    public string ActivityId => _publisher.TaskId;

    /// <summary>The attempt running now, from 1.</summary>
    public int Attempt { get; private set; } = 1;

    /// <summary>The <c>broker_sequence</c> of <c>ACTIVITY_TASK_STARTED</c>.</summary>
    public long StartedSequence => _publisher.Started.BrokerSequence;

    /// <summary>Whether the activity's terminal event was published (here or from outside).</summary>
    public bool IsEnded => _publisher.Ended || _lease.Token.IsCancellationRequested;

    /// <summary>Fires when the activity's work should stop: the start's token, or its execution canceled from outside.</summary>
    public CancellationToken CancellationToken => _stop.Token;

    /// <summary>Opens a task of this activity (it carries the activity's name and id).</summary>
    public Task<TaskHandle<TState>> StartTaskAsync<TState>(string type, TState initialState, TaskOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.StartTaskAsync(Context, type, initialState, Own(options), cancellationToken.CanBeCanceled ? cancellationToken : CancellationToken);

    /// <summary>Runs a task of this activity (see <see cref="IStreamingEventsClient.RunTaskAsync{TState,TResult}"/>).</summary>
    public Task<TResult> RunTaskAsync<TState, TResult>(string type, TState initialState, Func<TaskHandle<TState>, CancellationToken, Task<TResult>> body,
        TaskOptions? options = null, CancellationToken cancellationToken = default) =>
        _client.RunTaskAsync(Context, type, initialState, body, Own(options), cancellationToken.CanBeCanceled ? cancellationToken : CancellationToken);

    /// <summary>Publishes <c>ACTIVITY_TASK_COMPLETED</c> with <paramref name="result"/>.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The activity already ended.</exception>
    public Task<long> CompleteAsync<TResult>(TResult result, CancellationToken cancellationToken = default) =>
        _publisher.PublishAsync(TaskEventDraft.ActivityCompleted(Payloads.Serialize(result, _json)), cancellationToken);

    /// <summary>Publishes <c>ACTIVITY_TASK_FAILED</c> with <paramref name="message"/> and the current <see cref="Attempt"/>.</summary>
    public Task<long> FailAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _publisher.PublishAsync(TaskEventDraft.ActivityFailed(message, Attempt), cancellationToken);
    }

    /// <summary>
    /// Publishes <c>ACTIVITY_TASK_RETRYING</c>: the current <see cref="Attempt"/> failed with <paramref name="message"/> and
    /// the next one starts (<see cref="Attempt"/> goes up by one).
    /// </summary>
    public async Task<long> RetryAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sequence = await _publisher.PublishAsync(TaskEventDraft.ActivityRetrying(message, Attempt), cancellationToken);
        Attempt++;
        return sequence;
    }

    /// <summary>Publishes COMPLETED with no result unless the activity ended.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!IsEnded)
            {
                await _publisher.PublishAsync(TaskEventDraft.ActivityCompleted(Payloads.Null));
            }
        }
        catch (TaskAlreadyFinishedException)
        {
            // Ended from outside meanwhile (its execution was canceled).
        }
        finally
        {
            _lease.Dispose();
            _stop.Dispose();
            _publisher.Dispose();
        }
    }

    private TaskOptions Own(TaskOptions? options) => options is null
        ? new TaskOptions { ActivityName = ActivityName, ActivityId = ActivityId }
        : new TaskOptions
        {
            TaskId = options.TaskId,
            Metadata = options.Metadata,
            ActivityName = ActivityName,
            ActivityId = ActivityId,
            StateUpdates = options.StateUpdates,
        };
}
