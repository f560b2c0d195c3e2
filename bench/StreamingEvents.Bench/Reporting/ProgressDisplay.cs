using System.Diagnostics;
using Spectre.Console;
using StreamingEvents.Bench.Load;

namespace StreamingEvents.Bench.Reporting;

/// <summary>
/// The live progress display: the run in progress (workload, system, phase, events sent/acknowledged/delivered) above
/// the latest messages. Without an interactive terminal it prints the messages as plain lines instead.
/// </summary>
internal sealed class ProgressDisplay(RunStatus status)
{
    private readonly Queue<string> _messages = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly bool _interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    public void Say(string message)
    {
        var line = $"[{_elapsed.Elapsed:mm\\:ss}] {message}";
        lock (_gate)
        {
            _messages.Enqueue(line);
            while (_messages.Count > 12)
            {
                _messages.Dequeue();
            }
        }

        if (!_interactive)
        {
            Console.WriteLine(line);
        }
    }

    public async Task RunAsync(Func<Task> work)
    {
        if (!_interactive)
        {
            await work();
            return;
        }

        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async live =>
        {
            var running = work();
            while (!running.IsCompleted)
            {
                live.UpdateTarget(Render());
                await Task.WhenAny(running, Task.Delay(250));
            }

            live.UpdateTarget(Render());
            await running;
        });
    }

    private Rows Render()
    {
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("elapsed");
        table.AddColumn("workload");
        table.AddColumn("system");
        table.AddColumn("phase");
        table.AddColumn(new TableColumn("sent").RightAligned());
        table.AddColumn(new TableColumn("acked").RightAligned());
        table.AddColumn(new TableColumn("delivered").RightAligned());
        table.AddRow(
            $"{_elapsed.Elapsed:mm\\:ss}",
            Markup.Escape(status.Workload),
            Markup.Escape(status.System),
            Markup.Escape(status.Phase),
            $"{status.Sent:#,0}",
            $"{status.Acked:#,0}",
            $"{status.Delivered:#,0}");
        string[] lines;
        lock (_gate)
        {
            lines = [.. _messages];
        }

        return new Rows(
            new Markup($"[grey]{Markup.Escape(status.Detail)}[/]"),
            table,
            new Markup(Markup.Escape(string.Join('\n', lines))));
    }
}
