namespace StreamingEvents.Contracts;

/// <summary>
/// The stream of one workflow execution (key: <see cref="ExecutionId.Key"/>). It owns the execution's sequence counter
/// and retained events, numbers every event of every topic contiguously, acknowledges only durable events, pushes
/// them live and serves replays.
/// </summary>
public interface IExecutionStreamGrain : IGrainWithStringKey
{
    /// <summary>Publishes a task's <c>CUSTOM_TASK_STARTED</c> event.</summary>
    Task<AppendReceipt> StartTaskAsync(TaskStart start);

    /// <summary>
    /// Publishes events of an open task, numbered contiguously, once they are durable. Events the request's publisher
    /// already stored (by publish sequence, or by request key) answer their original numbers and are not stored again.
    /// </summary>
    Task<AppendReceipt> AppendAsync(string taskId, PublishRequest request);

    /// <summary>Reads stored events in order. A caller that gives up cancels <paramref name="cancellationToken"/>: a read
    /// still waiting for its turn then never runs, and one running is stopped.</summary>
    /// <exception cref="StreamPositionExpiredException">The position is older than the oldest retained event.</exception>
    Task<EventPage> ReadAsync(ReadRequest request, CancellationToken cancellationToken = default);

    /// <summary>The stream's head, retention and task counts.</summary>
    Task<StreamInfo> GetInfoAsync();

    /// <summary>The status of a task of this execution.</summary>
    Task<TaskInfo?> GetTaskAsync(string taskId);

    /// <summary>
    /// A task's whole state just before <paramref name="beforeSequence"/> (the latest by default), folded from its
    /// retained events; <c>null</c> if unknown (its start is no longer retained). Throws
    /// <see cref="StreamPositionExpiredException"/> when retention removes events of the task while they are folded.
    /// </summary>
    Task<byte[]?> GetTaskStateAsync(string taskId, long beforeSequence = long.MaxValue);

    /// <summary>A task's latest whole state and the publish sequence it includes; <c>null</c> for an unknown task.</summary>
    Task<TaskSnapshot?> GetTaskSnapshotAsync(string taskId);

    /// <summary>Applies retention (count, bytes and age) now rather than at the next append or maintenance tick.</summary>
    Task<StreamInfo> ApplyRetentionAsync();

    /// <summary>Times out open tasks that have been silent longer than the configured inactivity timeout.</summary>
    Task CheckTimeoutsAsync();

    /// <summary>The execution's lifecycle: status, start and end, result.</summary>
    Task<ExecutionInfo> GetExecutionAsync();

    /// <summary>
    /// Cancels the execution: every open task ends (<c>CUSTOM_TASK_CANCELED</c>, an activity <c>ACTIVITY_TASK_FAILED</c>),
    /// then <c>WORKFLOW_EXECUTION_CANCELED</c>, in one commit; the producers watching it are told. Canceling an execution
    /// that already ended does nothing. Returns the execution as it is afterwards.
    /// </summary>
    Task<ExecutionInfo> CancelExecutionAsync(string? reason);

    /// <summary>
    /// Tells <paramref name="observer"/> when tasks of this execution are canceled from outside (held in memory; a new
    /// activation forgets it, and producers then learn of a cancel from their next publish).
    /// </summary>
    Task WatchAsync(IExecutionControlObserver observer);

    /// <summary>Stops telling <paramref name="observer"/>.</summary>
    Task UnwatchAsync(IExecutionControlObserver observer);
}
