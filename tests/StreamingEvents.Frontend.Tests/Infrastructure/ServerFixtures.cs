using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>A server started once for the tests that share it, and an <see cref="Api"/> on it.</summary>
public abstract class ServerFixture<TServer> : IAsyncLifetime, IDisposable
    where TServer : class, IAsyncDisposable
{
    private TServer? _server;
    private Api? _api;

    public TServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    public Api Api => _api ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async Task InitializeAsync()
    {
        _server = await StartAsync();
        _api = new Api(BaseAddressOf(_server));
    }

    public async Task DisposeAsync()
    {
        Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public void Dispose()
    {
        _api?.Dispose();
        _api = null;
        GC.SuppressFinalize(this);
    }

    protected abstract Task<TServer> StartAsync();

    protected abstract Uri BaseAddressOf(TServer server);
}

/// <summary>A real frontend (Kestrel + co-hosted silo + SQLite) with the settings of a fixture.</summary>
public abstract class ServerFixture : ServerFixture<FrontendServer>
{
    /// <summary>Configuration overrides of this server.</summary>
    protected abstract IReadOnlyDictionary<string, string?> Settings { get; }

    protected override Task<FrontendServer> StartAsync() => FrontendServer.StartAsync(Settings);

    protected override Uri BaseAddressOf(FrontendServer server) => server.BaseAddress;
}

/// <summary>
/// The server most tests share (one per run, tests use fresh execution ids). Its heartbeat is short, so every stream the
/// suite reads also carries heartbeat comments between records.
/// </summary>
public sealed class SharedServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:Http:HeartbeatInterval"] = "00:00:00.500",
    };
}

[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "Shared frontend server";
}
