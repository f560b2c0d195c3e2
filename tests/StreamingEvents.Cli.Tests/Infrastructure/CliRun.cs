using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests.Infrastructure;

/// <summary>
/// One run of the tool in-process, exactly as the program runs it (<see cref="App.RunAsync(string[], CliContext, CancellationToken)"/>)
/// but with captured stdout/stderr, no environment variables unless given, and a cancellation standing in for Ctrl+C.
/// </summary>
internal sealed class CliRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _interrupt = new();

    private CliRun(string[] args, IReadOnlyDictionary<string, string>? environment, Func<HttpMessageHandler>? handler)
    {
        Args = args;
        var context = new CliContext(Out, Error, name => environment is not null && environment.TryGetValue(name, out var value) ? value : null, httpHandler: handler);
        Exit = Task.Run(() => App.RunAsync(args, context, _interrupt.Token));
    }

    public string[] Args { get; }

    public CapturedWriter Out { get; } = new();

    public CapturedWriter Error { get; } = new();

    public Task<int> Exit { get; }

    public static CliRun Start(params string[] args) => new(args, null, null);

    public static CliRun Start(IReadOnlyDictionary<string, string> environment, params string[] args) => new(args, environment, null);

    public static CliRun Start(Func<HttpMessageHandler> handler, params string[] args) => new(args, null, handler);

    /// <summary>Runs to the end and returns the exit code.</summary>
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var run = Start(args);
        await run.ExitCodeAsync();
        return run;
    }

    /// <summary>The exit code, failing with the output if the run does not end within the bound.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan? bound = null)
    {
        try
        {
            return await Exit.WaitAsync(bound ?? Bounded.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"se {string.Join(' ', Args)} did not end within {bound ?? Bounded.Default}.\nstdout:\n{Out.Text}\nstderr:\n{Error.Text}");
        }
    }

    /// <summary>Ctrl+C.</summary>
    public void Interrupt() => _interrupt.Cancel();

    public override string ToString() => $"se {string.Join(' ', Args)}\nstdout:\n{Out.Text}\nstderr:\n{Error.Text}";

    public async ValueTask DisposeAsync()
    {
        await _interrupt.CancelAsync();
        try
        {
            await Exit.WaitAsync(Bounded.Default);
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            // The test already judged the run; disposing only stops it.
        }

        _interrupt.Dispose();
        Out.Dispose();
        Error.Dispose();
    }
}
