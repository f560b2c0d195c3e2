using Microsoft.Extensions.DependencyInjection;
using StreamingEvents.Contracts;
using StreamingEvents.Storage;

namespace StreamingEvents.IntegrationTests.Infrastructure;

/// <summary>
/// The silo's event log with hooks a test sets: each runs before the real call and may wait (to interleave other calls
/// at a chosen point) or throw (a storage fault). <see cref="Install"/> wraps whatever storage the backend configured.
/// </summary>
internal sealed class HookedEventLog(IEventLogStorage inner) : IEventLogStorage, IAsyncDisposable
{
    /// <summary>Before each read of events: (stream id, from, to).</summary>
    public Func<long, long, long, Task>? BeforeReadEvents { get; set; }

    /// <summary>Before each read of task rows: (stream id, task numbers).</summary>
    public Func<long, IReadOnlyCollection<int>, Task>? BeforeReadTasks { get; set; }

    /// <summary>Before each append.</summary>
    public Func<StreamAppend, Task>? BeforeAppend { get; set; }

    public IEventLogStorage Inner => inner;

    /// <summary>Replaces the silo's event log with a hooked one around it; call after the backend configured the silo.</summary>
    public static void Install(ISiloBuilder silo)
    {
        var services = silo.Services;
        var original = services.Single(d => d.ServiceType == typeof(IEventLogStorage) && Equals(d.ServiceKey, StreamingEventsNames.EventLogStorage));
        services.Remove(original);
        services.AddKeyedSingleton<IEventLogStorage>(StreamingEventsNames.EventLogStorage,
            (provider, key) => new HookedEventLog((IEventLogStorage)original.KeyedImplementationFactory!(provider, key)));
    }

    public static HookedEventLog Of(IServiceProvider siloServices) =>
        (HookedEventLog)siloServices.GetRequiredKeyedService<IEventLogStorage>(StreamingEventsNames.EventLogStorage);

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long streamId, long fromSequence, long toSequence, int maxEvents, CancellationToken cancellationToken)
    {
        if (BeforeReadEvents is { } hook)
        {
            await hook(streamId, fromSequence, toSequence);
        }

        return await inner.ReadEventsAsync(streamId, fromSequence, toSequence, maxEvents, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredTask>> ReadTasksAsync(long streamId, IReadOnlyCollection<int> taskNos, CancellationToken cancellationToken)
    {
        if (BeforeReadTasks is { } hook)
        {
            await hook(streamId, taskNos);
        }

        return await inner.ReadTasksAsync(streamId, taskNos, cancellationToken);
    }

    public async Task<AppendOutcome> AppendAsync(StreamAppend append, CancellationToken cancellationToken)
    {
        if (BeforeAppend is { } hook)
        {
            await hook(append);
        }

        return await inner.AppendAsync(append, cancellationToken);
    }

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<StreamRecord?> LoadStreamAsync(string streamKey, CancellationToken cancellationToken) => inner.LoadStreamAsync(streamKey, cancellationToken);

    public Task<StreamRecord?> CreateStreamAsync(string streamKey, WorkflowContext context, CancellationToken cancellationToken) =>
        inner.CreateStreamAsync(streamKey, context, cancellationToken);

    public Task<TaskLocation?> FindTaskAsync(string @namespace, string taskId, CancellationToken cancellationToken) =>
        inner.FindTaskAsync(@namespace, taskId, cancellationToken);

    public Task<IReadOnlyList<long>> ReadTaskSequencesAsync(long streamId, int taskNo, long throughSequence, int count, CancellationToken cancellationToken) =>
        inner.ReadTaskSequencesAsync(streamId, taskNo, throughSequence, count, cancellationToken);

    public Task<(long StreamId, StoredRequestKey Key)?> FindRequestKeyAsync(string @namespace, string key, CancellationToken cancellationToken) =>
        inner.FindRequestKeyAsync(@namespace, key, cancellationToken);

    public Task<int> DeleteRequestKeysAsync(DateTimeOffset before, CancellationToken cancellationToken) => inner.DeleteRequestKeysAsync(before, cancellationToken);

    public Task<TrimResult> TrimAsync(long streamId, long before, CancellationToken cancellationToken) => inner.TrimAsync(streamId, before, cancellationToken);

    public Task<long> FindRetentionBoundaryAsync(long streamId, long head, long keepBytes, long minTimestampUnixNanoseconds, CancellationToken cancellationToken) =>
        inner.FindRetentionBoundaryAsync(streamId, head, keepBytes, minTimestampUnixNanoseconds, cancellationToken);

    public Task<IReadOnlyList<ExecutionSummary>> FindExecutionsAsync(ExecutionQuery query, long boundary, bool newestFirst, int limit, CancellationToken cancellationToken) =>
        inner.FindExecutionsAsync(query, boundary, newestFirst, limit, cancellationToken);

    public Task<DiscoveryPage> DiscoverExecutionsAsync(ExecutionQuery query, DiscoveryPosition after, int limit, CancellationToken cancellationToken) =>
        inner.DiscoverExecutionsAsync(query, after, limit, cancellationToken);

    public Task<IReadOnlyList<ExecutionSummary>> GetExecutionsAsync(IReadOnlyCollection<long> streamIds, CancellationToken cancellationToken) =>
        inner.GetExecutionsAsync(streamIds, cancellationToken);

    public Task<IReadOnlyList<string>> FindIdleStreamsWithOpenTasksAsync(DateTimeOffset idleSince, int maxStreams, CancellationToken cancellationToken) =>
        inner.FindIdleStreamsWithOpenTasksAsync(idleSince, maxStreams, cancellationToken);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
