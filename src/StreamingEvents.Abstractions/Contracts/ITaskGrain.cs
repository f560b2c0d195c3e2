namespace StreamingEvents.Contracts;

/// <summary>
/// One custom task (key: <see cref="TaskAddress.Key"/>). It holds the task's state and status, orders its calls, and
/// forwards every event to its execution's <see cref="IExecutionStreamGrain"/>, which stores each exactly once.
/// </summary>
public interface ITaskGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens the task and publishes <c>CUSTOM_TASK_STARTED</c>. The same start sent again (same producer id) answers the
    /// original receipt.
    /// </summary>
    /// <exception cref="TaskAlreadyExistsException">The id was used before by another start.</exception>
    Task<TaskStarted> StartAsync(TaskStart start);

    /// <summary>Publishes in-progress events (whole states or patches), in order, each exactly once.</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended.</exception>
    /// <exception cref="ProducerFencedException">A newer publisher took the task over.</exception>
    /// <exception cref="PublishSequenceGapException">Earlier events of this publisher are missing.</exception>
    Task<AppendReceipt> UpdateAsync(PublishRequest request);

    /// <summary>Publishes the task's one terminal event (completed, failed or canceled): the request's only event.</summary>
    /// <exception cref="TaskAlreadyFinishedException">The task already ended (and not with this very request).</exception>
    Task<AppendReceipt> FinishAsync(PublishRequest request);

    /// <summary>The task's status.</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    Task<TaskInfo> GetInfoAsync();

    /// <summary>The task's current whole state as UTF-8 JSON, or <c>null</c> if it is no longer known.</summary>
    Task<byte[]?> GetStateAsync();
}

/// <summary>Finds task grains by address.</summary>
public static class TaskGrains
{
    /// <summary>The grain of the task at <paramref name="address"/>.</summary>
    public static ITaskGrain GetTaskGrain(this IGrainFactory grains, TaskAddress address)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<ITaskGrain>(address.Key);
    }
}
