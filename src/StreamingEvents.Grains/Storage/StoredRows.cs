using System.Data.Common;
using StreamingEvents.Contracts;

namespace StreamingEvents.Storage;

/// <summary>The column lists and row mappings shared by the SQL event logs (the schemas have the same shape).</summary>
internal static class StoredRows
{
    /// <summary>Stream columns, in the order <see cref="ReadStream"/> reads them (alias <c>s</c>).</summary>
    public const string StreamColumns =
        "s.id, s.namespace, s.workflow_exec_id, s.workflow_name, s.workflow_run_id, s.root_workflow_exec_id, s.parent_workflow_exec_id, " +
        "s.head, s.oldest, s.retained_bytes, s.task_count, s.last_event_at, s.producers, s.exec_status, s.created_at";

    /// <summary>Task columns, in the order <see cref="ReadTask"/> reads them (alias <c>t</c>).</summary>
    public const string TaskColumns =
        "t.task_no, t.task_id, t.topic, t.workflow_run_id, t.metadata, t.status, t.started_seq, t.terminal_seq, t.activity_name, t.activity_id, " +
        "t.producer_id, t.terminal_pseq, t.terminal_epoch, t.kind";

    /// <summary>Event columns, in the order <see cref="ReadEvent"/> reads them.</summary>
    public const string EventColumns = "seq, ts, task_no, kind, body";

    public static StreamRecord ReadStream(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset> readTime) => new(
        StreamId: reader.GetInt64(0),
        Context: ReadContext(reader),
        Head: reader.GetInt64(7),
        Oldest: reader.GetInt64(8),
        RetainedBytes: reader.GetInt64(9),
        TaskCount: reader.GetInt32(10),
        LastEventAt: readTime(reader, 11),
        OpenTasks: [])
    {
        Producers = reader.IsDBNull(12) ? [] : ProducerStates.Decode(reader.GetFieldValue<byte[]>(12)),
        ExecutionStatus = (ExecutionStatus)reader.GetInt16(13),
        CreatedAt = readTime(reader, 14),
    };

    /// <summary>Execution columns, in the order <see cref="ReadExecution"/> reads them (alias <c>s</c>).</summary>
    public const string ExecutionColumns =
        "s.id, s.namespace, s.workflow_exec_id, s.workflow_name, s.workflow_run_id, s.root_workflow_exec_id, s.parent_workflow_exec_id, " +
        "s.head, s.oldest, s.retained_bytes, s.task_count, s.last_event_at, s.open_tasks, s.exec_status";

    public static ExecutionSummary ReadExecution(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset> readTime) => new(
        StreamId: reader.GetInt64(0),
        Context: ReadContext(reader),
        Head: reader.GetInt64(7),
        OldestRetained: reader.GetInt64(8),
        TaskCount: reader.GetInt32(10),
        OpenTasks: reader.GetInt32(12),
        LastEventAt: readTime(reader, 11),
        Status: (ExecutionStatus)reader.GetInt16(13));

    /// <summary>
    /// The filter of an execution query on <c>se_streams s</c>, with positional parameters <c>$1</c> (namespace) to
    /// <c>$5</c> (parent), each <c>NULL</c> for "any", and the stream-id boundary <c>$6</c>.
    /// </summary>
    public static string ExecutionFilter(bool newestFirst, string parameterPrefix = "$") =>
        ExecutionMatch(parameterPrefix) +
        (newestFirst ? $" AND s.id < {parameterPrefix}6 ORDER BY s.id DESC" : $" AND s.id > {parameterPrefix}6 ORDER BY s.id");

    /// <summary>The query's conditions alone: <c>$1</c> (namespace) to <c>$5</c> (parent), each <c>NULL</c> for "any".</summary>
    public static string ExecutionMatch(string parameterPrefix = "$") =>
        $"s.namespace = {parameterPrefix}1" +
        $" AND ({parameterPrefix}2 IS NULL OR s.workflow_exec_id = {parameterPrefix}2)" +
        $" AND ({parameterPrefix}3 IS NULL OR s.workflow_name = {parameterPrefix}3)" +
        $" AND ({parameterPrefix}4 IS NULL OR s.root_workflow_exec_id = {parameterPrefix}4)" +
        $" AND ({parameterPrefix}5 IS NULL OR s.parent_workflow_exec_id = {parameterPrefix}5)";

    private static WorkflowContext ReadContext(DbDataReader reader) => new(
        WorkflowExecId: reader.GetString(2),
        WorkflowName: reader.GetString(3),
        WorkflowRunId: reader.GetString(4),
        ParentWorkflowExecId: reader.IsDBNull(6) ? null : reader.GetString(6),
        RootWorkflowExecId: reader.GetString(5),
        Namespace: reader.GetString(1));

    public static StoredTask ReadTask(DbDataReader reader, int offset) => new(
        TaskNo: reader.GetInt32(offset),
        TaskId: reader.GetString(offset + 1),
        Topic: reader.GetString(offset + 2),
        WorkflowRunId: reader.GetString(offset + 3),
        Metadata: reader.IsDBNull(offset + 4) ? null : reader.GetFieldValue<byte[]>(offset + 4),
        Status: (CustomTaskStatus)reader.GetInt16(offset + 5),
        StartedSequence: reader.GetInt64(offset + 6),
        TerminalSequence: reader.IsDBNull(offset + 7) ? null : reader.GetInt64(offset + 7))
    {
        ActivityName = reader.IsDBNull(offset + 8) ? null : reader.GetString(offset + 8),
        ActivityId = reader.IsDBNull(offset + 9) ? null : reader.GetString(offset + 9),
        ProducerId = reader.IsDBNull(offset + 10) ? null : reader.GetString(offset + 10),
        TerminalPublishSequence = reader.IsDBNull(offset + 11) ? null : reader.GetInt64(offset + 11),
        TerminalEpoch = reader.IsDBNull(offset + 12) ? null : reader.GetInt32(offset + 12),
        Kind = (TaskKind)reader.GetInt16(offset + 13),
    };

    public static StoredEvent ReadEvent(DbDataReader reader)
    {
        var (type, encoding) = StoredEvent.Unpack(reader.GetInt16(3));
        return new StoredEvent(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), type, encoding, reader.GetFieldValue<byte[]>(4));
    }

    public static async Task<List<T>> ReadAllAsync<T>(DbDataReader reader, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
