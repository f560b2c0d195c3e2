namespace StreamingEvents.Contracts;

/// <summary>How a payload's bytes are to be read.</summary>
public enum PayloadEncoding : byte
{
    /// <summary>No payload.</summary>
    None = 0,
    /// <summary>A whole JSON state (<c>{"type":"json"}</c> on the wire).</summary>
    Json = 1,
    /// <summary>A JSON array of patch operations (<c>{"type":"json_patch"}</c> on the wire).</summary>
    JsonPatch = 2,

    /// <summary>
    /// A JSON object merged into the task's current state by its task grain, which publishes the merged whole state: never
    /// stored or delivered as such.
    /// </summary>
    Merge = 3,
}

/// <summary>
/// One event a task asks to publish, before it has a number. <see cref="Payload"/> is UTF-8 JSON for state events and
/// for inputs and results; <see cref="Text"/> is the failure message, cancel reason, timeout type or display name;
/// <see cref="Attempt"/> is an activity's attempt. <see cref="EventTypes"/> says which of them a type carries.
/// <see cref="StateBytes"/> is set by the task grain on a patch: the size of the whole state it makes.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.TaskEventDraft")]
public sealed record TaskEventDraft(
    [property: Id(0)] EventType Type,
    [property: Id(1)] PayloadEncoding Encoding,
    [property: Id(2)] ReadOnlyMemory<byte> Payload,
    [property: Id(3)] string? Text = null,
    [property: Id(4)] int Attempt = 0)
{
    /// <summary>
    /// For a patch (<see cref="PayloadEncoding.JsonPatch"/>), the bytes of the whole state it makes when the task grain
    /// knows it (0 when not): the stream refuses a patch whose whole-state event would pass 1 MiB, because whole-state
    /// consumers and <c>complete</c> without a state publish that state.
    /// </summary>
    [Id(5)]
    public int StateBytes { get; init; }

    /// <summary>The started event with the initial state.</summary>
    public static TaskEventDraft Started(ReadOnlyMemory<byte> initialStateJson) => new(EventType.CustomTaskStarted, PayloadEncoding.Json, initialStateJson);

    /// <summary>An in-progress event with the whole new state.</summary>
    public static TaskEventDraft Progress(ReadOnlyMemory<byte> stateJson) => new(EventType.CustomTaskInProgress, PayloadEncoding.Json, stateJson);

    /// <summary>An in-progress event with patch operations against the previous state.</summary>
    public static TaskEventDraft Patch(ReadOnlyMemory<byte> operationsJson) => new(EventType.CustomTaskInProgress, PayloadEncoding.JsonPatch, operationsJson);

    /// <summary>The completed event with the task's current state (the task grain fills it in).</summary>
    public static TaskEventDraft Completed() => new(EventType.CustomTaskCompleted, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty);

    /// <summary>The completed event with <paramref name="finalStateJson"/>.</summary>
    public static TaskEventDraft Completed(ReadOnlyMemory<byte> finalStateJson) => new(EventType.CustomTaskCompleted, PayloadEncoding.Json, finalStateJson);

    /// <summary>The failed event.</summary>
    public static TaskEventDraft Failed(string message) => new(EventType.CustomTaskFailed, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, message);

    /// <summary>The canceled event.</summary>
    public static TaskEventDraft Canceled(string? reason) => new(EventType.CustomTaskCanceled, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, reason);

    /// <summary>The timed-out event.</summary>
    public static TaskEventDraft TimedOut(string? timeoutType) => new(EventType.CustomTaskTimedOut, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, timeoutType);

    /// <summary>An update merged into the task's current state (a JSON object): its top-level members replace the state's.</summary>
    public static TaskEventDraft Merge(ReadOnlyMemory<byte> updateJson) => new(EventType.CustomTaskInProgress, PayloadEncoding.Merge, updateJson);

    /// <summary><c>WORKFLOW_EXECUTION_STARTED</c> with the workflow's input and an optional display name.</summary>
    public static TaskEventDraft WorkflowStarted(ReadOnlyMemory<byte> inputJson, string? displayName = null) =>
        new(EventType.WorkflowExecutionStarted, PayloadEncoding.Json, inputJson, displayName);

    /// <summary><c>WORKFLOW_EXECUTION_COMPLETED</c> with the workflow's result.</summary>
    public static TaskEventDraft WorkflowCompleted(ReadOnlyMemory<byte> resultJson) => new(EventType.WorkflowExecutionCompleted, PayloadEncoding.Json, resultJson);

    /// <summary><c>WORKFLOW_EXECUTION_FAILED</c> with a failure message.</summary>
    public static TaskEventDraft WorkflowFailed(string message) => new(EventType.WorkflowExecutionFailed, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, message);

    /// <summary><c>WORKFLOW_EXECUTION_CANCELED</c> with an optional reason.</summary>
    public static TaskEventDraft WorkflowCanceled(string? reason) => new(EventType.WorkflowExecutionCanceled, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, reason);

    /// <summary><c>ACTIVITY_TASK_STARTED</c> with the activity's input.</summary>
    public static TaskEventDraft ActivityStarted(ReadOnlyMemory<byte> inputJson) => new(EventType.ActivityTaskStarted, PayloadEncoding.Json, inputJson);

    /// <summary><c>ACTIVITY_TASK_COMPLETED</c> with the activity's result.</summary>
    public static TaskEventDraft ActivityCompleted(ReadOnlyMemory<byte> resultJson) => new(EventType.ActivityTaskCompleted, PayloadEncoding.Json, resultJson);

    /// <summary><c>ACTIVITY_TASK_RETRYING</c>: attempt <paramref name="attempt"/> failed and the activity runs again.</summary>
    public static TaskEventDraft ActivityRetrying(string message, int attempt) =>
        new(EventType.ActivityTaskRetrying, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, message, attempt);

    /// <summary><c>ACTIVITY_TASK_FAILED</c>: attempt <paramref name="attempt"/> failed and the activity gives up.</summary>
    public static TaskEventDraft ActivityFailed(string message, int attempt) =>
        new(EventType.ActivityTaskFailed, PayloadEncoding.None, ReadOnlyMemory<byte>.Empty, message, attempt);
}

