using System.Text.Json;
using StreamingEvents.Contracts;

namespace StreamingEvents.Frontend.Endpoints;

/// <summary>The <c>workflow_context</c> of a task, as posted. Absent values get the SDK's documented defaults.</summary>
public sealed record WorkflowContextModel(
    string? Namespace, string? WorkflowName, string? WorkflowExecId, string? WorkflowRunId, string? ParentWorkflowExecId, string? RootWorkflowExecId);

/// <summary><c>POST /v1/tasks</c>.</summary>
public sealed record CreateTaskRequest(
    string Type, JsonElement State, WorkflowContextModel? WorkflowContext, string? TaskId, JsonElement? Metadata, string? ActivityName, string? ActivityId);

/// <summary>The answer to <c>POST /v1/tasks</c>: the task and its <c>CUSTOM_TASK_STARTED</c> event.</summary>
public sealed record CreateTaskResponse(string TaskId, string Stream, long BrokerSequence, string Namespace, string WorkflowExecId);

/// <summary>
/// <c>POST /v1/tasks/{task_id}/state</c>: an object merged into the state (<c>update</c>, Mistral's <c>update_state</c>),
/// a whole new state (<c>state</c>, <c>set_state</c>), or patch operations (<c>patch</c>); exactly one of them.
/// </summary>
public sealed record UpdateStateRequest(JsonElement? Update, JsonElement? State, JsonElement? Patch);

/// <summary><c>POST /v1/workflows/executions/{execution_id}/start</c>.</summary>
public sealed record StartExecutionRequest(
    string WorkflowName, JsonElement? Input, string? DisplayName, string? RunId, string? ParentWorkflowExecId, string? RootWorkflowExecId);

/// <summary><c>POST /v1/workflows/executions/{execution_id}/complete</c>.</summary>
public sealed record CompleteExecutionRequest(JsonElement? Result);

/// <summary>Mistral's <c>WorkflowExecutionResponse</c>: <c>GET /v1/workflows/executions/{execution_id}</c>.</summary>
public sealed record WorkflowExecutionResponse(
    string WorkflowName,
    string ExecutionId,
    string? ParentExecutionId,
    string RootExecutionId,
    string? RunId,
    string Status,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    long? TotalDurationMs,
    JsonElement? Result)
{
    /// <summary>The response for <paramref name="info"/>.</summary>
    public static WorkflowExecutionResponse From(ExecutionInfo info)
    {
        var context = info.Context;
        return new WorkflowExecutionResponse(
            context.WorkflowName ?? WorkflowContext.DefaultWorkflowName,
            context.WorkflowExecId,
            context.ParentWorkflowExecId,
            context.RootWorkflowExecId ?? context.WorkflowExecId,
            context.WorkflowRunId,
            info.WireStatus,
            info.StartTime,
            info.EndTime,
            info.EndTime is { } end ? (long)(end - info.StartTime).TotalMilliseconds : null,
            info.Result is { } result ? JsonDocument.Parse(result).RootElement : null);
    }
}

/// <summary><c>POST /v1/tasks/{task_id}/complete</c>; without a state, the current one is published.</summary>
public sealed record CompleteTaskRequest(JsonElement? State);

/// <summary><c>POST /v1/tasks/{task_id}/fail</c>.</summary>
public sealed record FailTaskRequest(string Message);

/// <summary><c>POST /v1/tasks/{task_id}/cancel</c>.</summary>
public sealed record CancelTaskRequest(string? Reason);

/// <summary>The number given to a published event.</summary>
public sealed record SequenceResponse(long BrokerSequence);

/// <summary>A task's status and current state.</summary>
public sealed record TaskResponse(
    string TaskId, string Type, string Status, string Namespace, string WorkflowExecId, long StartedSequence, long? TerminalSequence,
    string? ActivityName, string? ActivityId, JsonElement? State);

/// <summary>One execution's stream.</summary>
public sealed record StreamResponse(
    string Namespace, string WorkflowExecId, string WorkflowName, string RootWorkflowExecId, string? ParentWorkflowExecId,
    long Head, long OldestRetained, long RetainedEvents, int TaskCount, int OpenTasks, DateTimeOffset? LastEventAt)
{
    public static StreamResponse From(ExecutionSummary execution) => new(
        execution.Context.Namespace, execution.Context.WorkflowExecId, execution.Context.WorkflowName!, execution.Context.RootWorkflowExecId!,
        execution.Context.ParentWorkflowExecId, execution.Head, execution.OldestRetained,
        Math.Max(0, execution.Head - execution.OldestRetained + 1), execution.TaskCount, execution.OpenTasks, execution.LastEventAt);

    public static StreamResponse From(StreamInfo info) => new(
        info.Execution.Namespace, info.Execution.WorkflowExecId, info.Context!.WorkflowName!, info.Context.RootWorkflowExecId!,
        info.Context.ParentWorkflowExecId, info.Head, info.OldestRetained, info.RetainedEvents, info.TaskCount, info.OpenTasks, info.LastEventAt);
}

/// <summary>Executions, newest first; pass <see cref="NextBefore"/> as <c>before</c> for the next page.</summary>
public sealed record StreamListResponse(IReadOnlyList<StreamResponse> Streams, long? NextBefore);

/// <summary><c>POST /v1/demo</c>.</summary>
public sealed record DemoRequest(int? TokensPerSecond, int? Tokens, int? ProgressSteps);

/// <summary>The execution the demo publishes to.</summary>
public sealed record DemoResponse(string Namespace, string WorkflowExecId, string WorkflowName);

/// <summary><c>POST /v1/stream-tokens</c>: the execution a browser may subscribe to, and for how long (at most the configured lifetime).</summary>
public sealed record StreamTokenRequest(string WorkflowExecId, int? TtlSeconds);

/// <summary>A stream token: pass it as <c>access_token</c> to the SSE routes of its execution until it expires.</summary>
public sealed record StreamTokenResponse(string Token, DateTimeOffset ExpiresAt, string Namespace, string WorkflowExecId);
