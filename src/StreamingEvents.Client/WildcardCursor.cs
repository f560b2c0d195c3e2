using System.Buffers.Text;

namespace StreamingEvents;

/// <summary>
/// Where a subscription over many executions stands: for every execution it delivered from, the next sequence to
/// deliver, keyed by the execution's permanent stream id; every other execution starts at <see cref="DefaultStart"/>.
/// Encoded as <c>w1.</c> + base64url of varints (about 4–8 bytes per execution), it is the SSE record id, so a
/// reconnect with <c>Last-Event-ID</c> resumes every execution exactly.
/// </summary>
public sealed class WildcardCursor
{
    private const string Prefix = "w1.";
    private readonly SortedDictionary<long, long> _next = [];

    /// <summary>A cursor where every execution starts at <paramref name="defaultStart"/> (0: the oldest retained).</summary>
    public WildcardCursor(long defaultStart = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(defaultStart);
        DefaultStart = defaultStart;
    }

    /// <summary>The start of executions the cursor has not delivered from.</summary>
    public long DefaultStart { get; }

    /// <summary>How many executions the cursor tracks.</summary>
    public int Count => _next.Count;

    /// <summary>Where an execution continues.</summary>
    public StreamPosition PositionOf(long streamId) =>
        StreamPosition.FromSequence(_next.TryGetValue(streamId, out var next) ? next : DefaultStart);

    /// <summary>Records that <paramref name="brokerSequence"/> of the execution was delivered.</summary>
    public void Delivered(long streamId, long brokerSequence) => _next[streamId] = brokerSequence + 1;

    /// <summary>Whether <paramref name="text"/> looks like a wildcard cursor (rather than a sequence number).</summary>
    public static bool IsCursor(string? text) => text?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    /// <summary>The cursor as text.</summary>
    public string Encode()
    {
        var buffer = new byte[10 * (2 + _next.Count * 2)];
        var at = 0;
        WriteVarint(buffer, ref at, (ulong)DefaultStart);
        WriteVarint(buffer, ref at, (ulong)_next.Count);
        long previous = 0;
        foreach (var (streamId, next) in _next)
        {
            WriteVarint(buffer, ref at, (ulong)(streamId - previous));
            WriteVarint(buffer, ref at, (ulong)next);
            previous = streamId;
        }

        return Prefix + Base64Url.EncodeToString(buffer.AsSpan(0, at));
    }

    /// <summary>Parses <see cref="Encode"/>'s output.</summary>
    /// <exception cref="FormatException">It is not a cursor.</exception>
    public static WildcardCursor Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!IsCursor(text))
        {
            throw new FormatException($"A wildcard cursor starts with '{Prefix}'.");
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text.AsSpan(Prefix.Length));
        }
        catch (FormatException exception)
        {
            throw new FormatException("The cursor is not valid base64url.", exception);
        }

        try
        {
            var at = 0;
            var cursor = new WildcardCursor(checked((long)ReadVarint(bytes, ref at)));
            var count = ReadVarint(bytes, ref at);
            long streamId = 0;
            for (ulong i = 0; i < count; i++)
            {
                streamId = checked(streamId + (long)ReadVarint(bytes, ref at));
                cursor._next[streamId] = checked((long)ReadVarint(bytes, ref at));
            }

            return at == bytes.Length ? cursor : throw new FormatException("The cursor has trailing bytes.");
        }
        catch (OverflowException exception)
        {
            throw new FormatException("The cursor holds a number out of range.", exception);
        }
    }

    private static void WriteVarint(byte[] buffer, ref int at, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[at++] = (byte)value;
    }

    private static ulong ReadVarint(byte[] buffer, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= buffer.Length)
            {
                throw new FormatException("The cursor is truncated.");
            }

            var b = buffer[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new FormatException("The cursor holds an over-long number.");
    }
}
