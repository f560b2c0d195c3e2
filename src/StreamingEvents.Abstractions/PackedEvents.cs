using System.Buffers.Binary;
using StreamingEvents.Contracts;

namespace StreamingEvents;

/// <summary>
/// Events in the form they cross the wire between silos and clients: the envelopes back to back in a few buffers, each
/// event's facts in one fixed-width entry of an index, and each task's names once.
/// </summary>
/// <remarks>
/// Orleans serializes an array of <see cref="StreamEvent"/> object by object, field by field, and records every object it
/// writes or reads for reference tracking: profiles of a replay put that hashing and bookkeeping above storage and
/// rendering on both sides. Packed, a page of a thousand events is a handful of arrays, most of them copied as bytes.
/// The envelope buffers are at most <see cref="ChunkBytes"/> each (unless one envelope is larger): one buffer per page
/// would land on the large object heap on both sides, and a profile showed fresh large buffers costing more than the
/// serialization they replace. Unpacked events share their chunk (<see cref="StreamEvent.Json"/> is a slice of it).
/// </remarks>
[GenerateSerializer, Immutable, Alias("se.PackedEvents")]
internal sealed class PackedEvents
{
    /// <summary>Below the large object heap's threshold (85,000 bytes).</summary>
    internal const int ChunkBytes = 64 * 1024;

    /// <summary>Sequence (8 bytes), timestamp (8), envelope length (4), task (4), event type (2), payload encoding (1).</summary>
    private const int EntryBytes = 27;

    /// <summary>Each task's topic, task id, activity name and activity id, in that order.</summary>
    private const int NamesPerTask = 4;

    public static readonly PackedEvents Empty = new([], [], []);

    /// <summary>Creates packed events; <see cref="Pack"/> is how they are made.</summary>
    public PackedEvents(byte[][] chunks, byte[] index, string?[] names)
    {
        Chunks = chunks;
        Index = index;
        Names = names;
    }

    /// <summary>
    /// The envelopes in order, filling each chunk up to <see cref="ChunkBytes"/>: an envelope that does not fit in what is
    /// left of a chunk starts the next one.
    /// </summary>
    [Id(0)]
    public byte[][] Chunks { get; }

    /// <summary>One entry of <see cref="EntryBytes"/> per event, little-endian.</summary>
    [Id(1)]
    public byte[] Index { get; }

    /// <summary><see cref="NamesPerTask"/> names per task that the entries refer to.</summary>
    [Id(2)]
    public string?[] Names { get; }

    /// <summary>How many events this holds.</summary>
    public int Count => Index.Length / EntryBytes;

    public static PackedEvents Pack(IReadOnlyList<StreamEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return Empty;
        }

        var chunks = new List<byte[]>();
        var filled = 0;
        foreach (var streamEvent in events)
        {
            if (filled > 0 && filled + streamEvent.Json.Length > ChunkBytes)
            {
                chunks.Add(new byte[filled]);
                filled = 0;
            }

            filled += streamEvent.Json.Length;
        }

        chunks.Add(new byte[filled]);

        var index = new byte[checked(events.Count * EntryBytes)];
        var names = new List<string?>();
        var tasks = new Dictionary<(string, string, string?, string?), int>();
        StreamEvent? previous = null;
        var task = -1;
        var chunk = 0;
        var at = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var streamEvent = events[i];
            if (previous is null || !SameTask(previous, streamEvent))
            {
                var key = (streamEvent.Stream, streamEvent.TaskId, streamEvent.ActivityName, streamEvent.ActivityId);
                if (!tasks.TryGetValue(key, out task))
                {
                    task = tasks.Count;
                    tasks.Add(key, task);
                    names.Add(streamEvent.Stream);
                    names.Add(streamEvent.TaskId);
                    names.Add(streamEvent.ActivityName);
                    names.Add(streamEvent.ActivityId);
                }
            }

            var entry = index.AsSpan(i * EntryBytes, EntryBytes);
            BinaryPrimitives.WriteInt64LittleEndian(entry, streamEvent.BrokerSequence);
            BinaryPrimitives.WriteInt64LittleEndian(entry[8..], streamEvent.TimestampUnixNanoseconds);
            BinaryPrimitives.WriteInt32LittleEndian(entry[16..], streamEvent.Json.Length);
            BinaryPrimitives.WriteInt32LittleEndian(entry[20..], task);
            BinaryPrimitives.WriteInt16LittleEndian(entry[24..], (short)streamEvent.EventType);
            entry[26] = (byte)streamEvent.Encoding;
            if (at + streamEvent.Json.Length > chunks[chunk].Length)
            {
                (chunk, at) = (chunk + 1, 0);
            }

