using Microsoft.AspNetCore.Http.Json;
using StreamingEvents.Activities;
using StreamingEvents.Frontend.Endpoints;
using StreamingEvents.Frontend.Http;
using StreamingEvents.Frontend.Security;
using StreamingEvents.Frontend.Sse;

namespace StreamingEvents.Frontend.Hosting;

/// <summary>The frontend's wiring: one call for services, one for the pipeline and routes.</summary>
public static class FrontendHostingExtensions
{
    /// <summary>
    /// Co-hosts a silo (storage and clustering from configuration: PostgreSQL with <c>ConnectionStrings:StreamingEvents</c>,
    /// the embedded SQLite file otherwise), the SDK, the service defaults (metrics, health), problem details, OpenAPI and
    /// the SSE plumbing.
    /// </summary>
    public static WebApplicationBuilder AddStreamingEventsFrontend(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddStreamingEventsSilo();
        builder.Services.AddStreamingEventsClient();

        var options = builder.Services.AddOptions<FrontendOptions>().BindConfiguration(FrontendOptions.SectionName);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Limits.MaxRequestBodySize = context.Configuration.GetSection(FrontendOptions.SectionName).GetValue(nameof(FrontendOptions.MaxRequestBodyBytes), new FrontendOptions().MaxRequestBodyBytes));

        builder.Services.Configure<JsonOptions>(json => FrontendJson.Configure(json.SerializerOptions));
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = ProblemMapping.Complete);
        builder.Services.AddExceptionHandler<ProblemMapping>();
        builder.Services.AddStreamingEventsSecurity();
        builder.Services.AddOpenApi(openApi => openApi.AddOperationTransformer(OpenApiDocumentation.DescribeAsync));
        builder.Services.AddSingleton<SseConnections>();
        builder.Services.AddSingleton<DemoActivities>();
        builder.Services.AddSingleton<DemoRunner>();
        return builder;
    }

    /// <summary>The pipeline and every route: the API under <c>/v1</c>, <c>/openapi/v1.json</c>, and the web UI at <c>/</c>.</summary>
    public static WebApplication MapStreamingEventsFrontend(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(ProblemMapping.WriteStatusCodeAsync);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        // A literal path: the default pattern answers other names with its own text/plain 404.
        app.MapOpenApi("/openapi/v1.json");
        app.MapDefaultEndpoints();

        var v1 = app.MapGroup("/v1");
        EventStreamEndpoints.Map(v1);
        EventListEndpoints.Map(v1);
        TaskEndpoints.Map(v1);
        ExecutionEndpoints.Map(v1);
        StreamEndpoints.Map(v1);
        StreamTokenEndpoints.Map(v1);
        if (app.Configuration.GetSection(FrontendOptions.SectionName).GetValue(nameof(FrontendOptions.EnableDemo), true))
        {
            DemoEndpoints.Map(v1);
        }

        return app;
    }
}
