using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace StreamingEvents.LivePush;

/// <summary>
/// One queued message of the live push: the events a producer handed to its stream, kept as objects until a delivery
/// to a subscriber on another process serializes them (once per subscriber call). <see cref="Token"/> orders the batches
/// of one queue on one silo; it is not the events' own numbering.
/// </summary>
[GenerateSerializer, Immutable, Alias("se.LivePushBatch")]
internal sealed class LivePushBatch : IBatchContainer
{
    public LivePushBatch(StreamId streamId, object[] events, EventSequenceTokenV2 token, long bytes = 0)
    {
        StreamId = streamId;
        Events = events;
        Token = token;
        _bytes = bytes;
    }

    [NonSerialized]
    private readonly long _bytes;

    [Id(0)]
    public StreamId StreamId { get; }

    [Id(1)]
    public object[] Events { get; }

    [Id(2)]
    public EventSequenceTokenV2 Token { get; }

    /// <summary>What the batch weighs against the queue and cache bounds (not serialized: only the producing silo needs it).</summary>
    public long Bytes => _bytes;

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        for (var i = 0; i < Events.Length; i++)
        {
            if (Events[i] is T item)
            {
                yield return Tuple.Create<T, StreamSequenceToken>(item, Token.CreateSequenceTokenForEvent(i));
            }
        }
    }

    public bool ImportRequestContext() => false;

    /// <summary>The bytes an event weighs: an execution's event batch by its JSON, anything else as a small message.</summary>
    public static long Weigh(object item) => item switch
    {
        StreamEventBatch batch => BatchBytes(batch),
        _ => 256,
    };

    private static long BatchBytes(StreamEventBatch batch)
    {
        long bytes = 64;
        foreach (var streamEvent in batch.Events)
        {
            bytes += streamEvent.Json.Length + 64;
        }

        return bytes;
    }
}
