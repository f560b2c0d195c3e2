using Npgsql;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Storage;
using StreamingEvents.Storage.Postgres;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Storage;

/// <summary>The PostgreSQL event log against a real server: what its statements may carry and how they commit.</summary>
public sealed class PostgresEventLogTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task Appends_carrying_more_than_a_gigabyte_together_all_commit_in_commits_bounded_by_bytes()
    {
        // 100 streams x 24 events x 512 KiB = 1.2 GB queued at once, far under the 8,192 events a commit may carry. In
        // one statement it is over PostgreSQL's 1 GB message limit: the server refuses it, and every append in it would
        // get an unknown outcome for a write that did not happen.
        const int Streams = 100;
        const int EventsPerStream = 24;
        var body = JsonString(512 * 1024);
        var connectionString = await postgres.CreateDatabaseAsync("large_commits");
        await using var storage = new PostgresEventLogStorage(new PostgresEventLogOptions { ConnectionString = connectionString, ConcurrentCommits = 1 }, TimeProvider.System);
        await storage.InitializeAsync(CancellationToken.None);
        var streams = new List<long>();
        for (var i = 0; i < Streams; i++)
        {
            var context = new WorkflowContext(WorkflowExecId: $"large-{i}", WorkflowName: "large").Normalize();
            streams.Add((await storage.CreateStreamAsync(context.Execution.Key, context, CancellationToken.None))!.StreamId);
        }

        // The first stream's row is locked, so its commit waits and the other appends queue up behind it, all together.
        await using var blocker = new NpgsqlConnection(connectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM se_streams WHERE id = {streams[0]} FOR UPDATE", blocker, transaction))
        {
            await lockRow.ExecuteScalarAsync();
        }

        var appends = streams.Select(id => storage.AppendAsync(Append(id, EventsPerStream, body), CancellationToken.None)).ToList();
        await transaction.RollbackAsync();
        var outcomes = await Task.WhenAll(appends).Within(TimeSpan.FromMinutes(2));

        Assert.All(outcomes, outcome => Assert.Equal(AppendOutcome.Committed, outcome));
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var count = dataSource.CreateCommand("SELECT count(*), sum(length(body)), min(s.head), max(s.head) FROM se_events e JOIN se_streams s ON s.id = e.stream_id");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((long)Streams * EventsPerStream, reader.GetInt64(0));
        Assert.Equal((long)Streams * EventsPerStream * body.Length, reader.GetInt64(1));
        Assert.Equal(EventsPerStream, reader.GetInt64(2));
        Assert.Equal(EventsPerStream, reader.GetInt64(3));
    }

    [Theory]
    [InlineData("off", null, "on")]
    [InlineData("local", PostgresSynchronousCommit.On, "on")]
    [InlineData("on", PostgresSynchronousCommit.Off, "off")]
    public async Task Appends_commit_with_the_configured_synchronous_commit_whatever_the_database_says(
        string databaseDefault, PostgresSynchronousCommit? configured, string expected)
    {
        // A database (or server, or role) set to acknowledge before the WAL is flushed must not weaken what an
        // acknowledged append means: the level is what the options say, in the append's own transaction.
        var connectionString = await postgres.CreateDatabaseAsync("sync_commit");
        await ExecuteAsync(postgres.Server.ConnectionString(), $"ALTER DATABASE \"{new NpgsqlConnectionStringBuilder(connectionString).Database}\" SET synchronous_commit = {databaseDefault}");
        var options = new PostgresEventLogOptions { ConnectionString = connectionString };
        if (configured is { } level)
        {
            options.SynchronousCommit = level;
        }

        await using var storage = new PostgresEventLogStorage(options, TimeProvider.System);
        await storage.InitializeAsync(CancellationToken.None);
        await ExecuteAsync(connectionString, """
            CREATE TABLE test_commit_levels (level text NOT NULL, database_default text NOT NULL);
            CREATE FUNCTION test_record_commit_level() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO test_commit_levels
                SELECT current_setting('synchronous_commit'), coalesce((SELECT split_part(c, '=', 2) FROM pg_db_role_setting, unnest(setconfig) c
                                                                       WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                                                                         AND c LIKE 'synchronous_commit=%'), 'none');
                RETURN NULL;
            END $$;
            CREATE TRIGGER test_record_commit_level AFTER INSERT ON se_events FOR EACH STATEMENT EXECUTE FUNCTION test_record_commit_level();
            """);
        var context = new WorkflowContext(WorkflowExecId: "sync-commit", WorkflowName: "durability").Normalize();
        var stream = (await storage.CreateStreamAsync(context.Execution.Key, context, CancellationToken.None))!.StreamId;

        Assert.Equal(AppendOutcome.Committed, await storage.AppendAsync(Append(stream, 3, "{}"u8.ToArray()), CancellationToken.None).Within());

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var levels = dataSource.CreateCommand("SELECT level, database_default FROM test_commit_levels");
        await using var reader = await levels.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((expected, databaseDefault), (reader.GetString(0), reader.GetString(1)));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Discovery_lists_an_execution_whose_row_commits_after_a_later_one_was_listed()
    {
        var connectionString = await postgres.CreateDatabaseAsync("discovery");
        await using var storage = new PostgresEventLogStorage(new PostgresEventLogOptions { ConnectionString = connectionString }, TimeProvider.System);
        await storage.InitializeAsync(CancellationToken.None);
        var query = new ExecutionQuery(WorkflowName: "discovery");

        // A stream row inserted by a transaction that is still running holds the lower identity value...
        var slow = new WorkflowContext(WorkflowExecId: "slow", WorkflowName: "discovery").Normalize();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        long slowId;
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO se_streams (stream_key, namespace, workflow_exec_id, workflow_name, workflow_run_id, root_workflow_exec_id) " +
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", connection, transaction))
        {
            foreach (var value in new[] { slow.Execution.Key, slow.Namespace, slow.WorkflowExecId, slow.WorkflowName!, slow.WorkflowRunId!, slow.RootWorkflowExecId! })
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            slowId = (long)(await insert.ExecuteScalarAsync())!;
        }

        // ...than one created and committed meanwhile, which a listing sees first.
        var fast = new WorkflowContext(WorkflowExecId: "fast", WorkflowName: "discovery").Normalize();
        var fastId = (await storage.CreateStreamAsync(fast.Execution.Key, fast, CancellationToken.None))!.StreamId;
        Assert.True(fastId > slowId);
        var first = await storage.DiscoverExecutionsAsync(query, DiscoveryPosition.Start, 100, CancellationToken.None);
        var byIdentity = await storage.FindExecutionsAsync(query, 0, newestFirst: false, 100, CancellationToken.None);
        Assert.Equal([fastId], byIdentity.Select(e => e.StreamId));

        await transaction.CommitAsync();

        // Listed by identity, the slow one would never be listed again: it is below the last one listed.
        Assert.Empty(await storage.FindExecutionsAsync(query, fastId, newestFirst: false, 100, CancellationToken.None));

        // Discovery lists each exactly once, in commit order, whatever it had listed before the slow one committed.
        var second = await storage.DiscoverExecutionsAsync(query, first.Next, 100, CancellationToken.None);
        var third = await storage.DiscoverExecutionsAsync(query, second.Next, 100, CancellationToken.None);
        Assert.Equal([slowId, fastId], first.Executions.Concat(second.Executions).Select(e => e.StreamId));
        Assert.Empty(third.Executions);
        Assert.Equal(second.Next, third.Next);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static StreamAppend Append(long streamId, int events, byte[] body)
    {
        var stored = Enumerable.Range(1, events)
            .Select(seq => new StoredEvent(seq, seq, 1, EventType.CustomTaskInProgress, PayloadEncoding.Json, body))
            .ToList();
        return new StreamAppend(streamId, 0, stored, [], [], 1, (long)events * body.Length);
    }

    private static byte[] JsonString(int length)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill((byte)'x');
        bytes[0] = bytes[^1] = (byte)'"';
        return bytes;
    }
}