            streamEvent.Json.Span.CopyTo(chunks[chunk].AsSpan(at));
            at += streamEvent.Json.Length;
            previous = streamEvent;
        }

        return new PackedEvents([.. chunks], index, [.. names]);
    }

    /// <exception cref="InvalidDataException">The index does not describe the chunks and names it came with.</exception>
    public StreamEvent[] Unpack()
    {
        if (Index.Length % EntryBytes != 0 || Names.Length % NamesPerTask != 0 || (Index.Length == 0) != (Chunks.Length == 0))
        {
            throw new InvalidDataException($"Packed events with an index of {Index.Length} bytes, {Chunks.Length} chunks and {Names.Length} names are malformed.");
        }

        var events = new StreamEvent[Count];
        var chunk = 0;
        var at = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var entry = Index.AsSpan(i * EntryBytes, EntryBytes);
            var length = BinaryPrimitives.ReadInt32LittleEndian(entry[16..]);
            var task = BinaryPrimitives.ReadInt32LittleEndian(entry[20..]);
            if (length >= 0 && at + length > Chunks[chunk].Length)
            {
                (chunk, at) = (chunk + 1, 0);
            }

            if (length < 0 || chunk >= Chunks.Length || length > Chunks[chunk].Length - at || task < 0 || task >= Names.Length / NamesPerTask
                || Names[task * NamesPerTask] is not { } stream || Names[(task * NamesPerTask) + 1] is not { } taskId)
            {
                throw new InvalidDataException($"Entry {i} of packed events points outside its chunks or names.");
            }

            events[i] = new StreamEvent(
                BinaryPrimitives.ReadInt64LittleEndian(entry),
                stream,
                taskId,
                (EventType)BinaryPrimitives.ReadInt16LittleEndian(entry[24..]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[8..]),
                new ReadOnlyMemory<byte>(Chunks[chunk], at, length),
                Names[(task * NamesPerTask) + 2],
                Names[(task * NamesPerTask) + 3],
                (PayloadEncoding)entry[26]);
            at += length;
        }

        if (Chunks.Length > 0 && (chunk != Chunks.Length - 1 || at != Chunks[chunk].Length))
        {
            throw new InvalidDataException($"Packed events leave envelope bytes undescribed (chunk {chunk} of {Chunks.Length}, at {at}).");
        }

        return events;
    }

    private static bool SameTask(StreamEvent a, StreamEvent b) =>
        ReferenceEquals(a.TaskId, b.TaskId) && ReferenceEquals(a.Stream, b.Stream)
        && ReferenceEquals(a.ActivityName, b.ActivityName) && ReferenceEquals(a.ActivityId, b.ActivityId);
}

/// <summary>How an <see cref="Contracts.EventPage"/> crosses the wire: its events packed.</summary>
[GenerateSerializer, Immutable, Alias("se.EventPage.Packed")]
internal readonly record struct EventPageSurrogate(
    [property: Id(0)] PackedEvents Events,
    [property: Id(1)] long NextSequence,
    [property: Id(2)] long Head,
    [property: Id(3)] long OldestRetained);

[RegisterConverter]
internal sealed class EventPageConverter : IConverter<EventPage, EventPageSurrogate>
{
    public EventPage ConvertFromSurrogate(in EventPageSurrogate surrogate) =>
        new(surrogate.Events.Unpack(), surrogate.NextSequence, surrogate.Head, surrogate.OldestRetained);

    public EventPageSurrogate ConvertToSurrogate(in EventPage value) =>
        new(PackedEvents.Pack(value.Events), value.NextSequence, value.Head, value.OldestRetained);
}

/// <summary>How a <see cref="StreamEventBatch"/> crosses the wire: its events packed.</summary>
[GenerateSerializer, Immutable, Alias("se.StreamEventBatch.Packed")]
internal readonly record struct StreamEventBatchSurrogate([property: Id(0)] PackedEvents Events, [property: Id(1)] long Through);

[RegisterConverter]
internal sealed class StreamEventBatchConverter : IConverter<StreamEventBatch, StreamEventBatchSurrogate>
{
    public StreamEventBatch ConvertFromSurrogate(in StreamEventBatchSurrogate surrogate) => new(surrogate.Events.Unpack(), surrogate.Through);

    public StreamEventBatchSurrogate ConvertToSurrogate(in StreamEventBatch value) => new(PackedEvents.Pack(value.Events), value.Through);
}
