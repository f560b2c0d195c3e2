using System.Diagnostics;
using Npgsql;
using StreamingEvents.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// Publishers that outrun storage. PostgreSQL is slowed by a trigger that sleeps in every insert of events (a fixed cost
/// per commit plus a cost per event, like a slow disk), and publishers issue updates as fast as they can without waiting
/// for acknowledgements. The excess must wait before the silo — in the SDK — and memory must stay bounded.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class BackpressureTests(ITestOutputHelper output)
{
    private const int Publishers = 4;
    private const int UpdatesPerPublisher = 8_000;

    [Fact]
    public async Task Publishers_outrunning_slow_storage_are_all_acknowledged_and_the_silo_queues_only_a_bounded_backlog()
    {
        await using var backend = await PostgresBackend.StartAsync();
        await using var cluster = await FaultCluster.StartAsync(backend);
        await SlowDownEventInsertsAsync(backend.ConnectionString);
        using var silo = new MetricsProbe(cluster.SiloServices);
        var handles = new List<TaskHandle<int>>();
        for (var i = 0; i < Publishers; i++)
        {
            handles.Add(await cluster.Client.StartTaskAsync(ClusterFixture.NewExecution("backpressure"), "token", 0));
        }

        // As fast as possible: every update issued at once, none awaited until all are issued.
        var started = Stopwatch.GetTimestamp();
        var updates = handles.Select(h => Enumerable.Range(1, UpdatesPerPublisher).Select(v => h.UpdateStateAsync(v)).ToList()).ToList();
        var issued = Stopwatch.GetElapsedTime(started);
        await Task.WhenAll(updates.SelectMany(u => u)).WaitAsync(TimeSpan.FromSeconds(120));
        var total = Stopwatch.GetElapsedTime(started);

        foreach (var (handle, pending) in handles.Zip(updates))
        {
            var sequences = await Task.WhenAll(pending);
            var (head, stored) = await StoredEvents.ReadFromPostgresAsync(backend.ConnectionString, handle.Execution);
            StoredEvents.AssertContiguousFromOne(stored, head);
            StoredEvents.AssertAcknowledgedAreStored(stored, sequences.Select((s, i) => new Ack(s, i + 1, 0, 0)), handle.Execution.WorkflowExecId);
        }

        // Time from an append reaching its stream grain to its acknowledgement: the silo-side queue, seen from outside.
        var siloQueueing = TimeSpan.FromSeconds(silo.Max("streaming_events.publish.duration"));
        var commits = silo.Count("streaming_events.storage.commit.size");
        output.WriteLine($"{Publishers} x {UpdatesPerPublisher} updates issued in {issued.TotalMilliseconds:F0} ms, all acknowledged after {total.TotalMilliseconds:F0} ms " +
            $"({Publishers * UpdatesPerPublisher / total.TotalSeconds:F0}/s) in {commits} commits (largest {silo.Max("streaming_events.storage.commit.size"):F0} events, " +
            $"slowest {silo.Max("streaming_events.storage.commit.duration") * 1000:F0} ms); longest wait in the silo {siloQueueing.TotalMilliseconds:F0} ms.");
        Assert.True(total > TimeSpan.FromSeconds(1), $"Storage was not slow enough to be outrun ({total}).");
        Assert.True(siloQueueing < total / 2 && siloQueueing < TimeSpan.FromSeconds(10),
            $"An append waited {siloQueueing} in the silo while the whole run took {total}: the backlog queued in the silo, not before it.");
    }

    [Fact]
    public async Task A_publisher_that_issues_updates_without_awaiting_holds_only_max_pending_updates_in_memory()
    {
        const int MaxPending = 256;
        const int Updates = 5_000;
        await using var backend = await PostgresBackend.StartAsync();

        // A fire-and-forget publisher chooses not to wait for room: waiting calls would each hold their state.
        await using var cluster = await FaultCluster.StartAsync(backend, client: o =>
        {
            o.MaxPendingUpdates = MaxPending;
            o.PendingUpdatesFullMode = PendingUpdatesFullMode.Throw;
        });
        await SlowDownEventInsertsAsync(backend.ConnectionString);
        var handle = await cluster.Client.StartTaskAsync(ClusterFixture.NewExecution("unawaited"), "token", new Chunk(0, string.Empty));

        // Each state is a fresh 1 KiB object: while the SDK (or anything it awaits) holds an update, its state is alive.
        var states = new List<WeakReference>(Updates);
        var updates = new List<Task<long>>(Updates);
        var text = new string('x', 1024);
        for (var i = 1; i <= Updates; i++)
        {
            var state = new Chunk(i, text + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            states.Add(new WeakReference(state));
            updates.Add(handle.UpdateStateAsync(state));
        }

        var acknowledged = updates.Count(u => u.IsCompletedSuccessfully);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var alive = states.Count(s => s.IsAlive);
        await Task.WhenAll(updates.Select(u => u.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(120));
        var refused = updates.Where(u => u.IsFaulted).Select(u => u.Exception!.InnerException).ToList();
        var sequences = updates.Where(u => u.IsCompletedSuccessfully).Select(u => u.Result).ToList();
        output.WriteLine($"MaxPendingUpdates {MaxPending}: after issuing {Updates} updates ({acknowledged} acknowledged by then), {alive} of their states " +
            $"were still held in memory; {sequences.Count} acknowledged, {refused.Count} refused.");

        Assert.True(alive <= MaxPending * 2, $"{alive} updates were held in memory at once, more than MaxPendingUpdates = {MaxPending} (x2 for what is in flight).");
        Assert.All(refused, error => Assert.IsType<PendingUpdatesFullException>(error));
        Assert.InRange(sequences.Count, MaxPending, Updates - 1);

        // The admitted updates were published in call order with contiguous numbers; the refused ones took none.
        Assert.Equal(Enumerable.Range(2, sequences.Count).Select(n => (long)n), sequences);
    }

    /// <summary>Every statement inserting events sleeps 5 ms plus 0.1 ms per event: storage commits become the bottleneck.</summary>
    private static async Task SlowDownEventInsertsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            CREATE FUNCTION se_test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_sleep(0.005 + 0.0001 * (SELECT count(*) FROM inserted));
                RETURN NULL;
            END $$;
            CREATE TRIGGER se_test_slow_insert AFTER INSERT ON se_events REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION se_test_slow_insert();
            """, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed record Chunk(int Value, string Text);
}
