using Npgsql;
using StreamingEvents.Storage.Postgres;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests;

/// <summary>
/// Applying the schema while the database is in use: silos join a running cluster (or restart in it) and apply the
/// schema on start, so doing so must neither wait behind running commits nor deadlock with them.
/// </summary>
public sealed class PostgresSchemaTests : IAsyncLifetime
{
    private PostgresServer _server = null!;

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Silos_starting_together_apply_the_schema_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await _server.CreateDatabaseAsync("together"));

        var applied = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => PostgresSchema.ApplyAsync(dataSource, CancellationToken.None))).Within();

        Assert.Equal(1, applied.Count(ran => ran));
        Assert.Equal([PostgresSchema.Version], await RecordedVersionsAsync(dataSource));
    }

    [Fact]
    public async Task A_database_that_has_the_schema_is_not_locked_again_so_a_joining_silo_never_waits_for_running_commits()
    {
        await using var dataSource = NpgsqlDataSource.Create(await _server.CreateDatabaseAsync("in_use"));
        Assert.True(await PostgresSchema.ApplyAsync(dataSource, CancellationToken.None));

        // A running commit: it holds the lock every append takes on the event tables until it ends. Creating an index,
        // even one that exists, needs a lock that conflicts with it.
        await using var commit = await dataSource.OpenConnectionAsync();
        await using var transaction = await commit.BeginTransactionAsync();
        foreach (var table in new[] { "se_streams", "se_tasks", "se_events", "orleansstorage" })
        {
            await using var lockTable = new NpgsqlCommand($"LOCK TABLE {table} IN ROW EXCLUSIVE MODE", commit, transaction);
            await lockTable.ExecuteNonQueryAsync();
        }

        var ran = await PostgresSchema.ApplyAsync(dataSource, CancellationToken.None).Within(TimeSpan.FromSeconds(20));

        Assert.False(ran);
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task A_database_without_the_current_version_gets_the_scripts_again_and_keeps_its_data()
    {
        await using var dataSource = NpgsqlDataSource.Create(await _server.CreateDatabaseAsync("upgrade"));
        Assert.True(await PostgresSchema.ApplyAsync(dataSource, CancellationToken.None));
        await ExecuteAsync(dataSource, """
            INSERT INTO se_streams (stream_key, namespace, workflow_exec_id, workflow_name, workflow_run_id, root_workflow_exec_id, head)
            VALUES ('default/kept', 'default', 'kept', 'wf', 'run', 'kept', 7)
            """);
        await ExecuteAsync(dataSource, "UPDATE se_schema_versions SET version = 'an-older-version'");

        Assert.True(await PostgresSchema.ApplyAsync(dataSource, CancellationToken.None));

        Assert.Equal(["an-older-version", PostgresSchema.Version], await RecordedVersionsAsync(dataSource));
        await using var head = dataSource.CreateCommand("SELECT head FROM se_streams WHERE stream_key = 'default/kept'");
        Assert.Equal(7L, await head.ExecuteScalarAsync());
    }

    private static async Task<List<string>> RecordedVersionsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT version FROM se_schema_versions ORDER BY applied_at, version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<string>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetString(0));
        }

        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
