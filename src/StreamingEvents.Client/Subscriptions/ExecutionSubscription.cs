using System.Runtime.CompilerServices;
using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>
/// Settings of one subscription; <c>SharedBuffer</c> is the bytes the live buffers of one subscription over many
/// executions share, when it is part of one.
/// </summary>
internal sealed record SubscriptionSettings(
    int BufferEvents, long BufferBytes, TimeSpan IdleProbeInterval, int PageSize, TimeProvider Time, StreamingEventsMetrics? Metrics = null, ByteBudget? SharedBuffer = null);

/// <summary>
/// Delivers an execution's events from a position, exactly: each sequence once, ascending, no gap — history replayed
/// from storage, then live. The live push is attached first and buffered, history is read up to the head, and from then
/// on an event is delivered only if it is the next expected one; anything below is a duplicate and dropped, anything
/// above reveals a gap that is read from storage before going on. The push may therefore lose, repeat or reorder
/// batches without the consumer ever seeing it. Transient failures of the cluster (a silo dying, a call timing out) are
/// retried from the same position, so a subscription outlives a failover.
/// </summary>
internal static class ExecutionSubscription
{
    /// <summary>After this many idle probes that found missed events, the live subscription is made again.</summary>
    private const int ProbesBeforeResubscribe = 2;

    /// <summary>The events from <paramref name="from"/>, for ever, or through <paramref name="through"/> when it is given.</summary>
    public static async IAsyncEnumerable<StreamEvent> RunAsync(
        IExecutionEventSource source,
        StreamPosition from,
        string? topic,
        SubscriptionSettings settings,
        [EnumeratorCancellation] CancellationToken cancellationToken,
        long? through = null)
    {
        var metrics = settings.Metrics;
        var buffer = new LiveBuffer(settings.BufferEvents, settings.BufferBytes, settings.Time, settings.SharedBuffer);
        var live = await Retry(() => source.SubscribeLiveAsync(buffer.OnBatchAsync, cancellationToken));
        metrics?.ActiveSubscriptions.Add(1);
        long knownHead = 0;
        using var stopPrefetch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<EventPage>? prefetched = null;
        try
        {
            // Attached first, so nothing published from here on can fall between the history and the live push.
            var next = from.IsLive ? await Retry(() => source.GetHeadAsync(cancellationToken)) + 1 : from.Sequence;
            var catchUp = !from.IsLive;
            var missedProbes = 0;
            while (next <= (through ?? long.MaxValue))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (catchUp)
                {
                    var page = await (prefetched ?? ReadPage(next));
                    prefetched = null;
                    metrics?.CatchUps.Add(1);
                    knownHead = Math.Max(knownHead, page.Head);
                    var after = Math.Max(next, page.NextSequence);
                    if (!page.ReachedHead)
                    {
                        // The next page is read while this one is consumed: the service renders while the consumer works.
                        prefetched = ReadPage(after);
                    }

                    foreach (var streamEvent in page.Events)
                    {
                        Delivered(streamEvent);
                        yield return streamEvent;
                    }

                    next = after;
                    catchUp = !page.ReachedHead;
                    continue;
                }

                if (buffer.Overflowed)
                {
                    buffer.Reset();
                    catchUp = true;
                    continue;
                }

                var batch = await buffer.TakeAsync(settings.IdleProbeInterval, cancellationToken);
                if (batch is null)
                {
                    // Nothing pushed for a while: make sure nothing was published that the push lost.
                    if (await Retry(() => source.GetHeadAsync(cancellationToken)) >= next)
                    {
                        catchUp = true;
                        if (++missedProbes >= ProbesBeforeResubscribe)
                        {
                            missedProbes = 0;
                            await live.DisposeAsync();
                            live = await Retry(() => source.SubscribeLiveAsync(buffer.OnBatchAsync, cancellationToken));
                        }
                    }

                    continue;
                }

                missedProbes = 0;
                knownHead = Math.Max(knownHead, batch.Through);

                foreach (var streamEvent in batch.Events)
                {
                    if (streamEvent.BrokerSequence < next)
                    {
                        continue;
                    }

                    if (streamEvent.BrokerSequence > next)
                    {
                        catchUp = true;
                        break;
                    }

                    next++;
                    if (topic is null || streamEvent.Stream == topic)
                    {
                        Delivered(streamEvent);
                        yield return streamEvent;
                    }
                }

                // The batch stands for events it does not carry (too large to push): read them from storage.
                catchUp |= batch.Through >= next;
            }
        }
        finally
        {
            metrics?.ActiveSubscriptions.Add(-1);
            if (prefetched is not null)
            {
                // The consumer stopped before this page was due: it is never delivered, so its outcome does not matter.
                await stopPrefetch.CancelAsync();
                await ((Task)prefetched).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            buffer.Close();
            await live.DisposeAsync();
        }

        Task<T> Retry<T>(Func<Task<T>> call) => TransientErrors.RetryAsync(call, settings.Time, cancellationToken);

        Task<EventPage> ReadPage(long from) =>
            TransientErrors.RetryAsync(() => source.ReadAsync(from, settings.PageSize, topic, stopPrefetch.Token), settings.Time, stopPrefetch.Token);

        void Delivered(StreamEvent streamEvent)
        {
            if (metrics is not null)
            {
                metrics.EventsDelivered.Add(1);
                metrics.SubscriberLag.Record(Math.Max(0, knownHead - streamEvent.BrokerSequence));
            }
        }
    }
}
