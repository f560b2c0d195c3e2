using System.Globalization;
using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using StreamingEvents.Contracts;

namespace StreamingEvents.Storage.Postgres;

/// <summary>
/// The event log on PostgreSQL. Appends from all stream grains of a silo are group-committed: one statement per batch
/// updates every stream's head (and its open tasks' publishers) conditionally and inserts the events, new tasks, task
/// status changes and idempotency keys of exactly the streams whose head matched — so a stale writer fails alone while
/// the rest of the batch commits. A new task whose id is taken in its namespace fails the statement; the batch's appends
/// are then committed one by one, so that only that stream's append is refused.
/// </summary>
internal sealed class PostgresEventLogStorage : IEventLogStorage, IAsyncDisposable
{
    private const string AppendSql = """
        WITH s AS (
            UPDATE se_streams AS st
               SET head = u.new_head,
                   retained_bytes = st.retained_bytes + u.added_bytes,
                   task_count = u.task_count,
                   open_tasks = st.open_tasks + u.open_delta,
                   producers = u.producers,
                   exec_status = coalesce(u.exec_status, st.exec_status),
                   last_event_at = @now
              FROM unnest(@s_id, @s_expected, @s_head, @s_bytes, @s_tasks, @s_open, @s_producers, @s_exec)
                   AS u(id, expected, new_head, added_bytes, task_count, open_delta, producers, exec_status)
             WHERE st.id = u.id AND st.head = u.expected
            RETURNING st.id
        ), ev AS (
            INSERT INTO se_events (stream_id, seq, ts, task_no, kind, body)
            SELECT x.stream_id, x.seq, x.ts, x.task_no, x.kind, x.body
              FROM unnest(@e_stream, @e_seq, @e_ts, @e_task, @e_kind, @e_body) AS x(stream_id, seq, ts, task_no, kind, body)
             WHERE x.stream_id IN (SELECT id FROM s)
        ), nt AS (
            INSERT INTO se_tasks (stream_id, task_no, namespace, task_id, topic, workflow_run_id, metadata, status, started_seq, terminal_seq,
                                  activity_name, activity_id, producer_id, terminal_pseq, terminal_epoch, kind)
            SELECT x.stream_id, x.task_no, x.namespace, x.task_id, x.topic, x.run_id, x.metadata, x.status, x.started, x.terminal,
                   x.activity_name, x.activity_id, x.producer_id, x.terminal_pseq, x.terminal_epoch, x.kind
              FROM unnest(@t_stream, @t_no, @t_ns, @t_id, @t_topic, @t_run, @t_meta, @t_status, @t_started, @t_terminal,
                          @t_activity_name, @t_activity_id, @t_producer, @t_terminal_pseq, @t_terminal_epoch, @t_kind)
                   AS x(stream_id, task_no, namespace, task_id, topic, run_id, metadata, status, started, terminal,
                        activity_name, activity_id, producer_id, terminal_pseq, terminal_epoch, kind)
             WHERE x.stream_id IN (SELECT id FROM s)
        ), ft AS (
            UPDATE se_tasks AS tk
               SET status = x.status, terminal_seq = x.seq, terminal_pseq = x.pseq, terminal_epoch = x.epoch
              FROM unnest(@f_stream, @f_no, @f_status, @f_seq, @f_pseq, @f_epoch) AS x(stream_id, task_no, status, seq, pseq, epoch)
             WHERE tk.stream_id = x.stream_id AND tk.task_no = x.task_no AND x.stream_id IN (SELECT id FROM s)
        ), rk AS (
            INSERT INTO se_request_keys (namespace, key, stream_id, request_hash, first_seq, count, sequences, created_at)
            SELECT x.namespace, x.key, x.stream_id, x.hash, x.first_seq, x.count,
                   CASE WHEN x.sequences = '' THEN NULL ELSE string_to_array(x.sequences, ',')::bigint[] END, @now
              FROM unnest(@k_ns, @k_key, @k_stream, @k_hash, @k_first, @k_count, @k_sequences)
                   AS x(namespace, key, stream_id, hash, first_seq, count, sequences)
             WHERE x.stream_id IN (SELECT id FROM s)
            ON CONFLICT DO NOTHING
        )
        SELECT id FROM s
        """;

