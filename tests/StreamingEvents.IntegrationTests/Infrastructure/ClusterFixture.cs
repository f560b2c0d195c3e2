using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Infrastructure;

/// <summary>Which event log a test cluster uses.</summary>
public interface IStorageBackend : IAsyncDisposable
{
    string Name { get; }

    void Configure(ISiloBuilder silo);
}

public sealed class SqliteBackend : IStorageBackend
{
    private readonly string _directory = Directory.CreateTempSubdirectory("se-sqlite-").FullName;

    public string Name => "sqlite";

    public string Path => System.IO.Path.Combine(_directory, "events.db");

    public void Configure(ISiloBuilder silo) => silo.UseSqliteEventLog(o => o.Path = Path);

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresBackend(PostgresServer server, string connectionString) : IStorageBackend
{
    public string Name => "postgres";

    public PostgresServer Server { get; } = server;

    public string ConnectionString { get; } = connectionString;

    public void Configure(ISiloBuilder silo) => silo.UsePostgresEventLog(ConnectionString);

    public static async Task<PostgresBackend> StartAsync()
    {
        var server = await PostgresServer.StartAsync();
        return new PostgresBackend(server, await server.CreateDatabaseAsync("streaming_events"));
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// An in-process Orleans cluster with StreamingEvents on a storage backend. Tests share one per collection and use
/// fresh execution ids, so they never see each other's events. <see cref="RestartAsync"/> replaces the whole cluster
/// with a new one on the same storage.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    protected abstract Task<IStorageBackend> CreateBackendAsync();

    public IStorageBackend Backend { get; private set; } = null!;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not running.");

    public IStreamingEventsClient Client => Cluster.Client.ServiceProvider.GetRequiredService<IStreamingEventsClient>();

    /// <summary>The StreamingEvents clock of the silos, when a test controls time; Orleans keeps real time.</summary>
    public FakeTimeProvider? Clock { get; protected init; }

    /// <summary>Silo option overrides used by this fixture.</summary>
    protected virtual void ConfigureOptions(StreamingEventsOptions options)
    {
        options.MaintenanceInterval = TimeSpan.FromMilliseconds(200);

        // Small, so that replays in tests read storage as well as memory.
        options.MemoryWindowEvents = 64;
    }

    protected virtual void ConfigureClient(StreamingEventsClientOptions options)
    {
        options.IdleProbeInterval = TimeSpan.FromSeconds(1);
    }

    /// <summary>Further silo configuration, after StreamingEvents is added.</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo)
    {
    }

    /// <summary>Further Orleans client configuration.</summary>
    protected virtual void ConfigureOrleansClient(IClientBuilder client)
    {
    }

    public async Task InitializeAsync()
    {
        Backend = await CreateBackendAsync();
        await StartClusterAsync();
    }

    public async Task RestartAsync()
    {
        await StopClusterAsync();
        await StartClusterAsync();
    }

    public async Task DisposeAsync()
    {
        await StopClusterAsync();
        await Backend.DisposeAsync();
    }

    public static WorkflowContext NewExecution(string? workflowName = null) =>
        new(WorkflowExecId: "exec-" + Guid.NewGuid().ToString("N"), WorkflowName: workflowName ?? "test-workflow");

    private async Task StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            Backend.Configure(silo);
            silo.AddStreamingEvents(ConfigureOptions);
            silo.AddIncomingGrainCallFilter<ReplyFaults>();
            ConfigureSilo(silo);
            if (Clock is not null)
            {
                silo.Services.AddKeyedSingleton<TimeProvider>(StreamingEventsNames.Clock, Clock);
            }
        });
        builder.ConfigureClient(client =>
        {
            client.AddLivePush(StreamingEventsNames.StreamProvider);
            client.Services.AddStreamingEventsClient(ConfigureClient);
            ConfigureOrleansClient(client);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    private async Task StopClusterAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }
    }
}

/// <summary>Small retention and a fake StreamingEvents clock, for retention and timeout tests.</summary>
public abstract class ControlledClusterFixture : ClusterFixture
{
    public const int MaxEvents = 50;

    protected ControlledClusterFixture() => Clock = new FakeTimeProvider(DateTimeOffset.UtcNow);

    public TimeSpan InactivityTimeout { get; } = TimeSpan.FromMinutes(10);

    protected override void ConfigureOptions(StreamingEventsOptions options)
    {
        // Maintenance runs only when a test asks (ApplyRetentionAsync, CheckTimeoutsAsync) or the fake clock moves.
        options.MaintenanceInterval = TimeSpan.FromHours(1);
        options.Retention.MaxEvents = MaxEvents;
        options.Retention.MaxBytes = StreamingLimits.MaxEventBytes;
        options.Retention.MaxAge = TimeSpan.FromDays(7);
        options.TaskInactivityTimeout = InactivityTimeout;
        options.MemoryWindowEvents = 8;
    }
}

public sealed class SqliteControlledFixture : ControlledClusterFixture
{
    protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new SqliteBackend());
}

public sealed class PostgresControlledFixture : ControlledClusterFixture
{
    protected override async Task<IStorageBackend> CreateBackendAsync() => await PostgresBackend.StartAsync();
}

[CollectionDefinition(Name)]
public sealed class SqliteControlled : ICollectionFixture<SqliteControlledFixture>
{
    public const string Name = "sqlite controlled cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresControlled : ICollectionFixture<PostgresControlledFixture>
{
    public const string Name = "postgres controlled cluster";
}

public sealed class SqliteClusterFixture : ClusterFixture
{
    protected override Task<IStorageBackend> CreateBackendAsync() => Task.FromResult<IStorageBackend>(new SqliteBackend());
}

public sealed class PostgresClusterFixture : ClusterFixture
{
    protected override async Task<IStorageBackend> CreateBackendAsync() => await PostgresBackend.StartAsync();
}

[CollectionDefinition(Name)]
public sealed class SqliteCluster : ICollectionFixture<SqliteClusterFixture>
{
    public const string Name = "sqlite cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresCluster : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres cluster";
}
