using System.Diagnostics;
using System.Globalization;
using StreamingEvents.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>Hundreds of subscribers resuming at once (after a frontend restart, say) while a publisher goes on.</summary>
[Collection(FaultsCollection.Name)]
public sealed class ReconnectStormTests(ITestOutputHelper output)
{
    private static readonly int History = Setting("STREAMING_EVENTS_STORM_EVENTS", 5_000);
    private static readonly int Subscribers = Setting("STREAMING_EVENTS_STORM_SUBSCRIBERS", 500);

    [Fact]
    public async Task Subscribers_resuming_all_at_once_each_get_their_exact_sequence_while_the_publisher_keeps_being_acknowledged()
    {
        await using var backend = await PostgresBackend.StartAsync();
        await using var cluster = await FaultCluster.StartAsync(backend);
        var client = cluster.Client;
        var streams = client.ForExecution(ClusterFixture.NewExecution("storm"));

        // History: one task publishes it, pipelined.
        var history = new Publisher(await streams.StartTaskAsync("token", 0), firstValue: 1, window: 256);
        await history.RunAsync(CancellationToken.None, History - 1).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Empty(history.Failures);

        // A steady publisher on another task of the same execution: one update at a time, as an LLM token stream.
        var live = new Publisher(await streams.StartTaskAsync("progress", 0), firstValue: 1);
        using var stop = new CancellationTokenSource();
        var publishing = live.RunAsync(stop.Token);
        var random = new Random(20_250_101);
        var subscribers = new List<SequenceSubscriber>();
        try
        {
            await live.WaitForAcksAsync(20);
            var headAtStorm = (await streams.GetStreamInfoAsync()).Head;
            var acksAtStorm = live.Acks.Count;
            var stormAt = Stopwatch.GetTimestamp();
            for (var i = 0; i < Subscribers; i++)
            {
                // 10% from start_seq = 0 (the oldest retained, here 1), the rest from a random earlier point.
                var fromStart = i % 10 == 0;
                var from = fromStart ? StreamPosition.Start : StreamPosition.FromSequence(random.NextInt64(1, headAtStorm + 1));
                subscribers.Add(new SequenceSubscriber(ct => streams.SubscribeAsync(from, cancellationToken: ct), fromStart ? 1 : from.Sequence));
            }

            // Every subscriber catches up with the head at the storm...
            await Task.WhenAll(subscribers.Select(s => s.WaitForAsync(headAtStorm, TimeSpan.FromSeconds(240))));
            var caughtUp = Stopwatch.GetElapsedTime(stormAt);
            var during = live.Acks.Where(a => a.AckedAt > stormAt).ToList();
            var acksDuring = live.Acks.Count - acksAtStorm;

            // ...while the publisher went on being acknowledged.
            await stop.CancelAsync();
            await publishing.WaitAsync(TimeSpan.FromSeconds(60));
            var head = (await streams.GetStreamInfoAsync()).Head;
            await Task.WhenAll(subscribers.Select(s => s.WaitForAsync(head, TimeSpan.FromSeconds(60))));
            foreach (var subscriber in subscribers)
            {
                subscriber.AssertExactThrough(head);
            }

            var latencies = during.Select(a => a.Latency.TotalMilliseconds).Order().ToList();
            var before = live.Acks.Where(a => a.AckedAt <= stormAt).Select(a => a.Latency.TotalMilliseconds).Order().ToList();
            output.WriteLine($"{Subscribers} subscribers resumed at once over {headAtStorm} events; all caught up with the head in {caughtUp.TotalSeconds:F1} s " +
                $"and delivered exactly through {head} ({subscribers.Sum(s => s.Count)} deliveries).");
            output.WriteLine($"Publisher during the storm: {acksDuring} acknowledged ({acksDuring / caughtUp.TotalSeconds:F0}/s), failures {live.Failures.Count}; ack latency " +
                $"p50 {Percentile(latencies, 0.50):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies.LastOrDefault():F0} ms " +
                $"(before the storm: p50 {Percentile(before, 0.50):F1} ms, max {before.LastOrDefault():F1} ms).");
            Assert.Empty(live.Failures);
            Assert.True(acksDuring >= 10, $"The publisher got only {acksDuring} acknowledgements in the {caughtUp.TotalSeconds:F1} s of the storm.");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(subscribers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
