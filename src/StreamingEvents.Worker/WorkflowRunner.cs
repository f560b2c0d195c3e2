using Microsoft.Extensions.Options;
using StreamingEvents.Activities;

namespace StreamingEvents.Worker;

/// <summary>
/// Runs simulated workflows: a root execution streaming an LLM response, and a child execution (parent and root set)
/// reporting progress — and, every few workflows, a task that fails halfway. Each task carries its workflow context.
/// A publish that fails (cluster unreachable, storage down) fails the activity, which is logged; nothing is dropped
/// silently, and the next workflow starts once the cluster answers again.
/// </summary>
internal sealed partial class WorkflowRunner(
    IStreamingEventsClient client,
    DemoActivities activities,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<WorkflowRunner> logger,
    IHostApplicationLifetime lifetime) : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;
    private int _workflowNumber;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(Enumerable.Range(0, _options.ConcurrentWorkflows).Select(slot => RunSlotAsync(slot, stoppingToken)));
        if (_options.MaxWorkflows > 0)
        {
            lifetime.StopApplication();
        }
    }

    private async Task RunSlotAsync(int slot, CancellationToken stoppingToken)
    {
        for (var done = 0; !stoppingToken.IsCancellationRequested && (_options.MaxWorkflows == 0 || done < _options.MaxWorkflows); done++)
        {
            var number = Interlocked.Increment(ref _workflowNumber);
            try
            {
                await RunWorkflowAsync(number, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                // An execution of the workflow was canceled from outside (its Stop button, POST …/cancel): its scope
                // published the cancellation; the slot goes on with the next workflow.
                LogWorkflowCanceled(logger, number);
            }
            catch (Exception exception)
            {
                LogWorkflowFailed(logger, exception, number, slot);
            }

            await Task.Delay(_options.PauseBetweenWorkflows, time, stoppingToken);
        }
    }

    private async Task RunWorkflowAsync(int number, CancellationToken cancellationToken)
    {
        var root = new WorkflowContext(
            WorkflowExecId: $"wrk-{Guid.CreateVersion7():N}",
            WorkflowName: "assistant",
            WorkflowRunId: $"run-{Guid.CreateVersion7():N}");
        var child = new WorkflowContext(
            WorkflowExecId: $"wrk-{Guid.CreateVersion7():N}",
            WorkflowName: "indexer",
            WorkflowRunId: $"run-{Guid.CreateVersion7():N}",
            ParentWorkflowExecId: root.WorkflowExecId,
            RootWorkflowExecId: root.WorkflowExecId);
        LogWorkflowStarted(logger, number, root.WorkflowExecId, child.WorkflowExecId);

        var settings = new TokenStreamSettings(_options.Tokens, _options.TokensPerSecond, Seed: number);
        var perStep = TimeSpan.FromSeconds(_options.Tokens / _options.TokensPerSecond / Math.Max(1, _options.ProgressSteps));
        var words = string.Join(' ', SimulatedLlm.Tokens(_options.ProgressSteps, number + 1_000_000).Select(t => t.Trim(' ', '.')));
        var failing = _options.FailEvery > 0 && number % _options.FailEvery == 0;

        // Each execution is framed by its lifecycle events (WORKFLOW_EXECUTION_STARTED … _COMPLETED); a cancel of either
        // from outside stops its activities here.
        var work = new List<Task>
        {
            client.RunExecutionAsync(root, (execution, ct) => LogWhenCanceledAsync(execution,
                () => execution.RunActivityAsync("generate", (activity, act) => activities.StreamTokensAsync(activity, settings, act), cancellationToken: ct), cancellationToken),
                cancellationToken: cancellationToken),
            client.RunExecutionAsync(child, (execution, ct) => LogWhenCanceledAsync(execution, async () =>
            {
                var processed = execution.RunActivityAsync("process_words", (activity, act) => activities.ProcessWordsAsync(activity, words, perStep, act), cancellationToken: ct);
                if (failing)
                {
                    await ExpectFailureAsync(activities.FailHalfwayAsync(execution.Context, _options.ProgressSteps, perStep, ct));
                }

                return await processed;
            }, cancellationToken), cancellationToken: cancellationToken),
        };

        await Task.WhenAll(work);
    }

    /// <summary>Logs the moment an execution's work stopped for a cancel from outside (not for the host stopping).</summary>
    private async Task<T> LogWhenCanceledAsync<T>(ExecutionScope execution, Func<Task<T>> body, CancellationToken stopping)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException) when (execution.CancellationToken.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            LogExecutionCanceled(logger, execution.Context.WorkflowExecId, time.GetUtcNow());
            throw;
        }
    }

    private async Task ExpectFailureAsync(Task<int> failing)
    {
        try
        {
            await failing;
        }
        catch (SimulatedFailureException failure)
        {
            // Published as CUSTOM_TASK_FAILED by RunTaskAsync; expected.
            LogSimulatedFailure(logger, failure.Message);
        }
    }

    [LoggerMessage(4001, LogLevel.Information, "Workflow {Number} started: execution {Root} with child {Child}")]
    private static partial void LogWorkflowStarted(ILogger logger, int number, string root, string child);

    [LoggerMessage(4002, LogLevel.Error, "Workflow {Number} (slot {Slot}) failed; its tasks ended as failed where the cluster could be reached")]
    private static partial void LogWorkflowFailed(ILogger logger, Exception exception, int number, int slot);

    [LoggerMessage(4004, LogLevel.Information, "Workflow {Number} was canceled from outside; its scopes published the cancellation")]
    private static partial void LogWorkflowCanceled(ILogger logger, int number);

    [LoggerMessage(4005, LogLevel.Information, "Execution {ExecutionId} canceled: its producers stopped at {StoppedAt:O}")]
    private static partial void LogExecutionCanceled(ILogger logger, string executionId, DateTimeOffset stoppedAt);

    [LoggerMessage(4003, LogLevel.Information, "A task failed as designed: {Message}")]
    private static partial void LogSimulatedFailure(ILogger logger, string message);
}
