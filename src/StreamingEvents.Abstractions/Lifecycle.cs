using System.Security.Cryptography;
using System.Text;

namespace StreamingEvents;

/// <summary>
/// How the lifecycle of an execution and of its activities appears on the stream: as tasks of their own kind, whose
/// events carry the <c>stream</c> (topic) <see cref="WorkflowStream"/> or <see cref="ActivityStream"/>.
/// </summary>
public static class Lifecycle
{
    /// <summary>The <c>stream</c> of <c>WORKFLOW_EXECUTION_*</c> events.</summary>
    public const string WorkflowStream = "workflow";

    /// <summary>The <c>stream</c> of <c>ACTIVITY_TASK_*</c> events.</summary>
    public const string ActivityStream = "activity";

    private const string WorkflowTaskPrefix = "workflow:";

    /// <summary>
    /// The task id of an execution's own lifecycle (the <c>task_id</c> of its <c>WORKFLOW_EXECUTION_*</c> events): one per
    /// execution, derived from its id so that every publisher of the execution names the same task.
    /// </summary>
    public static string WorkflowTaskId(ExecutionId execution)
    {
        var id = WorkflowTaskPrefix + execution.WorkflowExecId;
        return id.Length <= Names.MaxIdentifierLength
            ? id
            : WorkflowTaskPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(execution.WorkflowExecId)), 0, 16);
    }

    /// <summary>The stream (topic) of a task of <paramref name="kind"/> with type <paramref name="type"/>.</summary>
    public static string StreamOf(TaskKind kind, string type) => kind switch
    {
        TaskKind.Workflow => WorkflowStream,
        TaskKind.Activity => ActivityStream,
        _ => type,
    };
}
