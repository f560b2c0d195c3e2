using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StreamingEvents;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the StreamingEvents .NET SDK.</summary>
public static class StreamingEventsClientExtensions
{
    /// <summary>
    /// Adds <see cref="IStreamingEventsClient"/>. Needs an Orleans <see cref="IClusterClient"/>: a client configured with
    /// <see cref="UseStreamingEventsDefaults"/>, or a co-hosted silo. Options bind from <c>StreamingEvents:Client</c>.
    /// </summary>
    public static IServiceCollection AddStreamingEventsClient(this IServiceCollection services, Action<StreamingEventsClientOptions>? configure = null)
    {
        var options = services.AddOptions<StreamingEventsClientOptions>().BindConfiguration(StreamingEventsClientOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StreamingEventsClientOptions>, StreamingEventsClientOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.Configure<ExceptionSerializationOptions>(DriverExceptions.AllowInnerDriverExceptions);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<StreamingEventsMetrics>();
        services.TryAddSingleton<IStreamingEventsClient, StreamingEventsClient>();
        return services;
    }

    /// <summary>
    /// The first connection is retried until the cluster answers (a worker may start before its silos). Once
    /// connected, the client reconnects to gateways by itself; calls made meanwhile fail, so activities see the error.
    /// </summary>
    private static async Task<bool> RetryConnectionAsync(Exception exception, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }

    /// <summary>
    /// Configures an Orleans client for a StreamingEvents cluster and adds the SDK: with
    /// <c>ConnectionStrings:StreamingEvents</c> set, it finds gateways through PostgreSQL (ADO.NET clustering); without,
    /// it connects to a local silo (gateway port <c>Orleans:GatewayPort</c>, default 30000). <c>Orleans:Gateway</c> binds
    /// Orleans' <see cref="GatewayOptions"/> (e.g. <c>GatewayListRefreshPeriod</c>).
    /// </summary>
    public static IClientBuilder UseStreamingEventsDefaults(this IClientBuilder builder, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("StreamingEvents");
        var orleans = configuration.GetSection("Orleans");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            builder.UseLocalhostClustering(orleans.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT));
        }
        else
        {
            builder.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = orleans["ClusterId"] ?? "streaming-events";
                cluster.ServiceId = orleans["ServiceId"] ?? "streaming-events";
            });
            builder.UseAdoNetClustering(clustering =>
            {
                clustering.Invariant = "Npgsql";
                clustering.ConnectionString = connectionString;
            });
        }

        // A replacement silo's gateway is used within seconds (Orleans' default refresh is a minute).
        builder.Configure<GatewayOptions>(gateways => gateways.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        builder.Configure<GatewayOptions>(orleans.GetSection("Gateway"));
        builder.Configure<ClientMessagingOptions>(orleans.GetSection("Messaging"));
        builder.UseConnectionRetryFilter(RetryConnectionAsync);
        builder.AddLivePush(StreamingEventsNames.StreamProvider);
        builder.Services.AddStreamingEventsClient();
        return builder;
    }
}
