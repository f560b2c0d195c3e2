using System.Text.Json;

namespace StreamingEvents;

/// <summary>Settings of the .NET SDK, bound from the <c>StreamingEvents:Client</c> configuration section.</summary>
public sealed class StreamingEventsClientOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "StreamingEvents:Client";

    /// <summary>How typed task state is serialized; default <see cref="JsonDefaults.State"/> (snake_case names).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = JsonDefaults.State;

    /// <summary>
    /// The most live events a subscription buffers for a slow consumer (default 10,000). Past it the buffer is dropped
    /// and the subscription catches up from storage, so a slow consumer never slows the stream or other subscribers.
    /// </summary>
    public int SubscriptionBufferEvents { get; set; } = 10_000;

    /// <summary>
    /// The most bytes of live events (their envelopes) a subscription buffers for a slow consumer (default 8 MiB); past it
    /// the buffer is dropped and the subscription catches up from storage, like <see cref="SubscriptionBufferEvents"/>.
    /// Ten stalled subscribers hold at most ten times this.
    /// </summary>
    public long SubscriptionBufferBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// A subscription with no live event for this long asks the stream for its head (default 5 s), so an event whose
    /// live push was lost is still delivered.
    /// </summary>
    public TimeSpan IdleProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a subscription over many executions lists new ones, in case an announcement was lost (default 5 s).
    /// </summary>
    public TimeSpan DiscoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most executions one subscription over many executions follows at once (default 1000). An execution whose
    /// lifecycle ended is let go once its last event is delivered.
    /// </summary>
    public int MaxExecutionsPerSubscription { get; set; } = 1000;

    /// <summary>
    /// The most bytes of live events one subscription over many executions buffers for a slow consumer, all its
    /// executions together (default 32 MiB; each also within <see cref="SubscriptionBufferBytes"/>). Past it, the
    /// execution whose batch did not fit drops its buffer and catches up from storage.
    /// </summary>
    public long WildcardBufferBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Events per replay page (default 1000).</summary>
    public int ReplayPageSize { get; set; } = 1000;

    /// <summary>
    /// The most updates of one task queued or in flight at once (default 10,000); beyond it
    /// <see cref="TaskHandle{TState}.UpdateStateAsync"/> waits for room, in call order.
    /// </summary>
    public int MaxPendingUpdates { get; set; } = 10_000;

    /// <summary>
    /// What an update beyond <see cref="MaxPendingUpdates"/> does (default <see cref="PendingUpdatesFullMode.Wait"/>).
    /// A publisher that does not await its updates (fire and forget from a callback) should choose
    /// <see cref="PendingUpdatesFullMode.Throw"/>: each waiting call holds its state, so only refusing bounds its memory.
    /// </summary>
    public PendingUpdatesFullMode PendingUpdatesFullMode { get; set; } = PendingUpdatesFullMode.Wait;

    /// <summary>
    /// The most bytes of updates of one task queued or in flight at once (default 16 MiB); beyond it
    /// <see cref="TaskHandle{TState}.UpdateStateAsync"/> waits for room like beyond <see cref="MaxPendingUpdates"/>.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The most updates one call to a task carries (default 256).</summary>
    public int MaxUpdatesPerCall { get; set; } = 256;

    /// <summary>
    /// The most bytes of updates one call to a task carries (default 4 MiB), well under Orleans' message size limit; an
    /// update larger than this (up to the 1 MiB event cap plus its envelope) goes alone.
    /// </summary>
    public long MaxBytesPerCall { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// How long a publish whose outcome is unknown (a timeout, a silo that died, storage that did not confirm) is sent
    /// again, with the same publish sequence, before the caller gets <see cref="PublishOutcomeUnknownException"/>
    /// (default 60 s). The service stores a publish sent again at most once.
    /// </summary>
    public TimeSpan PublishRetryBudget { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a publish waits for its answer before it is sent once more while the first is still out (default 1 s).
    /// A call routed to a silo that just died gets no answer until the client's response timeout (30 s by default); the
    /// second call is routed to the stream's new activation. Both carry the same numbers, so the event is stored once.
    /// </summary>
    public TimeSpan PublishHedgeDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The Orleans stream provider of the live push; must match the silos.</summary>
    public string StreamProviderName { get; set; } = StreamingEventsNames.StreamProvider;
}

/// <summary>What an update does when its task already has <see cref="StreamingEventsClientOptions.MaxPendingUpdates"/> pending.</summary>
public enum PendingUpdatesFullMode
{
    /// <summary>Wait for room, in call order: an awaiting publisher is slowed to the pace of storage.</summary>
    Wait,

    /// <summary>Refuse at once with <see cref="PendingUpdatesFullException"/>; nothing is published or held.</summary>
    Throw,
}
