using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using StreamingEvents.Frontend;

namespace StreamingEvents.Testing;

/// <summary>
/// The real frontend (Kestrel on 127.0.0.1, a co-hosted silo, the embedded SQLite store) on free ports. It can be
/// stopped and started again on the same port and data, as a restart or crash-and-recover of the service.
/// </summary>
public sealed class FrontendServer : IAsyncDisposable
{
    private readonly string _dataDirectory;
    private readonly int _siloPort = FreePort.Next();
    private readonly int _gatewayPort = FreePort.Next();
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly ILoggerProvider? _logs;
    private WebApplication? _app;

    private FrontendServer(string dataDirectory, IReadOnlyDictionary<string, string?> settings, ILoggerProvider? logs)
    {
        _dataDirectory = dataDirectory;
        _settings = settings;
        _logs = logs;
        Port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>A client for request/response calls (SSE reads use <see cref="SseClient"/>).</summary>
    public HttpClient Http { get; }

    public WebApplication App => _app ?? throw new InvalidOperationException("The server is stopped.");

    public IServiceProvider Services => App.Services;

    /// <summary>
    /// Starts a server; <paramref name="settings"/> are configuration overrides (e.g. <c>StreamingEvents:Http:HeartbeatInterval</c>).
    /// Its logs go nowhere, or to <paramref name="logs"/>: the service's own at every level, ASP.NET Core's and Orleans' from
    /// Warning, as the shipped appsettings.json has them.
    /// </summary>
    public static async Task<FrontendServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    {
        var server = new FrontendServer(Directory.CreateTempSubdirectory("se-frontend-").FullName, settings ?? new Dictionary<string, string?>(), logs);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the service again on the same port and data (after <see cref="StopAsync"/>).</summary>
    public async Task StartAgainAsync()
    {
        string[] args =
        [
            $"--urls=http://127.0.0.1:{Port}",
            $"--Orleans:SiloPort={_siloPort}",
            $"--Orleans:GatewayPort={_gatewayPort}",
            $"--StreamingEvents:Sqlite:Path={Path.Combine(_dataDirectory, "events.db")}",
            .. _settings.Select(pair => $"--{pair.Key}={pair.Value}"),
        ];
        _app = FrontendApplication.Build(args, builder =>
        {
            builder.Logging.ClearProviders();
            if (_logs is null)
            {
                builder.Logging.AddFilter(_ => false);
                return;
            }

            builder.Logging.AddProvider(_logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        });
        await _app.StartAsync().Within(TimeSpan.FromSeconds(60));
    }

    /// <summary>Stops the service: open streams end, the silo stops, the data stays.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().Within(TimeSpan.FromSeconds(60));
            await _app.DisposeAsync();
            _app = null;
            SqliteConnection.ClearAllPools();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
