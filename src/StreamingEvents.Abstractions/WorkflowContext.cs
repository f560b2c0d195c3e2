namespace StreamingEvents;

/// <summary>
/// The workflow a task publishes from. Published events carry it in <c>data</c> and <c>workflow_context</c>.
/// Unset values get the documented defaults from <see cref="Normalize"/>.
/// </summary>
/// <param name="WorkflowExecId">The execution id; with <paramref name="Namespace"/> it selects the sequence domain.</param>
/// <param name="WorkflowName">The workflow's name; defaults to <see cref="DefaultWorkflowName"/>.</param>
/// <param name="WorkflowRunId">The run id; defaults to the execution id.</param>
/// <param name="ParentWorkflowExecId">The parent execution, if this is a child workflow.</param>
/// <param name="RootWorkflowExecId">The root execution; defaults to the execution id.</param>
/// <param name="Namespace">The namespace (tenant); defaults to <see cref="DefaultNamespace"/>.</param>
[GenerateSerializer, Immutable, Alias("se.WorkflowContext")]
public sealed record WorkflowContext(
    [property: Id(0)] string WorkflowExecId,
    [property: Id(1)] string? WorkflowName = null,
    [property: Id(2)] string? WorkflowRunId = null,
    [property: Id(3)] string? ParentWorkflowExecId = null,
    [property: Id(4)] string? RootWorkflowExecId = null,
    [property: Id(5)] string Namespace = WorkflowContext.DefaultNamespace)
{
    /// <summary>The namespace used when none is given.</summary>
    public const string DefaultNamespace = "default";

    /// <summary>The workflow name used when none is given.</summary>
    public const string DefaultWorkflowName = "workflow";

    /// <summary>The execution this context belongs to.</summary>
    public ExecutionId Execution => new(Namespace, WorkflowExecId);

    /// <summary>
    /// Validates every field and fills the defaults: <c>workflow_name</c> = <see cref="DefaultWorkflowName"/>,
    /// <c>workflow_run_id</c> and <c>root_workflow_exec_id</c> = the execution id.
    /// </summary>
    /// <exception cref="InvalidIdentifierException">A field breaks the naming rules.</exception>
    public WorkflowContext Normalize()
    {
        Names.ValidateNamespace(Namespace);
        Names.ValidateIdentifier(WorkflowExecId, "workflow_exec_id");
        var normalized = this with
        {
            WorkflowName = WorkflowName ?? DefaultWorkflowName,
            WorkflowRunId = WorkflowRunId ?? WorkflowExecId,
            RootWorkflowExecId = RootWorkflowExecId ?? WorkflowExecId,
        };
        Names.ValidateWorkflowName(normalized.WorkflowName);
        Names.ValidateIdentifier(normalized.WorkflowRunId, "workflow_run_id");
        Names.ValidateIdentifier(normalized.RootWorkflowExecId, "root_workflow_exec_id");
        if (ParentWorkflowExecId is not null)
        {
            Names.ValidateIdentifier(ParentWorkflowExecId, "parent_workflow_exec_id");
        }

        return normalized;
    }
}
