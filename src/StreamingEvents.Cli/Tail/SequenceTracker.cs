namespace StreamingEvents.Cli.Tail;

/// <summary>What to do with an arriving event.</summary>
internal enum Arrival
{
    /// <summary>The next one: print it.</summary>
    Next,

    /// <summary>At or below the last printed: drop it (and count it).</summary>
    Duplicate,

    /// <summary>Numbers were skipped: the guarantee is broken.</summary>
    Gap,
}

/// <summary>
/// Enforces the stream's promise on the reader's side: every event printed once, in order. Without a topic filter the
/// numbers of an execution are contiguous, so the next one must be exactly last + 1 (and the first one exactly the
/// requested start, unless the start was 0, "the oldest retained"); with a filter the topic's events are a subset of
/// the execution's numbers, so only "ascending" can be checked.
/// </summary>
internal sealed class SequenceTracker(long start, bool contiguous)
{
    /// <summary>The last broker_sequence printed; null before the first.</summary>
    public long? Last { get; private set; }

    /// <summary>The number expected next (the resume position): last + 1, or the start before anything arrived.</summary>
    public long Next => Last + 1 ?? start;

    public long Duplicates { get; private set; }

    public long Accepted { get; private set; }

    /// <summary>For a gap: the number that was expected.</summary>
    public long? Expected => Last + 1 ?? (start >= 1 ? start : null);

    public Arrival Offer(long sequence)
    {
        if (Last is { } last && sequence <= last)
        {
            Duplicates++;
            return Arrival.Duplicate;
        }

        if (Last is null && start >= 1 && sequence < start)
        {
            // Before the requested start (inclusive): not ours, and never printed.
            Duplicates++;
            return Arrival.Duplicate;
        }

        if (contiguous && Expected is { } expected && sequence != expected)
        {
            return Arrival.Gap;
        }

        Last = sequence;
        Accepted++;
        return Arrival.Next;
    }
}
