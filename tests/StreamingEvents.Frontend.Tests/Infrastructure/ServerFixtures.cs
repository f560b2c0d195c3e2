using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests.Infrastructure;

/// <summary>A real frontend (Kestrel + co-hosted silo + SQLite) with the settings of a fixture, and an <see cref="Api"/> on it.</summary>
public abstract class ServerFixture : IAsyncLifetime, IDisposable
{
    private FrontendServer? _server;
    private Api? _api;

    public FrontendServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    public Api Api => _api ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Configuration overrides of this server.</summary>
    protected abstract IReadOnlyDictionary<string, string?> Settings { get; }

    public async Task InitializeAsync()
    {
        _server = await FrontendServer.StartAsync(Settings);
        _api = new Api(_server.BaseAddress);
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
