namespace StreamingEvents;

/// <summary>
/// The newest events of a stream, kept in memory for fast replay: a contiguous run of sequence numbers, bounded by
/// count and bytes. A ring that grows on demand, so an idle stream with a few events costs little.
/// </summary>
internal sealed class EventWindow(int maxEvents, long maxBytes)
{
    private StreamEvent[] _ring = [];
    private int _start;
    private int _count;
    private long _bytes;

    public int Count => _count;

    public long Bytes => _bytes;

    /// <summary>The first sequence held; meaningless when empty.</summary>
    public long FirstSequence => _count == 0 ? 0 : this[0].BrokerSequence;

    public long LastSequence => _count == 0 ? 0 : this[_count - 1].BrokerSequence;

    private StreamEvent this[int index] => _ring[(_start + index) % _ring.Length];

    public bool Contains(long sequence) => _count > 0 && sequence >= FirstSequence && sequence <= LastSequence;

    /// <summary>Adds the next event; a non-contiguous one restarts the window so it never holds a gap.</summary>
    public void Append(StreamEvent streamEvent)
    {
        if (maxEvents == 0 || maxBytes == 0)
        {
            return;
        }

        if (_count > 0 && streamEvent.BrokerSequence != LastSequence + 1)
        {
            Clear();
        }

        while (_count > 0 && (_count >= maxEvents || _bytes + streamEvent.Json.Length > maxBytes))
        {
            RemoveFirst();
        }

        if (_count == _ring.Length)
        {
            Grow();
        }

        _ring[(_start + _count) % _ring.Length] = streamEvent;
        _count++;
        _bytes += streamEvent.Json.Length;
    }

    /// <summary>Drops events below <paramref name="sequence"/> (after retention trimmed them from storage).</summary>
    public void DropBefore(long sequence)
    {
        while (_count > 0 && FirstSequence < sequence)
        {
            RemoveFirst();
        }
    }

    public void Clear()
    {
        _ring = [];
        _start = 0;
        _count = 0;
        _bytes = 0;
    }

    /// <summary>
    /// Copies events from <paramref name="from"/> on, at most <paramref name="maxEvents"/> scanned and about
    /// <paramref name="maxBytes"/> returned (always at least one), skipping other topics than <paramref name="topic"/>.
    /// Returns the sequence after the last one scanned.
    /// </summary>
    public long CopyTo(List<StreamEvent> output, long from, int maxEvents, long maxBytes, string? topic)
    {
        var index = (int)(from - FirstSequence);
        long bytes = 0;
        var next = from;
        for (var scanned = 0; index < _count && scanned < maxEvents; index++, scanned++)
        {
            var streamEvent = this[index];
            if (topic is null || streamEvent.Stream == topic)
            {
                if (output.Count > 0 && bytes + streamEvent.Json.Length > maxBytes)
                {
                    break;
                }

                output.Add(streamEvent);
                bytes += streamEvent.Json.Length;
            }

            next = streamEvent.BrokerSequence + 1;
        }

        return next;
    }

    private void RemoveFirst()
    {
        _bytes -= _ring[_start].Json.Length;
        _ring[_start] = null!;
        _start = (_start + 1) % _ring.Length;
        _count--;
    }

    private void Grow()
    {
        var capacity = Math.Min(maxEvents, Math.Max(4, _ring.Length * 2));
        var grown = new StreamEvent[capacity];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = this[i];
        }

        _ring = grown;
        _start = 0;
    }
}
