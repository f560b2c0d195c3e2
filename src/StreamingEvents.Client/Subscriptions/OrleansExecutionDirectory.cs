using Microsoft.Extensions.Logging;
using Orleans.Streams;
using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>The execution registry grain, the announcement stream, and per-execution sources, through Orleans.</summary>
internal sealed class OrleansExecutionDirectory(IClusterClient cluster, string streamProvider, ILogger logger) : IExecutionDirectory
{
    public Task<DiscoveryPage> DiscoverAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken) =>
        cluster.GetGrain<IExecutionRegistryGrain>(0).DiscoverAsync(query, after, limit).WaitAsync(cancellationToken);

    public async Task<IAsyncDisposable> SubscribeCreatedAsync(string @namespace, Func<ExecutionSummary, Task> onCreated, CancellationToken cancellationToken)
    {
        var stream = cluster.GetStreamProvider(streamProvider)
            .GetStream<ExecutionSummary>(StreamId.Create(StreamingEventsNames.ExecutionsNamespace, @namespace));
        var handle = await stream.SubscribeAsync((execution, _) => onCreated(execution)).WaitAsync(cancellationToken);
        return new OrleansSubscription<ExecutionSummary>(handle, @namespace, logger);
    }

    public IExecutionEventSource Source(ExecutionSummary execution) =>
        new OrleansEventSource(cluster, execution.Execution, streamProvider, logger);
}
