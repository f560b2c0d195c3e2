using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Infrastructure;

/// <summary>One throw-away PostgreSQL server for a test class; each test creates its own database on it.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private int _databases;

    public PostgresServer Server { get; private set; } = null!;

    /// <summary>A new empty database, named after <paramref name="prefix"/>.</summary>
    public Task<string> CreateDatabaseAsync(string prefix) =>
        Server.CreateDatabaseAsync($"{prefix}_{Interlocked.Increment(ref _databases)}");

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
