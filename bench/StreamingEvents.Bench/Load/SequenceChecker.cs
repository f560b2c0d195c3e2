namespace StreamingEvents.Bench.Load;

/// <summary>
/// Checks one subscriber's deliveries against the ordering guarantee: from its start position, each event is the
/// previous one + 1. A number skipped is a gap, a number delivered again a duplicate, a skipped number that arrives
/// later out of order. Called from the subscriber's single delivery loop.
/// </summary>
internal sealed class SequenceChecker(long first)
{
    private readonly HashSet<long> _holes = [];

    /// <summary>The next sequence expected; every lower one from the start was delivered (or counted as a gap).</summary>
    public long Next { get; private set; } = first;

    public long Delivered { get; private set; }

    public long Duplicates { get; private set; }

    public long OutOfOrder { get; private set; }

    /// <summary>Numbers skipped and not delivered since.</summary>
    public long Gaps => _holes.Count + _uncountedHoles;

    private long _uncountedHoles;

    public void Observe(long sequence)
    {
        Delivered++;
        if (sequence == Next)
        {
            Next++;
        }
        else if (sequence > Next)
        {
            if (sequence - Next <= 10_000)
            {
                for (var s = Next; s < sequence; s++)
                {
                    _holes.Add(s);
                }
            }
            else
            {
                _uncountedHoles += sequence - Next;
            }

            Next = sequence + 1;
        }
        else if (_holes.Remove(sequence))
        {
            OutOfOrder++;
        }
        else
        {
            Duplicates++;
        }
    }
}

/// <summary>Correctness counters of a run, summed over its subscribers and publishers; all must be 0.</summary>
internal sealed class CorrectnessCounters
{
    private long _gaps;
    private long _duplicates;
    private long _outOfOrder;
    private long _ackMismatches;

    public long Gaps => Interlocked.Read(ref _gaps);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>An acknowledgement whose sequence is not the one the publisher's order implies.</summary>
    public long AckMismatches => Interlocked.Read(ref _ackMismatches);

    public bool Clean => Gaps == 0 && Duplicates == 0 && OutOfOrder == 0 && AckMismatches == 0;

    public void Add(SequenceChecker checker)
    {
        Interlocked.Add(ref _gaps, checker.Gaps);
        Interlocked.Add(ref _duplicates, checker.Duplicates);
        Interlocked.Add(ref _outOfOrder, checker.OutOfOrder);
    }

    public void AddGaps(long gaps) => Interlocked.Add(ref _gaps, gaps);

    public void AckMismatch() => Interlocked.Increment(ref _ackMismatches);

    public override string ToString() => $"gaps {Gaps}, duplicates {Duplicates}, out-of-order {OutOfOrder}, ack mismatches {AckMismatches}";
}
