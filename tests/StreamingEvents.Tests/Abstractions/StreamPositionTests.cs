namespace StreamingEvents.Tests.Abstractions;

public sealed class StreamPositionTests
{
    [Fact]
    public void Start_is_sequence_zero_meaning_the_oldest_retained_event()
    {
        var start = StreamPosition.Start;

        Assert.True(start.IsStart);
        Assert.False(start.IsLive);
        Assert.Equal(0, start.Sequence);
        Assert.Equal(StreamPosition.FromSequence(0), start);
        Assert.Equal("0", start.ToString());
    }

    [Fact]
    public void The_default_position_is_start()
    {
        Assert.Equal(StreamPosition.Start, default);
        Assert.True(default(StreamPosition).IsStart);
    }

    [Fact]
    public void Live_has_no_sequence_number()
    {
        var live = StreamPosition.Live;

        Assert.True(live.IsLive);
        Assert.False(live.IsStart);
        Assert.Throws<InvalidOperationException>(() => live.Sequence);
        Assert.Equal("live", live.ToString());
        Assert.NotEqual(StreamPosition.Start, live);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(long.MaxValue)]
    public void From_sequence_is_inclusive_of_that_sequence(long sequence)
    {
        var position = StreamPosition.FromSequence(sequence);

        Assert.Equal(sequence, position.Sequence);
        Assert.False(position.IsLive);
        Assert.False(position.IsStart);
        Assert.Equal(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), position.ToString());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-2)]
    [InlineData(long.MinValue)]
    public void A_negative_sequence_is_refused(long sequence) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StreamPosition.FromSequence(sequence));

    [Fact]
    public void After_is_the_position_right_after_a_delivered_event()
    {
        Assert.Equal(StreamPosition.FromSequence(43), StreamPosition.After(42));
        Assert.Equal(StreamPosition.FromSequence(1), StreamPosition.After(0));
    }

    [Fact]
    public void After_refuses_what_would_be_negative_or_overflow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StreamPosition.After(-2));
        Assert.Throws<OverflowException>(() => StreamPosition.After(long.MaxValue));
    }

    [Fact]
    public void Positions_are_ordered_by_sequence()
    {
        var one = StreamPosition.FromSequence(1);
        var two = StreamPosition.FromSequence(2);

        Assert.True(one < two);
        Assert.True(two > one);
        Assert.True(one <= StreamPosition.FromSequence(1));
        Assert.True(one >= StreamPosition.FromSequence(1));
        Assert.False(two < one);
        Assert.True(StreamPosition.Start < one);
        Assert.Equal(-1, one.CompareTo(two));
        Assert.Equal(0, two.CompareTo(StreamPosition.After(1)));
        Assert.Equal(
            [StreamPosition.Start, one, two, StreamPosition.FromSequence(10)],
            new[] { StreamPosition.FromSequence(10), two, StreamPosition.Start, one }.Order());
    }
}
