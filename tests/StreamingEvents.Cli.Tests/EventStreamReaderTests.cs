using System.Text;
using StreamingEvents.Cli.Http;
using StreamingEvents.Testing;

namespace StreamingEvents.Cli.Tests;

/// <summary>The tool's SSE parser follows the WHATWG event-stream rules, whatever the sizes of the reads.</summary>
public sealed class EventStreamReaderTests
{
    public static TheoryData<int> ChunkSizes => [1, 2, 3, 7, 4096];

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task Lines_end_at_CR_LF_or_CRLF_even_when_a_CRLF_is_split_between_two_reads(int chunk)
    {
        var records = await ParseAsync("data: a\r\ndata: b\rdata: c\n\r\nid: 7\revent: x\r\ndata: d\r\r", chunk);

        Assert.Equal([new SseEvent("message", "a\nb\nc", null), new SseEvent("x", "d", "7")], records);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task Several_data_lines_join_with_LF_and_only_one_leading_space_is_removed(int chunk)
    {
        var records = await ParseAsync("data:  two spaces\ndata:none\ndata\ndata: {\"a\":\ndata: 1}\n\n", chunk);

        Assert.Equal(" two spaces\nnone\n\n{\"a\":\n1}", Assert.Single(records).Data);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task Comments_are_ignored_and_a_record_without_data_is_not_dispatched(int chunk)
    {
        var reader = Reader(": connected\n\n: keep-alive\nevent: lonely\n\n:\ndata: 1\n\n", chunk);

        var records = await ReadAllAsync(reader);

        Assert.Equal([new SseEvent("message", "1", null)], records);
        Assert.Equal(3, reader.Comments);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task Retry_sets_the_reconnect_delay_only_when_it_is_all_ascii_digits(int chunk)
    {
        var reader = Reader("retry: 2500\n\nretry: 12a\nretry:\nretry: -1\ndata: x\n\n", chunk);

        var records = await ReadAllAsync(reader);

        Assert.Equal(2500, reader.RetryMilliseconds);
        Assert.Equal("x", Assert.Single(records).Data);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task The_id_persists_across_records_and_an_id_with_NUL_is_ignored(int chunk)
    {
        var records = await ParseAsync("id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n", chunk);

        Assert.Equal(["1", "1", "1", ""], records.Select(r => r.LastEventId));
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task A_leading_BOM_is_skipped_and_UTF8_split_across_reads_is_decoded(int chunk)
    {
        var records = await ParseAsync("\uFEFFdata: héllo 😀 — 東京\n\n", chunk);

        Assert.Equal("héllo 😀 — 東京", Assert.Single(records).Data);
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task An_incomplete_record_at_the_end_of_the_stream_is_discarded(int chunk)
    {
        Assert.Equal(["1"], (await ParseAsync("data: 1\n\ndata: 2\n", chunk)).Select(r => r.Data));
        Assert.Equal(["1"], (await ParseAsync("data: 1\n\ndata: 2", chunk)).Select(r => r.Data));
    }

    [Fact]
    public async Task A_stream_silent_for_longer_than_the_idle_timeout_fails_with_a_timeout()
    {
        await using var silent = new SilentStream();
        var reader = new EventStreamReader(silent, TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAsync<TimeoutException>(async () => await reader.ReadAsync(Bounded.Token()));
    }

    private static async Task<List<SseEvent>> ParseAsync(string text, int chunk) => await ReadAllAsync(Reader(text, chunk));

    private static EventStreamReader Reader(string text, int chunk) => new(new ChunkedStream(Encoding.UTF8.GetBytes(text), chunk));

    private static async Task<List<SseEvent>> ReadAllAsync(EventStreamReader reader)
    {
        var records = new List<SseEvent>();
        while (await reader.ReadAsync(Bounded.Token()) is { } record)
        {
            records.Add(record);
        }

        return records;
    }

    /// <summary>Gives its bytes at most <c>chunk</c> at a time, as a network might.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }

    /// <summary>A connection on which nothing arrives.</summary>
    private sealed class SilentStream : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }
}
