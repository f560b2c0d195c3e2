using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StreamingEvents.LivePush;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the live push stream provider.</summary>
public static class LivePushHostingExtensions
{
    /// <summary>
    /// Adds the live push as stream provider <paramref name="name"/> on a silo: in-memory queues pulled by this silo's
    /// agents, woken when a batch is queued. Needs a grain storage named <c>PubSubStore</c> (Orleans' subscription registry).
    /// </summary>
    /// <param name="builder">The silo.</param>
    /// <param name="name">The stream provider name.</param>
    /// <param name="configurationSection">The configuration section the options bind from, named in validation errors.</param>
    /// <param name="configure">Changes to the options after binding.</param>
    public static ISiloBuilder AddLivePush(this ISiloBuilder builder, string name, string configurationSection, Action<LivePushOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<LivePushOptions>(name).BindConfiguration(configurationSection).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddSingleton<IValidateOptions<LivePushOptions>>(new LivePushOptionsValidator(configurationSection));

        builder.AddPersistentStreams(name, LivePushAdapterFactory.CreateForSilo, streams =>
        {
            streams.ConfigurePartitionBalancing((_, _) => new EveryQueueBalancer());
            streams.ConfigurePullingAgent(agent => agent.Configure<IOptionsMonitor<LivePushOptions>>((pulling, push) =>
            {
                var settings = push.Get(name);
                pulling.GetQueueMsgsTimerPeriod = settings.RestartPeriod;
                pulling.StreamInactivityPeriod = settings.StreamInactivityPeriod;
            }));
        });
        return builder;
    }

    /// <summary>Adds the live push as stream provider <paramref name="name"/> on a client, for subscribing.</summary>
    public static IClientBuilder AddLivePush(this IClientBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LivePushOptions>(name);
        return builder.AddPersistentStreams(name, LivePushAdapterFactory.CreateForClient, null);
    }
}
