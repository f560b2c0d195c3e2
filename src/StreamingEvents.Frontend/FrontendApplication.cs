using StreamingEvents.Frontend.Hosting;

namespace StreamingEvents.Frontend;

/// <summary>Builds the frontend application; <c>Program</c> runs it, tests start it on a real Kestrel port.</summary>
public static class FrontendApplication
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddStreamingEventsFrontend();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapStreamingEventsFrontend();
        return app;
    }
}
