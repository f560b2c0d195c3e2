using Spectre.Console;
using Spectre.Console.Cli;
using StreamingEvents.Cli.Commands;

namespace StreamingEvents.Cli;

/// <summary>
/// The tool's entry: parses the command line and runs a command against the given writers and cancellation, so the
/// program and the tests run exactly the same code.
/// </summary>
internal static class App
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, new CliContext(stdout, stderr), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        var errors = CreateConsole(context.Error, color: false);
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("se");
            config.Settings.Registrar.RegisterInstance(context);
            config.ConfigureConsole(CreateConsole(context.Out, context.Color));
            config.Settings.CancellationExitCode = ExitCodes.Interrupted;
            config.SetExceptionHandler((exception, _) => Report(exception, errors));

            config.AddCommand<TailCommand>("tail")
                .WithDescription("Print an execution's events as they arrive, from history on; resumes by itself after a disconnect.")
                .WithExample("tail", "exec-42")
                .WithExample("tail", "exec-42", "--from", "live", "--stream", "token")
                .WithExample("tail", "exec-42", "--json", "--count", "10");
            config.AddCommand<PublishCommand>("publish")
                .WithDescription("Publish a test task over HTTP: a token stream appended at a rate, then completed.")
                .WithExample("publish", "--tokens", "50", "--rate", "20");
            config.AddCommand<StreamsCommand>("streams")
                .WithDescription("List recent executions: head, oldest retained event, tasks.");
        });

        return await app.RunAsync(args, cancellationToken);
    }

    private static int Report(Exception exception, IAnsiConsole errors)
    {
        switch (exception)
        {
            case OperationCanceledException:
                return ExitCodes.Interrupted;
            case CommandAppException { Pretty: { } pretty }:
                errors.Write(pretty);
                return ExitCodes.Usage;
            case CommandAppException usage:
                errors.WriteLine("error: " + usage.Message);
                return ExitCodes.Usage;
            default:
                errors.WriteLine("error: " + exception.Message);
                return ExitCodes.Failure;
        }
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool color)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = color ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!color)
        {
            // Not a terminal (a pipe, a file, a test): render tables at their natural width, not at 80 columns.
            console.Profile.Width = 160;
        }

        return console;
    }
}
