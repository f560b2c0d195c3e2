using System.Globalization;

namespace StreamingEvents;

/// <summary>
/// Where a subscription starts in an execution's stream: a <c>broker_sequence</c> (inclusive), the oldest retained
/// event (<see cref="Start"/>) or the next event to be published (<see cref="Live"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("se.StreamPosition")]
public readonly record struct StreamPosition : IComparable<StreamPosition>
{
    private const long LiveValue = -1;

    [Id(0)]
    private readonly long _value;

    private StreamPosition(long value) => _value = value;

    /// <summary>The oldest event still retained (<c>start_seq = 0</c>).</summary>
    public static StreamPosition Start => new(0);

    /// <summary>Only events published after the subscription starts.</summary>
    public static StreamPosition Live => new(LiveValue);

    /// <summary>Whether this is <see cref="Start"/>.</summary>
    public bool IsStart => _value == 0;

    /// <summary>Whether this is <see cref="Live"/>.</summary>
    public bool IsLive => _value == LiveValue;

    /// <summary>The inclusive <c>broker_sequence</c> to start from; 0 for <see cref="Start"/>.</summary>
    /// <exception cref="InvalidOperationException">This is <see cref="Live"/>.</exception>
    public long Sequence => IsLive ? throw new InvalidOperationException("The live position has no sequence number.") : _value;

    /// <summary>The position of <paramref name="brokerSequence"/>, inclusive.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerSequence"/> is negative.</exception>
    public static StreamPosition FromSequence(long brokerSequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(brokerSequence);
        return new StreamPosition(brokerSequence);
    }

    /// <summary>The position right after <paramref name="brokerSequence"/>: the resume point after a delivered event.</summary>
    public static StreamPosition After(long brokerSequence) => FromSequence(checked(brokerSequence + 1));

    /// <inheritdoc/>
    /// <remarks><see cref="Live"/> orders after every sequence: it is the next event to be published.</remarks>
    public int CompareTo(StreamPosition other) => OrderValue.CompareTo(other.OrderValue);

    private long OrderValue => IsLive ? long.MaxValue : _value;

    /// <summary>Orders positions by sequence.</summary>
    public static bool operator <(StreamPosition left, StreamPosition right) => left.CompareTo(right) < 0;

    /// <summary>Orders positions by sequence.</summary>
    public static bool operator >(StreamPosition left, StreamPosition right) => left.CompareTo(right) > 0;

    /// <summary>Orders positions by sequence.</summary>
    public static bool operator <=(StreamPosition left, StreamPosition right) => left.CompareTo(right) <= 0;

    /// <summary>Orders positions by sequence.</summary>
    public static bool operator >=(StreamPosition left, StreamPosition right) => left.CompareTo(right) >= 0;

    /// <inheritdoc/>
    public override string ToString() => IsLive ? "live" : _value.ToString(CultureInfo.InvariantCulture);
}
