using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests.Infrastructure;

/// <summary>A real frontend (Kestrel + co-hosted silo + SQLite) with a fixture's settings; tests use fresh execution ids.</summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private FrontendServer? _server;

    public FrontendServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The <c>--url</c> to give the tool.</summary>
    public string Url => Server.BaseAddress.ToString();

    internal Publisher Publisher => new(Server.Http);

    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync() => _server = await FrontendServer.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
}

/// <summary>The server most tests share, with a short heartbeat so every stream the tool reads also carries comments.</summary>
public sealed class SharedServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:Http:HeartbeatInterval"] = "00:00:00.500",
    };
}

/// <summary>A server that keeps at most 5 events per execution.</summary>
public sealed class SmallRetentionServer : ServerFixture
{
    public const int MaxEvents = 5;

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["StreamingEvents:Retention:MaxEvents"] = "5",
    };
}

[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "Shared frontend server";
}