    /// <summary>The unique index that makes task ids unique within a namespace.</summary>
    private const string TaskIdIndex = "se_tasks_namespace_task_id";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _synchronousCommit;
    private readonly TimeProvider _time;
    private readonly GroupCommitter<StreamAppend, AppendOutcome> _committer;

    public PostgresEventLogStorage(PostgresEventLogOptions options, TimeProvider time, StreamingEventsMetrics? metrics = null)
    {
        _time = time;
        _dataSource = CreateDataSource(options.ConnectionString);
        _synchronousCommit = options.SynchronousCommit switch
        {
            PostgresSynchronousCommit.On => "on",
            PostgresSynchronousCommit.RemoteApply => "remote_apply",
            PostgresSynchronousCommit.RemoteWrite => "remote_write",
            PostgresSynchronousCommit.Local => "local",
            PostgresSynchronousCommit.Off => "off",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.SynchronousCommit, "Unknown synchronous_commit level."),
        };
        _committer = new GroupCommitter<StreamAppend, AppendOutcome>(
            CommitAsync, append => Math.Max(1, append.Events.Count), options.MaxEventsPerCommit, options.ConcurrentCommits, metrics.RecordCommit(),
            append => append.CommitBytes, options.MaxBytesPerCommit);
    }

    /// <summary>
    /// The statements here are few and run constantly: unless the connection string says otherwise, Npgsql prepares them
    /// (<c>Max Auto Prepare</c>), which spares PostgreSQL a parse and plan per commit. <c>Max Auto Prepare=0</c> turns it
    /// off, e.g. behind a pooler in transaction mode.
    /// </summary>
    private static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }

        return builder.Build();
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.ApplyAsync(_dataSource, cancellationToken);

    public async Task<StreamRecord?> LoadStreamAsync(string streamKey, CancellationToken cancellationToken)
    {
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {StoredRows.StreamColumns} FROM se_streams s WHERE s.stream_key = $1")
        {
            Parameters = { new() { Value = streamKey } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT {StoredRows.TaskColumns} FROM se_tasks t JOIN se_streams s ON s.id = t.stream_id WHERE s.stream_key = $1 AND t.status = 0")
        {
            Parameters = { new() { Value = streamKey } },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var stream = StoredRows.ReadStream(reader, ReadTime);
        await reader.NextResultAsync(cancellationToken);
        return stream with { OpenTasks = await StoredRows.ReadAllAsync(reader, r => StoredRows.ReadTask(r, 0), cancellationToken) };
    }

    public async Task<StreamRecord?> CreateStreamAsync(string streamKey, WorkflowContext context, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO se_streams AS s (stream_key, namespace, workflow_exec_id, workflow_name, workflow_run_id, root_workflow_exec_id, parent_workflow_exec_id, created_at, last_event_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            ON CONFLICT (stream_key) DO NOTHING
            RETURNING {StoredRows.StreamColumns}
            """);
        command.Parameters.Add(new() { Value = streamKey });
        command.Parameters.Add(new() { Value = context.Namespace });
        command.Parameters.Add(new() { Value = context.WorkflowExecId });
        command.Parameters.Add(new() { Value = context.WorkflowName! });
        command.Parameters.Add(new() { Value = context.WorkflowRunId! });
        command.Parameters.Add(new() { Value = context.RootWorkflowExecId! });
        command.Parameters.Add(new() { Value = (object?)context.ParentWorkflowExecId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = _time.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? StoredRows.ReadStream(reader, ReadTime) : null;
    }

    public Task<AppendOutcome> AppendAsync(StreamAppend append, CancellationToken cancellationToken) => _committer.SubmitAsync(append);

    private async Task<IReadOnlyList<AppendOutcome>> CommitAsync(IReadOnlyList<StreamAppend> batch, CancellationToken cancellationToken)
    {
        try
        {
            return await CommitStatementAsync(batch, cancellationToken);
        }
        catch (PostgresException exception) when (exception is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: TaskIdIndex })
        {
            // Nothing of the batch was written. Find the stream whose new task's id is taken by committing one by one.
            if (batch.Count == 1)
            {
                return [AppendOutcome.TaskIdTaken];
            }

            var outcomes = new AppendOutcome[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                outcomes[i] = (await CommitAsync([batch[i]], cancellationToken))[0];
            }

            return outcomes;
        }
    }

    private async Task<IReadOnlyList<AppendOutcome>> CommitStatementAsync(IReadOnlyList<StreamAppend> batch, CancellationToken cancellationToken)
    {
        // One statement checks each stream's head once, so a stream may appear only once per batch. A stream grain has
        // one append in flight at a time; a second one here can only come from another writer with the same view of the
        // head, and at most one of them could win: the later ones are refused as conflicts, writing nothing.
        var seen = new HashSet<long>();
        var appends = batch.Where(a => seen.Add(a.StreamId)).ToList();

        var keyCount = appends.Sum(a => a.Keys.Count);
        var eventCount = appends.Sum(a => a.Events.Count);
        var newTaskCount = appends.Sum(a => a.NewTasks.Count);
        var finishedCount = appends.Sum(a => a.FinishedTasks.Count);

        var sId = new long[appends.Count];
        var sExpected = new long[appends.Count];
        var sHead = new long[appends.Count];
        var sBytes = new long[appends.Count];
        var sTasks = new int[appends.Count];
        var sOpen = new int[appends.Count];
        var sProducers = new byte[appends.Count][];
        var sExec = new short?[appends.Count];

        var eStream = new long[eventCount];
        var eSeq = new long[eventCount];
        var eTs = new long[eventCount];
        var eTask = new int[eventCount];
        var eKind = new short[eventCount];
        var eBody = new byte[eventCount][];

        var tStream = new long[newTaskCount];
        var tNo = new int[newTaskCount];
        var tNs = new string[newTaskCount];
        var tId = new string[newTaskCount];
        var tTopic = new string[newTaskCount];
        var tRun = new string[newTaskCount];
        var tMeta = new byte[]?[newTaskCount];
        var tStatus = new short[newTaskCount];
        var tStarted = new long[newTaskCount];
        var tTerminal = new long?[newTaskCount];
        var tActivityName = new string?[newTaskCount];
        var tActivityId = new string?[newTaskCount];
        var tProducer = new string?[newTaskCount];
        var tTerminalPseq = new long?[newTaskCount];
        var tTerminalEpoch = new int?[newTaskCount];
        var tKind = new short[newTaskCount];

        var fStream = new long[finishedCount];
        var fNo = new int[finishedCount];
        var fStatus = new short[finishedCount];
        var fSeq = new long[finishedCount];
        var fPseq = new long?[finishedCount];
        var fEpoch = new int?[finishedCount];

        var kNs = new string[keyCount];
        var kKey = new string[keyCount];
        var kStream = new long[keyCount];
        var kHash = new byte[keyCount][];
        var kFirst = new long[keyCount];
        var kCount = new int[keyCount];
        var kSequences = new string[keyCount];

        int e = 0, t = 0, f = 0, k = 0;
        for (var i = 0; i < appends.Count; i++)
        {
            var append = appends[i];
            sId[i] = append.StreamId;
            sExpected[i] = append.ExpectedHead;
            sHead[i] = append.NewHead;
            sBytes[i] = append.AddedBytes;
            sTasks[i] = append.TaskCount;
            sOpen[i] = append.OpenTaskDelta;
            sProducers[i] = ProducerStates.Encode([.. append.Producers]);
            sExec[i] = (short?)append.ExecutionStatus;
            foreach (var ev in append.Events)
            {
                eStream[e] = append.StreamId;
                eSeq[e] = ev.Sequence;
                eTs[e] = ev.TimestampUnixNanoseconds;
                eTask[e] = ev.TaskNo;
                eKind[e] = ev.Kind;
                eBody[e] = ev.Body.ToArray();
                e++;
            }

            foreach (var task in append.NewTasks)
            {
                tStream[t] = append.StreamId;
                tNo[t] = task.TaskNo;
                tNs[t] = append.Namespace;
                tId[t] = task.TaskId;
                tTopic[t] = task.Topic;
                tRun[t] = task.WorkflowRunId;
                tMeta[t] = task.Metadata;
                tStatus[t] = (short)task.Status;
                tStarted[t] = task.StartedSequence;
                tTerminal[t] = task.TerminalSequence;
                tActivityName[t] = task.ActivityName;
                tActivityId[t] = task.ActivityId;
                tProducer[t] = task.ProducerId;
                tTerminalPseq[t] = task.TerminalPublishSequence;
                tTerminalEpoch[t] = task.TerminalEpoch;
                tKind[t] = (short)task.Kind;
                t++;
            }

            foreach (var finished in append.FinishedTasks)
            {
                fStream[f] = append.StreamId;
                fNo[f] = finished.TaskNo;
                fStatus[f] = (short)finished.Status;
                fSeq[f] = finished.Sequence;
                fPseq[f] = finished.PublishSequence;
                fEpoch[f] = finished.Epoch;
                f++;
            }

            foreach (var key in append.Keys)
            {
                kNs[k] = key.Namespace;
                kKey[k] = key.Key;
                kStream[k] = append.StreamId;
                kHash[k] = key.RequestHash;
                kFirst[k] = key.FirstSequence;
                kCount[k] = key.Count;
                kSequences[k] = key.Sequences is { } sequences ? string.Join(',', sequences) : string.Empty;
                k++;
            }
        }

        // Acknowledged => durable must not depend on how the server, database or role is configured: the level is set for
        // this transaction. The two commands of a batch run in one implicit transaction, and set_config(..., true) lasts
        // until its end, commit included (unlike SET LOCAL, it needs no explicit transaction block: one round trip).
        await using var batchCommand = _dataSource.CreateBatch();
        var durability = new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', $1, true)") { Parameters = { new() { Value = _synchronousCommit } } };
        var command = new NpgsqlBatchCommand(AppendSql);
        batchCommand.BatchCommands.Add(durability);
        batchCommand.BatchCommands.Add(command);
        var p = command.Parameters;
        p.AddWithValue("s_id", sId);
        p.AddWithValue("s_expected", sExpected);
        p.AddWithValue("s_head", sHead);
        p.AddWithValue("s_bytes", sBytes);
        p.AddWithValue("s_tasks", sTasks);
        p.AddWithValue("s_open", sOpen);
        p.AddWithValue("s_producers", NpgsqlDbType.Array | NpgsqlDbType.Bytea, sProducers);
        p.AddWithValue("s_exec", NpgsqlDbType.Array | NpgsqlDbType.Smallint, sExec);
        p.AddWithValue("e_stream", eStream);
        p.AddWithValue("e_seq", eSeq);
        p.AddWithValue("e_ts", eTs);
        p.AddWithValue("e_task", eTask);
        p.AddWithValue("e_kind", eKind);
        p.AddWithValue("e_body", NpgsqlDbType.Array | NpgsqlDbType.Bytea, eBody);
        p.AddWithValue("t_stream", tStream);
        p.AddWithValue("t_no", tNo);
        p.AddWithValue("t_ns", NpgsqlDbType.Array | NpgsqlDbType.Text, tNs);
        p.AddWithValue("t_id", NpgsqlDbType.Array | NpgsqlDbType.Text, tId);
        p.AddWithValue("t_topic", NpgsqlDbType.Array | NpgsqlDbType.Text, tTopic);
        p.AddWithValue("t_run", NpgsqlDbType.Array | NpgsqlDbType.Text, tRun);
        p.AddWithValue("t_meta", NpgsqlDbType.Array | NpgsqlDbType.Bytea, tMeta);
        p.AddWithValue("t_status", tStatus);
        p.AddWithValue("t_started", tStarted);
        p.AddWithValue("t_terminal", NpgsqlDbType.Array | NpgsqlDbType.Bigint, tTerminal);
        p.AddWithValue("t_activity_name", NpgsqlDbType.Array | NpgsqlDbType.Text, tActivityName);
        p.AddWithValue("t_activity_id", NpgsqlDbType.Array | NpgsqlDbType.Text, tActivityId);
        p.AddWithValue("t_producer", NpgsqlDbType.Array | NpgsqlDbType.Text, tProducer);
        p.AddWithValue("t_terminal_pseq", NpgsqlDbType.Array | NpgsqlDbType.Bigint, tTerminalPseq);
        p.AddWithValue("t_terminal_epoch", NpgsqlDbType.Array | NpgsqlDbType.Integer, tTerminalEpoch);
        p.AddWithValue("t_kind", tKind);
        p.AddWithValue("f_stream", fStream);
        p.AddWithValue("f_no", fNo);
        p.AddWithValue("f_status", fStatus);
        p.AddWithValue("f_seq", fSeq);
        p.AddWithValue("f_pseq", NpgsqlDbType.Array | NpgsqlDbType.Bigint, fPseq);
        p.AddWithValue("f_epoch", NpgsqlDbType.Array | NpgsqlDbType.Integer, fEpoch);
        p.AddWithValue("k_ns", NpgsqlDbType.Array | NpgsqlDbType.Text, kNs);
        p.AddWithValue("k_key", NpgsqlDbType.Array | NpgsqlDbType.Text, kKey);
        p.AddWithValue("k_stream", kStream);
        p.AddWithValue("k_hash", NpgsqlDbType.Array | NpgsqlDbType.Bytea, kHash);
        p.AddWithValue("k_first", kFirst);
        p.AddWithValue("k_count", kCount);
        p.AddWithValue("k_sequences", NpgsqlDbType.Array | NpgsqlDbType.Text, kSequences);
        p.AddWithValue("now", _time.GetUtcNow());

        var committed = new HashSet<long>();
        await using (var reader = await batchCommand.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                committed.Add(reader.GetInt64(0));
            }
        }

        var outcomes = new AppendOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            outcomes[i] = committed.Remove(batch[i].StreamId) ? AppendOutcome.Committed : AppendOutcome.Conflict;
        }

        return outcomes;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long streamId, long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT {StoredRows.EventColumns} FROM se_events WHERE stream_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4");
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = fromSequence });
        command.Parameters.Add(new() { Value = toSequence });
        command.Parameters.Add(new() { Value = maxEvents });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, StoredRows.ReadEvent, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredTask>> ReadTasksAsync(long streamId, IReadOnlyCollection<int> taskNos, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {StoredRows.TaskColumns} FROM se_tasks t WHERE t.stream_id = $1 AND t.task_no = ANY($2)");
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = taskNos.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, r => StoredRows.ReadTask(r, 0), cancellationToken);
    }

    public async Task<TaskLocation?> FindTaskAsync(string @namespace, string taskId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT s.stream_key, {StoredRows.TaskColumns} FROM se_tasks t JOIN se_streams s ON s.id = t.stream_id WHERE t.namespace = $1 AND t.task_id = $2");
        command.Parameters.Add(new() { Value = @namespace });
        command.Parameters.Add(new() { Value = taskId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new TaskLocation(reader.GetString(0), StoredRows.ReadTask(reader, 1)) : null;
    }

    public async Task<IReadOnlyList<long>> ReadTaskSequencesAsync(long streamId, int taskNo, long throughSequence, int count, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT seq FROM se_events WHERE stream_id = $1 AND seq <= $2 AND task_no = $3 ORDER BY seq DESC LIMIT $4");
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = throughSequence });
        command.Parameters.Add(new() { Value = taskNo });
        command.Parameters.Add(new() { Value = count });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, r => r.GetInt64(0), cancellationToken);
    }

    public async Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string @namespace, string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT stream_id, request_hash, first_seq, count, sequences FROM se_request_keys WHERE namespace = $1 AND key = $2");
        command.Parameters.Add(new() { Value = @namespace });
        command.Parameters.Add(new() { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (reader.GetInt64(0), new StoredRequestKey(@namespace, key, reader.GetFieldValue<byte[]>(1), reader.GetInt64(2), reader.GetInt32(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<long[]>(4)));
    }

    public async Task<int> DeleteRequestKeysAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM se_request_keys WHERE created_at < $1");
        command.Parameters.Add(new() { Value = before });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<TrimResult> TrimAsync(long streamId, long before, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            WITH d AS (DELETE FROM se_events WHERE stream_id = $1 AND seq < $2 RETURNING length(body) AS n)
            UPDATE se_streams
               SET oldest = GREATEST(oldest, $2),
                   retained_bytes = GREATEST(0, retained_bytes - (SELECT coalesce(sum(n), 0) FROM d))
             WHERE id = $1
            RETURNING oldest, retained_bytes
            """);
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = before });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new TrimResult(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<long> FindRetentionBoundaryAsync(long streamId, long head, long keepBytes, long minTimestampUnixNanoseconds, CancellationToken cancellationToken)
    {
        // Timestamps ascend with the sequence within a stream, so the kept suffix is the one whose running size (from the
        // head down) fits and whose events are young enough.
        await using var command = _dataSource.CreateCommand("""
            SELECT coalesce(min(seq), $2 + 1)
              FROM (SELECT seq, ts, sum(length(body)) OVER (ORDER BY seq DESC) AS kept
                      FROM se_events WHERE stream_id = $1) x
             WHERE kept <= $3 AND ts >= $4
            """);
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = head });
        command.Parameters.Add(new() { Value = keepBytes });
        command.Parameters.Add(new() { Value = minTimestampUnixNanoseconds });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyList<ExecutionSummary>> FindExecutionsAsync(ExecutionQuery query, long boundary, bool newestFirst, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT {StoredRows.ExecutionColumns} FROM se_streams s WHERE {StoredRows.ExecutionFilter(newestFirst)} LIMIT $7");
        command.Parameters.Add(new() { Value = query.Namespace });
        foreach (var value in new[] { query.WorkflowExecId, query.WorkflowName, query.RootWorkflowExecId, query.ParentWorkflowExecId })
        {
            command.Parameters.Add(new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        }

        command.Parameters.Add(new() { Value = boundary });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, r => StoredRows.ReadExecution(r, ReadTime), cancellationToken);
    }

    /// <summary>
    /// By the transaction that inserted each stream row, then its id: identities are taken in one order and committed in
    /// another, but every row of a transaction older than the snapshot's oldest running one (<c>pg_snapshot_xmin</c>) is
    /// final, so listing only those, in that order, never steps past a row that becomes visible later.
    /// </summary>
    public async Task<DiscoveryPage> DiscoverExecutionsAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(after);
        await using var command = _dataSource.CreateCommand(
            $"SELECT {StoredRows.ExecutionColumns}, s.created_xid::text::bigint FROM se_streams s WHERE {StoredRows.ExecutionMatch()}" +
            " AND s.created_xid < pg_snapshot_xmin(pg_current_snapshot()) AND (s.created_xid, s.id) > ($6::text::xid8, $7)" +
            " ORDER BY s.created_xid, s.id LIMIT $8");
        command.Parameters.Add(new() { Value = query.Namespace });
        foreach (var value in new[] { query.WorkflowExecId, query.WorkflowName, query.RootWorkflowExecId, query.ParentWorkflowExecId })
        {
            command.Parameters.Add(new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        }

        command.Parameters.Add(new() { Value = after.Commit.ToString(CultureInfo.InvariantCulture), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = after.StreamId });
        command.Parameters.Add(new() { Value = limit });
        var executions = new List<ExecutionSummary>();
        var next = after;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var execution = StoredRows.ReadExecution(reader, ReadTime);
            executions.Add(execution);
            next = new DiscoveryPosition(reader.GetInt64(14), execution.StreamId);
        }

        return new DiscoveryPage([.. executions], next);
    }

    public async Task<IReadOnlyList<ExecutionSummary>> GetExecutionsAsync(IReadOnlyCollection<long> streamIds, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {StoredRows.ExecutionColumns} FROM se_streams s WHERE s.id = ANY($1)");
        command.Parameters.Add(new() { Value = streamIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, r => StoredRows.ReadExecution(r, ReadTime), cancellationToken);
    }

    public async Task<IReadOnlyList<string>> FindIdleStreamsWithOpenTasksAsync(DateTimeOffset idleSince, int maxStreams, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT stream_key FROM se_streams WHERE open_tasks > 0 AND last_event_at < $1 ORDER BY last_event_at LIMIT $2");
        command.Parameters.Add(new() { Value = idleSince });
        command.Parameters.Add(new() { Value = maxStreams });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await StoredRows.ReadAllAsync(reader, r => r.GetString(0), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _committer.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    private static DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);
}
