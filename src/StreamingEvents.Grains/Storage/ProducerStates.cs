using System.Buffers.Binary;

namespace StreamingEvents.Storage;

/// <summary>
/// The compact binary form of the open tasks' <see cref="ProducerState"/>s, stored in the stream row: a version byte, then
/// 36 bytes per open task (task number and epoch as 32-bit, the three sequences as 64-bit integers, little-endian).
/// </summary>
internal static class ProducerStates
{
    private const byte Version = 1;
    private const int EntryBytes = 4 + 4 + 8 + 8 + 8;

    public static byte[] Encode(IReadOnlyCollection<ProducerState> producers)
    {
        var bytes = new byte[1 + (producers.Count * EntryBytes)];
        bytes[0] = Version;
        var at = 1;
        foreach (var producer in producers)
        {
            var entry = bytes.AsSpan(at, EntryBytes);
            BinaryPrimitives.WriteInt32LittleEndian(entry, producer.TaskNo);
            BinaryPrimitives.WriteInt32LittleEndian(entry[4..], producer.Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(entry[8..], producer.LastPublishSequence);
            BinaryPrimitives.WriteInt64LittleEndian(entry[16..], producer.LastSequence);
            BinaryPrimitives.WriteInt64LittleEndian(entry[24..], producer.BatchFirstPublishSequence);
            at += EntryBytes;
        }

        return bytes;
    }

    /// <exception cref="FormatException">The bytes are not producer states of a known version.</exception>
    public static ProducerState[] Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return [];
        }

        if (bytes[0] != Version || (bytes.Length - 1) % EntryBytes != 0)
        {
            throw new FormatException($"Stored producer states have version {bytes[0]} and {bytes.Length} bytes; expected version {Version} in entries of {EntryBytes}.");
        }

        var producers = new ProducerState[(bytes.Length - 1) / EntryBytes];
        for (var i = 0; i < producers.Length; i++)
        {
            var entry = bytes.Slice(1 + (i * EntryBytes), EntryBytes);
            producers[i] = new ProducerState(
                BinaryPrimitives.ReadInt32LittleEndian(entry),
                BinaryPrimitives.ReadInt32LittleEndian(entry[4..]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[16..]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[24..]));
        }

        return producers;
    }
}
