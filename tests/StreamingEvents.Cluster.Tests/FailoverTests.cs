using System.Collections.Concurrent;
using System.Diagnostics;
using StreamingEvents.Contracts;
using StreamingEvents.Testing;
using Xunit.Abstractions;

namespace StreamingEvents.Cluster.Tests;

public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Executions = 4;

    [Fact]
    public Task Killing_the_silo_of_a_busy_stream_loses_no_acknowledged_event_and_subscribers_continue_exactly() =>
        ProcessCluster.RunAsync(silos: 3, output, RunAsync);

    private async Task RunAsync(ProcessCluster cluster)
    {
        var worker = await cluster.StartWorkerAsync("worker",
            "--Worker:ConcurrentWorkflows=1", "--Worker:TokensPerSecond=100", "--Worker:Tokens=60", "--Worker:ProgressSteps=5",
            "--Worker:PauseBetweenWorkflows=00:00:00.500", "--Worker:FailEvery=2");
        var client = cluster.Client;
        using var stop = new CancellationTokenSource();
        var publishers = Enumerable.Range(0, Executions).Select(i => new Publisher(client, ClusterFixtureContext(i))).ToList();
        var subscribers = publishers.Select(p => new TimedSubscriber(client, p.Context.Execution)).ToList();
        await using var disposeSubscribers = new AsyncDisposables(subscribers);
        var publishing = publishers.Select(p => p.RunAsync(stop.Token)).ToList();

        // Busy: every stream has acknowledged a good number of events before the kill.
        await Task.WhenAll(publishers.Select(p => p.WaitForAcknowledgedAsync(100))).Within(TimeSpan.FromSeconds(60));
        var victim = publishers[0];
        var silo = await cluster.HostOfAsync(victim.Context.Execution);
        var headAtKill = (await client.GetStreamInfoAsync(victim.Context.Execution)).Head;
        var killedAt = Stopwatch.GetTimestamp();
        silo.Kill();
        output.WriteLine($"Killed {silo.Name} (pid {silo.Id}), host of {victim.Context.WorkflowExecId}, at {victim.AcknowledgedCount} acknowledged events.");

        // Publishing goes on; the stream re-activates on another silo.
        var before = publishers.Select(p => p.AcknowledgedCount).ToList();
        await Task.WhenAll(publishers.Select((p, i) => p.WaitForAcknowledgedAsync(before[i] + 100))).Within(TimeSpan.FromSeconds(120));
        await stop.CancelAsync();
        await Task.WhenAll(publishing).Within(TimeSpan.FromSeconds(60));

        var newHost = await cluster.HostOfAsync(victim.Context.Execution);
        Assert.NotSame(silo, newHost);

        foreach (var (publisher, subscriber) in publishers.Zip(subscribers))
        {
            var head = (await client.GetStreamInfoAsync(publisher.Context.Execution)).Head;
            var stored = await ReadAllAsync(client, publisher.Context.Execution);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), stored.Select(e => e.BrokerSequence));

            // Every acknowledged event is stored under its number with the value that was acknowledged.
            foreach (var (sequence, value, _) in publisher.Acknowledged)
            {
                Assert.Equal(value, stored[(int)sequence - 1].GetState<int>());
            }

            // The subscriber saw exactly 1..head: no gap, no duplicate, across the failover.
            var received = await subscriber.WaitForCountAsync((int)head);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), received.Select(r => r.Event.BrokerSequence));
            output.WriteLine($"{publisher.Context.WorkflowExecId}: head {head}, acknowledged {publisher.AcknowledgedCount}, failed publishes {publisher.Failures}.");
        }

        var nextDelivered = Stopwatch.GetElapsedTime(killedAt, subscribers[0].Received.First(r => r.At > killedAt).At);
        var firstPublishedAfterKill = victim.Acknowledged.Where(a => a.StartedAt > killedAt).MinBy(a => a.Sequence);
        var recovery = Stopwatch.GetElapsedTime(killedAt, subscribers[0].Received.First(r => r.Event.BrokerSequence == firstPublishedAfterKill.Sequence).At);
        output.WriteLine($"Kill to the next delivered event of the killed silo's stream: {nextDelivered.TotalMilliseconds:F0} ms; " +
            $"to the delivery of the first event published after the kill (#{firstPublishedAfterKill.Sequence}; head was {headAtKill}): {recovery.TotalMilliseconds:F0} ms.");
        Assert.True(recovery < TimeSpan.FromSeconds(60), $"Recovery took {recovery}.");

        // The worker went on publishing after the kill (it reconnects by itself if its gateway was the victim).
        Assert.False(worker.HasExited, worker.Output);
        var assistantRuns = await client.ListExecutionsAsync(new ExecutionQuery(WorkflowName: "assistant"), limit: 200);
        Assert.Contains(assistantRuns, e => e.TaskCount > 0 && e.LastEventAt > DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(killedAt));
        var indexerFailures = await client.ListExecutionsAsync(new ExecutionQuery(WorkflowName: "indexer"), limit: 200);
        Assert.Contains(indexerFailures, e => e.Context.ParentWorkflowExecId is not null && e.Context.RootWorkflowExecId == e.Context.ParentWorkflowExecId);
    }

    private sealed class AsyncDisposables(IEnumerable<IAsyncDisposable> items) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var item in items)
            {
                await item.DisposeAsync();
            }
        }
    }

    private static WorkflowContext ClusterFixtureContext(int i) =>
        new(WorkflowExecId: $"busy-{i}-{Guid.NewGuid():N}", WorkflowName: "failover");

    private static async Task<List<StreamEvent>> ReadAllAsync(IStreamingEventsClient client, ExecutionId execution)
    {
        var events = new List<StreamEvent>();
        var from = StreamPosition.Start;
        while (true)
        {
            var page = await client.ReadAsync(execution, from, 1000);
            events.AddRange(page.Events);
            if (page.ReachedHead)
            {
                return events;
            }

            from = StreamPosition.FromSequence(page.NextSequence);
        }
    }

    /// <summary>Publishes counter values to one task as fast as acknowledgements come, remembering what was acknowledged.</summary>
    private sealed class Publisher(IStreamingEventsClient client, WorkflowContext context)
    {
        private readonly ConcurrentQueue<(long Sequence, int Value, long StartedAt)> _acknowledged = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waits = [];
        private readonly Lock _gate = new();
        private int _failures;

        public WorkflowContext Context { get; } = context;

        public IReadOnlyCollection<(long Sequence, int Value, long StartedAt)> Acknowledged => _acknowledged;

        public int AcknowledgedCount => _acknowledged.Count;

        public int Failures => _failures;

        public async Task RunAsync(CancellationToken stop)
        {
            var task = await client.StartTaskAsync(Context, "counter", 0, cancellationToken: CancellationToken.None);
            for (var value = 1; !stop.IsCancellationRequested; value++)
            {
                var startedAt = Stopwatch.GetTimestamp();
                try
                {
                    var sequence = await task.UpdateStateAsync(value, CancellationToken.None);
                    _acknowledged.Enqueue((sequence, value, startedAt));
                    Signal();
                }
                catch (Exception exception) when (exception is StreamingEventsException or TimeoutException or Orleans.Runtime.OrleansException)
                {
                    // Not acknowledged: it may or may not be stored, and it is not counted.
                    Interlocked.Increment(ref _failures);
                }
            }

            await task.CompleteAsync(CancellationToken.None);
        }

        public Task WaitForAcknowledgedAsync(int count)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _waits.Add((count, reached));
            }

            Signal();
            return reached.Task;
        }

        private void Signal()
        {
            lock (_gate)
            {
                foreach (var wait in _waits.Where(w => _acknowledged.Count >= w.Count).ToList())
                {
                    wait.Reached.TrySetResult();
                    _waits.Remove(wait);
                }
            }
        }
    }

    /// <summary>A subscription from the start that notes when each event arrived.</summary>
    private sealed class TimedSubscriber : IAsyncDisposable
    {
        private readonly Collector<(StreamEvent Event, long At)> _collector;

        public TimedSubscriber(IStreamingEventsClient client, ExecutionId execution) =>
            _collector = new Collector<(StreamEvent, long)>(ct => Timed(client.SubscribeAsync(execution, StreamPosition.Start, cancellationToken: ct)));

        public IReadOnlyList<(StreamEvent Event, long At)> Received => _collector.Items;

        public Task<IReadOnlyList<(StreamEvent Event, long At)>> WaitForCountAsync(int count) =>
            _collector.WaitForCountAsync(count, TimeSpan.FromSeconds(60));

        public ValueTask DisposeAsync() => _collector.DisposeAsync();

        private static async IAsyncEnumerable<(StreamEvent, long)> Timed(IAsyncEnumerable<StreamEvent> events)
        {
            await foreach (var streamEvent in events)
            {
                yield return (streamEvent, Stopwatch.GetTimestamp());
            }
        }
    }
}
