using StreamingEvents.Silo;

// Usage: StreamingEvents.Silo [run|migrate|demo] [--ConnectionStrings:StreamingEvents=...] [--Orleans:SiloPort=...]
var command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "run";
var settings = args.Where(a => a != command).ToArray();
var builder = Host.CreateApplicationBuilder(settings);

switch (command)
{
    case "migrate":
        return await Migration.RunAsync(builder.Configuration);
    case "run":
    case "demo":
        builder.AddStreamingEventsSilo();
        if (command == "demo")
        {
            builder.AddResumeDemo();
        }

        await builder.Build().RunAsync();
        return 0;
    default:
        Console.Error.WriteLine($"Unknown command '{command}'. Use run (default), migrate or demo.");
        return 2;
}
