using System.Globalization;
using Npgsql;
using StreamingEvents.Testing;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>
/// A throw-away PostgreSQL server for the benchmark: <c>initdb</c> into a temp folder, started on 127.0.0.1 and a free
/// port with <c>fsync=on</c> and <c>pg_stat_statements</c> loaded, stopped and deleted on dispose. Runs as the
/// <c>postgres</c> user when the harness runs as root (initdb refuses root). Each system under test gets its own
/// database; the durability class is a database setting (<c>synchronous_commit</c>), so one server serves both.
/// </summary>
internal sealed class PostgresInstance : IAsyncDisposable
{
    /// <summary>Server settings, reported with the results. Checkpoints are pushed out of the measured windows.</summary>
    public static readonly IReadOnlyList<(string Name, string Value)> Settings =
    [
        ("fsync", "on"),
        ("synchronous_commit", "on"),
        ("full_page_writes", "on"),
        ("shared_buffers", "512MB"),
        ("max_connections", "1000"),
        ("max_wal_size", "8GB"),
        ("checkpoint_timeout", "30min"),
        ("shared_preload_libraries", "pg_stat_statements"),
        ("pg_stat_statements.track", "all"),
        ("pg_stat_statements.track_planning", "on"),
        ("track_wal_io_timing", "on"),
    ];

    private readonly string _bin;
    private readonly string _dataDirectory;
    private readonly bool _asPostgresUser;
    private readonly string _logsDirectory;

    private PostgresInstance(string bin, string dataDirectory, int port, bool asPostgresUser, string logsDirectory)
    {
        _bin = bin;
        _dataDirectory = dataDirectory;
        Port = port;
        _asPostgresUser = asPostgresUser;
        _logsDirectory = logsDirectory;
    }

    public int Port { get; }

    public string Version { get; private set; } = "?";

    /// <summary>The postmaster's pid (its children are the backends, WAL writer, checkpointer...).</summary>
    public int PostmasterPid => int.Parse(File.ReadLines(Path.Combine(_dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    public MonitoredProcess Monitored => new("postgres", () => PostmasterPid, Tree: true);

    public string ConnectionString(string database, int maxPoolSize = 100) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Maximum Pool Size={maxPoolSize};Timeout=30;Command Timeout=120;No Reset On Close=true";

    public static async Task<PostgresInstance> StartAsync(string logsDirectory)
    {
        var bin = PostgresBinaries.Find();
        var asPostgresUser = Shell.IsRoot;
        var dataDirectory = Directory.CreateTempSubdirectory("se-bench-pg-").FullName;
        if (asPostgresUser)
        {
            await Shell.RunAsync("chown", ["-R", "postgres:postgres", dataDirectory], TimeSpan.FromSeconds(30));
        }

        var server = new PostgresInstance(bin, dataDirectory, FreePort.Next(), asPostgresUser, logsDirectory);
        await server.ToolAsync("initdb", ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        var options = string.Join(' ', Settings.Select(s => $"-c {s.Name}={s.Value}"));
        await server.ToolAsync("pg_ctl",
        [
            "-D", dataDirectory, "-l", Path.Combine(dataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {server.Port} -k {dataDirectory} -c listen_addresses=127.0.0.1 {options}", "start",
        ]);
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        await using (var command = new NpgsqlCommand("SHOW server_version", connection))
        {
            server.Version = (string)(await command.ExecuteScalarAsync())!;
        }

        return server;
    }

    /// <summary>Creates a database; D1 (<paramref name="synchronousCommit"/> false) acknowledges before the WAL fsync.</summary>
    public async Task<string> CreateDatabaseAsync(string name, bool synchronousCommit)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        await using (var command = new NpgsqlCommand($"ALTER DATABASE \"{name}\" SET synchronous_commit = {(synchronousCommit ? "on" : "off")}", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    /// <summary>Server-wide and per-database counters at this moment (see <see cref="PostgresCounters"/>).</summary>
    public async Task<PostgresCounters> ReadCountersAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT txid_snapshot_xmax(txid_current_snapshot())::bigint,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
                   (SELECT xact_commit FROM pg_stat_database WHERE datname = $1),
                   (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
                   (SELECT wal_sync FROM pg_stat_wal),
                   (SELECT wal_fpi FROM pg_stat_wal)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new PostgresCounters(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? 0 : reader.GetInt64(2), reader.GetInt64(3),
            reader.GetInt64(4), reader.GetInt64(5));
    }

    /// <summary>Clears pg_stat_statements, so that a window's statements can be read with <see cref="ReadStatementsAsync"/>.</summary>
    public async Task ResetStatementsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_stat_statements_reset()", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The statements of <paramref name="database"/> since the last reset, by total execution time.</summary>
    public async Task<List<StatementStats>> ReadStatementsAsync(string database, int top = 6)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT left(regexp_replace(s.query, '\s+', ' ', 'g'), 90), s.calls, s.rows, s.total_exec_time, s.mean_exec_time, s.wal_bytes,
                   s.total_plan_time, s.plans
              FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
             WHERE d.datname = $1
             ORDER BY s.total_exec_time DESC
             LIMIT $2
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        command.Parameters.Add(new NpgsqlParameter { Value = top });
        await using var reader = await command.ExecuteReaderAsync();
        var statements = new List<StatementStats>();
        while (await reader.ReadAsync())
        {
            statements.Add(new StatementStats(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDouble(3), reader.GetDouble(4),
                (long)reader.GetDecimal(5), reader.GetDouble(6), reader.GetInt64(7)));
        }

        return statements;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await ToolAsync("pg_ctl", ["-D", _dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
        }
        finally
        {
            try
            {
                File.Copy(Path.Combine(_dataDirectory, "server.log"), Path.Combine(_logsDirectory, "postgres.log"), overwrite: true);
            }
            catch (IOException)
            {
            }

            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private Task<string> ToolAsync(string tool, string[] arguments) => _asPostgresUser
        ? Shell.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments], TimeSpan.FromMinutes(2))
        : Shell.RunAsync(Path.Combine(_bin, tool), arguments, TimeSpan.FromMinutes(2));
}

/// <summary>
/// PostgreSQL's own counters. <see cref="NextXid"/> and <see cref="WalBytes"/> are exact at any moment: every write
/// transaction takes one transaction id, so the difference of two is the number of write commits (server-wide; the
/// harness runs one thing at a time). <see cref="DatabaseCommits"/> (pg_stat_database.xact_commit, read-only
/// transactions included) and <see cref="WalSyncs"/> are cumulative statistics that backends flush about once a second.
/// </summary>
internal sealed record PostgresCounters(long NextXid, long WalBytes, long DatabaseCommits, long Checkpoints, long WalSyncs, long WalFullPageImages)
{
    public static PostgresCounters operator -(PostgresCounters after, PostgresCounters before) => new(
        after.NextXid - before.NextXid,
        after.WalBytes - before.WalBytes,
        after.DatabaseCommits - before.DatabaseCommits,
        after.Checkpoints - before.Checkpoints,
        after.WalSyncs - before.WalSyncs,
        after.WalFullPageImages - before.WalFullPageImages);

    public PostgresCounters Subtract(PostgresCounters before) => this - before;
}

/// <summary>One statement's totals from pg_stat_statements.</summary>
internal sealed record StatementStats(string Query, long Calls, long Rows, double TotalMilliseconds, double MeanMilliseconds, long WalBytes,
    double TotalPlanMilliseconds, long Plans)
{
    public double MeanPlanMilliseconds => Plans > 0 ? TotalPlanMilliseconds / Plans : 0;
}
