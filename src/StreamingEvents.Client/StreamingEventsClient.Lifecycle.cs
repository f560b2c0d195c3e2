using StreamingEvents.Contracts;
using StreamingEvents.Publishing;

namespace StreamingEvents;

/// <summary>Executions and activities: their lifecycle events, status and cancel.</summary>
public sealed partial class StreamingEventsClient
{
    /// <inheritdoc/>
    public async Task<ExecutionScope> StartExecutionAsync(WorkflowContext context, object? input = null, string? displayName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var normalized = context.Normalize();
        var start = new TaskStart(Lifecycle.WorkflowTaskId(normalized.Execution), normalized, Lifecycle.WorkflowStream,
            Payloads.Serialize(input, _options.JsonSerializerOptions), null, ProducerId: Guid.NewGuid().ToString("N"), Kind: TaskKind.Workflow, DisplayName: displayName);
        var (publisher, lease) = await StartLifecycleAsync(start, cancellationToken);
        return new ExecutionScope(this, normalized, publisher, _options.JsonSerializerOptions, lease, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<TResult> RunExecutionAsync<TResult>(WorkflowContext context, Func<ExecutionScope, CancellationToken, Task<TResult>> body,
        object? input = null, string? displayName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        await using var execution = await StartExecutionAsync(context, input, displayName, cancellationToken);
        TResult result;
        try
        {
            result = await body(execution, execution.CancellationToken);
        }
        catch (OperationCanceledException) when (execution.CancellationToken.IsCancellationRequested)
        {
            await EndAfterBodyAsync(execution.IsEnded, execution.Context.WorkflowExecId, () => execution.CancelAsync("canceled"));
            throw;
        }
        catch (Exception exception)
        {
            await EndAfterBodyAsync(execution.IsEnded, execution.Context.WorkflowExecId, () => execution.FailAsync(exception));
            throw;
        }

        if (!execution.IsEnded)
        {
            await execution.CompleteAsync(result, CancellationToken.None);
        }

        return result;
    }

    /// <inheritdoc/>
    public async Task<ActivityScope> StartActivityAsync(WorkflowContext context, string activityName, object? input = null, ActivityOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        Names.ValidateIdentifier(activityName, "activity_name");
        var normalized = context.Normalize();
        var activityId = options?.ActivityId is { } id ? Names.ValidateIdentifier(id, "activity_id") : "act_" + Guid.CreateVersion7().ToString("N");
        var start = new TaskStart(activityId, normalized, Lifecycle.ActivityStream, Payloads.Serialize(input, _options.JsonSerializerOptions), null,
            activityName, activityId, ProducerId: Guid.NewGuid().ToString("N"), Kind: TaskKind.Activity);
        var (publisher, lease) = await StartLifecycleAsync(start, cancellationToken);
        return new ActivityScope(this, normalized, activityName, publisher, _options.JsonSerializerOptions, lease, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<TResult> RunActivityAsync<TResult>(WorkflowContext context, string activityName, Func<ActivityScope, CancellationToken, Task<TResult>> body,
        object? input = null, ActivityOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var maxAttempts = options?.MaxAttempts ?? 1;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        await using var activity = await StartActivityAsync(context, activityName, input, options, cancellationToken);
        while (true)
        {
            TResult result;
            try
            {
                result = await body(activity, activity.CancellationToken);
            }
            catch (OperationCanceledException) when (activity.CancellationToken.IsCancellationRequested)
            {
                await EndAfterBodyAsync(activity.IsEnded, activity.ActivityId, () => activity.FailAsync("canceled"));
                throw;
            }
            catch (Exception exception) when (activity.Attempt < maxAttempts && !activity.IsEnded)
            {
                await activity.RetryAsync(exception.Message, CancellationToken.None);
                continue;
            }
            catch (Exception exception)
            {
                await EndAfterBodyAsync(activity.IsEnded, activity.ActivityId, () => activity.FailAsync(exception.Message));
                throw;
            }

            if (!activity.IsEnded)
            {
                await activity.CompleteAsync(result, CancellationToken.None);
            }

            return result;
        }
    }

    /// <inheritdoc/>
    public Task<ExecutionInfo> GetExecutionAsync(ExecutionId execution, CancellationToken cancellationToken = default) =>
        cluster.GetGrain<IExecutionStreamGrain>(execution.Key).GetExecutionAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<ExecutionInfo> CancelExecutionAsync(ExecutionId execution, string? reason = null, CancellationToken cancellationToken = default) =>
        cluster.GetGrain<IExecutionStreamGrain>(execution.Key).CancelExecutionAsync(reason).WaitAsync(cancellationToken);

    private async Task<(LifecyclePublisher, ExecutionControl.Lease)> StartLifecycleAsync(TaskStart start, CancellationToken cancellationToken)
    {
        var retry = new PublishRetry(_options.PublishRetryBudget, _time, _options.PublishHedgeDelay);
        var lease = Control.Watch(start.Context.Execution, start.TaskId);
        try
        {
            var publisher = await LifecyclePublisher.StartAsync(cluster, start, retry, cancellationToken);
            await lease.Ready;
            return (publisher, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Publishes the lifecycle's terminal event after a body threw; the body's exception is what the caller sees.</summary>
    private async Task EndAfterBodyAsync(bool ended, string taskId, Func<Task<long>> end)
    {
        if (ended)
        {
            return;
        }

        try
        {
            await end();
        }
        catch (StreamingEventsException exception)
        {
            LogTerminalNotPublished(exception, taskId);
        }
    }
}
