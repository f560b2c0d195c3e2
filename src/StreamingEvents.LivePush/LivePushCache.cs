using Orleans.Streams;

namespace StreamingEvents.LivePush;

/// <summary>
/// The pulling agent's cache of one queue: the batches of each stream, newest last, until every subscriber's cursor
/// has passed them or they are evicted — by age or, oldest first, by the byte bound. It never reports pressure: a
/// subscriber whose cursor fell behind an eviction skips the evicted batches (and reads them from storage), so a slow or
/// dead subscriber cannot hold back the queue. Used only from the agent's single-threaded scheduler.
/// </summary>
internal sealed class LivePushCache(LivePushOptions options, TimeProvider time) : IQueueCache
{
    private readonly Dictionary<StreamId, StreamBatches> _streams = [];
    private readonly Queue<(StreamBatches Stream, long AddedAt)> _arrivals = new();
    private long _bytes;
    private long _lastToken;

    public int StreamCount => _streams.Count;

    public long Bytes => _bytes;

    public int GetMaxAddCount() => options.MaxBatchesPerRead;

    public void AddToCache(IList<IBatchContainer> messages)
    {
        var now = time.GetTimestamp();
        foreach (var message in messages)
        {
            var batch = (LivePushBatch)message;
            if (!_streams.TryGetValue(batch.StreamId, out var stream))
            {
                stream = new StreamBatches(batch.StreamId);
                _streams.Add(batch.StreamId, stream);
            }

            stream.Add(batch);
            _arrivals.Enqueue((stream, now));
            _bytes += batch.Bytes;
            _lastToken = batch.Token.SequenceNumber;
        }

        Evict(now);
    }

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        Evict(time.GetTimestamp());
        purgedItems = null!;
        return false;
    }

    public bool IsUnderPressure() => false;

#pragma warning disable CS0618 // The agent asks through TryGetCacheCursor, whose default calls this.
    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token) => new Cursor(this, streamId, StartFor(streamId, token));
#pragma warning restore CS0618

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursor(StreamId streamId, StreamSequenceToken? token) =>
        QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(new Cursor(this, streamId, StartFor(streamId, token)));

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursorAtPosition(StreamId streamId, StreamSubscriptionStartPosition startPosition) =>
        QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(new Cursor(this, streamId,
            startPosition == StreamSubscriptionStartPosition.EarliestAvailable ? 0 : StartFor(streamId, null)));

    /// <summary>
    /// Where a cursor starts: at <paramref name="token"/> (inclusive), or without one at the stream's newest batch — a
    /// repeat the subscriber drops is cheaper than a miss it must read from storage.
    /// </summary>
    private long StartFor(StreamId streamId, StreamSequenceToken? token) => token is not null
        ? token.SequenceNumber
        : _streams.TryGetValue(streamId, out var stream) && stream.Count > 0 ? stream.Newest.Token.SequenceNumber : _lastToken + 1;

    private void Evict(long now)
    {
        var maxAge = (long)(options.CacheTime.TotalSeconds * time.TimestampFrequency);
        while (_arrivals.TryPeek(out var oldest) && (_bytes > options.MaxCacheBytes || now - oldest.AddedAt > maxAge))
        {
            _arrivals.Dequeue();
            var stream = oldest.Stream;
            _bytes -= stream.RemoveOldest().Bytes;
            if (stream.Count == 0 && _streams.TryGetValue(stream.StreamId, out var current) && ReferenceEquals(current, stream))
            {
                _streams.Remove(stream.StreamId);
            }
        }
    }

    private LivePushBatch? FirstAtOrAfter(StreamId streamId, long token) =>
        _streams.TryGetValue(streamId, out var stream) ? stream.FirstAtOrAfter(token) : null;

    /// <summary>One stream's cached batches in token order, oldest removed first.</summary>
    private sealed class StreamBatches(StreamId streamId)
    {
        private readonly List<LivePushBatch> _batches = [];
        private int _head;

        public StreamId StreamId => streamId;

        public int Count => _batches.Count - _head;

        public LivePushBatch Newest => _batches[^1];

        public void Add(LivePushBatch batch) => _batches.Add(batch);

        public LivePushBatch RemoveOldest()
        {
            var oldest = _batches[_head];
            _batches[_head++] = null!;
            if (_head == _batches.Count)
            {
                _batches.Clear();
                _head = 0;
            }
            else if (_head > 32 && _head > _batches.Count / 2)
            {
                _batches.RemoveRange(0, _head);
                _head = 0;
            }

            return oldest;
        }

        public LivePushBatch? FirstAtOrAfter(long token)
        {
            int low = _head, high = _batches.Count;
            while (low < high)
            {
                var middle = low + ((high - low) / 2);
                if (_batches[middle].Token.SequenceNumber < token)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low < _batches.Count ? _batches[low] : null;
        }
    }

    /// <summary>A subscriber's position in one stream: the token of the next batch it has not been given.</summary>
    private sealed class Cursor(LivePushCache cache, StreamId streamId, long next) : IQueueCacheCursor
    {
        private LivePushBatch? _current;

        public IBatchContainer? GetCurrent(out Exception? exception)
        {
            exception = null;
            return _current;
        }

#pragma warning disable CS0618 // Part of the interface; MoveNextWithResult's default calls it.
        public bool MoveNext()
#pragma warning restore CS0618
        {
            var batch = cache.FirstAtOrAfter(streamId, next);
            if (batch is null)
            {
                return false;
            }

            _current = batch;
            next = batch.Token.SequenceNumber + 1;
            return true;
        }

        public void Refresh(StreamSequenceToken token)
        {
            // Nothing to do: the cursor finds batches added after it by token, whenever they come.
        }

        public void RecordDeliveryFailure()
        {
            // A failed delivery is not repeated from here: the subscriber finds the gap and reads it from storage.
        }

        public void Dispose() => _current = null;
    }
}
