using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>What a subscription over many executions needs: listing them, hearing of new ones, and reading each.</summary>
internal interface IExecutionDirectory
{
    /// <summary>Matching executions after <paramref name="after"/>, in discovery order (which never skips one).</summary>
    Task<DiscoveryPage> DiscoverAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken);

    /// <summary>Announcements of executions created in <paramref name="namespace"/>; lossy, so callers also re-list.</summary>
    Task<IAsyncDisposable> SubscribeCreatedAsync(string @namespace, Func<ExecutionSummary, Task> onCreated, CancellationToken cancellationToken);

    /// <summary>The events of one execution.</summary>
    IExecutionEventSource Source(ExecutionSummary execution);
}
