using Microsoft.Extensions.Time.Testing;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;
using StreamingEvents.LivePush;

namespace StreamingEvents.Tests.LivePush;

public sealed class LivePushCacheTests
{
    private static readonly StreamId A = StreamId.Create("se.exec", "default/a");
    private static readonly StreamId B = StreamId.Create("se.exec", "default/b");

    private readonly FakeTimeProvider _time = new();
    private long _token;

    [Fact]
    public void A_cursor_from_a_token_gives_that_streams_batches_from_it_in_order()
    {
        var cache = Cache();
        cache.AddToCache([Batch(A), Batch(B), Batch(A), Batch(B), Batch(A)]);

        var cursor = Cursor(cache, A, new EventSequenceTokenV2(1));

        Assert.Equal([1, 3, 5], Drain(cursor));
    }

    [Fact]
    public void A_cursor_finds_batches_added_after_it_ran_dry()
    {
        var cache = Cache();
        cache.AddToCache([Batch(A)]);
        var cursor = Cursor(cache, A, new EventSequenceTokenV2(1));
        Assert.Equal([1], Drain(cursor));

        cache.AddToCache([Batch(B), Batch(A)]);

        Assert.Equal([3], Drain(cursor));
    }

    [Fact]
    public void A_cursor_without_a_token_starts_at_the_streams_newest_batch()
    {
        var cache = Cache();
        cache.AddToCache([Batch(A), Batch(A), Batch(B)]);

        Assert.Equal([2], Drain(Cursor(cache, A, null)));
        Assert.Empty(Drain(Cursor(cache, StreamId.Create("se.exec", "default/none"), null)));
    }

    [Fact]
    public void A_cursor_for_a_stream_not_seen_yet_gets_its_first_batch()
    {
        var cache = Cache();
        cache.AddToCache([Batch(B)]);
        var cursor = Cursor(cache, A, null);

        cache.AddToCache([Batch(A)]);

        Assert.Equal([2], Drain(cursor));
    }

    [Fact]
    public void The_byte_bound_evicts_the_oldest_batches_and_a_lagging_cursor_skips_them()
    {
        var cache = Cache(maxBytes: 2_000_000);
        var lagging = Cursor(cache, A, new EventSequenceTokenV2(1));
        for (var i = 0; i < 5; i++)
        {
            cache.AddToCache([Batch(A, bytes: 600_000)]);
        }

        Assert.InRange(cache.Bytes, 0, 2_000_000);
        Assert.Equal([3, 4, 5], Drain(lagging));
        Assert.False(cache.IsUnderPressure());
    }

    [Fact]
    public void Batches_older_than_the_cache_time_are_evicted_and_empty_streams_forgotten()
    {
        var cache = Cache();
        cache.AddToCache([Batch(A), Batch(B)]);
        Assert.Equal(2, cache.StreamCount);

        _time.Advance(TimeSpan.FromSeconds(11));
        cache.TryPurgeFromCache(out _);

        Assert.Equal(0, cache.StreamCount);
        Assert.Equal(0, cache.Bytes);
        Assert.Empty(Drain(Cursor(cache, A, new EventSequenceTokenV2(0))));
    }

    [Fact]
    public void The_cache_never_holds_the_queue_back()
    {
        var cache = Cache(maxBytes: 1_100_000);
        _ = Cursor(cache, A, new EventSequenceTokenV2(1));
        for (var i = 0; i < 100; i++)
        {
            cache.AddToCache([Batch(A, bytes: 100_000)]);
            Assert.False(cache.IsUnderPressure());
        }

        Assert.Equal(512, cache.GetMaxAddCount());
    }

    private LivePushCache Cache(long maxBytes = 8_000_000) =>
        new(new LivePushOptions { MaxCacheBytes = maxBytes, CacheTime = TimeSpan.FromSeconds(10) }, _time);

    private LivePushBatch Batch(StreamId stream, long bytes = 100) =>
        new(stream, [stream.ToString()], new EventSequenceTokenV2(++_token), bytes);

    private static IQueueCacheCursor Cursor(LivePushCache cache, StreamId stream, StreamSequenceToken? token)
    {
        var result = cache.TryGetCacheCursor(stream, token);
        Assert.Equal(QueueCacheCursorResultKind.Success, result.Kind);
        return result.Cursor!;
    }

    private static List<long> Drain(IQueueCacheCursor cursor)
    {
        var tokens = new List<long>();
        while (cursor.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success)
        {
            tokens.Add(cursor.GetCurrent(out _)!.SequenceToken.SequenceNumber);
        }

        return tokens;
    }
}
