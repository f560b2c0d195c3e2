using Microsoft.Data.Sqlite;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;
using StreamingEvents.Storage.Sqlite;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Storage;

/// <summary>The embedded event log's write-ahead log under readers that never leave it alone.</summary>
public sealed class SqliteEventLogTests : IAsyncLifetime
{
    private const long MaxWalBytes = 1024 * 1024;
    private const int EventBytes = 64 * 1024;

    private readonly string _directory = Directory.CreateTempSubdirectory("se-sqlite-wal-").FullName;

    private string DatabasePath => Path.Combine(_directory, "events.db");

    private long WalBytes => new FileInfo(DatabasePath + "-wal") is { Exists: true } wal ? wal.Length : 0;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Under_continuous_overlapping_readers_the_write_ahead_log_stays_within_its_bound()
    {
        // A generous wait for the readers' old snapshots: on a loaded machine (CI runs test projects side by side on two
        // cores) the reader thread can be off the CPU for over a second, and a checkpoint that gives up raises the bound.
        await using var storage = await CreateStorageAsync(TimeSpan.FromSeconds(10));
        var stream = await CreateStreamAsync(storage);

        // Two readers that take turns so that one of them always holds an open read transaction: SQLite alone never
        // finds a moment to restart the log, which then grows with every commit.
        using var stop = new CancellationTokenSource();
        var readers = Task.Run(() => ReadContinuously(stop.Token));
        long largest = 0;
        for (var seq = 1; seq <= 300; seq++)
        {
            Assert.Equal(AppendOutcome.Committed, await storage.AppendAsync(Append(stream, seq), CancellationToken.None).Within());
            largest = Math.Max(largest, WalBytes);
        }

        await stop.CancelAsync();
        var reads = await readers.Within();

        // 300 commits of 64 KiB wrote about 20 MiB of log; the bound may be passed by one commit (its pages) at most.
        Assert.True(largest <= MaxWalBytes + 4 * EventBytes, $"The write-ahead log reached {largest} bytes; its bound is {MaxWalBytes}.");
        Assert.True(reads > 300, $"The readers completed only {reads} read transactions while 300 commits ran: they were held up.");
    }

    [Fact]
    public async Task A_reader_holding_its_snapshot_delays_truncation_but_never_the_commits_and_the_log_shrinks_once_it_lets_go()
    {
        await using var storage = await CreateStorageAsync(TimeSpan.FromMilliseconds(100));
        var stream = await CreateStreamAsync(storage);
        await using var reader = OpenReader();
        using (var transaction = reader.BeginTransaction(deferred: true))
        {
            Read(reader, transaction);
            for (var seq = 1; seq <= 60; seq++)
            {
                Assert.Equal(AppendOutcome.Committed, await storage.AppendAsync(Append(stream, seq), CancellationToken.None).Within(TimeSpan.FromSeconds(10)));
            }

            Assert.True(WalBytes > MaxWalBytes, "The log should have outgrown its bound while a reader held an old snapshot.");
        }

        for (var seq = 61; seq <= 100; seq++)
        {
            Assert.Equal(AppendOutcome.Committed, await storage.AppendAsync(Append(stream, seq), CancellationToken.None).Within());
        }

        Assert.True(WalBytes <= MaxWalBytes + 4 * EventBytes, $"The log is still {WalBytes} bytes after the reader let go.");
    }

    private async Task<SqliteEventLogStorage> CreateStorageAsync(TimeSpan checkpointTimeout)
    {
        var storage = new SqliteEventLogStorage(
            new SqliteEventLogOptions { Path = DatabasePath, MaxWalBytes = MaxWalBytes, WalCheckpointTimeout = checkpointTimeout }, TimeProvider.System);
        await storage.InitializeAsync(CancellationToken.None);
        return storage;
    }

    private static async Task<long> CreateStreamAsync(SqliteEventLogStorage storage)
    {
        var context = new WorkflowContext(WorkflowExecId: "wal", WorkflowName: "wal").Normalize();
        return (await storage.CreateStreamAsync(context.Execution.Key, context, CancellationToken.None))!.StreamId;
    }

    private int ReadContinuously(CancellationToken stop)
    {
        using var first = OpenReader();
        using var second = OpenReader();
        var reads = 0;
        var held = first.BeginTransaction(deferred: true);
        Read(first, held);
        var (holder, other) = (first, second);
        while (!stop.IsCancellationRequested)
        {
            // The other reader opens its snapshot before the held one is released: there is never a moment without one.
            var next = other.BeginTransaction(deferred: true);
            Read(other, next);
            held.Commit();
            held.Dispose();
            reads++;
            (held, holder, other) = (next, other, holder);
        }

        held.Commit();
        held.Dispose();
        return reads;
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static void Read(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM se_events";
        command.ExecuteScalar();
    }

    private static StreamAppend Append(long streamId, long seq)
    {
        var body = new byte[EventBytes];
        Random.Shared.NextBytes(body);
        return new StreamAppend(streamId, seq - 1, [new StoredEvent(seq, seq, 1, EventType.CustomTaskInProgress, PayloadEncoding.Json, body)], [], [], 1, body.Length);
    }
}
