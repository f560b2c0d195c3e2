using System.Globalization;

namespace StreamingEvents;

/// <summary>
/// Base of every error the service reports on purpose. <see cref="ErrorCode"/> is stable and machine-readable; the HTTP
/// frontend maps each code to one status and problem type.
/// </summary>
[GenerateSerializer, Alias("se.StreamingEventsException")]
public class StreamingEventsException : Exception
{
    /// <summary>Creates an error with a code and a message.</summary>
    public StreamingEventsException(string errorCode, string message, Exception? innerException = null)
        : base(message, innerException) => ErrorCode = errorCode;

    /// <summary>A stable, machine-readable code such as <c>event_too_large</c>.</summary>
    [Id(0)]
    public string ErrorCode { get; private set; }

    /// <summary>Whether retrying the same call later may succeed.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>An event's JSON is over <see cref="StreamingLimits.MaxEventBytes"/>; no sequence number was assigned.</summary>
[GenerateSerializer, Alias("se.EventTooLargeException")]
public sealed class EventTooLargeException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public EventTooLargeException(long sizeBytes, long limitBytes)
        : base(Codes.EventTooLarge, string.Create(CultureInfo.InvariantCulture,
            $"The event is {sizeBytes} bytes of JSON, over the limit of {limitBytes} bytes (1 MiB). Nothing was published; store large data elsewhere and publish a reference."))
    {
        SizeBytes = sizeBytes;
        LimitBytes = limitBytes;
    }

    /// <summary>The size of the refused event's JSON.</summary>
    [Id(0)]
    public long SizeBytes { get; private set; }

    /// <summary>The limit it broke.</summary>
    [Id(1)]
    public long LimitBytes { get; private set; }
}

/// <summary>
/// A subscription asked for a position older than the oldest event still retained. Resume from
/// <see cref="OldestAvailable"/> (accepting the loss) or from <see cref="StreamPosition.Start"/>.
/// </summary>
[GenerateSerializer, Alias("se.StreamPositionExpiredException")]
public sealed class StreamPositionExpiredException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public StreamPositionExpiredException(string execution, long requested, long oldestAvailable)
        : base(Codes.PositionExpired, string.Create(CultureInfo.InvariantCulture,
            $"Sequence {requested} of execution '{execution}' has expired; the oldest event still retained is {oldestAvailable}."))
    {
        Execution = execution;
        Requested = requested;
        OldestAvailable = oldestAvailable;
    }

    /// <summary>The execution key.</summary>
    [Id(0)]
    public string Execution { get; private set; }

    /// <summary>The requested sequence.</summary>
    [Id(1)]
    public long Requested { get; private set; }

    /// <summary>The oldest sequence still available.</summary>
    [Id(2)]
    public long OldestAvailable { get; private set; }
}

/// <summary>No task with that id exists.</summary>
[GenerateSerializer, Alias("se.TaskNotFoundException")]
public sealed class TaskNotFoundException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public TaskNotFoundException(string taskId)
        : base(Codes.TaskNotFound, $"Task '{taskId}' does not exist.") => TaskId = taskId;

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }
}

/// <summary>
/// The task already published its terminal event, or has one on its way (then <see cref="Status"/> is still
/// <see cref="CustomTaskStatus.Running"/>); it accepts no more updates.
/// </summary>
[GenerateSerializer, Alias("se.TaskAlreadyFinishedException")]
public sealed class TaskAlreadyFinishedException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public TaskAlreadyFinishedException(string taskId, CustomTaskStatus status)
        : base(Codes.TaskFinished, status == CustomTaskStatus.Running
            ? $"Task '{taskId}' is finishing: its terminal event is already being published; it accepts no more events."
            : $"Task '{taskId}' has already finished ({status}); it accepts no more events.")
    {
        TaskId = taskId;
        Status = status;
    }

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <summary>How the task ended.</summary>
    [Id(1)]
    public CustomTaskStatus Status { get; private set; }
}

/// <summary>A task with that id was already started.</summary>
[GenerateSerializer, Alias("se.TaskAlreadyExistsException")]
public sealed class TaskAlreadyExistsException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public TaskAlreadyExistsException(string taskId)
        : base(Codes.TaskExists, $"Task '{taskId}' already exists; task ids are unique within a namespace.") => TaskId = taskId;

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }
}

