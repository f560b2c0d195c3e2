using StreamingEvents.Contracts;

namespace StreamingEvents.Storage;

/// <summary>
/// One stored event, compact: the execution context and the task's constant facts are stored once (stream and task
/// rows), so a 100-byte state costs about 130 bytes of row. <see cref="Body"/> is the payload JSON for state events and a
/// JSON string (or nothing, for null) for failure messages, cancel reasons and timeout types.
/// </summary>
internal readonly record struct StoredEvent(long Sequence, long TimestampUnixNanoseconds, int TaskNo, EventType Type, PayloadEncoding Encoding, ReadOnlyMemory<byte> Body)
{
    /// <summary>Type and encoding packed in one small integer column.</summary>
    public short Kind => (short)(((int)Encoding << 8) | (ushort)Type);

    public static (EventType Type, PayloadEncoding Encoding) Unpack(short kind) =>
        ((EventType)(kind & 0xFF), (PayloadEncoding)(kind >> 8));
}

/// <summary>A task's constant facts and status. <see cref="TaskNo"/> numbers the tasks of one stream from 1.</summary>
internal sealed record StoredTask(
    int TaskNo,
    string TaskId,
    string Topic,
    string WorkflowRunId,
    byte[]? Metadata,
    CustomTaskStatus Status,
    long StartedSequence,
    long? TerminalSequence)
{
    /// <summary>The activity that published the task; <c>null</c> when the workflow did.</summary>
    public string? ActivityName { get; init; }

    public string? ActivityId { get; init; }

    /// <summary>The publisher that opened the task (its start's producer id); a repeated start must carry the same one.</summary>
    public string? ProducerId { get; init; }

    /// <summary>
    /// The publish sequence and producer epoch of a terminal event its publisher numbered, so that the same terminal (or
    /// an update before it) sent again answers its receipt; <c>null</c> when the service or an unsequenced request ended it.
    /// </summary>
    public long? TerminalPublishSequence { get; init; }

    public int? TerminalEpoch { get; init; }

    /// <summary>A custom task, the execution's own lifecycle, or an activity's.</summary>
    public TaskKind Kind { get; init; }
}

/// <summary>
/// Where the publisher of an open task stands: its <see cref="Epoch"/>, the last publish sequence stored and its
/// <c>broker_sequence</c>, and the first publish sequence of the batch that ended there (a batch is numbered
/// contiguously, so every publish sequence in it maps to a known number). Stored with the stream's head in the same
/// statement as the events, so it survives restarts and failover exactly as the events do.
/// </summary>
internal readonly record struct ProducerState(int TaskNo, int Epoch, long LastPublishSequence, long LastSequence, long BatchFirstPublishSequence)
{
    /// <summary>A task just started: epoch 1, its start (publish sequence 0) at <paramref name="sequence"/>.</summary>
    public static ProducerState Started(int taskNo, long sequence) => new(taskNo, 1, 0, sequence, 0);

    /// <summary>The <c>broker_sequence</c> of <paramref name="publishSequence"/> if it lies in the last batch.</summary>
    public long? SequenceOf(long publishSequence) =>
        publishSequence >= BatchFirstPublishSequence && publishSequence <= LastPublishSequence
            ? LastSequence - (LastPublishSequence - publishSequence)
            : null;
}

/// <summary>An idempotency key stored with the events it published.</summary>
internal sealed record StoredRequestKey(string Namespace, string Key, byte[] RequestHash, long FirstSequence, int Count, long[]? Sequences)
{
    public AppendReceipt Receipt => new(FirstSequence, Count, Sequences, Replayed: Count);
}

/// <summary>A stream row and its open tasks, as loaded at activation.</summary>
internal sealed record StreamRecord(
    long StreamId,
    WorkflowContext Context,
    long Head,
    long Oldest,
    long RetainedBytes,
    int TaskCount,
    DateTimeOffset LastEventAt,
    IReadOnlyList<StoredTask> OpenTasks)
{
    /// <summary>The publishers of the open tasks.</summary>
    public IReadOnlyList<ProducerState> Producers { get; init; } = [];

    /// <summary>Where the execution is in its lifecycle.</summary>
    public ExecutionStatus ExecutionStatus { get; init; }

    /// <summary>When the stream was created (its first event).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Where a task lives: its stream's key, and the task row.</summary>
internal sealed record TaskLocation(string StreamKey, StoredTask Task);

/// <summary>A task that ends in this append.</summary>
internal readonly record struct FinishedTask(int TaskNo, string TaskId, CustomTaskStatus Status, long Sequence, long? PublishSequence, int? Epoch);

/// <summary>
/// What one stream appends in one commit: its events, new and finished tasks, its new counters, the publishers of its
/// open tasks and the idempotency keys used. It is applied only if the stored head still equals
/// <see cref="ExpectedHead"/>; all of it is written in one transaction.
/// </summary>
internal sealed record StreamAppend(
    long StreamId,
    long ExpectedHead,
    IReadOnlyList<StoredEvent> Events,
    IReadOnlyList<StoredTask> NewTasks,
    IReadOnlyList<FinishedTask> FinishedTasks,
    int TaskCount,
    long AddedBytes)
{
    /// <summary>Every open task's publisher after this append (the stored set is replaced by it).</summary>
    public IReadOnlyList<ProducerState> Producers { get; init; } = [];

    /// <summary>Idempotency keys of the requests in this append.</summary>
    public IReadOnlyList<StoredRequestKey> Keys { get; init; } = [];

    /// <summary>The stream's namespace, in which its new tasks' ids must be unique.</summary>
    public string Namespace { get; init; } = WorkflowContext.DefaultNamespace;

    /// <summary>The execution's new lifecycle status, when this append moves it.</summary>
    public ExecutionStatus? ExecutionStatus { get; init; }

    public long NewHead => ExpectedHead + Events.Count;

    /// <summary>The bytes this append carries into a commit statement: its event bodies and its new tasks' metadata.</summary>
    public long CommitBytes => AddedBytes + NewTasks.Sum(t => (long)(t.Metadata?.Length ?? 0));

    public int OpenTaskDelta => NewTasks.Count(t => t.Status == CustomTaskStatus.Running) - FinishedTasks.Count;
}

/// <summary>How an append ended.</summary>
internal enum AppendOutcome
{
    /// <summary>Durable.</summary>
    Committed,
    /// <summary>The stored head moved: another writer got there first. Nothing was written for this stream.</summary>
    Conflict,
    /// <summary>A new task's id is taken in its namespace (by another execution). Nothing was written for this stream.</summary>
    TaskIdTaken,
}

/// <summary>The retention state after a trim.</summary>
internal readonly record struct TrimResult(long Oldest, long RetainedBytes);
