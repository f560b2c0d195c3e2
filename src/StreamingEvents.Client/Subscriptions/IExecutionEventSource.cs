using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>What a subscription needs from one execution's stream: stored pages, the head, and the live push.</summary>
internal interface IExecutionEventSource
{
    /// <summary>Reads stored events from <paramref name="fromSequence"/> (0: the oldest retained).</summary>
    Task<EventPage> ReadAsync(long fromSequence, int maxEvents, string? topic, CancellationToken cancellationToken);

    /// <summary>The last durable sequence.</summary>
    Task<long> GetHeadAsync(CancellationToken cancellationToken);

    /// <summary>Starts delivering live batches to <paramref name="onBatch"/>; dispose to stop. Delivery may lose,
    /// repeat or reorder batches: the subscription does not depend on it being exact.</summary>
    Task<IAsyncDisposable> SubscribeLiveAsync(Func<StreamEventBatch, Task> onBatch, CancellationToken cancellationToken);
}