/// <summary>A stream (topic) name breaks <see cref="Names.StreamNameRule"/>.</summary>
[GenerateSerializer, Alias("se.InvalidStreamNameException")]
public sealed class InvalidStreamNameException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public InvalidStreamNameException(string? name)
        : base(Codes.InvalidStreamName, $"Invalid stream name {Quote(name)}: {Names.StreamNameRule}.") => Name = name;

    /// <summary>The refused name.</summary>
    [Id(0)]
    public string? Name { get; private set; }

    internal static string Quote(string? value) => value is null
        ? "(null)"
        : "'" + (value.Length > 80 ? value[..80] + "…" : value) + "'";
}

/// <summary>A namespace, execution, run or task id, or a workflow name breaks its rule.</summary>
[GenerateSerializer, Alias("se.InvalidIdentifierException")]
public sealed class InvalidIdentifierException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public InvalidIdentifierException(string field, string? value, string rule)
        : base(Codes.InvalidIdentifier, $"Invalid {field} {InvalidStreamNameException.Quote(value)}: {rule}.")
    {
        Field = field;
        Rule = rule;
    }

    /// <summary>The field that holds the bad value, in wire spelling (e.g. <c>workflow_exec_id</c>).</summary>
    [Id(0)]
    public string Field { get; private set; }

    /// <summary>The rule it breaks.</summary>
    [Id(1)]
    public string Rule { get; private set; }
}

/// <summary>A payload is not one valid JSON value within the depth limit, or a patch is malformed.</summary>
[GenerateSerializer, Alias("se.InvalidPayloadException")]
public sealed class InvalidPayloadException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public InvalidPayloadException(string message, Exception? innerException = null)
        : base(Codes.InvalidPayload, message, innerException)
    {
    }
}

/// <summary>
/// A task's workflow context disagrees with the one the execution was first published with (an execution has one
/// workflow name, parent and root).
/// </summary>
[GenerateSerializer, Alias("se.WorkflowContextConflictException")]
public sealed class WorkflowContextConflictException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public WorkflowContextConflictException(string execution, string field, string? existing, string? given)
        : base(Codes.ContextConflict,
            $"Execution '{execution}' was published with {field} {InvalidStreamNameException.Quote(existing)}; a task cannot change it to {InvalidStreamNameException.Quote(given)}.")
    {
        Field = field;
    }

    /// <summary>The conflicting field.</summary>
    [Id(0)]
    public string Field { get; private set; }
}

/// <summary>
/// Another writer advanced the stream first (e.g. a second activation during a cluster membership change). Nothing was
/// written; the call can be retried.
/// </summary>
[GenerateSerializer, Alias("se.StreamWriteConflictException")]
public sealed class StreamWriteConflictException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public StreamWriteConflictException(string execution)
        : base(Codes.WriteConflict, $"Another writer advanced execution '{execution}' first; nothing was written. Retry the call.")
    {
    }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}

/// <summary>
/// Storage could not be reached or did not confirm the write. The events were not acknowledged; they may or may not be
/// stored, and a subscriber sees them only if they were.
/// </summary>
[GenerateSerializer, Alias("se.StorageUnavailableException")]
public sealed class StorageUnavailableException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public StorageUnavailableException(string message, Exception? innerException = null)
        : base(Codes.StorageUnavailable, message, innerException)
    {
    }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}

/// <summary>A subscription over many executions matched more than it may follow; narrow its filter.</summary>
[GenerateSerializer, Alias("se.SubscriptionLimitException")]
public sealed class SubscriptionLimitException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public SubscriptionLimitException(int limit)
        : base(Codes.SubscriptionLimit, string.Create(CultureInfo.InvariantCulture,
            $"The subscription matches more than {limit} executions; narrow it (workflow_exec_id, root_workflow_exec_id, workflow_name, ...)."))
        => Limit = limit;

    /// <summary>The most executions one subscription follows.</summary>
    [Id(0)]
    public int Limit { get; private set; }
}

