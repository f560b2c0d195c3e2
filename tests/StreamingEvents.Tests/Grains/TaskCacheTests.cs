using StreamingEvents.Storage;

namespace StreamingEvents.Tests.Grains;

public sealed class TaskCacheTests
{
    [Fact]
    public void Closed_tasks_past_the_byte_bound_are_dropped_least_recently_used_first()
    {
        var size = TaskCache.SizeOf(Closed(1));
        var cache = new TaskCache(3 * size);
        cache.Set(Closed(1));
        cache.Set(Closed(2));
        cache.Set(Closed(3));
        Assert.True(cache.TryGet(1, out _));

        cache.Set(Closed(4));

        Assert.False(cache.TryGet(2, out _));
        Assert.True(cache.TryGet(1, out _));
        Assert.True(cache.TryGet(3, out _));
        Assert.True(cache.TryGet(4, out _));
        Assert.Equal(3 * size, cache.ClosedBytes);
    }

    [Fact]
    public void Open_tasks_are_never_dropped_and_count_against_the_bound_only_once_closed()
    {
        var cache = new TaskCache(0);
        for (var no = 1; no <= 100; no++)
        {
            cache.Set(Open(no));
        }

        Assert.Equal(100, cache.Count);
        Assert.Equal(0, cache.ClosedBytes);

        cache.Set(Open(1) with { Status = CustomTaskStatus.Completed, TerminalSequence = 7 });
        cache.Set(Open(2) with { Status = CustomTaskStatus.Failed, TerminalSequence = 8 });

        // The row just closed stays even alone over the bound: its caller is about to use it.
        Assert.False(cache.TryGet(1, out _));
        Assert.True(cache.TryGet(2, out var closed));
        Assert.Equal(CustomTaskStatus.Failed, closed.Status);
        Assert.Equal(99, cache.Count);
        Assert.Equal(TaskCache.SizeOf(closed), cache.ClosedBytes);
    }

    [Fact]
    public void Replacing_a_closed_row_does_not_count_it_twice_and_clear_forgets_everything()
    {
        var cache = new TaskCache(long.MaxValue);
        cache.Set(Closed(1));
        cache.Set(Closed(1));
        Assert.Equal(TaskCache.SizeOf(Closed(1)), cache.ClosedBytes);
        Assert.Equal(1, cache.Count);

        cache.Set(Open(2));
        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.ClosedBytes);
        Assert.False(cache.TryGet(1, out _));
        Assert.False(cache.TryGet(2, out _));
    }

    private static StoredTask Open(int no) => new(no, $"task-{no:D4}", "progress", "run-1", null, CustomTaskStatus.Running, no, null);

    private static StoredTask Closed(int no) => Open(no) with { Status = CustomTaskStatus.Completed, TerminalSequence = no + 1 };
}
