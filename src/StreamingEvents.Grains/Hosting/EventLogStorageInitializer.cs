using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Storage;

namespace StreamingEvents.Hosting;

/// <summary>Prepares the event log (schema, files) first thing at silo start, before membership needs its tables.</summary>
internal sealed class EventLogStorageInitializer(IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(EventLogStorageInitializer),
        ServiceLifecycleStage.First,
        cancellationToken => services.GetRequiredKeyedService<IEventLogStorage>(StreamingEventsNames.EventLogStorage).InitializeAsync(cancellationToken));
}