/// <summary>
/// Opens a task: its id, the workflow it runs in, its type (the topic) and its initial state. A task published from an
/// activity names it (<c>scope = activity</c> in subscription filters); one without is published from the workflow.
/// <see cref="ProducerId"/> identifies the publisher that opens it: the same start sent again (after an unknown outcome)
/// answers the original receipt, while another publisher's start with the same id is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.TaskStart")]
public sealed record TaskStart(
    [property: Id(0)] string TaskId,
    [property: Id(1)] WorkflowContext Context,
    [property: Id(2)] string Type,
    [property: Id(3)] ReadOnlyMemory<byte> InitialState,
    [property: Id(4)] byte[]? Metadata = null,
    [property: Id(5)] string? ActivityName = null,
    [property: Id(6)] string? ActivityId = null,
    [property: Id(7)] string? ProducerId = null,
    [property: Id(8)] RequestKey? Key = null,
    [property: Id(9)] TaskKind Kind = TaskKind.Custom,
    [property: Id(10)] string? DisplayName = null)
{
    /// <summary>The task's address: its namespace and id.</summary>
    public TaskAddress Address => new(Context.Namespace, TaskId);
}

/// <summary>
/// Events a task's publisher asks to store, numbered by the publisher so that sending them again is safe. A sequenced
/// request carries the producer <see cref="Epoch"/> (from the task's start) and the publish sequence of its first event
/// (<see cref="FirstPublishSequence"/>; the start is 0, updates count on from 1): events already stored answer their
/// original numbers and are not stored again, a gap or an older epoch is refused. An unsequenced request
/// (<see cref="FirstPublishSequence"/> = 0) is numbered by the service and fences the task's sequenced publisher, which
/// could otherwise mistake it for one of its own. <see cref="Key"/> makes any request idempotent by key instead.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.PublishRequest")]
public sealed record PublishRequest(
    [property: Id(0)] TaskEventDraft[] Events,
    [property: Id(1)] int Epoch = 0,
    [property: Id(2)] long FirstPublishSequence = 0,
    [property: Id(3)] RequestKey? Key = null)
{
    /// <summary>Whether the publisher numbered the events.</summary>
    public bool IsSequenced => FirstPublishSequence > 0;

    /// <summary>An unsequenced request for one event.</summary>
    public static PublishRequest Of(TaskEventDraft draft, RequestKey? key = null) => new([draft], Key: key);
}

/// <summary>
/// A client's idempotency key (HTTP <c>Idempotency-Key</c>) and a hash of the request it came with. A request with a key
/// already used answers the first one's receipt and stores nothing — or, with a different hash, is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.RequestKey")]
public sealed record RequestKey([property: Id(0)] string Key, [property: Id(1)] byte[] RequestHash);

