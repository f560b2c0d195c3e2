using System.Diagnostics.Metrics;

namespace StreamingEvents;

/// <summary>
/// The service's metrics (meter <see cref="MeterName"/>), exported by OpenTelemetry: what is published and delivered,
/// how long publishing and storage commits take, how far subscribers lag behind the head, and what is active.
/// </summary>
public sealed class StreamingEventsMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "StreamingEvents";

    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private static readonly InstrumentAdvice<long> Counts = new()
    {
        HistogramBucketBoundaries = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 20000],
    };

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public StreamingEventsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        EventsPublished = meter.CreateCounter<long>("streaming_events.events.published", "{event}", "Events made durable and acknowledged.");
        BytesPublished = meter.CreateCounter<long>("streaming_events.events.published.bytes", "By", "Envelope bytes of the published events.");
        PublishDuration = meter.CreateHistogram("streaming_events.publish.duration", "s", "From an append reaching its stream to its acknowledgement (durable).", advice: Seconds);
        CommitDuration = meter.CreateHistogram("streaming_events.storage.commit.duration", "s", "One storage transaction (a group commit).", advice: Seconds);
        CommitSize = meter.CreateHistogram("streaming_events.storage.commit.size", "{event}", "Events per storage transaction.", advice: Counts);
        ActiveStreams = meter.CreateUpDownCounter<long>("streaming_events.streams.active", "{stream}", "Execution streams active in memory.");
        EventsDelivered = meter.CreateCounter<long>("streaming_events.events.delivered", "{event}", "Events delivered to subscribers.");
        ActiveSubscriptions = meter.CreateUpDownCounter<long>("streaming_events.subscriptions.active", "{subscription}", "Open subscriptions.");
        SubscriberLag = meter.CreateHistogram("streaming_events.subscription.lag", "{event}", "The known head minus the delivered sequence, at delivery.", advice: Counts);
        CatchUps = meter.CreateCounter<long>("streaming_events.subscription.catch_ups", "{read}", "Reads from storage by subscriptions (history, gaps, overflow).");
        SseConnections = meter.CreateUpDownCounter<long>("streaming_events.sse.connections", "{connection}", "Open Server-Sent Events responses.");
    }

    /// <summary>Events made durable and acknowledged.</summary>
    public Counter<long> EventsPublished { get; }

    /// <summary>Envelope bytes of the published events.</summary>
    public Counter<long> BytesPublished { get; }

    /// <summary>Seconds from an append reaching its stream to its acknowledgement.</summary>
    public Histogram<double> PublishDuration { get; }

    /// <summary>Seconds per storage transaction.</summary>
    public Histogram<double> CommitDuration { get; }

    /// <summary>Events per storage transaction.</summary>
    public Histogram<long> CommitSize { get; }

    /// <summary>Execution streams active in memory.</summary>
    public UpDownCounter<long> ActiveStreams { get; }

    /// <summary>Events delivered to subscribers.</summary>
    public Counter<long> EventsDelivered { get; }

    /// <summary>Open subscriptions.</summary>
    public UpDownCounter<long> ActiveSubscriptions { get; }

    /// <summary>The known head minus the delivered sequence, at delivery.</summary>
    public Histogram<long> SubscriberLag { get; }

    /// <summary>Reads from storage by subscriptions.</summary>
    public Counter<long> CatchUps { get; }

    /// <summary>Open SSE responses.</summary>
    public UpDownCounter<long> SseConnections { get; }
}
