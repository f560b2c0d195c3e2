using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;

namespace StreamingEvents.Bench.Systems;

/// <summary>
/// Our system: silo process(es) on a dedicated PostgreSQL database, driven through the .NET SDK from an Orleans client
/// in the load generator. A stream is one workflow execution with one task on topic <c>token</c>: its
/// <c>CUSTOM_TASK_STARTED</c> is sequence 1, each update one <c>CUSTOM_TASK_IN_PROGRESS</c>, the end
/// <c>CUSTOM_TASK_COMPLETED</c>. Updates are issued without awaiting the previous one, as the SDK allows.
/// </summary>
internal sealed class StreamingEventsSystem : IEventSystem, IAsyncDisposable
{
    private const string Topic = "token";

    private readonly ClusterSettings _cluster;
    private readonly PostgresInstance _postgres;
    private readonly string _database;
    private readonly List<OrleansServerProcess> _silos = [];
    private readonly bool _frontend;
    private HttpClient? _http;

    private StreamingEventsSystem(ClusterSettings cluster, PostgresInstance postgres, string database, Durability durability, bool frontend, string label)
    {
        _cluster = cluster;
        _postgres = postgres;
        _database = database;
        Durability = durability;
        _frontend = frontend;
        Label = label;
    }

    public string Name => "StreamingEvents";

    public Durability Durability { get; }

    public string Label { get; }

    public OrleansClient Client { get; private set; } = null!;

    public IReadOnlyList<OrleansServerProcess> Servers => _silos;

    public IReadOnlyList<MonitoredProcess> Processes => [.. _silos.Select(s => s.Monitored), _postgres.Monitored];

    public bool SupportsSubscribe => true;

    public string Database => _database;

    public PostgresInstance Postgres => _postgres;

    /// <summary>Creates the database, starts <paramref name="silos"/> silo processes (or one frontend) and connects a client.</summary>
    public static async Task<StreamingEventsSystem> StartAsync(PostgresInstance postgres, Durability durability, string logsDirectory,
        int silos = 1, bool frontend = false, int instance = 1)
    {
        // A system started again in the same run (the frontend, stopped between workloads) gets a database of its own.
        var database = (frontend ? "se_frontend_" : "se_") + durability.ToString().ToLowerInvariant()
            + (instance > 1 ? $"_{instance}" : string.Empty);
        var connectionString = await postgres.CreateDatabaseAsync(database, synchronousCommit: durability == Durability.D2);
        var cluster = new ClusterSettings(database, connectionString, "bench-" + database.Replace('_', '-'), logsDirectory,
            SynchronousCommit: durability == Durability.D2);
        var label = frontend ? $"StreamingEvents SSE {durability}" : $"StreamingEvents {durability}";
        var system = new StreamingEventsSystem(cluster, postgres, database, durability, frontend, label);
        try
        {
            for (var i = 0; i < silos; i++)
            {
                // One at a time: the first applies the schema.
                system._silos.Add(frontend
                    ? await OrleansServerProcess.StartFrontendAsync(cluster, $"frontend-{durability}".ToLowerInvariant())
                    : await OrleansServerProcess.StartSiloAsync(cluster, $"silo-{durability}-{i}".ToLowerInvariant()));
            }

            system.Client = await OrleansClient.ConnectAsync(cluster);
            if (frontend)
            {
                // Subscribers of the frontend system are real SSE clients over HTTP/1.1.
                system._http = SseSubscriber.CreateClient(system._silos[0].HttpAddress!);
            }
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }

        return system;
    }

    /// <summary>Stops every server process and the client, then starts them again: a cold start on the same data.</summary>
    public async Task RestartAsync()
    {
        await Client.DisposeAsync();
        var count = _silos.Count;
        foreach (var silo in _silos)
        {
            await silo.StopAsync();
            await silo.DisposeAsync();
        }

        _silos.Clear();
        for (var i = 0; i < count; i++)
        {
            _silos.Add(_frontend
                ? await OrleansServerProcess.StartFrontendAsync(_cluster, $"frontend-{Durability}-restarted".ToLowerInvariant())
                : await OrleansServerProcess.StartSiloAsync(_cluster, $"silo-{Durability}-{i}-restarted".ToLowerInvariant()));
        }

        Client = await OrleansClient.ConnectAsync(_cluster);
        if (_http is not null)
        {
            _http.Dispose();
            _http = SseSubscriber.CreateClient(_silos[0].HttpAddress!);
        }
    }

    public static WorkflowContext Context(string stream) => new(stream, WorkflowName: "bench");

    public static ExecutionId Execution(string stream) => new(WorkflowContext.DefaultNamespace, stream);

    public async Task<IStreamPublisher> OpenAsync(string stream, BenchState first, CancellationToken cancellationToken)
    {
        var handle = await Client.Client.StartTaskAsync(Context(stream), Topic, first, cancellationToken: cancellationToken);
        if (handle.StartedSequence != 1)
        {
            throw new InvalidOperationException($"The first event of new stream {stream} got sequence {handle.StartedSequence}, not 1.");
        }

        return new Publisher(handle);
    }

    /// <summary>Reads a stream's history over HTTP from the frontend (the execution route with <c>event_source=DATABASE</c>).</summary>
    public Task ReplayOverHttpAsync(string stream, ISubscriberSink sink, CancellationToken cancellationToken) =>
        SseSubscriber.ReplayAsync(_http ?? throw new InvalidOperationException("Only the frontend system serves HTTP."), stream, sink, cancellationToken);

    public async Task SubscribeAsync(string stream, long fromSequence, ISubscriberSink sink, CancellationToken cancellationToken)
    {
        if (_http is not null)
        {
            await SseSubscriber.RunAsync(_http, stream, fromSequence, sink, cancellationToken);
            return;
        }

        var from = fromSequence == 0 ? StreamPosition.Start : StreamPosition.FromSequence(fromSequence);
        try
        {
            await foreach (var e in Client.Client.SubscribeAsync(Execution(stream), from, cancellationToken: cancellationToken))
            {
                if (!sink.OnEvent(e.BrokerSequence, e.Json.Length, e.IsTerminal) || e.IsTerminal)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async Task<StorageCounters?> ReadStorageCountersAsync() => new(await _postgres.ReadCountersAsync(_database), null);

    public Task ResetAsync() => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
    }

    private sealed class Publisher(TaskHandle<BenchState> handle) : IStreamPublisher
    {
        private long _next = handle.StartedSequence + 1;

        public long NextSequence => Interlocked.Read(ref _next);

        public Task<long> PublishAsync(BenchState state)
        {
            Interlocked.Increment(ref _next);
            return handle.UpdateStateAsync(state);
        }

        public Task<long> CompleteAsync(BenchState state)
        {
            Interlocked.Increment(ref _next);
            return handle.CompleteAsync(state);
        }
    }
}
