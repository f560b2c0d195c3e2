using Orleans.Configuration;
using StreamingEvents.Contracts;
using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// Reads of a stream grain interleaved with other calls at chosen points (the event log's hooks): what a concurrent
/// call, a retention trim or a caller giving up does to a read in progress.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class StreamReadTests
{
    [Fact]
    public async Task A_replay_read_whose_caller_gave_up_while_it_waited_for_a_slot_never_reaches_storage()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, silo: o =>
        {
            o.MaxConcurrentReplayReads = 1;
            o.MemoryWindowEvents = 0;
        }, configureSilo: HookedEventLog.Install,
        // The canceled call below ends only once the stream grain has seen the cancellation, not at once on the client.
        configureClient: client => client.Configure<ClientMessagingOptions>(o => o.WaitForCancellationAcknowledgement = true));
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());
        await using (var task = await streams.StartTaskAsync("token", 0))
        {
            await task.UpdateStateAsync(1);
        }

        // The one slot is taken by a read that storage holds. (Reads of a single event are the maintenance timer's.)
        var replayReads = 0;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.BeforeReadEvents = async (_, from, to) =>
        {
            if (to > from && Interlocked.Increment(ref replayReads) == 1)
            {
                entered.TrySetResult();
                await release.Task;
            }
        };
        var holding = cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1));
        await entered.Task.Within();

        // The grain itself, not the SDK, whose read returns as soon as its token is canceled.
        using var giveUp = new CancellationTokenSource();
        var abandoned = cluster.Orleans.GetGrain<IExecutionStreamGrain>(streams.Execution.Key).ReadAsync(new ReadRequest(1, 100, null), giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        release.SetResult();
        Assert.Equal(3, (await holding.Within()).Events.Length);

        // Calls to a grain start in the order they arrive: had the abandoned read run, it would have run before this one.
        Assert.Equal(3, (await cluster.Client.ReadAsync(streams.Execution, StreamPosition.FromSequence(1)).Within()).Events.Length);
        Assert.Equal(2, Volatile.Read(ref replayReads));
    }
}
