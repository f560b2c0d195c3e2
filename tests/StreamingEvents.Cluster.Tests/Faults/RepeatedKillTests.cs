using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using StreamingEvents.Testing;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.Cluster.Tests.Faults;

/// <summary>
/// Trial after trial, kill -9 the silo hosting a random busy stream at a random moment, start a replacement, and check
/// the whole promise after each trial. <c>STREAMING_EVENTS_FAULT_TRIALS</c> sets the number of trials (default 3; e.g.
/// 50 for the long run), <c>STREAMING_EVENTS_FAULT_SEED</c> replays a run.
/// </summary>
public sealed class RepeatedKillTests(ITestOutputHelper output)
{
    private const int Executions = 4;
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Repeated_kill_9_of_the_silo_hosting_a_random_stream_stores_every_publish_exactly_once_and_reuses_no_number()
    {
        var trials = Setting("STREAMING_EVENTS_FAULT_TRIALS", 3);
        var seed = Setting("STREAMING_EVENTS_FAULT_SEED", Random.Shared.Next(1, 1_000_000));
        output.WriteLine($"{trials} trials, seed {seed} (STREAMING_EVENTS_FAULT_TRIALS, STREAMING_EVENTS_FAULT_SEED).");
        await using var cluster = await ProcessCluster.StartAsync(silos: 3);
        try
        {
            await RunAsync(cluster, trials, new Random(seed));
        }
        catch
        {
            output.WriteLine(cluster.Diagnostics);
            throw;
        }
        finally
        {
            output.WriteLine(await FaultDiagnostics.DescribeAsync(cluster));
        }
    }

