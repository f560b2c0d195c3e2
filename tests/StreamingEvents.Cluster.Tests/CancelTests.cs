using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using StreamingEvents.Testing;
using Xunit.Abstractions;

namespace StreamingEvents.Cluster.Tests;

/// <summary>
/// "Stop generating" across processes: a cancel POSTed to the frontend process reaches the producers running in a worker
/// process (their token fires and their work stops, which the worker logs with the instant), and ends the execution's tasks; with the worker
/// killed, the server ends them alone.
/// </summary>
public sealed partial class CancelTests(ITestOutputHelper output)
{
    private const int WarmUp = 2;       // the first cancels pay for JIT compilation in three processes (100–260 ms measured)
    private const int Workflows = 50;   // a root and a child execution each: 100 cancels measured after the warm-up
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Category", "Latency")] // eng/test.sh runs it alone, after the other suites
    public Task A_cancel_over_http_reaches_the_producers_in_a_worker_process_within_100_ms_at_p99_and_ends_their_tasks() =>
        ProcessCluster.RunAsync(silos: 1, output, RunAsync);

    private async Task RunAsync(ProcessCluster cluster)
    {
        var (_, address) = await cluster.StartFrontendAsync("frontend");
        // Workflows that would run for hours: only a cancel ends them.
        var worker = await cluster.StartWorkerAsync("worker",
            "--Worker:ConcurrentWorkflows=2", "--Worker:Tokens=100000", "--Worker:TokensPerSecond=20", "--Worker:ProgressSteps=10",
            "--Worker:PauseBetweenWorkflows=00:00:00.050", "--Worker:FailEvery=0",
            "--Logging:LogLevel:StreamingEvents.Worker=Information");
        using var http = new HttpClient { BaseAddress = address };

        var latencies = new List<TimeSpan>();
        for (var number = 1; number <= WarmUp + Workflows; number++)
        {
            foreach (var execution in await StartedAsync(worker, number))
            {
                await ProducingAsync(cluster.Client, execution);
                var requested = DateTimeOffset.UtcNow;
                await CancelAsync(http, execution);
                var latency = await StoppedAtAsync(worker, execution) - requested;
                if (number > WarmUp)
                {
                    latencies.Add(latency);
                }

                await AssertEndedCanceledAsync(cluster.Client, execution);
            }
        }

        var sorted = latencies.Order().ToList();
        var p50 = sorted[sorted.Count / 2];
        var p99 = sorted[(int)Math.Ceiling(0.99 * sorted.Count) - 1];
        output.WriteLine($"Cancel POSTed → producers stopped in the worker process, {sorted.Count} cancels: " +
            $"p50 {p50.TotalMilliseconds:F1} ms, p99 {p99.TotalMilliseconds:F1} ms, max {sorted[^1].TotalMilliseconds:F1} ms " +
            $"(in order: {string.Join(", ", latencies.Select(l => l.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))}).");
        Assert.True(p99 <= TimeSpan.FromMilliseconds(100), $"p99 {p99.TotalMilliseconds:F1} ms");

        // Every canceled workflow ended as canceled in the worker, not as failed: a publish racing the cancel's notice is
        // refused as finished, and the scopes report that as the cancellation it is.
        Assert.DoesNotContain("WorkflowRunner[4002]", worker.Output, StringComparison.Ordinal);
        Assert.Contains("WorkflowRunner[4004]", worker.Output, StringComparison.Ordinal);

        // A dead producer: the server ends the execution's open tasks itself.
        var orphans = await StartedAsync(worker, WarmUp + Workflows + 1);
        foreach (var execution in orphans)
        {
            await ProducingAsync(cluster.Client, execution);
        }

        worker.Kill();
        foreach (var execution in orphans)
        {
            await CancelAsync(http, execution);
            await AssertEndedCanceledAsync(cluster.Client, execution);
        }
    }

    /// <summary>The root and child executions of the worker's workflow <paramref name="number"/>, from its log.</summary>
    private static async Task<ExecutionId[]> StartedAsync(ProcessHost worker, int number)
    {
        var line = $"Workflow {number} started: ";
        await worker.WaitForOutputAsync(line, Bound);
        var match = StartedLine().Match(worker.Output[worker.Output.IndexOf(line, StringComparison.Ordinal)..]);
        return [Execution(match.Groups["root"].Value), Execution(match.Groups["child"].Value)];
    }

    /// <summary>Awaits the execution's first custom task event: a producer holds a task open.</summary>
    private static async Task ProducingAsync(IStreamingEventsClient client, ExecutionId execution)
    {
        using var bound = new CancellationTokenSource(Bound);
        await foreach (var e in client.SubscribeAsync(execution, StreamPosition.Start, cancellationToken: bound.Token))
        {
            if (EventTypes.Info(e.EventType).Kind == TaskKind.Custom)
            {
                return;
            }
        }
    }

    private static async Task CancelAsync(HttpClient http, ExecutionId execution)
    {
        using var response = await http.PostAsync($"/v1/workflows/executions/{execution.WorkflowExecId}/cancel", content: null).Within(Bound);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The instant the worker's producers of <paramref name="execution"/> stopped (their token fired and the work unwound), from its log.</summary>
    private static async Task<DateTimeOffset> StoppedAtAsync(ProcessHost worker, ExecutionId execution)
    {
        var line = $"Execution {execution.WorkflowExecId} canceled: its producers stopped at ";
        await worker.WaitForOutputAsync(line, Bound);
        var text = worker.Output;
        var at = text.IndexOf(line, StringComparison.Ordinal) + line.Length;
        var end = text.IndexOfAny(['\r', '\n'], at);
        return DateTimeOffset.Parse(text[at..(end < 0 ? text.Length : end)], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
    }

    /// <summary>The execution's last event is WORKFLOW_EXECUTION_CANCELED and every task it started has ended before it.</summary>
    private static async Task AssertEndedCanceledAsync(IStreamingEventsClient client, ExecutionId execution)
    {
        var events = new List<StreamEvent>();
        for (var from = StreamPosition.Start; ;)
        {
            var page = await client.ReadAsync(execution, from, 1000).Within(Bound);
            events.AddRange(page.Events);
            if (page.ReachedHead)
            {
                break;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }

        Assert.Equal(EventType.WorkflowExecutionCanceled, events[^1].EventType);
        var open = events.Where(e => !EventTypes.Info(e.EventType).IsTerminal).Select(e => e.TaskId).ToHashSet();
        open.ExceptWith(events.Where(e => EventTypes.Info(e.EventType).IsTerminal).Select(e => e.TaskId));
        Assert.Empty(open);
        Assert.Contains(events, e => e.EventType == EventType.CustomTaskCanceled);
    }

    private static ExecutionId Execution(string id) => new(WorkflowContext.DefaultNamespace, id);

    [GeneratedRegex(@"execution (?<root>\S+) with child (?<child>\S+)")]
    private static partial Regex StartedLine();
}
