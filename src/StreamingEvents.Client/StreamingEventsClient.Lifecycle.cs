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
        catch (Exception exception)
        {
            var token = execution.CancellationToken;
            var endedElsewhere = execution.IsEnded || token.IsCancellationRequested;
            endedElsewhere |= await EndAfterBodyAsync(execution.IsEnded, execution.Context.WorkflowExecId,
                IsCancellation(exception, token) ? () => execution.CancelAsync("canceled") : () => execution.FailAsync(exception));
            if (CanceledInstead(exception, endedElsewhere, token) is { } canceled)
            {
                throw canceled;
            }

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
            catch (Exception exception)
            {
                var token = activity.CancellationToken;
                var cancellation = IsCancellation(exception, token);
                var endedElsewhere = activity.IsEnded || token.IsCancellationRequested;
                if (!cancellation && !endedElsewhere && activity.Attempt < maxAttempts)
                {
                    if (await TryRetryAsync(activity, exception))
                    {
                        continue;
                    }

                    endedElsewhere = true;
                }

                endedElsewhere |= await EndAfterBodyAsync(activity.IsEnded, activity.ActivityId, () => activity.FailAsync(cancellation ? "canceled" : exception.Message));
                if (CanceledInstead(exception, endedElsewhere, token) is { } canceled)
                {
                    throw canceled;
                }

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
            var publisher = await LifecyclePublisher.StartAsync(cluster, start, retry, lease.End, cancellationToken);
            await lease.Ready;
            return (publisher, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Whether a body's exception is its own cancellation: an <see cref="OperationCanceledException"/> once its token fired.</summary>
    internal static bool IsCancellation(Exception exception, CancellationToken token) => exception is OperationCanceledException && token.IsCancellationRequested;

    /// <summary>
    /// What a scope helper throws instead of the body's exception: when the work was ended elsewhere before the helper
    /// could end it — a cancel from outside reached this process, or the terminal event was refused because one had
    /// already ended it (the refusal can come before the notice) — the caller sees an
    /// <see cref="OperationCanceledException"/> for the scope's token, with the body's exception inside, not a failure.
    /// <c>null</c>: rethrow the body's exception.
    /// </summary>
    internal static OperationCanceledException? CanceledInstead(Exception exception, bool endedElsewhere, CancellationToken token) =>
        exception is not OperationCanceledException && endedElsewhere
            ? new OperationCanceledException($"Canceled while running: {exception.Message}", exception, token)
            : null;

    /// <summary>Publishes <c>ACTIVITY_TASK_RETRYING</c>; <c>false</c> when the activity was ended from outside meanwhile.</summary>
    private static async Task<bool> TryRetryAsync(ActivityScope activity, Exception exception)
    {
        try
        {
            await activity.RetryAsync(exception.Message, CancellationToken.None);
            return true;
        }
        catch (Exception refused) when (refused is TaskAlreadyFinishedException or ExecutionFinishedException)
        {
            // Canceled from outside: the refusal fired the activity's token; the caller sees the cancellation.
            return false;
        }
    }

    /// <summary>Publishes the lifecycle's terminal event after a body threw; the body's exception is what the caller sees.</summary>
    /// <returns>Whether the terminal event was refused because the lifecycle had already been ended elsewhere.</returns>
    private async Task<bool> EndAfterBodyAsync(bool ended, string taskId, Func<Task<long>> end)
    {
        if (ended)
        {
            return false;
        }

        try
        {
            await end();
            return false;
        }
        catch (Exception refused) when (refused is TaskAlreadyFinishedException or ExecutionFinishedException)
        {
            return true;
        }
        catch (StreamingEventsException exception)
        {
            LogTerminalNotPublished(exception, taskId);
            return false;
        }
    }
}