    private async Task RunAsync(ProcessCluster cluster, int trials, Random random)
    {
        var client = cluster.Client;
        var publishers = new List<Publisher>();
        for (var i = 0; i < Executions; i++)
        {
            var context = new WorkflowContext(WorkflowExecId: $"kill-{i}-{Guid.NewGuid():N}", WorkflowName: "repeated-kill");
            publishers.Add(new Publisher(await client.StartTaskAsync(context, "counter", 0), firstValue: 1, window: 4));
        }

        // Subscribers start before the first trial and stay across all of them.
        var subscribers = publishers.Select(p => new SequenceSubscriber(ct => client.SubscribeAsync(p.Execution, StreamPosition.Start, cancellationToken: ct), 1, keepArrivals: true)).ToList();
        using var stop = new CancellationTokenSource();
        var publishing = publishers.Select(p => p.RunAsync(stop.Token)).ToList();
        var recoveries = new List<(TimeSpan Ack, TimeSpan Delivery)>();
        var killed = new HashSet<ProcessHost>();
        try
        {
            await Task.WhenAll(publishers.Select(p => p.WaitForAcksAsync(50)));
            for (var trial = 1; trial <= trials; trial++)
            {
                // A random stream, killed at a random moment: after a random number of further acknowledgements of it.
                var victim = publishers[random.Next(publishers.Count)];
                var wait = random.Next(1, 150);
                var target = victim.Acks.Count + wait;
                await victim.WaitForAcksAsync(target, RecoveryBound);
                var silo = await cluster.HostOfAsync(victim.Execution).WaitAsync(RecoveryBound);
                var headAtKill = victim.Acks.Max(a => a.Sequence);
                silo.Kill();
                killed.Add(silo);
                var killedAt = Stopwatch.GetTimestamp();
                var failuresBefore = publishers.Sum(p => p.Failures.Count);

                // A replacement joins while the cluster notices the death; publishing goes on throughout.
                var replacement = cluster.StartSiloAsync($"silo-r{trial}");
                await victim.WaitForAsync(p => p.AcksStartedAfter(killedAt) >= 1, RecoveryBound, "acknowledged after the kill");
                var firstAfter = victim.Acks.Where(a => a.StartedAt > killedAt).MinBy(a => a.AckedAt);
                var subscriber = subscribers[publishers.IndexOf(victim)];
                await subscriber.WaitForAsync(firstAfter.Sequence, RecoveryBound);
                var recovery = (Ack: Stopwatch.GetElapsedTime(killedAt, firstAfter.AckedAt), Delivery: Stopwatch.GetElapsedTime(killedAt, subscriber.ArrivedAt(firstAfter.Sequence)!.Value));
                recoveries.Add(recovery);
                await replacement.WaitAsync(RecoveryBound);
                var newHost = await cluster.HostOfAsync(victim.Execution).WaitAsync(RecoveryBound);
                Assert.NotSame(silo, newHost);

                // Every stream goes on after the trial.
                var counts = publishers.Select(p => p.Acks.Count).ToList();
                await Task.WhenAll(publishers.Select((p, i) => p.WaitForAcksAsync(counts[i] + 20, RecoveryBound)));
                await VerifyAsync(cluster.ConnectionString, publishers, subscribers, $"trial {trial}");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Trial {trial}: killed {silo.Name} (pid {silo.Id}) hosting {victim.Execution.WorkflowExecId[..10]} after {wait} more acks (its last ack #{headAtKill}); " +
                    $"first ack after the kill in {recovery.Ack.TotalMilliseconds:F0} ms (#{firstAfter.Sequence}), delivered to its subscriber in " +
                    $"{recovery.Delivery.TotalMilliseconds:F0} ms; now on {newHost.Name}; {publishers.Sum(p => p.Failures.Count) - failuresBefore} publishes failed in the trial."));
            }

            await stop.CancelAsync();
            await Task.WhenAll(publishing).WaitAsync(TimeSpan.FromSeconds(60));

            // Each task ends, after sending again whatever stayed unresolved: then every publish is stored exactly once.
            foreach (var publisher in publishers)
            {
                await publisher.Handle.DisposeAsync().AsTask().WaitAsync(RecoveryBound);
            }

            await VerifyAsync(cluster.ConnectionString, publishers, subscribers, "the end");
            foreach (var publisher in publishers)
            {
                var (_, stored) = await StoredEvents.ReadFromPostgresAsync(cluster.ConnectionString, publisher.Execution);
                StoredEvents.AssertEveryPublishStoredOnce(stored, publisher);
            }

            Report(publishers, recoveries, trials);
            await ReportStoredAsync(client, publishers);

            // Failure detection is fast, but never at a live silo's expense: a silo declared dead stops itself, so every
            // silo this test did not kill must still be running.
            var falselyDeclared = cluster.SilosByPort.Values.Where(s => !killed.Contains(s) && s.HasExited).Select(s => s.Name).ToList();
            Assert.True(falselyDeclared.Count == 0, $"Silos that were not killed stopped (declared dead by mistake?): {string.Join(", ", falselyDeclared)}.");

            // Checked last, so that every trial's durability checks ran: what publishers saw when their update failed.
            var unexpected = publishers.SelectMany(p => p.Failures).Where(f => !IsRetriable(f.Exception)).ToList();
            Assert.True(unexpected.Count == 0, $"{unexpected.Count} publishes failed with errors a publisher cannot tell are retriable: {Publisher.Describe(unexpected)}; " +
                $"first: {unexpected.FirstOrDefault().Exception?.Message}");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var subscriber in subscribers)
            {
                await subscriber.DisposeAsync();
            }
        }
    }

    private void Report(List<Publisher> publishers, List<(TimeSpan Ack, TimeSpan Delivery)> recoveries, int trials)
    {
        var acks = recoveries.Select(r => r.Ack.TotalMilliseconds).Order().ToList();
        var deliveries = recoveries.Select(r => r.Delivery.TotalMilliseconds).Order().ToList();
        output.WriteLine($"{trials} trials. Kill to first acknowledgement: min {acks[0]:F0} ms, median {acks[acks.Count / 2]:F0} ms, max {acks[^1]:F0} ms; " +
            $"kill to its delivery: min {deliveries[0]:F0} ms, median {deliveries[deliveries.Count / 2]:F0} ms, max {deliveries[^1]:F0} ms. " +
            $"Failed publishes: {Publisher.Describe(publishers.SelectMany(p => p.Failures))}.");
    }

    private async Task ReportStoredAsync(IStreamingEventsClient client, List<Publisher> publishers)
    {
        foreach (var publisher in publishers)
        {
            var stored = await StoredEvents.ReadAllAsync(client, publisher.Execution);
            output.WriteLine($"{publisher.Execution.WorkflowExecId[..10]}: head {stored.Count}, {publisher.Acks.Count} acknowledged, {publisher.Failures.Count} failed visibly " +
                $"({StoredEvents.CountStoredFailures(stored, publisher.Failures)} of them stored, once, by the handle's later attempts) — {Publisher.Describe(publisher.Failures)}.");
        }
    }

    /// <summary>
    /// Straight from the tables: every acknowledged (sequence, value) is stored under its number, the stored events are
    /// exactly 1..head, no value is stored twice (publishers retry every unknown outcome: a value stored twice would be a
    /// retry stored again); each subscriber delivered exactly 1..head.
    /// </summary>
    private static async Task VerifyAsync(string connectionString, List<Publisher> publishers, List<SequenceSubscriber> subscribers, string when)
    {
        foreach (var (publisher, subscriber) in publishers.Zip(subscribers))
        {
            var acks = publisher.Acks.ToList();
            var (head, stored) = await StoredEvents.ReadFromPostgresAsync(connectionString, publisher.Execution);
            StoredEvents.AssertContiguousFromOne(stored, head);
            StoredEvents.AssertAcknowledgedAreStored(stored, acks, $"{publisher.Execution.WorkflowExecId} at {when}");
            StoredEvents.AssertNoValueStoredTwice(stored);
            await subscriber.WaitForAsync(head, RecoveryBound);
            subscriber.AssertExactThrough(head);
        }
    }

    private static bool IsRetriable(Exception exception) =>
        exception is StreamingEventsException { IsTransient: true } or TimeoutException or Orleans.Runtime.OrleansMessageRejectionException
            or Orleans.Runtime.SiloUnavailableException;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
