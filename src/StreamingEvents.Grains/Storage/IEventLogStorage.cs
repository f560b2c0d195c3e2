using StreamingEvents.Contracts;

namespace StreamingEvents.Storage;

/// <summary>
/// Append-only storage of execution streams. Appends from many streams may share one transaction (group commit), but each
/// stream's append is conditional on its head, so a stale writer fails instead of reusing numbers.
/// </summary>
internal interface IEventLogStorage
{
    /// <summary>Runs a trivial query (readiness checks).</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>Creates the schema if needed (idempotent).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Loads a stream and its open tasks; <c>null</c> if it was never written.</summary>
    Task<StreamRecord?> LoadStreamAsync(string streamKey, CancellationToken cancellationToken);

    /// <summary>Creates the stream row, or returns <c>null</c> if it already exists (another writer created it).</summary>
    Task<StreamRecord?> CreateStreamAsync(string streamKey, WorkflowContext context, CancellationToken cancellationToken);

    /// <summary>Appends events and counters in one transaction, conditional on the stream's head.</summary>
    /// <exception cref="StorageUnavailableException">The outcome is unknown: storage failed or did not confirm.</exception>
    Task<AppendOutcome> AppendAsync(StreamAppend append, CancellationToken cancellationToken);

    /// <summary>Reads events with <paramref name="fromSequence"/> ≤ sequence ≤ <paramref name="toSequence"/>, ascending.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long streamId, long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken);

    /// <summary>Reads task rows by their numbers within one stream.</summary>
    Task<IReadOnlyList<StoredTask>> ReadTasksAsync(long streamId, IReadOnlyCollection<int> taskNos, CancellationToken cancellationToken);

    /// <summary>Finds a task by id in a namespace (across its streams).</summary>
    Task<TaskLocation?> FindTaskAsync(string @namespace, string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// The <c>broker_sequence</c>s of the last <paramref name="count"/> events of task <paramref name="taskNo"/> up to
    /// <paramref name="throughSequence"/>, newest first (fewer if retention removed the older ones).
    /// </summary>
    Task<IReadOnlyList<long>> ReadTaskSequencesAsync(long streamId, int taskNo, long throughSequence, int count, CancellationToken cancellationToken);

    /// <summary>An idempotency key of a namespace and what it published, with the stream it published to.</summary>
    Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string @namespace, string key, CancellationToken cancellationToken);

    /// <summary>Forgets idempotency keys stored before <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteRequestKeysAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>Deletes a stream's events below <paramref name="before"/>; the numbering is untouched.</summary>
    Task<TrimResult> TrimAsync(long streamId, long before, CancellationToken cancellationToken);

    /// <summary>
    /// The first sequence to keep so that the newest retained events hold at most <paramref name="keepBytes"/> bytes of
    /// body and none is older than <paramref name="minTimestampUnixNanoseconds"/>.
    /// </summary>
    Task<long> FindRetentionBoundaryAsync(long streamId, long head, long keepBytes, long minTimestampUnixNanoseconds, CancellationToken cancellationToken);

    /// <summary>
    /// Executions matching <paramref name="query"/>, by stream id: above <paramref name="boundary"/> ascending, or below it
    /// descending when <paramref name="newestFirst"/>.
    /// </summary>
    Task<IReadOnlyList<ExecutionSummary>> FindExecutionsAsync(ExecutionQuery query, long boundary, bool newestFirst, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Executions matching <paramref name="query"/> after <paramref name="after"/> in discovery order: only rows that no
    /// running transaction can precede (an execution listed later never sorts before one listed earlier), ascending.
    /// </summary>
    Task<DiscoveryPage> DiscoverExecutionsAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken);

    /// <summary>The executions with the given stream ids.</summary>
    Task<IReadOnlyList<ExecutionSummary>> GetExecutionsAsync(IReadOnlyCollection<long> streamIds, CancellationToken cancellationToken);

    /// <summary>Keys of streams with open tasks and no event since <paramref name="idleSince"/>.</summary>
    Task<IReadOnlyList<string>> FindIdleStreamsWithOpenTasksAsync(DateTimeOffset idleSince, int maxStreams, CancellationToken cancellationToken);
}
