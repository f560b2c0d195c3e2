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
    IReadOnlyList<StoredTask> OpenTasks);

/// <summary>Where a task lives: its stream's key, and the task row.</summary>
internal sealed record TaskLocation(string StreamKey, StoredTask Task);

/// <summary>A task that ends in this append.</summary>
internal readonly record struct FinishedTask(int TaskNo, string TaskId, CustomTaskStatus Status, long Sequence);

/// <summary>
/// What one stream appends in one commit: its events, new and finished tasks, and its new counters. It is applied only
/// if the stored head still equals <see cref="ExpectedHead"/>; the counter and the events are written in one transaction.
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
    public long NewHead => ExpectedHead + Events.Count;

    public int OpenTaskDelta => NewTasks.Count(t => t.Status == CustomTaskStatus.Running) - FinishedTasks.Count;
}

/// <summary>How an append ended.</summary>
internal enum AppendOutcome
{
    /// <summary>Durable.</summary>
    Committed,
    /// <summary>The stored head moved: another writer got there first. Nothing was written for this stream.</summary>
    Conflict,
}

/// <summary>The retention state after a trim.</summary>
internal readonly record struct TrimResult(long Oldest, long RetainedBytes);
