using System.Data.Common;

namespace StreamingEvents.Storage;

/// <summary>The column lists and row mappings shared by the SQL event logs (the schemas have the same shape).</summary>
internal static class StoredRows
{
    /// <summary>Stream columns, in the order <see cref="ReadStream"/> reads them (alias <c>s</c>).</summary>
    public const string StreamColumns =
        "s.id, s.namespace, s.workflow_exec_id, s.workflow_name, s.workflow_run_id, s.root_workflow_exec_id, s.parent_workflow_exec_id, " +
        "s.head, s.oldest, s.retained_bytes, s.task_count, s.last_event_at";

    /// <summary>Task columns, in the order <see cref="ReadTask"/> reads them (alias <c>t</c>).</summary>
    public const string TaskColumns =
        "t.task_no, t.task_id, t.topic, t.workflow_run_id, t.metadata, t.status, t.started_seq, t.terminal_seq";

    /// <summary>Event columns, in the order <see cref="ReadEvent"/> reads them.</summary>
    public const string EventColumns = "seq, ts, task_no, kind, body";

    public static StreamRecord ReadStream(DbDataReader reader, Func<DbDataReader, int, DateTimeOffset> readTime) => new(
        StreamId: reader.GetInt64(0),
        Context: new WorkflowContext(
            WorkflowExecId: reader.GetString(2),
            WorkflowName: reader.GetString(3),
            WorkflowRunId: reader.GetString(4),
            ParentWorkflowExecId: reader.IsDBNull(6) ? null : reader.GetString(6),
            RootWorkflowExecId: reader.GetString(5),
            Namespace: reader.GetString(1)),
        Head: reader.GetInt64(7),
        Oldest: reader.GetInt64(8),
        RetainedBytes: reader.GetInt64(9),
        TaskCount: reader.GetInt32(10),
        LastEventAt: readTime(reader, 11),
        OpenTasks: []);

    public static StoredTask ReadTask(DbDataReader reader, int offset) => new(
        TaskNo: reader.GetInt32(offset),
        TaskId: reader.GetString(offset + 1),
        Topic: reader.GetString(offset + 2),
        WorkflowRunId: reader.GetString(offset + 3),
        Metadata: reader.IsDBNull(offset + 4) ? null : reader.GetFieldValue<byte[]>(offset + 4),
        Status: (CustomTaskStatus)reader.GetInt16(offset + 5),
        StartedSequence: reader.GetInt64(offset + 6),
        TerminalSequence: reader.IsDBNull(offset + 7) ? null : reader.GetInt64(offset + 7));

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
