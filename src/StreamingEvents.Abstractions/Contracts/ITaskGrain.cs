namespace StreamingEvents.Contracts;

/// <summary>
/// One custom task (key: its task id). It holds the task's state and status, orders its calls, and forwards every
/// event to its execution's <see cref="IExecutionStreamGrain"/>.
/// </summary>
public interface ITaskGrain : IGrainWithStringKey
{
    /// <summary>Opens the task and publishes <c>CUSTOM_TASK_STARTED</c>.</summary>
    /// <exception cref="TaskAlreadyExistsException">The id was used before.</exception>
    Task<TaskStarted> StartAsync(TaskStart start);

    /// <summary>Publishes in-progress events (whole states or patches), in order.</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    Task<AppendReceipt> UpdateAsync(TaskEventDraft[] updates);

    /// <summary>Publishes the task's one terminal event (completed, failed or canceled).</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    Task<AppendReceipt> FinishAsync(TaskEventDraft terminal);

    /// <summary>The task's status.</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    Task<TaskInfo> GetInfoAsync();

    /// <summary>The task's current whole state as UTF-8 JSON, or <c>null</c> if it is no longer known.</summary>
    Task<byte[]?> GetStateAsync();
}
