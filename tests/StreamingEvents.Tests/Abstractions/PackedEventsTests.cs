using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using StreamingEvents.Contracts;

namespace StreamingEvents.Tests.Abstractions;

/// <summary>Pages and push batches cross the wire packed; what arrives is what was sent, field by field.</summary>
public sealed class PackedEventsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void A_page_of_interleaved_tasks_round_trips_every_field()
    {
        // Two tasks interleaved (one from a workflow, one from an activity), a topic filter's gap, every encoding.
        string[] topics = ["token", "progress"];
        var events = new[]
        {
            Event(7, topics[0], "task-a", EventType.CustomTaskStarted, PayloadEncoding.Json, "{\"a\":1}"),
            Event(8, topics[1], "task-b", EventType.CustomTaskStarted, PayloadEncoding.Json, "{\"b\":\"ü\"}", "llm", "act-1"),
            Event(9, topics[0], "task-a", EventType.CustomTaskInProgress, PayloadEncoding.JsonPatch, "[{\"op\":\"add\"}]"),
            Event(12, topics[1], "task-b", EventType.CustomTaskFailed, PayloadEncoding.None, "{}", "llm", "act-1"),
            Event(13, topics[0], "task-a", EventType.CustomTaskCompleted, PayloadEncoding.Json, new string('x', 70_000)),
        };
        var page = new EventPage(events, NextSequence: 14, Head: 20, OldestRetained: 3);

        var copy = RoundTrip(page);

        Assert.Equal((14, 20, 3), (copy.NextSequence, copy.Head, copy.OldestRetained));
        AssertSameEvents(events, copy.Events);
    }

    [Fact]
    public void An_empty_page_and_a_batch_that_stands_for_more_than_it_carries_round_trip()
    {
        var empty = RoundTrip(new EventPage([], 5, 4, 1));
        Assert.Empty(empty.Events);
        Assert.True(empty.ReachedHead);

        var events = new[] { Event(3, "token", "task-a", EventType.CustomTaskInProgress, PayloadEncoding.Json, "1") };
        var batch = RoundTrip(new StreamEventBatch(events, Through: 9));
        Assert.Equal(9, batch.Through);
        AssertSameEvents(events, batch.Events);
    }

    [Fact]
    public void A_task_seen_again_after_others_is_named_once()
    {
        var events = Enumerable.Range(1, 30)
            .Select(n => Event(n, "token", $"task-{n % 3}", EventType.CustomTaskInProgress, PayloadEncoding.Json, n.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();

        var packed = PackedEvents.Pack(events);

        Assert.Equal(3 * 4, packed.Names.Length);
        AssertSameEvents(events, packed.Unpack());
    }

    [Fact]
    public void Envelopes_fill_chunks_below_the_large_object_heap_and_a_larger_one_gets_its_own()
    {
        int[] sizes = [30_000, 30_000, 30_000, 100_000, 10];
        var events = sizes
            .Select((size, n) => Event(n + 1, "token", "task-a", EventType.CustomTaskInProgress, PayloadEncoding.Json, new string('x', size)))
            .ToArray();

        var packed = PackedEvents.Pack(events);

        int[] chunks = [60_000, 30_000, 100_000, 10];
        Assert.Equal(chunks, packed.Chunks.Select(chunk => chunk.Length));
        AssertSameEvents(events, RoundTrip(new EventPage(events, 6, 5, 1)).Events);
    }

    [Fact]
    public void Packed_events_whose_index_does_not_describe_their_chunks_are_refused()
    {
        var packed = PackedEvents.Pack([Event(1, "token", "task-a", EventType.CustomTaskStarted, PayloadEncoding.Json, "{\"a\":1}")]);

        Assert.Throws<InvalidDataException>(() => new PackedEvents([packed.Chunks[0][..^1]], packed.Index, packed.Names).Unpack());
        Assert.Throws<InvalidDataException>(() => new PackedEvents([[.. packed.Chunks[0], 0]], packed.Index, packed.Names).Unpack());
        Assert.Throws<InvalidDataException>(() => new PackedEvents([.. packed.Chunks, [0]], packed.Index, packed.Names).Unpack());
        Assert.Throws<InvalidDataException>(() => new PackedEvents([], packed.Index, packed.Names).Unpack());
        Assert.Throws<InvalidDataException>(() => new PackedEvents(packed.Chunks, packed.Index[..^1], packed.Names).Unpack());
        Assert.Throws<InvalidDataException>(() => new PackedEvents(packed.Chunks, packed.Index, [null, "task-a", null, null]).Unpack());
    }

    private T RoundTrip<T>(T value) => Serializer.Deserialize<T>(Serializer.SerializeToArray(value)) ?? throw new InvalidOperationException("Deserialized to null.");

    private static StreamEvent Event(long sequence, string topic, string taskId, EventType type, PayloadEncoding encoding, string json,
        string? activityName = null, string? activityId = null) =>
        new(sequence, topic, taskId, type, 1_700_000_000_000_000_000 + sequence, Encoding.UTF8.GetBytes(json), activityName, activityId, encoding);

    private static void AssertSameEvents(StreamEvent[] expected, StreamEvent[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.Equal(
                (e.BrokerSequence, e.Stream, e.TaskId, e.EventType, e.TimestampUnixNanoseconds, e.ActivityName, e.ActivityId, e.Encoding),
                (a.BrokerSequence, a.Stream, a.TaskId, a.EventType, a.TimestampUnixNanoseconds, a.ActivityName, a.ActivityId, a.Encoding));
            Assert.Equal(e.JsonText, a.JsonText);
        }
    }
}
