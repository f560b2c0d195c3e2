using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StreamingEvents;
using StreamingEvents.Hosting;
using StreamingEvents.Storage;
using StreamingEvents.Storage.Postgres;
using StreamingEvents.Storage.Sqlite;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds StreamingEvents to an Orleans silo.</summary>
public static class StreamingEventsSiloBuilderExtensions
{
    /// <summary>The connection string name that selects PostgreSQL (<c>ConnectionStrings:StreamingEvents</c>).</summary>
    public const string ConnectionStringName = "StreamingEvents";

    /// <summary>
    /// Adds the stream and task grains, the live push (an Orleans stream provider with in-memory queues, bound from
    /// <c>StreamingEvents:LivePush</c>) and the task timeout sweeper.
    /// Options bind from the <c>StreamingEvents</c> configuration section. Pick a storage with
    /// <see cref="UseSqliteEventLog"/> or <see cref="UsePostgresEventLog"/> (or both at once with
    /// <see cref="UseStreamingEventsDefaults"/>).
    /// </summary>
    public static ISiloBuilder AddStreamingEvents(this ISiloBuilder builder, Action<StreamingEventsOptions>? configure = null)
    {
        var services = builder.Services;
        var options = services.AddOptions<StreamingEventsOptions>().BindConfiguration(StreamingEventsOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StreamingEventsOptions>, StreamingEventsOptionsValidator>());
        services.Configure<ExceptionSerializationOptions>(DriverExceptions.AllowInnerDriverExceptions);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<StreamingEventsMetrics>();
        services.TryAddSingleton<ReplayLimiter>();
        services.TryAddKeyedSingleton<TimeProvider>(StreamingEventsNames.Clock, (provider, _) => provider.GetRequiredService<TimeProvider>());
        services.TryAddSingleton<IAttributeToFactoryMapper<PersistentEventLogAttribute>, PersistentEventLogAttributeMapper>();
        services.AddHostedService<TaskTimeoutSweeper>();
        builder.AddLivePush(StreamingEventsNames.StreamProvider, $"{StreamingEventsOptions.SectionName}:LivePush");
        return builder;
    }

    /// <summary>
    /// Stores events in an embedded SQLite file (durable: WAL, fsync per commit). The stream subscription registry
    /// (<c>PubSubStore</c>) stays in memory: with one silo it lives and dies with the subscribers it holds.
    /// </summary>
    public static ISiloBuilder UseSqliteEventLog(this ISiloBuilder builder, Action<SqliteEventLogOptions>? configure = null)
    {
        var options = new SqliteEventLogOptions();
        configure?.Invoke(options);
        SqliteEventLogOptionsValidator.ThrowIfInvalid(options);
        builder.Services.AddKeyedSingleton<IEventLogStorage>(StreamingEventsNames.EventLogStorage,
            (services, _) => new SqliteEventLogStorage(options, services.GetRequiredKeyedService<TimeProvider>(StreamingEventsNames.Clock), services.GetService<StreamingEventsMetrics>(),
                services.GetService<ILogger<SqliteEventLogStorage>>()));
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, EventLogStorageInitializer>();
        builder.AddMemoryGrainStorage("PubSubStore");
        return builder;
    }

    /// <summary>
    /// Stores events in PostgreSQL, and the stream subscription registry (<c>PubSubStore</c>) in Orleans' ADO.NET grain
    /// storage on the same database. The schema is applied (idempotently) when the silo starts.
    /// </summary>
    public static ISiloBuilder UsePostgresEventLog(this ISiloBuilder builder, string connectionString, Action<PostgresEventLogOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new PostgresEventLogOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        PostgresEventLogOptionsValidator.ThrowIfInvalid(options);
        builder.Services.AddKeyedSingleton<IEventLogStorage>(StreamingEventsNames.EventLogStorage, (services, _) => new PostgresEventLogStorage(options, services.GetRequiredKeyedService<TimeProvider>(StreamingEventsNames.Clock), services.GetService<StreamingEventsMetrics>()));
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, EventLogStorageInitializer>();
        builder.AddAdoNetGrainStorage("PubSubStore", storage =>
        {
            storage.Invariant = "Npgsql";
            storage.ConnectionString = connectionString;
        });
        return builder;
    }

    /// <summary>
    /// A dead silo is declared dead in about two seconds rather than Orleans' default of tens of seconds: its streams move
    /// (and their publishers' retries land) that much sooner. Probes start at 1 s and adapt to measured response times,
    /// two missed probes make a suspicion, and Orleans suppresses suspicions of a silo whose connection is still carrying
    /// messages (a busy silo is not declared dead for being slow to answer probes). Every value can still be set under
    /// <c>Orleans:Membership</c>.
    /// </summary>
    private static void FastFailureDetection(ClusterMembershipOptions membership)
    {
        membership.ProbeTimeout = TimeSpan.FromMilliseconds(500);
        membership.NumMissedProbesLimit = 2;
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>
    /// The one call a host makes: with <c>ConnectionStrings:StreamingEvents</c> set, PostgreSQL for events and ADO.NET
    /// clustering on it (several silos); without, the embedded SQLite file and localhost clustering (one silo, ports
    /// <c>Orleans:SiloPort</c> = 11111 and <c>Orleans:GatewayPort</c> = 30000 unless set). <c>Orleans:Membership</c> binds
    /// Orleans' <see cref="ClusterMembershipOptions"/> (failure detection timing), <c>Orleans:Messaging</c> its
    /// <see cref="SiloMessagingOptions"/> (e.g. <c>ResponseTimeout</c>), <c>Orleans:AdvertisedIPAddress</c> the address
    /// other silos reach this one on (default: this host's first address). Then
    /// <see cref="AddStreamingEvents"/>.
    /// </summary>
    public static ISiloBuilder UseStreamingEventsDefaults(this ISiloBuilder builder, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        var orleans = configuration.GetSection("Orleans");
        builder.Configure<ClusterMembershipOptions>(FastFailureDetection);
        builder.Configure<ClusterMembershipOptions>(orleans.GetSection("Membership"));
        builder.Configure<SiloMessagingOptions>(orleans.GetSection("Messaging"));
        var siloPort = orleans.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = orleans.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            builder.UseLocalhostClustering(siloPort, gatewayPort);
            builder.UseSqliteEventLog(sqlite => configuration.GetSection(SqliteEventLogOptions.SectionName).Bind(sqlite));
        }
        else
        {
            builder.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = orleans["ClusterId"] ?? "streaming-events";
                cluster.ServiceId = orleans["ServiceId"] ?? "streaming-events";
            });
            var listenOnAny = orleans.GetValue("ListenOnAnyHostAddress", false);
            if (orleans["AdvertisedIPAddress"] is { Length: > 0 } advertised)
            {
                builder.ConfigureEndpoints(System.Net.IPAddress.Parse(advertised), siloPort, gatewayPort, listenOnAny);
            }
            else
            {
                builder.ConfigureEndpoints(siloPort, gatewayPort, listenOnAnyHostAddress: listenOnAny);
            }
            builder.UseAdoNetClustering(clustering =>
            {
                clustering.Invariant = "Npgsql";
                clustering.ConnectionString = connectionString;
            });
            builder.UsePostgresEventLog(connectionString, postgres =>
            {
                configuration.GetSection(PostgresEventLogOptions.SectionName).Bind(postgres);
                postgres.ConnectionString = connectionString;
            });
        }

        return builder.AddStreamingEvents();
    }
}
