namespace StreamingEvents.LivePush;

/// <summary>
/// Bounds of the live push, per silo. Every bound is in bytes or time, and none ever holds the push back: what does not
/// fit is dropped, and subscribers, which number-check every delivery, read what they missed from storage.
/// </summary>
public sealed class LivePushOptions
{
    /// <summary>How many queues (and pulling agents) each silo runs (default 4). Streams are spread over them by hash.</summary>
    public int QueueCount { get; set; } = 4;

    /// <summary>
    /// The most bytes of batches waiting in one queue for its pulling agent (default 8 MiB); past it the oldest are
    /// dropped.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// The most bytes of delivered-or-pending batches one queue's cache keeps for subscribers that are still being sent
    /// earlier ones (default 8 MiB); past it the oldest are evicted, and a subscriber that had not received them reads
    /// them from storage.
    /// </summary>
    public long MaxCacheBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>How long a batch stays in the cache at most (default 10 s). Replays never come from here.</summary>
    public TimeSpan CacheTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a pulling agent waits for a batch before its read returns empty (default 5 s). A queued batch wakes it at
    /// once; the bound only lets the agent do its housekeeping (cache eviction, idle stream cleanup) on a quiet queue.
    /// </summary>
    public TimeSpan IdleWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How soon an agent whose read returned starts the next one (default 10 ms). Only the first batch after an idle wait
    /// (or after a new stream's registration) can wait this long; every other batch wakes the agent directly.
    /// </summary>
    public TimeSpan RestartPeriod { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long an agent remembers a stream that published nothing (default 2 minutes). Orleans' default, 30 minutes,
    /// keeps per-stream bookkeeping for every execution that published in the last half hour.
    /// </summary>
    public TimeSpan StreamInactivityPeriod { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The most batches an agent takes from its queue in one read (default 512).</summary>
    public int MaxBatchesPerRead { get; set; } = 512;
}
