using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using StreamingEvents.IntegrationTests.Infrastructure;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// Fault tests share nothing: each starts its own in-process cluster (and, where it breaks storage, its own PostgreSQL),
/// with the settings it needs. They run one at a time (<see cref="FaultsCollection"/>) so that a test measuring progress
/// or latency is not competing with another fault test for the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultsCollection
{
    public const string Name = "faults";
}

/// <summary>An in-process Orleans cluster with StreamingEvents on a given storage backend, and a record of its warnings.</summary>
public sealed class FaultCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private FaultCluster(InProcessTestCluster cluster, LogRecorder log)
    {
        _cluster = cluster;
        Log = log;
    }

    public IClusterClient Orleans => _cluster.Client;

    public IStreamingEventsClient Client => _cluster.Client.ServiceProvider.GetRequiredService<IStreamingEventsClient>();

    public IServiceProvider SiloServices => _cluster.GetSiloServiceProvider();

    public IServiceProvider ClientServices => _cluster.Client.ServiceProvider;

    /// <summary>Warnings and errors the silos logged.</summary>
    public LogRecorder Log { get; }

    public static async Task<FaultCluster> StartAsync(IStorageBackend backend, Action<StreamingEventsOptions>? silo = null,
        Action<StreamingEventsClientOptions>? client = null, Action<ISiloBuilder>? configureSilo = null, Action<IClientBuilder>? configureClient = null)
    {
        var log = new LogRecorder();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, siloBuilder) =>
        {
            backend.Configure(siloBuilder);
            siloBuilder.AddStreamingEvents(options =>
            {
                options.MaintenanceInterval = TimeSpan.FromMilliseconds(200);
                silo?.Invoke(options);
            });
            siloBuilder.Services.AddSingleton<ILoggerProvider>(log);
            configureSilo?.Invoke(siloBuilder);
        });
        builder.ConfigureClient(clientBuilder =>
        {
            clientBuilder.AddLivePush(StreamingEventsNames.StreamProvider);
            clientBuilder.Services.AddStreamingEventsClient(options =>
            {
                options.IdleProbeInterval = TimeSpan.FromSeconds(1);
                client?.Invoke(options);
            });
            configureClient?.Invoke(clientBuilder);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new FaultCluster(cluster, log);
    }

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}

/// <summary>Keeps the warnings and errors of the StreamingEvents categories (by event id), for tests to count and print.</summary>
public sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyCollection<(int EventId, LogLevel Level, string Message)> Entries => _entries;

    public int Count(int eventId) => _entries.Count(e => e.EventId == eventId);

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("StreamingEvents", StringComparison.Ordinal) ? new Recorder(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Recorder(LogRecorder owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._entries.Enqueue((eventId.Id, logLevel, formatter(state, exception) + (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")));
            }
        }
    }
}

/// <summary>
/// Listens to the StreamingEvents instruments of one service provider (a silo or a client: each has its own meter
/// factory, so other clusters in the test process are not counted).
/// </summary>
public sealed class MetricsProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _max = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public MetricsProbe(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == StreamingEventsMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(instrument.Name, value));
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Record(instrument.Name, value));
        _listener.Start();
    }

    /// <summary>The sum of a counter's increments (or of a histogram's integer values) since the probe started.</summary>
    public long Sum(string instrument) => _sums.GetValueOrDefault(instrument);

    /// <summary>How many measurements an instrument recorded.</summary>
    public long Count(string instrument) => _counts.GetValueOrDefault(instrument);

    /// <summary>The largest measurement of an instrument.</summary>
    public double Max(string instrument) => _max.GetValueOrDefault(instrument);

    public void Dispose() => _listener.Dispose();

    private void Record(string instrument, double value)
    {
        _sums.AddOrUpdate(instrument, (long)value, (_, sum) => sum + (long)value);
        _counts.AddOrUpdate(instrument, 1, (_, count) => count + 1);
        _max.AddOrUpdate(instrument, value, (_, max) => Math.Max(max, value));
    }
}