/// <summary>
/// A task already has its most updates queued or in flight and its publisher asked not to wait for room
/// (<c>PendingUpdatesFullMode.Throw</c>). Nothing was published; the update may be retried once earlier ones are acknowledged.
/// </summary>
[GenerateSerializer, Alias("se.PendingUpdatesFullException")]
public sealed class PendingUpdatesFullException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public PendingUpdatesFullException(string taskId, int limit)
        : base(Codes.PendingUpdatesFull, string.Create(CultureInfo.InvariantCulture,
            $"Task '{taskId}' already has {limit} updates queued or in flight; nothing was published. Await earlier updates, or raise MaxPendingUpdates."))
    {
        TaskId = taskId;
        Limit = limit;
    }

    /// <summary>The task whose backlog is full.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <summary>The most updates one task queues or keeps in flight.</summary>
    [Id(1)]
    public int Limit { get; private set; }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}

/// <summary>
/// A newer publisher of the task took it over (it resumed the task, or published to it without publish sequences, as
/// the HTTP API does): this one's request was refused and nothing was stored.
/// </summary>
[GenerateSerializer, Alias("se.ProducerFencedException")]
public sealed class ProducerFencedException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public ProducerFencedException(string taskId, int epoch, int currentEpoch)
        : base(Codes.ProducerFenced, string.Create(CultureInfo.InvariantCulture,
            $"Task '{taskId}' has a newer publisher (epoch {currentEpoch}); this one (epoch {epoch}) may no longer publish to it. Nothing was stored."))
    {
        TaskId = taskId;
        Epoch = epoch;
        CurrentEpoch = currentEpoch;
    }

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <summary>The refused publisher's epoch.</summary>
    [Id(1)]
    public int Epoch { get; private set; }

    /// <summary>The task's current epoch.</summary>
    [Id(2)]
    public int CurrentEpoch { get; private set; }
}

/// <summary>
/// A sequenced request skipped publish sequences: the events before it are not stored (they were refused, or never
/// sent). Nothing of the request was stored.
/// </summary>
[GenerateSerializer, Alias("se.PublishSequenceGapException")]
public sealed class PublishSequenceGapException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public PublishSequenceGapException(string taskId, long expected, long given)
        : base(Codes.SequenceGap, string.Create(CultureInfo.InvariantCulture,
            $"Task '{taskId}' expects publish sequence {expected} next; the request starts at {given}. Nothing was stored."))
    {
        TaskId = taskId;
        Expected = expected;
        Given = given;
    }

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <summary>The publish sequence the task expects next.</summary>
    [Id(1)]
    public long Expected { get; private set; }

    /// <summary>The first publish sequence of the refused request.</summary>
    [Id(2)]
    public long Given { get; private set; }
}

/// <summary>An idempotency key came back with a different request than the one it was first used for.</summary>
[GenerateSerializer, Alias("se.IdempotencyKeyReusedException")]
public sealed class IdempotencyKeyReusedException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public IdempotencyKeyReusedException(string key)
        : base(Codes.IdempotencyKeyReused,
            $"Idempotency key {InvalidStreamNameException.Quote(key)} was already used for a different request; use a new key for a new request. Nothing was published.")
    {
    }
}

/// <summary>
/// The SDK could not learn whether a publish was stored: every attempt within its retry budget (or before the caller's
/// cancellation) ended without an answer. The task handle keeps the request and sends it again, with the same publish
/// sequence, before anything else, so it is stored at most once whatever happened.
/// </summary>
[GenerateSerializer, Alias("se.PublishOutcomeUnknownException")]
public sealed class PublishOutcomeUnknownException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public PublishOutcomeUnknownException(string taskId, int attempts, Exception? lastError)
        : base(Codes.OutcomeUnknown, string.Create(CultureInfo.InvariantCulture,
            $"Whether the publish to task '{taskId}' was stored is unknown after {attempts} attempt(s) ({lastError?.GetType().Name}: {lastError?.Message}). It is sent again, at most once stored, with the task's next publish."),
            lastError)
    {
        TaskId = taskId;
        Attempts = attempts;
    }

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <summary>How many times it was sent.</summary>
    [Id(1)]
    public int Attempts { get; private set; }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}

/// <summary>
/// The publish was not sent: an earlier publish of the same task stayed unresolved for the whole retry budget, and the
/// handle sends that one first. Nothing of this one was stored; it may be published again.
/// </summary>
[GenerateSerializer, Alias("se.PublishNotSentException")]
public sealed class PublishNotSentException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public PublishNotSentException(string taskId, Exception? cause)
        : base(Codes.NotSent,
            $"Not sent to task '{taskId}': an earlier publish of the task is still unresolved ({cause?.Message}). Nothing of this one was stored; publish it again.",
            cause) => TaskId = taskId;

    /// <summary>The task id.</summary>
    [Id(0)]
    public string TaskId { get; private set; }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}

