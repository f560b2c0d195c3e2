using System.Diagnostics;
using Npgsql;

namespace StreamingEvents.Testing;

/// <summary>
/// A throw-away PostgreSQL cluster for tests: <c>initdb</c> into a temp folder, <c>pg_ctl start</c> on 127.0.0.1 and a free
/// port, stopped and deleted on dispose. Runs the server as the <c>postgres</c> user when the tests run as root
/// (initdb refuses root). Binaries are found under <c>/usr/lib/postgresql/*/bin</c>, or <c>PG_BIN</c>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dataDirectory;
    private readonly bool _asPostgresUser;

    private PostgresServer(string bin, string dataDirectory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _dataDirectory = dataDirectory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Maximum Pool Size=40;Timeout=15;Command Timeout=60";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = PostgresBinaries.Find();
        var asPostgresUser = Environment.UserName == "root";
        var dataDirectory = Directory.CreateTempSubdirectory("se-pg-").FullName;
        if (asPostgresUser)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", dataDirectory]);
        }

        var server = new PostgresServer(bin, dataDirectory, FreePort.Next(), asPostgresUser);
        await server.RunPostgresToolAsync("initdb", ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Whether the server was started and not stopped since.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>): the data survives.</summary>
    public async Task StartServerAsync()
    {
        await RunPostgresToolAsync("pg_ctl",
        [
            "-D", _dataDirectory, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_dataDirectory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on", "start",
        ]);
        IsRunning = true;
    }

    /// <summary>Stops the server (fast shutdown: connections are cut, committed data stays).</summary>
    public async Task StopAsync()
    {
        await RunPostgresToolAsync("pg_ctl", ["-D", _dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
        IsRunning = false;
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            // A test that failed while the server was stopped must report its own failure, not this one.
            if (IsRunning)
            {
                await StopAsync();
            }
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private Task RunPostgresToolAsync(string tool, string[] arguments) => _asPostgresUser
        ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
        : RunAsync(Path.Combine(_bin, tool), arguments);

    private static async Task RunAsync(string fileName, string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}
