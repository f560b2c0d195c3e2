using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamingEvents.Contracts;

namespace StreamingEvents.Storage.Sqlite;

/// <summary>
/// The embedded event log: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so an acknowledged event has been
/// fsynced. One writer connection group-commits the appends of all streams; reads use pooled connections. SQLite's
/// driver is synchronous, so every call runs off the caller's (grain) thread.
/// </summary>
/// <remarks>
/// SQLite restarts the write-ahead log from its beginning only when no reader is using it; with readers that keep
/// overlapping (replays, subscribers catching up) that moment never comes, and its automatic checkpoints leave the file
/// growing for ever. So after a commit that takes the log past <see cref="SqliteEventLogOptions.MaxWalBytes"/>, the writer
/// runs a truncating checkpoint: it copies the log into the database, waits (at most
/// <see cref="SqliteEventLogOptions.WalCheckpointTimeout"/>) for the readers still on older snapshots to finish — readers
/// that start meanwhile read the database file and never wait — and truncates the log.
/// </remarks>
internal sealed partial class SqliteEventLogStorage : IEventLogStorage, IAsyncDisposable
{
    /// <summary>What every other wait of the writer connection allows (a busy reader file lock, a second process).</summary>
    private const int WriterBusyTimeoutMilliseconds = 30_000;

    private readonly string _connectionString;
    private readonly string _walPath;
    private readonly long _maxWalBytes;
    private readonly int _checkpointTimeoutMilliseconds;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GroupCommitter<StreamAppend, AppendOutcome> _committer;
    private readonly SemaphoreSlim _initialized = new(1, 1);
    private SqliteConnection? _writer;

    /// <summary>The log size at which the next truncating checkpoint is tried (higher after one that readers held off).</summary>
    private long _checkpointAt;

    public SqliteEventLogStorage(SqliteEventLogOptions options, TimeProvider time, StreamingEventsMetrics? metrics = null, ILogger<SqliteEventLogStorage>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _walPath = Path.GetFullPath(options.Path) + "-wal";
        _maxWalBytes = options.MaxWalBytes;
        _checkpointAt = options.MaxWalBytes;
        _checkpointTimeoutMilliseconds = (int)options.WalCheckpointTimeout.TotalMilliseconds;
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.Path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _time = time;
        _committer = new GroupCommitter<StreamAppend, AppendOutcome>(
            CommitAsync, append => Math.Max(1, append.Events.Count), options.MaxEventsPerCommit, concurrentCommits: 1, metrics.RecordCommit(),
            append => append.CommitBytes, options.MaxBytesPerCommit);
    }

