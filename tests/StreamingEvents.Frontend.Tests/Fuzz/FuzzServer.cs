using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamingEvents.Testing;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>One error the server logged, with the fuzz input it happened under (its <c>X-Fuzz-Id</c> header) if any.</summary>
public sealed record ServerError(DateTimeOffset At, LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception, string? FuzzId, string? RequestPath)
{
    public override string ToString() =>
        $"[{At:HH:mm:ss.fff} {Level} {Category} ({EventId.Id}) fuzz_id={FuzzId ?? "-"} path={RequestPath ?? "-"}] {Message}" +
        (Exception is null ? string.Empty : $"\n{Exception}");
}

/// <summary>
/// Keeps every log entry of level Error or above, with the request scope it was written in: the fuzz id (set by a
/// middleware from the <c>X-Fuzz-Id</c> header) and ASP.NET Core's <c>RequestPath</c>. Lower levels are dropped.
/// </summary>
public sealed class ServerErrorLog : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<ServerError> _errors = new();
    private IExternalScopeProvider? _scopes;

    public IReadOnlyList<ServerError> Errors => [.. _errors];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(ServerErrorLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string? fuzzId = null;
            string? path = null;
            owner._scopes?.ForEachScope<object?>(
                (scope, _) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                    {
                        foreach (var (key, value) in values)
                        {
                            if (key == FuzzServer.FuzzIdScope)
                            {
                                fuzzId = value?.ToString();
                            }
                            else if (key == "RequestPath")
                            {
                                path = value?.ToString();
                            }
                        }
                    }
                },
                null);
            owner._errors.Enqueue(new ServerError(DateTimeOffset.UtcNow, logLevel, category, eventId, formatter(state, exception), exception, fuzzId, path));
        }
    }
}

/// <summary>
/// The real frontend (<see cref="FrontendApplication.Build"/>: Kestrel on 127.0.0.1, co-hosted silo, embedded SQLite),
/// started like <see cref="FrontendServer"/> but with its errors kept in <see cref="Errors"/> (FrontendServer discards
/// all logging) and each error tagged with the fuzz input that caused it.
/// </summary>
public sealed class FuzzServer : IAsyncDisposable
{
    public const string FuzzIdHeader = "X-Fuzz-Id";
    public const string FuzzIdScope = "FuzzId";

    private readonly string _dataDirectory;
    private readonly WebApplication _app;

    private FuzzServer(string dataDirectory, WebApplication app, ServerErrorLog errors, int port)
    {
        _dataDirectory = dataDirectory;
        _app = app;
        Errors = errors;
        Port = port;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public ServerErrorLog Errors { get; }

    public int Port { get; }

    public IPEndPoint EndPoint { get; }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<FuzzServer> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("se-fuzz-").FullName;
        var port = FreePort.Next();
        string[] args =
        [
            $"--urls=http://127.0.0.1:{port}",
            $"--Orleans:SiloPort={FreePort.Next()}",
            $"--Orleans:GatewayPort={FreePort.Next()}",
            $"--StreamingEvents:Sqlite:Path={Path.Combine(dataDirectory, "events.db")}",
            .. settings.Select(pair => $"--{pair.Key}={pair.Value}"),
        ];
        var errors = new ServerErrorLog();
        var app = FrontendApplication.Build(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(errors);
            builder.Services.AddSingleton<IStartupFilter, FuzzIdMiddleware>();
        });
        await app.StartAsync().Within(TimeSpan.FromSeconds(60));
        return new FuzzServer(dataDirectory, app, errors, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().Within(TimeSpan.FromSeconds(60));
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>First in the pipeline: a log scope carrying the request's <c>X-Fuzz-Id</c>, so a server error names its input.</summary>
    private sealed class FuzzIdMiddleware(ILoggerFactory loggers) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var logger = loggers.CreateLogger("StreamingEvents.Frontend.Tests.Fuzz");
            app.Use(async (HttpContext context, RequestDelegate nextMiddleware) =>
            {
                using var scope = context.Request.Headers[FuzzIdHeader] is { Count: > 0 } id
                    ? logger.BeginScope(new Dictionary<string, object?> { [FuzzIdScope] = id.ToString() })
                    : null;
                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
