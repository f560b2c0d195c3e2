using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>Queries the stream rows of the event log; stateless, so every silo answers locally.</summary>
[StatelessWorker]
internal sealed class ExecutionRegistryGrain([FromKeyedServices(StreamingEventsNames.EventLogStorage)] IEventLogStorage storage) : Grain, IExecutionRegistryGrain
{
    private const int MaxLimit = 1000;

    public Task<ExecutionSummary[]> FindAsync(ExecutionQuery query, long afterStreamId, int limit) =>
        GuardAsync(() => storage.FindExecutionsAsync(Validate(query), afterStreamId, newestFirst: false, Math.Clamp(limit, 1, MaxLimit), CancellationToken.None));

    public async Task<DiscoveryPage> DiscoverAsync(ExecutionQuery query, DiscoveryPosition after, int limit)
    {
        ArgumentNullException.ThrowIfNull(after);
        try
        {
            return await storage.DiscoverExecutionsAsync(Validate(query), after, Math.Clamp(limit, 1, MaxLimit), CancellationToken.None);
        }
        catch (Exception exception) when (exception is not StreamingEventsException)
        {
            throw new StorageUnavailableException($"Could not query executions: {exception.Message}", exception);
        }
    }

    public Task<ExecutionSummary[]> FindNewestAsync(ExecutionQuery query, long beforeStreamId, int limit) =>
        GuardAsync(() => storage.FindExecutionsAsync(Validate(query), beforeStreamId, newestFirst: true, Math.Clamp(limit, 1, MaxLimit), CancellationToken.None));

    public Task<ExecutionSummary[]> GetAsync(long[] streamIds) =>
        streamIds is { Length: > 0 }
            ? GuardAsync(() => storage.GetExecutionsAsync(streamIds.Take(MaxLimit * 10).ToArray(), CancellationToken.None))
            : Task.FromResult<ExecutionSummary[]>([]);

    private static ExecutionQuery Validate(ExecutionQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        Names.ValidateNamespace(query.Namespace);
        return query;
    }

    private static async Task<ExecutionSummary[]> GuardAsync(Func<Task<IReadOnlyList<ExecutionSummary>>> query)
    {
        try
        {
            return [.. await query()];
        }
        catch (Exception exception) when (exception is not StreamingEventsException)
        {
            throw new StorageUnavailableException($"Could not query executions: {exception.Message}", exception);
        }
    }
}
