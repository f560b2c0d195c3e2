using StreamingEvents.Activities;

namespace StreamingEvents.Silo;

/// <summary>
/// <c>demo</c>: publishes a simulated LLM token stream in the execution <c>demo</c> while a consumer reads it, drops the
/// consumer halfway and resumes it from the last sequence + 1, then checks that what it received has no gap and no
/// duplicate. The execution is the same on every run, so a second run shows the numbering continuing after a restart.
/// </summary>
internal sealed class ResumeDemo(IStreamingEventsClient client, IHostApplicationLifetime lifetime, TimeProvider time) : BackgroundService
{
    private static readonly WorkflowContext Context = new(WorkflowExecId: "demo", WorkflowName: "resume-demo");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var output = Console.Out;
        try
        {
            var streams = client.ForExecution(Context);
            var before = await streams.GetStreamInfoAsync(stoppingToken);
            await output.WriteLineAsync(before.Head == 0
                ? "Execution 'demo' is new: numbering starts at 1."
                : $"Execution 'demo' already holds events up to {before.Head} from an earlier run: numbering continues at {before.Head + 1}.");

            var publishing = new DemoActivities(client, time).StreamTokensAsync(Context, new TokenStreamSettings(Tokens: 40, TokensPerSecond: 20), stoppingToken);
            var received = new List<StreamEvent>();

            await output.WriteLineAsync("Consumer: subscribed.");
            await foreach (var e in streams.SubscribeAsync(StreamPosition.After(before.Head), "token", stoppingToken))
            {
                received.Add(e);
                await PrintAsync(output, e);
                if (received.Count == 15)
                {
                    break; // the connection drops
                }
            }

            var resumeFrom = StreamPosition.After(received[^1].BrokerSequence);
            await output.WriteLineAsync($"\nConsumer: disconnected after {received[^1].BrokerSequence}; reconnected, resumed from {resumeFrom}.");
            await foreach (var e in streams.SubscribeAsync(resumeFrom, "token", stoppingToken))
            {
                received.Add(e);
                await PrintAsync(output, e);
                if (e.IsTerminal)
                {
                    break;
                }
            }

            var text = await publishing;
            var sequences = received.Select(e => e.BrokerSequence).ToList();
            var exact = sequences.SequenceEqual(Enumerable.Range((int)before.Head + 1, sequences.Count).Select(i => (long)i));
            await output.WriteLineAsync($"\nPublished {text.Length} characters. Received events {sequences[0]}..{sequences[^1]}: "
                + (exact ? "contiguous, no gap, no duplicate." : "NOT contiguous — this is a bug."));
            Environment.ExitCode = exact ? 0 : 1;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"The demo failed: {exception}");
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private static async Task PrintAsync(TextWriter output, StreamEvent e)
    {
        if (e.EventType == EventType.CustomTaskInProgress)
        {
            await output.WriteAsync(e.GetState<TokenState>()!.Tokens[^1]);
        }
        else
        {
            await output.WriteAsync($"[{e.BrokerSequence} {e.EventType.ToWireName()}] ");
        }
    }
}

internal static class ResumeDemoExtensions
{
    public static void AddResumeDemo(this HostApplicationBuilder builder)
    {
        builder.Services.AddStreamingEventsClient();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<ResumeDemo>();
    }
}
