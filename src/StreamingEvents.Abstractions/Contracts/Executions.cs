using Orleans.Concurrency;

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
    [property: Id(6)] DateTimeOffset LastEventAt,
    [property: Id(7)] ExecutionStatus Status = ExecutionStatus.None)
{
    /// <summary>The execution.</summary>
    public ExecutionId Execution => Context.Execution;

    /// <summary>
    /// Whether its lifecycle ended (<c>WORKFLOW_EXECUTION_COMPLETED</c>, <c>_FAILED</c>, <c>_CANCELED</c> or timed out):
    /// its stream takes no more events.
    /// </summary>
    public bool HasEnded => Status is ExecutionStatus.Completed or ExecutionStatus.Failed or ExecutionStatus.Canceled or ExecutionStatus.TimedOut;
}

/// <summary>
/// Where a discovery of executions has listed up to. Executions are listed in the order their stream rows became
/// visible for good: by the storage's commit order (<see cref="Commit"/>: PostgreSQL's inserting transaction id, 0 where
/// the storage has one writer), then <see cref="StreamId"/>. An identity alone can commit out of order, so a listing by
/// it can step past an execution that becomes visible later.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.DiscoveryPosition")]
public sealed record DiscoveryPosition([property: Id(0)] long Commit, [property: Id(1)] long StreamId)
{
    /// <summary>Before every execution.</summary>
    public static DiscoveryPosition Start { get; } = new(0, 0);
}

/// <summary>One page of a discovery: executions in discovery order, and the position to list from next.</summary>
[GenerateSerializer, Immutable, Alias("se.DiscoveryPage")]
public sealed record DiscoveryPage([property: Id(0)] ExecutionSummary[] Executions, [property: Id(1)] DiscoveryPosition Next);

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

    /// <summary>
    /// Matching executions after <paramref name="after"/> in discovery order (see <see cref="DiscoveryPosition"/>): listing
    /// page after page from <see cref="DiscoveryPosition.Start"/>, again and again, finds every execution once, including
    /// those whose stream rows commit after a later one was listed.
    /// </summary>
    Task<DiscoveryPage> DiscoverAsync(ExecutionQuery query, DiscoveryPosition after, int limit);

    /// <summary>Matching executions with <see cref="ExecutionSummary.StreamId"/> below <paramref name="beforeStreamId"/>, newest first.</summary>
    Task<ExecutionSummary[]> FindNewestAsync(ExecutionQuery query, long beforeStreamId, int limit);

    /// <summary>The executions with these stream ids (unknown ids are left out).</summary>
    Task<ExecutionSummary[]> GetAsync(long[] streamIds);
}

/// <summary>Where a workflow execution is in its life (Mistral's <c>WorkflowExecutionStatus</c>).</summary>
public enum ExecutionStatus : short
{
    /// <summary>Nothing published its lifecycle: the execution is running while it has open tasks.</summary>
    None = 0,
    /// <summary><c>WORKFLOW_EXECUTION_STARTED</c> was published and no terminal event yet.</summary>
    Running = 1,
    /// <summary>Ended with <c>WORKFLOW_EXECUTION_COMPLETED</c>.</summary>
    Completed = 2,
    /// <summary>Ended with <c>WORKFLOW_EXECUTION_FAILED</c>.</summary>
    Failed = 3,
    /// <summary>Ended with <c>WORKFLOW_EXECUTION_CANCELED</c>.</summary>
    Canceled = 4,
    /// <summary>Ended by the service because nothing was published for the inactivity timeout (a dead publisher).</summary>
    TimedOut = 5,
}

/// <summary>The wire names of <see cref="ExecutionStatus"/> (Mistral's <c>WorkflowExecutionStatus</c>).</summary>
public static class ExecutionStatuses
{
    /// <summary>
    /// <c>RUNNING</c>, <c>COMPLETED</c>, <c>FAILED</c>, <c>CANCELED</c> or <c>TIMED_OUT</c>. An execution that never
    /// published its lifecycle (<see cref="ExecutionStatus.None"/>) is <c>RUNNING</c> while it has open tasks and
    /// <c>COMPLETED</c> once all of them ended.
    /// </summary>
    public static string ToWire(ExecutionStatus status, int openTasks = 0) => status switch
    {
        ExecutionStatus.Running => "RUNNING",
        ExecutionStatus.Completed => "COMPLETED",
        ExecutionStatus.Failed => "FAILED",
        ExecutionStatus.Canceled => "CANCELED",
        ExecutionStatus.TimedOut => "TIMED_OUT",
        _ => openTasks > 0 ? "RUNNING" : "COMPLETED",
    };

    /// <summary>The status a terminal <c>WORKFLOW_EXECUTION_*</c> event leads to.</summary>
    public static ExecutionStatus Of(EventType terminal) => terminal switch
    {
        EventType.WorkflowExecutionCompleted => ExecutionStatus.Completed,
        EventType.WorkflowExecutionFailed => ExecutionStatus.Failed,
        EventType.WorkflowExecutionCanceled => ExecutionStatus.Canceled,
        _ => throw new ArgumentOutOfRangeException(nameof(terminal), terminal, "Not a terminal workflow event type."),
    };

    /// <summary>Whether an execution with <paramref name="status"/> has ended.</summary>
    public static bool IsFinished(this ExecutionStatus status) =>
        status is ExecutionStatus.Completed or ExecutionStatus.Failed or ExecutionStatus.Canceled or ExecutionStatus.TimedOut;
}

/// <summary>One execution's lifecycle as <c>GET /v1/workflows/executions/{id}</c> reports it.</summary>
[GenerateSerializer, Immutable, Alias("se.ExecutionInfo")]
public sealed record ExecutionInfo(
    [property: Id(0)] WorkflowContext Context,
    [property: Id(1)] ExecutionStatus Status,
    [property: Id(2)] DateTimeOffset StartTime,
    [property: Id(3)] DateTimeOffset? EndTime,
    [property: Id(4)] byte[]? Result,
    [property: Id(5)] int OpenTasks,
    [property: Id(6)] long Head)
{
    /// <summary>Whether the execution has ended.</summary>
    public bool IsFinished => Status.IsFinished();

    /// <summary>The status as Mistral's API names it.</summary>
    public string WireStatus => ExecutionStatuses.ToWire(Status, OpenTasks);
}

/// <summary>
/// Told by an execution's stream when tasks of it are canceled from outside (a user's "stop"), so that the producers
/// working on them stop too. Implemented by the SDK in every process that publishes to the execution.
/// </summary>
public interface IExecutionControlObserver : IGrainObserver
{
    /// <summary>
    /// Tasks of <paramref name="executionKey"/> were canceled: the one with <paramref name="taskId"/>, or every task and
    /// the execution itself when it is <c>null</c>.
    /// </summary>
    [OneWay]
    void OnCanceled(string executionKey, string? taskId, string? reason);
}
