using StreamingEvents.Bench.Infrastructure;
using StreamingEvents.Bench.Load;

namespace StreamingEvents.Bench.Systems;

/// <summary>
/// Durability classes; systems are compared only within one. D2: acknowledged after fsync (PostgreSQL
/// synchronous_commit=on; Redis appendfsync always). D1: acknowledged after the OS write (synchronous_commit=off;
/// appendfsync everysec).
/// </summary>
internal enum Durability
{
    D2,
    D1,
}

/// <summary>
/// A system under test, as the load generator drives it: open a stream (its first event, sequence 1), publish events
/// with contiguous sequences, subscribe from a sequence (history then live), replay history. Every system numbers a
/// stream's events 1, 2, 3… so that subscribers can check order, gaps and duplicates the same way.
/// </summary>
internal interface IEventSystem
{
    /// <summary>e.g. "StreamingEvents", "Redis".</summary>
    string Name { get; }

    Durability Durability { get; }

    /// <summary>"StreamingEvents D2", "Redis always"...</summary>
    string Label { get; }

    /// <summary>The server processes whose CPU is reported per event.</summary>
    IReadOnlyList<MonitoredProcess> Processes { get; }

    /// <summary>Whether subscribers are supported (raw PostgreSQL has no push).</summary>
    bool SupportsSubscribe { get; }

    /// <summary>Creates <paramref name="stream"/> and publishes its first event (sequence 1) durably.</summary>
    Task<IStreamPublisher> OpenAsync(string stream, BenchState first, CancellationToken cancellationToken);

    /// <summary>
    /// Delivers the events of <paramref name="stream"/> from <paramref name="fromSequence"/> (0: the oldest) to
    /// <paramref name="sink"/> in order until the sink returns false, the stream's terminal event was delivered, or
    /// <paramref name="cancellationToken"/> is canceled (then it returns without throwing).
    /// </summary>
    Task SubscribeAsync(string stream, long fromSequence, ISubscriberSink sink, CancellationToken cancellationToken);

    /// <summary>Storage counters for a window (commits, WAL or AOF bytes), or null.</summary>
    Task<StorageCounters?> ReadStorageCountersAsync();

    /// <summary>Clears what the previous workload left (between workloads, not runs).</summary>
    Task ResetAsync();
}

/// <summary>Publishes to one stream, in order; sequences follow 1 (the first event) without holes.</summary>
internal interface IStreamPublisher
{
    /// <summary>The sequence the next <see cref="PublishAsync"/> gets.</summary>
    long NextSequence { get; }

    /// <summary>Publishes without waiting for the previous publish; the task completes with the sequence once durable.</summary>
    Task<long> PublishAsync(BenchState state);

    /// <summary>Publishes the terminal event (subscribers stop at it).</summary>
    Task<long> CompleteAsync(BenchState state);
}

/// <summary>Receives a subscriber's deliveries, on one delivery loop at a time.</summary>
internal interface ISubscriberSink
{
    /// <returns>false to end the subscription.</returns>
    bool OnEvent(long sequence, int bytes, bool terminal);
}

/// <summary>Storage-side counters of one system at one moment.</summary>
internal sealed record StorageCounters(PostgresCounters? Postgres, Dictionary<string, long>? Redis);
