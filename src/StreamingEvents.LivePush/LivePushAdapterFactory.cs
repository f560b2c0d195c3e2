using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Streams;

namespace StreamingEvents.LivePush;

/// <summary>
/// The live push's queue adapter. A silo keeps its queues in memory and pulls all of them itself (see
/// <see cref="EveryQueueBalancer"/>): what a grain on this silo publishes is taken by this silo's agents, with no grain
/// call, no serialization and no polling on the way. Clients only subscribe; publishing from a client is refused.
/// </summary>
internal sealed class LivePushAdapterFactory : IQueueAdapterFactory, IQueueAdapter, IQueueAdapterCache
{
    private readonly LivePushOptions _options;
    private readonly bool _canProduce;
    private readonly TimeProvider _time;
    private readonly HashRingBasedStreamQueueMapper _mapper;
    private readonly IStreamFailureHandler _failureHandler = new NoOpStreamDeliveryFailureHandler();
    private readonly ConcurrentDictionary<QueueId, LivePushQueue> _queues = new();

    public LivePushAdapterFactory(string name, LivePushOptions options, bool canProduce, TimeProvider time)
    {
        Name = name;
        _options = options;
        _canProduce = canProduce;
        _time = time;
        _mapper = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = options.QueueCount }, name);
    }

    public string Name { get; }

    /// <summary>Subscribers never rewind the push: history comes from storage.</summary>
    public bool IsRewindable => false;

    public StreamProviderDirection Direction => _canProduce ? StreamProviderDirection.ReadWrite : StreamProviderDirection.ReadOnly;

    /// <summary>Batches dropped because a queue was full, over all queues of this silo.</summary>
    public long Dropped => _queues.Values.Sum(q => q.Dropped);

    public static LivePushAdapterFactory CreateForSilo(IServiceProvider services, string name) =>
        new(name, services.GetRequiredService<IOptionsMonitor<LivePushOptions>>().Get(name), canProduce: true, services.GetService<TimeProvider>() ?? TimeProvider.System);

    public static LivePushAdapterFactory CreateForClient(IServiceProvider services, string name) =>
        new(name, services.GetRequiredService<IOptionsMonitor<LivePushOptions>>().Get(name), canProduce: false, TimeProvider.System);

#pragma warning disable CS0618 // The legacy overload is part of the interface.
    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);
#pragma warning restore CS0618

    public Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) => Task.FromResult<IQueueAdapter>(this);

    public IQueueAdapterCache GetQueueAdapterCache() => this;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => Task.FromResult(_failureHandler);

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => new LivePushReceiver(Queue(queueId), _options);

    public IQueueCache CreateQueueCache(QueueId queueId) => new LivePushCache(_options, _time);

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (!_canProduce)
        {
            throw new NotSupportedException($"Only silos publish to the live push '{Name}'; clients subscribe.");
        }

        ArgumentNullException.ThrowIfNull(events);
        var items = new List<object>();
        long bytes = 0;
        foreach (var item in events)
        {
            if (item is not null)
            {
                items.Add(item);
                bytes += LivePushBatch.Weigh(item);
            }
        }

        Queue(_mapper.GetQueueForStream(streamId)).Enqueue(streamId, [.. items], bytes);
        return Task.CompletedTask;
    }

    private LivePushQueue Queue(QueueId queueId) => _queues.GetOrAdd(queueId, _ => new LivePushQueue(_options.MaxQueuedBytes));
}

/// <summary>
/// Every silo pulls every queue — its own, in-memory copy of it. A queue's content is local to the silo that produced
/// it, so each silo must read its own; subscribers register with every producing agent through Orleans' pub-sub, so
/// they are reached from whichever silo their stream's grain lives on.
/// </summary>
internal sealed class EveryQueueBalancer : IStreamQueueBalancer
{
    private QueueId[] _queues = [];

    public Task Initialize(IStreamQueueMapper queueMapper)
    {
        ArgumentNullException.ThrowIfNull(queueMapper);
        _queues = [.. queueMapper.GetAllQueues()];
        return Task.CompletedTask;
    }

    public Task Shutdown() => Task.CompletedTask;

    public IEnumerable<QueueId> GetMyQueues() => _queues;

    public bool SubscribeToQueueDistributionChangeEvents(IStreamQueueBalanceListener observer) => true;

    public bool UnSubscribeFromQueueDistributionChangeEvents(IStreamQueueBalanceListener observer) => true;
}
