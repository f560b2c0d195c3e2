using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using StreamingEvents;
using StreamingEvents.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every StreamingEvents host shares: metrics through OpenTelemetry (Prometheus on <c>/metrics</c>), health
/// (<c>/health</c> = ready, <c>/alive</c> = live), and, behind settings, the Orleans dashboard and Kubernetes hosting.
/// </summary>
public static class ServiceDefaultsExtensions
{
    private const string ReadyTag = "ready";

    /// <summary>OpenTelemetry metrics of StreamingEvents, Orleans, ASP.NET Core and the runtime; the health checks.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(StreamingEventsMetrics.MeterName, "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        builder.Services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster-and-storage", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// A co-hosted silo configured from configuration (<see cref="StreamingEventsSiloBuilderExtensions.UseStreamingEventsDefaults"/>),
    /// plus Kubernetes hosting when <c>Orleans:Kubernetes</c> is true (it reads the pod's downward-API variables and
    /// fails outside a cluster) and the Orleans dashboard when <c>Orleans:Dashboard</c> is true.
    /// </summary>
    public static IHostApplicationBuilder AddStreamingEventsSilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.UseOrleans(silo =>
        {
            silo.UseStreamingEventsDefaults(configuration);
            if (configuration.GetValue("Orleans:Kubernetes", false))
            {
                silo.UseKubernetesHosting();
            }

            if (configuration.GetValue("Orleans:Dashboard", false))
            {
                silo.AddDashboard();
            }
        });
        return builder;
    }

    /// <summary><c>/health</c> (ready: the silo serves calls and storage answers), <c>/alive</c>, <c>/metrics</c>, and <c>/dashboard</c> if enabled.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = _ => false });
        app.MapPrometheusScrapingEndpoint("/metrics");
        if (app.Configuration.GetValue("Orleans:Dashboard", false))
        {
            app.MapOrleansDashboard("/dashboard");
        }

        return app;
    }

    /// <summary>Ready when a grain call reaches a silo and the event log answers a query, within a few seconds.</summary>
    private sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
    {
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await grains.GetGrain<IHealthProbeGrain>(0).PingAsync().WaitAsync(Bound, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy("The cluster or its storage did not answer.", exception);
            }
        }
    }
}