    public Task PingAsync(CancellationToken cancellationToken) => ReadAsync(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM se_streams WHERE id = 0";
        return command.ExecuteScalar();
    }, cancellationToken);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initialized.WaitAsync(cancellationToken);
        try
        {
            if (_writer is not null)
            {
                return;
            }

            var writer = new SqliteConnection(_connectionString);
            writer.Open();
            // journal_size_limit: when SQLite restarts the log by itself, it also cuts the file back to the bound.
            Execute(writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout={WriterBusyTimeoutMilliseconds}; PRAGMA journal_size_limit={_maxWalBytes};");
            AddColumnsOfThisVersion(writer);
            using (var stream = typeof(SqliteEventLogStorage).Assembly.GetManifestResourceStream("StreamingEvents.Sqlite.schema.sql")!)
            using (var reader = new StreamReader(stream))
            {
                Execute(writer, reader.ReadToEnd());
            }

            _writer = writer;
        }
        finally
        {
            _initialized.Release();
        }
    }

    public Task<StreamRecord?> LoadStreamAsync(string streamKey, CancellationToken cancellationToken) => ReadAsync(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoredRows.StreamColumns} FROM se_streams s WHERE s.stream_key = $key";
        command.Parameters.AddWithValue("$key", streamKey);
        StreamRecord stream;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }

            stream = StoredRows.ReadStream(reader, ReadTime);
        }

        using var tasks = connection.CreateCommand();
        tasks.CommandText = $"SELECT {StoredRows.TaskColumns} FROM se_tasks t WHERE t.stream_id = $id AND t.status = 0";
        tasks.Parameters.AddWithValue("$id", stream.StreamId);
        return stream with { OpenTasks = ReadTasks(tasks) };
    }, cancellationToken);

    public Task<StreamRecord?> CreateStreamAsync(string streamKey, WorkflowContext context, CancellationToken cancellationToken) => WriteAsync(writer =>
    {
        using var command = writer.CreateCommand();
        command.CommandText = $"""
            INSERT INTO se_streams (stream_key, namespace, workflow_exec_id, workflow_name, workflow_run_id, root_workflow_exec_id, parent_workflow_exec_id, created_at, last_event_at)
            VALUES ($key, $ns, $exec, $name, $run, $root, $parent, $now, $now)
            ON CONFLICT (stream_key) DO NOTHING
            RETURNING id, namespace, workflow_exec_id, workflow_name, workflow_run_id, root_workflow_exec_id, parent_workflow_exec_id,
                      head, oldest, retained_bytes, task_count, last_event_at, producers, exec_status, created_at
            """;
        command.Parameters.AddWithValue("$key", streamKey);
        command.Parameters.AddWithValue("$ns", context.Namespace);
        command.Parameters.AddWithValue("$exec", context.WorkflowExecId);
        command.Parameters.AddWithValue("$name", context.WorkflowName);
        command.Parameters.AddWithValue("$run", context.WorkflowRunId);
        command.Parameters.AddWithValue("$root", context.RootWorkflowExecId);
        command.Parameters.AddWithValue("$parent", (object?)context.ParentWorkflowExecId ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        return reader.Read() ? StoredRows.ReadStream(reader, ReadTime) : null;
    });

    public Task<AppendOutcome> AppendAsync(StreamAppend append, CancellationToken cancellationToken) => _committer.SubmitAsync(append);

    private async Task<IReadOnlyList<AppendOutcome>> CommitAsync(IReadOnlyList<StreamAppend> appends, CancellationToken cancellationToken)
    {
        var writer = await GetWriterAsync();
        lock (writer)
        {
            var outcomes = CommitOrIsolate(writer, appends);
            BoundWal(writer);
            return outcomes;
        }
    }

    /// <summary>Checkpoints and truncates the write-ahead log once it passed its bound (see the remarks of the class).</summary>
    private void BoundWal(SqliteConnection writer)
    {
        var size = WalBytes();
        if (size <= _maxWalBytes)
        {
            _checkpointAt = _maxWalBytes;
            return;
        }

        if (size <= _checkpointAt)
        {
            return;
        }

        // The commits are durable whatever happens here: a checkpoint that fails is logged and tried again later, never
        // reported to the appends that triggered it.
        Execute(writer, $"PRAGMA busy_timeout={_checkpointTimeoutMilliseconds}");
        try
        {
            using var command = writer.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var reader = command.ExecuteReader();
            if (reader.Read() && reader.GetInt64(0) != 0)
            {
                // Readers held older snapshots past the timeout: the log stays; try again once it grew by another bound.
                _checkpointAt = size + _maxWalBytes;
                LogWalCheckpointBusy(size, _checkpointTimeoutMilliseconds);
            }
            else
            {
                _checkpointAt = _maxWalBytes;
            }
        }
        catch (SqliteException exception)
        {
            _checkpointAt = size + _maxWalBytes;
            LogWalCheckpointFailed(exception, size);
        }
        finally
        {
            Execute(writer, $"PRAGMA busy_timeout={WriterBusyTimeoutMilliseconds}");
        }
    }

    private long WalBytes()
    {
        var wal = new FileInfo(_walPath);
        return wal.Exists ? wal.Length : 0;
    }

    [LoggerMessage(EventIds.WalCheckpointBusy, LogLevel.Warning,
        "The SQLite write-ahead log is {Bytes} bytes, and readers kept it in use for over {TimeoutMilliseconds} ms: it is truncated later")]
    private partial void LogWalCheckpointBusy(long bytes, int timeoutMilliseconds);

    [LoggerMessage(EventIds.WalCheckpointFailed, LogLevel.Warning, "Checkpointing the SQLite write-ahead log ({Bytes} bytes) failed; it is tried again later")]
    private partial void LogWalCheckpointFailed(Exception exception, long bytes);

    /// <summary>
    /// A new task whose id is taken in its namespace fails the transaction (nothing is written); the appends are then
    /// committed one by one, so that only that stream's append is refused.
    /// </summary>
    private AppendOutcome[] CommitOrIsolate(SqliteConnection writer, IReadOnlyList<StreamAppend> appends)
    {
        try
        {
            return Commit(writer, appends);
        }
        catch (SqliteException exception) when (IsTaskIdTaken(exception))
        {
            return appends.Count == 1 ? [AppendOutcome.TaskIdTaken] : [.. appends.Select(append => CommitOrIsolate(writer, [append])[0])];
        }
    }

    private static bool IsTaskIdTaken(SqliteException exception) =>
        exception.SqliteErrorCode == 19 && exception.Message.Contains("se_tasks.namespace, se_tasks.task_id", StringComparison.Ordinal);

    private AppendOutcome[] Commit(SqliteConnection writer, IReadOnlyList<StreamAppend> appends)
    {
        var outcomes = new AppendOutcome[appends.Count];
        using var transaction = writer.BeginTransaction(deferred: false);

        using var updateStream = writer.CreateCommand();
        updateStream.Transaction = transaction;
        updateStream.CommandText = """
            UPDATE se_streams
               SET head = $head, retained_bytes = retained_bytes + $bytes, task_count = $tasks,
                   open_tasks = open_tasks + $open, last_event_at = $now, producers = $producers,
                   exec_status = coalesce($exec, exec_status)
             WHERE id = $id AND head = $expected
            """;
        var uHead = updateStream.Parameters.Add("$head", SqliteType.Integer);
        var uBytes = updateStream.Parameters.Add("$bytes", SqliteType.Integer);
        var uTasks = updateStream.Parameters.Add("$tasks", SqliteType.Integer);
        var uOpen = updateStream.Parameters.Add("$open", SqliteType.Integer);
        var uNow = updateStream.Parameters.Add("$now", SqliteType.Integer);
        var uId = updateStream.Parameters.Add("$id", SqliteType.Integer);
        var uExpected = updateStream.Parameters.Add("$expected", SqliteType.Integer);
        var uProducers = updateStream.Parameters.Add("$producers", SqliteType.Blob);
        var uExec = updateStream.Parameters.Add("$exec", SqliteType.Integer);

        using var insertEvent = writer.CreateCommand();
        insertEvent.Transaction = transaction;
        insertEvent.CommandText = "INSERT INTO se_events (stream_id, seq, ts, task_no, kind, body) VALUES ($stream, $seq, $ts, $task, $kind, $body)";
        var eStream = insertEvent.Parameters.Add("$stream", SqliteType.Integer);
        var eSeq = insertEvent.Parameters.Add("$seq", SqliteType.Integer);
        var eTs = insertEvent.Parameters.Add("$ts", SqliteType.Integer);
        var eTask = insertEvent.Parameters.Add("$task", SqliteType.Integer);
        var eKind = insertEvent.Parameters.Add("$kind", SqliteType.Integer);
        var eBody = insertEvent.Parameters.Add("$body", SqliteType.Blob);

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < appends.Count; i++)
        {
            var append = appends[i];
            uHead.Value = append.NewHead;
            uBytes.Value = append.AddedBytes;
            uTasks.Value = append.TaskCount;
            uOpen.Value = append.OpenTaskDelta;
            uNow.Value = now;
            uId.Value = append.StreamId;
            uExpected.Value = append.ExpectedHead;
            uProducers.Value = ProducerStates.Encode([.. append.Producers]);
            uExec.Value = append.ExecutionStatus is { } status ? (short)status : DBNull.Value;
            if (updateStream.ExecuteNonQuery() == 0)
            {
                outcomes[i] = AppendOutcome.Conflict;
                continue;
            }

            foreach (var ev in append.Events)
            {
                eStream.Value = append.StreamId;
                eSeq.Value = ev.Sequence;
                eTs.Value = ev.TimestampUnixNanoseconds;
                eTask.Value = ev.TaskNo;
                eKind.Value = ev.Kind;
                eBody.Value = ev.Body.ToArray();
                insertEvent.ExecuteNonQuery();
            }

            foreach (var task in append.NewTasks)
            {
                using var insertTask = writer.CreateCommand();
                insertTask.Transaction = transaction;
                insertTask.CommandText = """
                    INSERT INTO se_tasks (stream_id, task_no, namespace, task_id, topic, workflow_run_id, metadata, status, started_seq, terminal_seq,
                                          activity_name, activity_id, producer_id, terminal_pseq, terminal_epoch, kind)
                    VALUES ($stream, $no, $ns, $id, $topic, $run, $meta, $status, $started, $terminal, $activity_name, $activity_id, $producer, $terminal_pseq, $terminal_epoch, $kind)
                    """;
                insertTask.Parameters.AddWithValue("$stream", append.StreamId);
                insertTask.Parameters.AddWithValue("$no", task.TaskNo);
                insertTask.Parameters.AddWithValue("$ns", append.Namespace);
                insertTask.Parameters.AddWithValue("$producer", (object?)task.ProducerId ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$terminal_pseq", (object?)task.TerminalPublishSequence ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$terminal_epoch", (object?)task.TerminalEpoch ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$kind", (short)task.Kind);
                insertTask.Parameters.AddWithValue("$id", task.TaskId);
                insertTask.Parameters.AddWithValue("$topic", task.Topic);
                insertTask.Parameters.AddWithValue("$run", task.WorkflowRunId);
                insertTask.Parameters.AddWithValue("$meta", (object?)task.Metadata ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$status", (short)task.Status);
                insertTask.Parameters.AddWithValue("$started", task.StartedSequence);
                insertTask.Parameters.AddWithValue("$terminal", (object?)task.TerminalSequence ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$activity_name", (object?)task.ActivityName ?? DBNull.Value);
                insertTask.Parameters.AddWithValue("$activity_id", (object?)task.ActivityId ?? DBNull.Value);
                insertTask.ExecuteNonQuery();
            }

            foreach (var finished in append.FinishedTasks)
            {
                using var finishTask = writer.CreateCommand();
                finishTask.Transaction = transaction;
                finishTask.CommandText = "UPDATE se_tasks SET status = $status, terminal_seq = $seq, terminal_pseq = $pseq, terminal_epoch = $epoch WHERE stream_id = $stream AND task_no = $no";
                finishTask.Parameters.AddWithValue("$status", (short)finished.Status);
                finishTask.Parameters.AddWithValue("$pseq", (object?)finished.PublishSequence ?? DBNull.Value);
                finishTask.Parameters.AddWithValue("$epoch", (object?)finished.Epoch ?? DBNull.Value);
                finishTask.Parameters.AddWithValue("$seq", finished.Sequence);
                finishTask.Parameters.AddWithValue("$stream", append.StreamId);
                finishTask.Parameters.AddWithValue("$no", finished.TaskNo);
                finishTask.ExecuteNonQuery();
            }

            foreach (var key in append.Keys)
            {
                using var insertKey = writer.CreateCommand();
                insertKey.Transaction = transaction;
                insertKey.CommandText = """
                    INSERT INTO se_request_keys (namespace, key, stream_id, request_hash, first_seq, count, sequences, created_at)
                    VALUES ($ns, $key, $stream, $hash, $first, $count, $sequences, $now)
                    ON CONFLICT DO NOTHING
                    """;
                insertKey.Parameters.AddWithValue("$ns", key.Namespace);
                insertKey.Parameters.AddWithValue("$key", key.Key);
                insertKey.Parameters.AddWithValue("$stream", append.StreamId);
                insertKey.Parameters.AddWithValue("$hash", key.RequestHash);
                insertKey.Parameters.AddWithValue("$first", key.FirstSequence);
                insertKey.Parameters.AddWithValue("$count", key.Count);
                insertKey.Parameters.AddWithValue("$sequences", key.Sequences is { } sequences ? string.Join(',', sequences) : DBNull.Value);
                insertKey.Parameters.AddWithValue("$now", now);
                insertKey.ExecuteNonQuery();
            }

            outcomes[i] = AppendOutcome.Committed;
        }

        transaction.Commit();
        return outcomes;
    }

    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long streamId, long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<StoredEvent>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoredRows.EventColumns} FROM se_events WHERE stream_id = $id AND seq >= $from AND seq <= $to ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$id", streamId);
            command.Parameters.AddWithValue("$from", fromSequence);
            command.Parameters.AddWithValue("$to", toSequence);
            command.Parameters.AddWithValue("$max", maxEvents);
            using var reader = command.ExecuteReader();
            var events = new List<StoredEvent>();
            while (reader.Read())
            {
                events.Add(StoredRows.ReadEvent(reader));
            }

            return events;
        }, cancellationToken);

    public Task<IReadOnlyList<StoredTask>> ReadTasksAsync(long streamId, IReadOnlyCollection<int> taskNos, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<StoredTask>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoredRows.TaskColumns} FROM se_tasks t WHERE t.stream_id = $id AND t.task_no IN (SELECT value FROM json_each($nos))";
            command.Parameters.AddWithValue("$id", streamId);
            command.Parameters.AddWithValue("$nos", "[" + string.Join(',', taskNos) + "]");
            return ReadTasks(command);
        }, cancellationToken);

    public Task<TaskLocation?> FindTaskAsync(string @namespace, string taskId, CancellationToken cancellationToken) => ReadAsync(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT s.stream_key, {StoredRows.TaskColumns} FROM se_tasks t JOIN se_streams s ON s.id = t.stream_id WHERE t.namespace = $ns AND t.task_id = $id";
        command.Parameters.AddWithValue("$ns", @namespace);
        command.Parameters.AddWithValue("$id", taskId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new TaskLocation(reader.GetString(0), StoredRows.ReadTask(reader, 1)) : null;
    }, cancellationToken);

    public Task<IReadOnlyList<long>> ReadTaskSequencesAsync(long streamId, int taskNo, long throughSequence, int count, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<long>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT seq FROM se_events WHERE stream_id = $id AND seq <= $through AND task_no = $task ORDER BY seq DESC LIMIT $count";
            command.Parameters.AddWithValue("$id", streamId);
            command.Parameters.AddWithValue("$through", throughSequence);
            command.Parameters.AddWithValue("$task", taskNo);
            command.Parameters.AddWithValue("$count", count);
            using var reader = command.ExecuteReader();
            var sequences = new List<long>();
            while (reader.Read())
            {
                sequences.Add(reader.GetInt64(0));
            }

            return sequences;
        }, cancellationToken);

    public Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string @namespace, string key, CancellationToken cancellationToken) =>
        ReadAsync<(long, StoredRequestKey)?>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT stream_id, request_hash, first_seq, count, sequences FROM se_request_keys WHERE namespace = $ns AND key = $key";
            command.Parameters.AddWithValue("$ns", @namespace);
            command.Parameters.AddWithValue("$key", key);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            long[]? sequences = reader.IsDBNull(4)
                ? null
                : [.. reader.GetString(4).Split(',').Select(n => long.Parse(n, System.Globalization.CultureInfo.InvariantCulture))];
            return (reader.GetInt64(0), new StoredRequestKey(@namespace, key, reader.GetFieldValue<byte[]>(1), reader.GetInt64(2), reader.GetInt32(3), sequences));
        }, cancellationToken);

    public Task<int> DeleteRequestKeysAsync(DateTimeOffset before, CancellationToken cancellationToken) => WriteAsync(writer =>
    {
        using var command = writer.CreateCommand();
        command.CommandText = "DELETE FROM se_request_keys WHERE created_at < $before";
        command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    });

    public Task<TrimResult> TrimAsync(long streamId, long before, CancellationToken cancellationToken) => WriteAsync(writer =>
    {
        using var transaction = writer.BeginTransaction(deferred: false);
        using var delete = writer.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = """
            UPDATE se_streams
               SET retained_bytes = max(0, retained_bytes - (SELECT coalesce(sum(length(body)), 0) FROM se_events WHERE stream_id = $id AND seq < $before)),
                   oldest = max(oldest, $before)
             WHERE id = $id;
            DELETE FROM se_events WHERE stream_id = $id AND seq < $before;
            SELECT oldest, retained_bytes FROM se_streams WHERE id = $id;
            """;
        delete.Parameters.AddWithValue("$id", streamId);
        delete.Parameters.AddWithValue("$before", before);
        TrimResult result;
        using (var reader = delete.ExecuteReader())
        {
            reader.Read();
            result = new TrimResult(reader.GetInt64(0), reader.GetInt64(1));
        }

        transaction.Commit();
        return result;
    });

    public Task<long> FindRetentionBoundaryAsync(long streamId, long head, long keepBytes, long minTimestampUnixNanoseconds, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT coalesce(min(seq), $head + 1)
                  FROM (SELECT seq, ts, sum(length(body)) OVER (ORDER BY seq DESC) AS kept FROM se_events WHERE stream_id = $id)
                 WHERE kept <= $keep AND ts >= $min
                """;
            command.Parameters.AddWithValue("$id", streamId);
            command.Parameters.AddWithValue("$head", head);
            command.Parameters.AddWithValue("$keep", keepBytes);
            command.Parameters.AddWithValue("$min", minTimestampUnixNanoseconds);
            return (long)command.ExecuteScalar()!;
        }, cancellationToken);

    /// <summary>One writer commits stream rows in the order of their ids: discovery is by id.</summary>
    public async Task<DiscoveryPage> DiscoverExecutionsAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(after);
        var executions = await FindExecutionsAsync(query, after.StreamId, newestFirst: false, limit, cancellationToken);
        return new DiscoveryPage([.. executions], executions.Count > 0 ? new DiscoveryPosition(0, executions[^1].StreamId) : after);
    }

    public Task<IReadOnlyList<ExecutionSummary>> FindExecutionsAsync(ExecutionQuery query, long boundary, bool newestFirst, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ExecutionSummary>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoredRows.ExecutionColumns} FROM se_streams s WHERE {StoredRows.ExecutionFilter(newestFirst, "$p")} LIMIT $p7";
            command.Parameters.AddWithValue("$p1", query.Namespace);
            command.Parameters.AddWithValue("$p2", (object?)query.WorkflowExecId ?? DBNull.Value);
            command.Parameters.AddWithValue("$p3", (object?)query.WorkflowName ?? DBNull.Value);
            command.Parameters.AddWithValue("$p4", (object?)query.RootWorkflowExecId ?? DBNull.Value);
            command.Parameters.AddWithValue("$p5", (object?)query.ParentWorkflowExecId ?? DBNull.Value);
            command.Parameters.AddWithValue("$p6", boundary);
            command.Parameters.AddWithValue("$p7", limit);
            return ReadExecutions(command);
        }, cancellationToken);

    public Task<IReadOnlyList<ExecutionSummary>> GetExecutionsAsync(IReadOnlyCollection<long> streamIds, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ExecutionSummary>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {StoredRows.ExecutionColumns} FROM se_streams s WHERE s.id IN (SELECT value FROM json_each($ids))";
            command.Parameters.AddWithValue("$ids", "[" + string.Join(',', streamIds) + "]");
            return ReadExecutions(command);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> FindIdleStreamsWithOpenTasksAsync(DateTimeOffset idleSince, int maxStreams, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT stream_key FROM se_streams WHERE open_tasks > 0 AND last_event_at < $since ORDER BY last_event_at LIMIT $max";
            command.Parameters.AddWithValue("$since", idleSince.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$max", maxStreams);
            using var reader = command.ExecuteReader();
            var keys = new List<string>();
            while (reader.Read())
            {
                keys.Add(reader.GetString(0));
            }

            return keys;
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _committer.DisposeAsync();
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        _initialized.Dispose();
    }

    private async Task<SqliteConnection> GetWriterAsync()
    {
        if (_writer is null)
        {
            await InitializeAsync(CancellationToken.None);
        }

        return _writer!;
    }

    /// <summary>Writes other than appends share the writer connection, so they queue behind the group committer's lock.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, T> write)
    {
        var writer = await GetWriterAsync();
        return await Task.Run(() =>
        {
            lock (writer)
            {
                return write(writer);
            }
        });
    }

    /// <summary>The driver is synchronous: a read canceled before it starts never runs; once running, it finishes.</summary>
    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken = default)
    {
        await GetWriterAsync();
        return await Task.Run(() =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var connection = new SqliteConnection(_connectionString);
            connection.Open();
            return read(connection);
        }, cancellationToken);
    }

    /// <summary>
    /// A file made by an earlier version lacks this version's columns, and SQLite has no <c>ADD COLUMN IF NOT EXISTS</c>:
    /// add the missing ones (task namespaces copied from their streams) before the schema script runs.
    /// </summary>
    private static void AddColumnsOfThisVersion(SqliteConnection writer)
    {
        if (!HasTable(writer, "se_tasks"))
        {
            return;
        }

        using var transaction = writer.BeginTransaction();
        AddColumn("se_streams", "producers", "BLOB NULL");
        if (AddColumn("se_tasks", "namespace", "TEXT NOT NULL DEFAULT ''"))
        {
            Execute(writer, "UPDATE se_tasks SET namespace = (SELECT s.namespace FROM se_streams s WHERE s.id = se_tasks.stream_id)");
        }

        AddColumn("se_tasks", "producer_id", "TEXT NULL");
        AddColumn("se_tasks", "terminal_pseq", "INTEGER NULL");
        AddColumn("se_tasks", "terminal_epoch", "INTEGER NULL");
        AddColumn("se_tasks", "kind", "INTEGER NOT NULL DEFAULT 0");
        AddColumn("se_streams", "exec_status", "INTEGER NOT NULL DEFAULT 0");
        transaction.Commit();

        bool AddColumn(string table, string column, string definition)
        {
            using var check = writer.CreateCommand();
            check.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
            check.Parameters.AddWithValue("$table", table);
            check.Parameters.AddWithValue("$column", column);
            if ((long)check.ExecuteScalar()! > 0)
            {
                return false;
            }

            Execute(writer, $"ALTER TABLE {table} ADD COLUMN {column} {definition}");
            return true;
        }
    }

    private static bool HasTable(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return (long)command.ExecuteScalar()! > 0;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static List<ExecutionSummary> ReadExecutions(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var executions = new List<ExecutionSummary>();
        while (reader.Read())
        {
            executions.Add(StoredRows.ReadExecution(reader, ReadTime));
        }

        return executions;
    }

    private static List<StoredTask> ReadTasks(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var tasks = new List<StoredTask>();
        while (reader.Read())
        {
            tasks.Add(StoredRows.ReadTask(reader, 0));
        }

        return tasks;
    }

    private static DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
