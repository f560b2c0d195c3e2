using StreamingEvents.Activities;
using StreamingEvents.Worker;

var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleansClient(client => client.UseStreamingEventsDefaults(builder.Configuration));
builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName);
builder.Services.AddSingleton<DemoActivities>();
builder.Services.AddHostedService<WorkflowRunner>();
await builder.Build().RunAsync();