/// <summary>The execution already ended (completed, failed, canceled or timed out): it takes no new tasks or events.</summary>
[GenerateSerializer, Alias("se.ExecutionFinishedException")]
public sealed class ExecutionFinishedException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public ExecutionFinishedException(string execution, Contracts.ExecutionStatus status)
        : base(Codes.ExecutionFinished, $"Execution '{execution}' has ended ({status}); it takes no new tasks or events.")
    {
        Execution = execution;
        Status = status;
    }

    /// <summary>The execution key.</summary>
    [Id(0)]
    public string Execution { get; private set; }

    /// <summary>How it ended.</summary>
    [Id(1)]
    public Contracts.ExecutionStatus Status { get; private set; }
}

/// <summary>No execution with that id has published anything (in that namespace).</summary>
[GenerateSerializer, Alias("se.ExecutionNotFoundException")]
public sealed class ExecutionNotFoundException : StreamingEventsException
{
    /// <summary>Creates the error.</summary>
    public ExecutionNotFoundException(string execution)
        : base(Codes.ExecutionNotFound, $"Execution '{execution}' does not exist.") => Execution = execution;

    /// <summary>The execution key.</summary>
    [Id(0)]
    public string Execution { get; private set; }
}

/// <summary>The stable error codes carried by <see cref="StreamingEventsException.ErrorCode"/>.</summary>
public static class Codes
{
    /// <summary>See <see cref="EventTooLargeException"/>.</summary>
    public const string EventTooLarge = "event_too_large";
    /// <summary>See <see cref="StreamPositionExpiredException"/>.</summary>
    public const string PositionExpired = "position_expired";
    /// <summary>See <see cref="TaskNotFoundException"/>.</summary>
    public const string TaskNotFound = "task_not_found";
    /// <summary>See <see cref="TaskAlreadyFinishedException"/>.</summary>
    public const string TaskFinished = "task_finished";
    /// <summary>See <see cref="TaskAlreadyExistsException"/>.</summary>
    public const string TaskExists = "task_exists";
    /// <summary>See <see cref="InvalidStreamNameException"/>.</summary>
    public const string InvalidStreamName = "invalid_stream_name";
    /// <summary>See <see cref="InvalidIdentifierException"/>.</summary>
    public const string InvalidIdentifier = "invalid_identifier";
    /// <summary>See <see cref="InvalidPayloadException"/>.</summary>
    public const string InvalidPayload = "invalid_payload";
    /// <summary>See <see cref="WorkflowContextConflictException"/>.</summary>
    public const string ContextConflict = "context_conflict";
    /// <summary>See <see cref="StreamWriteConflictException"/>.</summary>
    public const string WriteConflict = "write_conflict";
    /// <summary>See <see cref="StorageUnavailableException"/>.</summary>
    public const string StorageUnavailable = "storage_unavailable";
    /// <summary>See <see cref="SubscriptionLimitException"/>.</summary>
    public const string SubscriptionLimit = "subscription_limit";
    /// <summary>See <see cref="PendingUpdatesFullException"/>.</summary>
    public const string PendingUpdatesFull = "pending_updates_full";
    /// <summary>See <see cref="ProducerFencedException"/>.</summary>
    public const string ProducerFenced = "producer_fenced";
    /// <summary>See <see cref="PublishSequenceGapException"/>.</summary>
    public const string SequenceGap = "sequence_gap";
    /// <summary>See <see cref="IdempotencyKeyReusedException"/>.</summary>
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    /// <summary>See <see cref="PublishOutcomeUnknownException"/>.</summary>
    public const string OutcomeUnknown = "outcome_unknown";
    /// <summary>See <see cref="PublishNotSentException"/>.</summary>
    public const string NotSent = "not_sent";
    /// <summary>See <see cref="ExecutionFinishedException"/>.</summary>
    public const string ExecutionFinished = "execution_finished";
    /// <summary>See <see cref="ExecutionNotFoundException"/>.</summary>
    public const string ExecutionNotFound = "execution_not_found";
}
