namespace StreamingEvents.Contracts;

/// <summary>
/// Which executions a wildcard subscription or listing covers: those of <see cref="Namespace"/> whose context matches
/// every given field (<c>null</c> = any).
/// </summary>
[GenerateSerializer, Immutable, Alias("se.ExecutionQuery")]
public sealed record ExecutionQuery(
    [property: Id(0)] string Namespace = WorkflowContext.DefaultNamespace,
    [property: Id(1)] string? WorkflowExecId = null,
    [property: Id(2)] string? WorkflowName = null,
    [property: Id(3)] string? RootWorkflowExecId = null,
    [property: Id(4)] string? ParentWorkflowExecId = null)
{
    /// <summary>Whether an execution with <paramref name="context"/> is covered.</summary>
    public bool Matches(WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Namespace == Namespace
            && (WorkflowExecId is null || context.WorkflowExecId == WorkflowExecId)
            && (WorkflowName is null || context.WorkflowName == WorkflowName)
            && (RootWorkflowExecId is null || context.RootWorkflowExecId == RootWorkflowExecId)
            && (ParentWorkflowExecId is null || context.ParentWorkflowExecId == ParentWorkflowExecId);
    }
}

/// <summary>
/// One execution as the registry knows it. <see cref="StreamId"/> is a compact, permanent number for the execution
/// (never reused), used in wildcard cursors.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.ExecutionSummary")]
public sealed record ExecutionSummary(
    [property: Id(0)] long StreamId,
    [property: Id(1)] WorkflowContext Context,
    [property: Id(2)] long Head,
    [property: Id(3)] long OldestRetained,
    [property: Id(4)] int TaskCount,
    [property: Id(5)] int OpenTasks,
    [property: Id(6)] DateTimeOffset LastEventAt)
{
    /// <summary>The execution.</summary>
    public ExecutionId Execution => Context.Execution;
}

/// <summary>Answers from any silo, for readiness checks: the silo serves grain calls and reaches the event log.</summary>
public interface IHealthProbeGrain : IGrainWithIntegerKey
{
    /// <summary>Completes when the event log answered a trivial query.</summary>
    /// <exception cref="StorageUnavailableException">It did not.</exception>
    Task PingAsync();
}

/// <summary>Finds executions (stateless, any silo). Backed by the event log's stream rows.</summary>
public interface IExecutionRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Matching executions with <see cref="ExecutionSummary.StreamId"/> above <paramref name="afterStreamId"/>, oldest first.</summary>
    Task<ExecutionSummary[]> FindAsync(ExecutionQuery query, long afterStreamId, int limit);

    /// <summary>Matching executions with <see cref="ExecutionSummary.StreamId"/> below <paramref name="beforeStreamId"/>, newest first.</summary>
    Task<ExecutionSummary[]> FindNewestAsync(ExecutionQuery query, long beforeStreamId, int limit);

    /// <summary>The executions with these stream ids (unknown ids are left out).</summary>
    Task<ExecutionSummary[]> GetAsync(long[] streamIds);
}
