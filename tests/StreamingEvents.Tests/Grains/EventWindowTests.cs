using System.Text;

namespace StreamingEvents.Tests.Grains;

public sealed class EventWindowTests
{
    [Fact]
    public void An_empty_window_contains_nothing()
    {
        var window = new EventWindow(10, 1000);

        Assert.Equal(0, window.Count);
        Assert.Equal(0, window.Bytes);
        Assert.False(window.Contains(0));
        Assert.False(window.Contains(1));
    }

    [Fact]
    public void Contiguous_events_are_kept_in_order()
    {
        var window = new EventWindow(10, 10_000);

        AppendRange(window, 5, 9);

        Assert.Equal(5, window.Count);
        Assert.Equal(5, window.FirstSequence);
        Assert.Equal(9, window.LastSequence);
        Assert.Equal(5 * Size, window.Bytes);
        Assert.False(window.Contains(4));
        Assert.True(window.Contains(5));
        Assert.True(window.Contains(9));
        Assert.False(window.Contains(10));
        Assert.Equal(Sequences(5, 9), CopyAll(window, 5));
    }

    [Fact]
    public void The_count_bound_drops_the_oldest_events()
    {
        var window = new EventWindow(4, 1_000_000);

        AppendRange(window, 1, 11);

        Assert.Equal(4, window.Count);
        Assert.Equal(8, window.FirstSequence);
        Assert.Equal(11, window.LastSequence);
        Assert.Equal(4 * Size, window.Bytes);
        Assert.Equal(Sequences(8, 11), CopyAll(window, 8));
    }

    [Fact]
    public void The_byte_bound_drops_the_oldest_events()
    {
        var window = new EventWindow(100, 3 * Size);

        AppendRange(window, 1, 10);

        Assert.Equal(3, window.Count);
        Assert.Equal(3 * Size, window.Bytes);
        Assert.Equal(Sequences(8, 10), CopyAll(window, 8));
    }

    [Fact]
    public void An_event_larger_than_the_byte_bound_replaces_everything_and_is_kept_alone()
    {
        var window = new EventWindow(100, 3 * Size);
        AppendRange(window, 1, 3);

        window.Append(Event(4, payloadBytes: 10 * Size));

        Assert.Equal(1, window.Count);
        Assert.Equal(4, window.FirstSequence);
        Assert.True(window.Bytes > 3 * Size);
        window.Append(Event(5));
        Assert.Equal(Sequences(5, 5), CopyAll(window, 5));
        Assert.Equal(Size, window.Bytes);
    }

    [Fact]
    public void Bytes_follow_the_events_held_as_the_ring_wraps_and_grows()
    {
        var window = new EventWindow(6, 1_000_000);
        var sizes = new Dictionary<long, int>();

        for (long sequence = 1; sequence <= 50; sequence++)
        {
            var streamEvent = Event(sequence, payloadBytes: (int)(sequence % 7) * 3);
            sizes[sequence] = streamEvent.Json.Length;
            window.Append(streamEvent);
            var first = Math.Max(1, sequence - 5);
            Assert.Equal(Enumerable.Range((int)first, (int)(sequence - first + 1)).Sum(s => sizes[s]), window.Bytes);
            Assert.Equal(Sequences(first, sequence), CopyAll(window, first));
        }
    }

    [Fact]
    public void A_non_contiguous_append_restarts_the_window_so_it_never_holds_a_gap()
    {
        var window = new EventWindow(10, 1_000_000);
        AppendRange(window, 1, 5);

        window.Append(Event(8));

        Assert.Equal(1, window.Count);
        Assert.Equal(8, window.FirstSequence);
        Assert.Equal(Size, window.Bytes);
        Assert.False(window.Contains(5));
        AppendRange(window, 9, 10);
        Assert.Equal(Sequences(8, 10), CopyAll(window, 8));
    }

    [Fact]
    public void Appending_an_older_sequence_also_restarts_the_window()
    {
        var window = new EventWindow(10, 1_000_000);
        AppendRange(window, 1, 5);

        window.Append(Event(3));

        Assert.Equal(1, window.Count);
        Assert.Equal(3, window.FirstSequence);
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(10, 0)]
    public void A_window_with_a_zero_bound_keeps_nothing(int maxEvents, long maxBytes)
    {
        var window = new EventWindow(maxEvents, maxBytes);

        AppendRange(window, 1, 3);

        Assert.Equal(0, window.Count);
        Assert.False(window.Contains(1));
    }

    [Fact]
    public void A_window_of_one_event_keeps_the_newest()
    {
        var window = new EventWindow(1, 1_000_000);

        AppendRange(window, 1, 5);

        Assert.Equal(1, window.Count);
        Assert.Equal(Sequences(5, 5), CopyAll(window, 5));
    }

    [Fact]
    public void Drop_before_removes_the_events_below_a_sequence()
    {
        var window = new EventWindow(10, 1_000_000);
        AppendRange(window, 1, 6);

        window.DropBefore(4);

        Assert.Equal(3, window.Count);
        Assert.Equal(3 * Size, window.Bytes);
        Assert.False(window.Contains(3));
        Assert.Equal(Sequences(4, 6), CopyAll(window, 4));

        window.DropBefore(100);
        Assert.Equal(0, window.Count);
        Assert.Equal(0, window.Bytes);
    }

