using StreamingEvents.Frontend;

await FrontendApplication.Build(args).RunAsync();
