using System.Diagnostics;
using StreamingEvents.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// A subscriber that stops consuming (it holds its enumerator and does not ask for the next event) must cost nothing to
/// the publisher and the other subscribers, and get its exact sequence when it resumes — or, past retention, a typed
/// error. The SDK buffers at most <see cref="BufferEvents"/> live events for it, then catches up from storage.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class SlowConsumerTests(ITestOutputHelper output)
{
    private const int BufferEvents = 16;
    private const int Updates = 3_000;

    [Fact]
    public async Task A_stalled_subscriber_slows_neither_the_publisher_nor_another_subscriber_and_resumes_with_the_exact_sequence()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, client: o => o.SubscriptionBufferEvents = BufferEvents);
        using var metrics = new MetricsProbe(cluster.ClientServices);

        // For comparison: the same publisher on an execution nobody subscribes to.
        var baseline = new Publisher(await cluster.Client.StartTaskAsync(ClusterFixture.NewExecution("baseline"), "token", 0), firstValue: 1, window: 64);
        var baselineStarted = Stopwatch.GetTimestamp();
        await baseline.RunAsync(CancellationToken.None, Updates).WaitAsync(TimeSpan.FromSeconds(60));
        var baselineTime = Stopwatch.GetElapsedTime(baselineStarted);

        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution("stalled"));
        var publisher = new Publisher(await streams.StartTaskAsync("token", 0), firstValue: 1, window: 64);

        await using var stalled = streams.SubscribeAsync(StreamPosition.Start).GetAsyncEnumerator();
        Assert.True(await stalled.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, stalled.Current.BrokerSequence);
        await using var reader = new SequenceSubscriber(ct => streams.SubscribeAsync(StreamPosition.Start, cancellationToken: ct), 1, keepArrivals: true);
        await reader.WaitForAsync(1, TimeSpan.FromSeconds(30));

        // The stalled subscriber asks for nothing more while the publisher runs flat out and the reader keeps up.
        var started = Stopwatch.GetTimestamp();
        await publisher.RunAsync(CancellationToken.None, Updates).WaitAsync(TimeSpan.FromSeconds(90));
        var published = Stopwatch.GetElapsedTime(started);
        Assert.Empty(publisher.Failures);
        var head = (long)Updates + 1;
        await reader.WaitForAsync(head, TimeSpan.FromSeconds(30));
        reader.AssertExactThrough(head);
        var lags = publisher.Acks.Select(a => Stopwatch.GetElapsedTime(a.AckedAt, reader.ArrivedAt(a.Sequence)!.Value).TotalMilliseconds).Order().ToList();
        output.WriteLine($"{Updates} updates acknowledged in {published.TotalMilliseconds:F0} ms ({Updates / published.TotalSeconds:F0}/s) with a stalled subscriber " +
            $"(without subscribers: {baselineTime.TotalMilliseconds:F0} ms); " +
            $"the reading subscriber got each {lags[lags.Count / 2]:F0} ms (p50), {lags[^1]:F0} ms (max) after its acknowledgement.");

        // Resumed, the stalled subscriber catches up from storage: its buffer held at most BufferEvents of the 3,000.
        var catchUpsBefore = metrics.Sum("streaming_events.subscription.catch_ups");
        var next = 2L;
        for (var i = 0; i < Updates && next <= head; i++, next++)
        {
            Assert.True(await stalled.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)), "The stalled subscription ended.");
            Assert.Equal(next, stalled.Current.BrokerSequence);
        }

        Assert.Equal(head + 1, next);
        var catchUps = metrics.Sum("streaming_events.subscription.catch_ups") - catchUpsBefore;
        output.WriteLine($"Resumed, the stalled subscriber read storage {catchUps} times and delivered 2..{head} exactly.");
        Assert.True(catchUps >= 1, "The resumed subscriber did not read storage: its buffer held more than SubscriptionBufferEvents.");
        Assert.True(published < TimeSpan.FromSeconds(60), $"Publishing {Updates} updates took {published}.");
    }

    [Fact]
    public async Task A_stalled_subscriber_that_falls_behind_retention_gets_position_expired_when_it_resumes()
    {
        const int MaxEvents = 100;
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend,
            silo: o =>
            {
                o.Retention.MaxEvents = MaxEvents;
                o.MemoryWindowEvents = 8;
            },
            client: o => o.SubscriptionBufferEvents = BufferEvents);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution("expired"));
        var publisher = new Publisher(await streams.StartTaskAsync("token", 0), firstValue: 1, window: 64);

        await using var stalled = streams.SubscribeAsync(StreamPosition.Start).GetAsyncEnumerator();
        Assert.True(await stalled.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        await publisher.RunAsync(CancellationToken.None, 1_000).WaitAsync(TimeSpan.FromSeconds(60));
        var info = await streams.GetStreamInfoAsync();
        Assert.True(info.OldestRetained > BufferEvents + 2, $"Retention kept from {info.OldestRetained}.");

        // What it buffered is delivered in order; then the next event is no longer retained: a typed error, not a gap.
        var delivered = new List<long> { stalled.Current.BrokerSequence };
        var expired = await Assert.ThrowsAsync<StreamPositionExpiredException>(async () =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                if (!await stalled.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)))
                {
                    return;
                }

                delivered.Add(stalled.Current.BrokerSequence);
            }
        });

        Assert.Equal(Enumerable.Range(1, delivered.Count).Select(i => (long)i), delivered);
        Assert.Equal(delivered.Count + 1, expired.Requested);
        Assert.True(expired.OldestAvailable > expired.Requested, $"Oldest available {expired.OldestAvailable}, requested {expired.Requested}.");
        output.WriteLine($"Delivered 1..{delivered.Count} (buffer {BufferEvents}), then {expired.ErrorCode}: requested {expired.Requested}, oldest available {expired.OldestAvailable}.");
    }
}
