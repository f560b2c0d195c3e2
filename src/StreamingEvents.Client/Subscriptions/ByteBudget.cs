namespace StreamingEvents.Subscriptions;

/// <summary>
/// Bytes that several live buffers share (those of one subscription over many executions): a buffer takes its batch's
/// bytes from it and gives them back when the batch is taken or dropped. A buffer that finds it spent overflows, as when
/// its own bound is reached.
/// </summary>
internal sealed class ByteBudget(long capacity)
{
    private long _used;

    public long Capacity => capacity;

    public long Used => Interlocked.Read(ref _used);

    /// <summary>Takes <paramref name="bytes"/> if they fit; otherwise takes nothing.</summary>
    public bool TryTake(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= capacity)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Return(long bytes) => Interlocked.Add(ref _used, -bytes);
}
