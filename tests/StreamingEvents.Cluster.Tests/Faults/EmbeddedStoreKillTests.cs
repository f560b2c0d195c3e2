using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamingEvents.Testing;
using Xunit.Abstractions;
using StreamingEvents.Testing.Faults;

namespace StreamingEvents.Cluster.Tests.Faults;

/// <summary>
/// The single-process deployment: one <c>StreamingEvents.Silo run</c> on its SQLite file, publishers and subscribers in
/// another process (this one). kill -9 mid-stream, start it again on the same file: every acknowledged event is there
/// and numbering continues. The client is never restarted: with localhost clustering its one gateway is static, and
/// every call after the kill tries that gateway again (Orleans resets a client's gateways to live when all are marked
/// dead, and retries a failed connection after <c>ConnectionRetryDelay</c>), so it reconnects as soon as the silo listens.
/// </summary>
public sealed class EmbeddedStoreKillTests(ITestOutputHelper output)
{
    private const int Executions = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Kill_9_of_the_single_silo_on_its_embedded_store_loses_no_acknowledged_event_and_numbering_continues_after_restart()
    {
        var directory = Directory.CreateTempSubdirectory("se-embedded-kill-");
        var siloPort = FreePort.Next();
        var gatewayPort = FreePort.Next();
        string[] arguments =
        [
            "run",
            $"--StreamingEvents:Sqlite:Path={Path.Combine(directory.FullName, "events.db")}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
        ];
        var silo = ProcessHost.Start("embedded", "StreamingEvents.Silo", arguments);
        ProcessHost? restarted = null;
        IHost? host = null;
        try
        {
            await silo.WaitForOutputAsync("Application started", Bound);
            host = await ConnectAsync(gatewayPort);
            var client = host.Services.GetRequiredService<IStreamingEventsClient>();
            await RunAsync(client, () =>
            {
                silo.Kill();
                restarted = ProcessHost.Start("embedded-again", "StreamingEvents.Silo", arguments);
                return restarted.WaitForOutputAsync("Application started", Bound);
            });
        }
        catch
        {
            output.WriteLine($"===== first run\n{silo.Output}\n===== after the kill\n{restarted?.Output}");
            throw;
        }
        finally
        {
            if (host is not null)
            {
                await host.StopAsync(TimeSpan.FromSeconds(10));
                host.Dispose();
            }

            await silo.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    private async Task RunAsync(IStreamingEventsClient client, Func<Task> killAndRestart)
    {
        var publishers = new List<Publisher>();
        for (var i = 0; i < Executions; i++)
        {
            var context = new WorkflowContext(WorkflowExecId: $"embedded-{i}-{Guid.NewGuid():N}", WorkflowName: "embedded-kill");
            publishers.Add(new Publisher(await client.StartTaskAsync(context, "counter", 0), firstValue: 1, window: 4) { RetryPause = TimeSpan.FromMilliseconds(100) });
        }

        var subscribers = publishers.Select(p => new SequenceSubscriber(ct => client.SubscribeAsync(p.Execution, StreamPosition.Start, cancellationToken: ct), 1)).ToList();
        using var stop = new CancellationTokenSource();
        var publishing = publishers.Select(p => p.RunAsync(stop.Token)).ToList();
        try
        {
            // Mid-stream: after a random number of acknowledgements.
            var before = Random.Shared.Next(50, 300);
            await Task.WhenAll(publishers.Select(p => p.WaitForAcksAsync(before, Bound)));
            var killedAt = Stopwatch.GetTimestamp();
            await killAndRestart();
            var listening = Stopwatch.GetTimestamp();
            var lastBeforeKill = publishers.Select(p => p.Acks.Where(a => a.AckedAt < killedAt).Max(a => a.Sequence)).ToList();

            await Task.WhenAll(publishers.Select(p => p.WaitForAsync(x => x.AcksStartedAfter(listening) >= 50, Bound, "publishing again after the restart")));
            var firstAcks = publishers.Select(p => p.Acks.Where(a => a.StartedAt > killedAt).Min(a => a.AckedAt)).ToList();
            await stop.CancelAsync();
            await Task.WhenAll(publishing).WaitAsync(Bound);

            output.WriteLine($"Killed after {before} acknowledgements per stream; the silo was up again {Stopwatch.GetElapsedTime(killedAt, listening).TotalMilliseconds:F0} ms " +
                $"after the kill; first acknowledgement after the kill: {string.Join(", ", firstAcks.Select(a => $"{Stopwatch.GetElapsedTime(killedAt, a).TotalMilliseconds:F0} ms"))} " +
                $"({string.Join(", ", firstAcks.Select(a => $"{Stopwatch.GetElapsedTime(listening, a).TotalMilliseconds:F0} ms"))} after it listened).");
            foreach (var ((publisher, subscriber), lastBefore) in publishers.Zip(subscribers).Zip(lastBeforeKill))
            {
                var stored = await StoredEvents.ReadAllAsync(client, publisher.Execution);
                StoredEvents.AssertContiguousFromOne(stored, stored.Count);
                StoredEvents.AssertAcknowledgedAreStored(stored, publisher.Acks, publisher.Execution.WorkflowExecId);
                StoredEvents.AssertNoValueStoredTwice(stored);
                var after = publisher.Acks.Where(a => a.StartedAt > killedAt).Min(a => a.Sequence);
                Assert.True(after > lastBefore, $"After the restart numbering restarted at {after}, at or below {lastBefore} acknowledged before the kill.");
                await subscriber.WaitForAsync(stored.Count, Bound);
                subscriber.AssertExactThrough(stored.Count);
                output.WriteLine($"{publisher.Execution.WorkflowExecId[..12]}: last acknowledged before the kill #{lastBefore}, first after #{after}, head {stored.Count}; " +
                    $"{publisher.Acks.Count} acknowledged, {publisher.Failures.Count} failed visibly ({StoredEvents.CountStoredFailures(stored, publisher.Failures)} stored anyway) " +
                    $"— {Publisher.Describe(publisher.Failures)}.");
            }
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

    private static async Task<IHost> ConnectAsync(int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // No connection string: localhost clustering, the gateway on this port.
            ["Orleans:GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:Messaging:ResponseTimeout"] = "00:00:05",
            ["StreamingEvents:Client:IdleProbeInterval"] = "00:00:01",
        });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseStreamingEventsDefaults(builder.Configuration));
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return host;
    }
}
