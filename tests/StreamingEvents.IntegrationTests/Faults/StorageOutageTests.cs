using System.Diagnostics;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// PostgreSQL stopped and started again under publishers and subscribers. Publishers retry every unknown outcome (the
/// SDK does, within a short budget here so that callers see it); afterwards every publish is stored exactly once.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class StorageOutageTests(ITestOutputHelper output)
{
    private const int Executions = 2;

    [Fact]
    public async Task Publishers_retry_while_postgres_is_down_and_every_publish_is_stored_exactly_once_after_it_returns()
    {
        await using var backend = await PostgresBackend.StartAsync();
        // A small memory window: a subscriber that starts from the beginning must read storage. A short retry budget: the
        // outage outlasts it, so callers learn that outcomes are unknown (and the handles send those again later).
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o => o.MemoryWindowEvents = 8, client: o => o.PublishRetryBudget = TimeSpan.FromSeconds(1));
        var client = cluster.Client;
        var publishers = new List<Publisher>();
        for (var i = 0; i < Executions; i++)
        {
            var task = await client.StartTaskAsync(ClusterFixture.NewExecution("outage"), "counter", 0);
            publishers.Add(new Publisher(task, firstValue: 1) { RetryPause = TimeSpan.FromMilliseconds(50) });
        }

        var subscribers = publishers.Select(p => new SequenceSubscriber(ct => client.SubscribeAsync(p.Execution, StreamPosition.Start, cancellationToken: ct), 1)).ToList();
        using var stop = new CancellationTokenSource();
        var publishing = publishers.Select(p => p.RunAsync(stop.Token)).ToList();
        SequenceSubscriber? late = null;
        try
        {
            await Task.WhenAll(publishers.Select(p => p.WaitForAcksAsync(30)));

            await backend.Server.StopAsync();
            var stoppedAt = Stopwatch.GetTimestamp();
            var headsWhileDown = new List<long>();
            foreach (var publisher in publishers)
            {
                headsWhileDown.Add((await client.GetStreamInfoAsync(publisher.Execution)).Head);
            }

            // While it is down, every publisher keeps trying and sees its updates fail, visibly and with a retriable error.
            await Task.WhenAll(publishers.Select(p => p.WaitForAsync(x => x.FailuresStartedAfter(stoppedAt) >= 3, TimeSpan.FromSeconds(60), "failing while storage is down")));

            // What /health (readiness) would report meanwhile; publishers and subscribers above do not depend on it.
            var probe = await Record.ExceptionAsync(() => cluster.Orleans.GetGrain<IHealthProbeGrain>(0).PingAsync());
            output.WriteLine($"Readiness probe while PostgreSQL is down: {probe?.GetType().Name}: {probe?.Message}");
            Assert.NotNull(probe);

            // A subscriber that starts now, from the beginning, needs storage: it must wait, not fail.
            late = new SequenceSubscriber(ct => client.SubscribeAsync(publishers[0].Execution, StreamPosition.FromSequence(1), cancellationToken: ct), 1);
            await Task.WhenAll(publishers.Select(p => p.WaitForAsync(x => x.FailuresStartedAfter(stoppedAt) >= 5, TimeSpan.FromSeconds(60), "failing while storage is down")));
            var restartAt = Stopwatch.GetTimestamp();
            foreach (var publisher in publishers)
            {
                Assert.Equal(0, publisher.Acks.Count(a => a.StartedAt > stoppedAt && a.AckedAt < restartAt));
            }

            // Subscribers pause: they are still subscribed and have seen nothing above the head at the stop.
            foreach (var (subscriber, head) in subscribers.Zip(headsWhileDown))
            {
                Assert.Null(subscriber.Failure);
                Assert.True(subscriber.Last <= head, $"A subscriber saw {subscriber.Last} while the head was {head}.");
            }

            await backend.Server.StartServerAsync();
            var startedAt = Stopwatch.GetTimestamp();
            await Task.WhenAll(publishers.Select(p => p.WaitForAsync(x => x.AcksStartedAfter(startedAt) >= 20, TimeSpan.FromSeconds(60), "publishing again after the restart")));
            var recovered = publishers.Select(p => Stopwatch.GetElapsedTime(startedAt, p.Acks.Where(a => a.StartedAt > startedAt).Min(a => a.AckedAt))).ToList();
            await stop.CancelAsync();
            await Task.WhenAll(publishing).WaitAsync(TimeSpan.FromSeconds(60));

            // Ending each task sends again, first, whatever stayed unresolved.
            foreach (var publisher in publishers)
            {
                await publisher.Handle.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            }

            var outage = publishers.SelectMany(p => p.Failures).Where(f => f.StartedAt > stoppedAt && f.StartedAt < restartAt).ToList();
            var afterRestart = publishers.SelectMany(p => p.Failures).Where(f => f.StartedAt >= restartAt).ToList();
            output.WriteLine($"Failures while PostgreSQL was down: {Publisher.Describe(outage)}.");
            output.WriteLine($"Failures after the restart began: {Publisher.Describe(afterRestart)}.");
            output.WriteLine($"Server start to the first acknowledgement: {string.Join(", ", recovered.Select(r => $"{r.TotalMilliseconds:F0} ms"))}.");

            foreach (var (publisher, subscriber) in publishers.Zip(subscribers))
            {
                var head = (await client.GetStreamInfoAsync(publisher.Execution)).Head;
                var stored = await StoredEvents.ReadAllAsync(client, publisher.Execution);
                StoredEvents.AssertContiguousFromOne(stored, head);
                StoredEvents.AssertAcknowledgedAreStored(stored, publisher.Acks, publisher.Execution.WorkflowExecId);
                StoredEvents.AssertNoValueStoredTwice(stored);
                StoredEvents.AssertEveryPublishStoredOnce(stored, publisher);
                await subscriber.WaitForAsync(head, TimeSpan.FromSeconds(30));
                subscriber.AssertExactThrough(head);
                output.WriteLine($"{publisher.Execution.WorkflowExecId}: head {head}, {publisher.Acks.Count} acknowledged, {publisher.Failures.Count} failed " +
                    $"({StoredEvents.CountStoredFailures(stored, publisher.Failures)} of them stored, once, by their handle's later attempts).");
            }

            await cluster.Orleans.GetGrain<IHealthProbeGrain>(0).PingAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(cluster.Log.Entries, e => e.EventId == EventIds.FlushFailed);

            // Checked last, so that the durability checks above report first: what callers saw during the outage.
            var violations = new List<string>();
            var lateHead = (await client.GetStreamInfoAsync(publishers[0].Execution)).Head;
            var lateOutcome = await Record.ExceptionAsync(() => late.WaitForAsync(lateHead, TimeSpan.FromSeconds(30)));
            if (lateOutcome is not null || late.Anomaly is not null)
            {
                violations.Add($"The subscriber started from 1 during the outage did not wait for storage: it reached {late.Last}, anomaly '{late.Anomaly}', " +
                    $"failure {late.Failure?.GetType().Name}: {late.Failure?.Message}");
            }

            violations.AddRange(outage.Where(f => f.Exception is not (PublishOutcomeUnknownException or PublishNotSentException))
                .GroupBy(f => f.Exception.GetType().Name)
                .Select(g => $"{g.Count()} publishes failed with {g.Key}, not PublishOutcomeUnknownException or PublishNotSentException: {g.First().Exception.Message}"));
            Assert.True(violations.Count == 0, string.Join("\n", violations));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var subscriber in late is null ? subscribers : [.. subscribers, late])
            {
                await subscriber.DisposeAsync();
            }

            output.WriteLine(string.Join("\n", cluster.Log.Entries.GroupBy(e => e.EventId).Select(g => $"silo log event {g.Key} x{g.Count()}: {g.First().Message}")));
        }
    }
}