    [Fact]
    public void Clear_empties_the_window()
    {
        var window = new EventWindow(10, 1_000_000);
        AppendRange(window, 1, 3);

        window.Clear();
        window.Append(Event(20));

        Assert.Equal(1, window.Count);
        Assert.Equal(20, window.FirstSequence);
    }

    [Fact]
    public void Copy_to_starts_at_the_given_sequence_and_returns_the_next_one()
    {
        var window = new EventWindow(100, 1_000_000);
        AppendRange(window, 10, 19);
        var output = new List<StreamEvent>();

        var next = window.CopyTo(output, 14, maxEvents: 100, maxBytes: long.MaxValue, topic: null);

        Assert.Equal(Sequences(14, 19), output.Select(e => e.BrokerSequence));
        Assert.Equal(20, next);
    }

    [Fact]
    public void Copy_to_scans_at_most_max_events()
    {
        var window = new EventWindow(100, 1_000_000);
        AppendRange(window, 1, 10);
        var output = new List<StreamEvent>();

        var next = window.CopyTo(output, 3, maxEvents: 4, maxBytes: long.MaxValue, topic: null);

        Assert.Equal(Sequences(3, 6), output.Select(e => e.BrokerSequence));
        Assert.Equal(7, next);
    }

    [Fact]
    public void Copy_to_stops_before_the_event_that_would_pass_max_bytes()
    {
        var window = new EventWindow(100, 1_000_000);
        AppendRange(window, 1, 10);
        var output = new List<StreamEvent>();

        var next = window.CopyTo(output, 1, maxEvents: 100, maxBytes: (3 * Size) + (Size / 2), topic: null);

        Assert.Equal(Sequences(1, 3), output.Select(e => e.BrokerSequence));
        Assert.Equal(4, next);
    }

    [Fact]
    public void Copy_to_always_returns_at_least_one_event_even_past_max_bytes()
    {
        var window = new EventWindow(100, 1_000_000);
        window.Append(Event(1, payloadBytes: 5000));
        window.Append(Event(2));
        var output = new List<StreamEvent>();

        var next = window.CopyTo(output, 1, maxEvents: 100, maxBytes: 10, topic: null);

        Assert.Equal([1L], output.Select(e => e.BrokerSequence));
        Assert.Equal(2, next);
    }

    [Fact]
    public void Copy_to_with_a_topic_skips_other_topics_but_advances_past_them()
    {
        var window = new EventWindow(100, 1_000_000);
        for (long sequence = 1; sequence <= 10; sequence++)
        {
            window.Append(Event(sequence, topic: sequence % 3 == 0 ? "progress" : "token"));
        }

        var output = new List<StreamEvent>();
        var next = window.CopyTo(output, 2, maxEvents: 5, maxBytes: long.MaxValue, topic: "progress");

        Assert.Equal([3L, 6L], output.Select(e => e.BrokerSequence));
        Assert.Equal(7, next);

        output.Clear();
        next = window.CopyTo(output, 7, maxEvents: 100, maxBytes: long.MaxValue, topic: "progress");
        Assert.Equal([9L], output.Select(e => e.BrokerSequence));
        Assert.Equal(11, next);
    }

    [Fact]
    public void Copy_to_with_a_topic_that_matches_nothing_still_moves_the_next_sequence()
    {
        var window = new EventWindow(100, 1_000_000);
        AppendRange(window, 1, 5);
        var output = new List<StreamEvent>();

        var next = window.CopyTo(output, 1, maxEvents: 100, maxBytes: long.MaxValue, topic: "nothing");

        Assert.Empty(output);
        Assert.Equal(6, next);
    }

    [Fact]
    public void The_byte_bound_of_copy_to_counts_only_the_returned_topic()
    {
        var window = new EventWindow(100, 1_000_000);
        for (long sequence = 1; sequence <= 6; sequence++)
        {
            window.Append(Event(sequence, topic: sequence % 2 == 0 ? "big" : "small", payloadBytes: sequence % 2 == 0 ? 1000 : 0));
        }

        var output = new List<StreamEvent>();
        var next = window.CopyTo(output, 1, maxEvents: 100, maxBytes: 3 * Size, topic: "small");

        Assert.Equal([1L, 3L, 5L], output.Select(e => e.BrokerSequence));
        Assert.Equal(7, next);
    }

    private const int Size = 42;

    private static StreamEvent Event(long sequence, string topic = "token", int payloadBytes = 0)
    {
        // Every default event is exactly Size bytes, so byte bounds can be stated in events.
        var json = Encoding.UTF8.GetBytes($"{{\"seq\":{sequence,12},\"pad\":\"{new string('x', 13 + payloadBytes)}\"}}");
        return new StreamEvent(sequence, topic, "task", EventType.CustomTaskInProgress, sequence, json);
    }

    private static void AppendRange(EventWindow window, long first, long last)
    {
        for (var sequence = first; sequence <= last; sequence++)
        {
            window.Append(Event(sequence));
        }
    }

    private static List<long> CopyAll(EventWindow window, long from)
    {
        var output = new List<StreamEvent>();
        window.CopyTo(output, from, int.MaxValue, long.MaxValue, topic: null);
        return [.. output.Select(e => e.BrokerSequence)];
    }

    private static IEnumerable<long> Sequences(long first, long last)
    {
        for (var sequence = first; sequence <= last; sequence++)
        {
            yield return sequence;
        }
    }
}
