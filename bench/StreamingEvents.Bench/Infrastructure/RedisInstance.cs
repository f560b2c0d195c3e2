using System.Globalization;
using StackExchange.Redis;

namespace StreamingEvents.Bench.Infrastructure;

/// <summary>
/// A redis-server the harness starts: AOF on with the given <c>appendfsync</c> policy, no RDB snapshots, data in a temp
/// folder, 127.0.0.1 and a free port. AOF rewrites are disabled so that none forks inside a measured window (PostgreSQL's
/// checkpoints are pushed out of the windows in the same way).
/// </summary>
internal sealed class RedisInstance : IAsyncDisposable
{
    private readonly ManagedProcess _process;
    private readonly string _directory;

    private RedisInstance(ManagedProcess process, string directory, int port, string fsync)
    {
        _process = process;
        _directory = directory;
        Port = port;
        AppendFsync = fsync;
    }

    public int Port { get; }

    public string AppendFsync { get; }

    public int Pid => _process.Id;

    public MonitoredProcess Monitored => new($"redis-server ({AppendFsync})", () => _process.Id);

    /// <summary>Installs redis-server from Debian when it is missing (as root), as the harness promises.</summary>
    public static async Task<string> EnsureInstalledAsync(Action<string> say)
    {
        if (Shell.Which("redis-server") is { } found)
        {
            return found;
        }

        if (!Shell.IsRoot)
        {
            throw new InvalidOperationException("redis-server is not installed and the harness is not root: run 'apt-get install -y redis-server'.");
        }

        say("redis-server is missing: apt-get install -y redis-server");
        var install = await Shell.RunAsync("apt-get", ["install", "-y", "-q", "redis-server"], TimeSpan.FromMinutes(5), check: false);
        if (Shell.Which("redis-server") is null)
        {
            say("apt-get install failed; running apt-get update first");
            await Shell.RunAsync("apt-get", ["update", "-q"], TimeSpan.FromMinutes(5));
            install = await Shell.RunAsync("apt-get", ["install", "-y", "-q", "redis-server"], TimeSpan.FromMinutes(5));
        }

        return Shell.Which("redis-server") ?? throw new InvalidOperationException($"redis-server could not be installed:\n{install}");
    }

    public static async Task<RedisInstance> StartAsync(string executable, string appendFsync, string logsDirectory)
    {
        var directory = Directory.CreateTempSubdirectory("se-bench-redis-").FullName;
        var port = FreePort.Next();
        var process = ManagedProcess.Start($"redis-{appendFsync}", executable,
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--appendonly", "yes", "--appendfsync", appendFsync, "--save", "", "--dir", directory,
            "--auto-aof-rewrite-percentage", "0", "--daemonize", "no", "--maxclients", "10000",
        ], Path.Combine(logsDirectory, $"redis-{appendFsync}.log"));
        var redis = new RedisInstance(process, directory, port, appendFsync);
        await process.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        return redis;
    }

    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=10000,syncTimeout=30000,asyncTimeout=30000";

    /// <summary>Selected INFO fields (aof_current_size, used_memory, total_commands_processed...).</summary>
    public static async Task<Dictionary<string, long>> InfoAsync(IConnectionMultiplexer connection)
    {
        var server = connection.GetServers()[0];
        var groups = await server.InfoAsync();
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in groups.SelectMany(g => g))
        {
            if (long.TryParse(pair.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                values[pair.Key] = value;
            }
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
