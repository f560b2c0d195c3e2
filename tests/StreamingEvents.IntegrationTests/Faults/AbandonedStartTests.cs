using StreamingEvents.IntegrationTests.Infrastructure;
using StreamingEvents.Testing;

namespace StreamingEvents.IntegrationTests.Faults;

/// <summary>
/// A caller that stops waiting for <c>StartTaskAsync</c> after the start was sent gets no handle, yet the start may be
/// stored: the SDK then ends the task itself, as canceled, instead of leaving it open until the inactivity timeout.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class AbandonedStartTests
{
    [Fact]
    public async Task A_start_whose_caller_gave_up_after_sending_it_ends_canceled_at_once()
    {
        await using var backend = new SqliteBackend();
        await using var cluster = await FaultCluster.StartAsync(backend, configureSilo: HookedEventLog.Install);
        var storage = HookedEventLog.Of(cluster.SiloServices);
        var streams = cluster.Client.ForExecution(ClusterFixture.NewExecution());

        // The start's commit is held until the caller has given up.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.BeforeAppend = async _ =>
        {
            entered.TrySetResult();
            await release.Task;
        };
        using var giveUp = new CancellationTokenSource();
        var starting = streams.StartTaskAsync("token", "", cancellationToken: giveUp.Token);
        await entered.Task.Within();
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starting).Within();
        storage.BeforeAppend = null;
        release.SetResult();

        // The start was stored, and so is the task's end: canceled, not open for half an hour.
        var events = await cluster.Client.SubscribeAsync(streams.Execution, StreamPosition.Start).TakeAsync(2).Within();
        Assert.Equal([EventType.CustomTaskStarted, EventType.CustomTaskCanceled], events.Select(e => e.EventType));
        Assert.Equal(events[0].TaskId, events[1].TaskId);
    }
}
