using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>Proves, for readiness checks, that this silo serves grain calls and reaches the event log.</summary>
[StatelessWorker]
internal sealed class HealthProbeGrain([FromKeyedServices(StreamingEventsNames.EventLogStorage)] IEventLogStorage storage) : Grain, IHealthProbeGrain
{
    public async Task PingAsync()
    {
        try
        {
            await storage.PingAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is not StreamingEventsException)
        {
            throw new StorageUnavailableException($"The event log did not answer: {exception.Message}", exception);
        }
    }
}
