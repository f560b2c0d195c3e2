using Microsoft.Extensions.Logging;
using Orleans.Streams;
using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>One execution's stream through Orleans: the stream grain for pages and head, an Orleans stream for the push.</summary>
internal sealed partial class OrleansEventSource(IClusterClient cluster, ExecutionId execution, string streamProvider, ILogger logger) : IExecutionEventSource
{
    private readonly IExecutionStreamGrain _grain = cluster.GetGrain<IExecutionStreamGrain>(execution.Key);

    public Task<EventPage> ReadAsync(long fromSequence, int maxEvents, string? topic, CancellationToken cancellationToken) =>
        _grain.ReadAsync(new ReadRequest(fromSequence, maxEvents, topic), cancellationToken).WaitAsync(cancellationToken);

    public async Task<long> GetHeadAsync(CancellationToken cancellationToken) =>
        (await _grain.GetInfoAsync().WaitAsync(cancellationToken)).Head;

    public async Task<IAsyncDisposable> SubscribeLiveAsync(Func<StreamEventBatch, Task> onBatch, CancellationToken cancellationToken)
    {
        var stream = cluster.GetStreamProvider(streamProvider)
            .GetStream<StreamEventBatch>(StreamId.Create(StreamingEventsNames.StreamNamespace, execution.Key));
        StreamSubscriptionHandle<StreamEventBatch> handle;
        try
        {
            handle = await stream.SubscribeAsync((batch, _) => onBatch(batch)).WaitAsync(cancellationToken);
        }
        catch (OrleansException exception) when (exception is not OrleansMessageRejectionException)
        {
            // The subscription registry is kept in grain storage: while storage is down, registering fails like a read does.
            throw new StorageUnavailableException($"The live subscription to '{execution.Key}' could not be registered: {exception.Message}", exception);
        }

        return new OrleansSubscription<StreamEventBatch>(handle, execution.Key, logger);
    }
}