/// <summary>
/// The numbers given to the events of one call, in order: <see cref="FirstSequence"/> and the next ones, contiguously,
/// unless <see cref="Sequences"/> lists them (a call whose first events were stored by an earlier attempt, and the rest
/// now). <see cref="Replayed"/> counts the leading events that were already stored: a repeated call answers its original
/// numbers with <see cref="Replayed"/> = <see cref="Count"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.AppendReceipt")]
public sealed record AppendReceipt(
    [property: Id(0)] long FirstSequence,
    [property: Id(1)] int Count,
    [property: Id(2)] long[]? Sequences = null,
    [property: Id(3)] int Replayed = 0)
{
    /// <summary>The number of the call's event <paramref name="index"/>.</summary>
    public long SequenceAt(int index) => Sequences is { } sequences ? sequences[index] : FirstSequence + index;

    /// <summary>The number of the last event of the call.</summary>
    public long LastSequence => SequenceAt(Count - 1);

    /// <summary>A receipt for these numbers, contiguous or not.</summary>
    public static AppendReceipt For(IReadOnlyList<long> sequences, int replayed)
    {
        var contiguous = true;
        for (var i = 1; i < sequences.Count && contiguous; i++)
        {
            contiguous = sequences[i] == sequences[0] + i;
        }

        return new AppendReceipt(sequences[0], sequences.Count, contiguous ? null : [.. sequences], replayed);
    }
}

/// <summary>
/// A started task; <see cref="Epoch"/> is its publisher's, to be sent with every sequenced request. <see cref="Replayed"/>
/// says the start was stored by an earlier attempt (this answer repeats that one's).
/// </summary>
[GenerateSerializer, Immutable, Alias("se.TaskStarted")]
public sealed record TaskStarted(
    [property: Id(0)] string TaskId,
    [property: Id(1)] ExecutionId Execution,
    [property: Id(2)] string Stream,
    [property: Id(3)] long BrokerSequence,
    [property: Id(4)] int Epoch = 1,
    [property: Id(5)] bool Replayed = false);

/// <summary>A task's whole state as UTF-8 JSON (<c>null</c> when unknown) and the publish sequence it includes.</summary>
[GenerateSerializer, Immutable, Alias("se.TaskSnapshot")]
public sealed record TaskSnapshot([property: Id(0)] byte[]? State, [property: Id(1)] long LastPublishSequence);

/// <summary>A request for stored events from <see cref="FromSequence"/> (0: the oldest retained).</summary>
[GenerateSerializer, Immutable, Alias("se.ReadRequest")]
public sealed record ReadRequest(
    [property: Id(0)] long FromSequence,
    [property: Id(1)] int MaxEvents,
    [property: Id(2)] string? Topic = null);

/// <summary>
/// A page of events in ascending order. <see cref="NextSequence"/> is where the next read continues; with a topic
/// filter it also skips the numbers of other topics that were scanned. Crosses the wire packed (<see cref="PackedEvents"/>).
/// </summary>
[Immutable]
public sealed record EventPage(StreamEvent[] Events, long NextSequence, long Head, long OldestRetained)
{
    /// <summary>Whether the page reached the head: nothing more is stored yet.</summary>
    public bool ReachedHead => NextSequence > Head;
}

/// <summary>The state of an execution's stream; <see cref="Host"/> is the silo its grain is active on (diagnostics).</summary>
[GenerateSerializer, Immutable, Alias("se.StreamInfo")]
public sealed record StreamInfo(
    [property: Id(0)] ExecutionId Execution,
    [property: Id(1)] bool Exists,
    [property: Id(2)] long Head,
    [property: Id(3)] long OldestRetained,
    [property: Id(4)] long RetainedBytes,
    [property: Id(5)] int TaskCount,
    [property: Id(6)] int OpenTasks,
    [property: Id(7)] WorkflowContext? Context,
    [property: Id(8)] DateTimeOffset? LastEventAt,
    [property: Id(9)] string? Host = null)
{
    /// <summary>How many events are retained.</summary>
    public long RetainedEvents => Head >= OldestRetained ? Head - OldestRetained + 1 : 0;
}

/// <summary>The state of a task.</summary>
[GenerateSerializer, Immutable, Alias("se.TaskInfo")]
public sealed record TaskInfo(
    [property: Id(0)] string TaskId,
    [property: Id(1)] ExecutionId Execution,
    [property: Id(2)] string Type,
    [property: Id(3)] CustomTaskStatus Status,
    [property: Id(4)] long StartedSequence,
    [property: Id(5)] long? TerminalSequence,
    [property: Id(6)] string? ActivityName = null,
    [property: Id(7)] string? ActivityId = null,
    [property: Id(8)] TaskKind Kind = TaskKind.Custom);
