using StreamingEvents.Storage;

namespace StreamingEvents;

/// <summary>
/// The task rows a stream renders its events with: every open task (few, and in use by every append), and the closed
/// tasks used most recently, bounded in bytes. A closed task that fell out is read again from storage when an event of
/// it is rendered, so a stream with a long history of tasks holds only what its readers use now.
/// </summary>
internal sealed class TaskCache(long maxClosedBytes)
{
    /// <summary>What a cached row costs besides its strings and metadata (objects, dictionary and list entries).</summary>
    private const long EntryOverheadBytes = 256;

    private readonly Dictionary<int, StoredTask> _open = [];
    private readonly Dictionary<int, LinkedListNode<(StoredTask Task, long Bytes)>> _closed = [];

    /// <summary>Closed tasks, least recently used first.</summary>
    private readonly LinkedList<(StoredTask Task, long Bytes)> _recency = new();

    /// <summary>The estimated bytes of the closed tasks held.</summary>
    public long ClosedBytes { get; private set; }

    public int Count => _open.Count + _closed.Count;

    public bool TryGet(int taskNo, out StoredTask task)
    {
        if (_open.TryGetValue(taskNo, out task!))
        {
            return true;
        }

        if (_closed.TryGetValue(taskNo, out var node))
        {
            _recency.Remove(node);
            _recency.AddLast(node);
            task = node.Value.Task;
            return true;
        }

        return false;
    }

    /// <summary>Adds or replaces a task's row; closing it makes it evictable.</summary>
    public void Set(StoredTask task)
    {
        RemoveClosed(task.TaskNo);
        if (task.Status == CustomTaskStatus.Running)
        {
            _open[task.TaskNo] = task;
            return;
        }

        _open.Remove(task.TaskNo);
        var bytes = SizeOf(task);
        _closed[task.TaskNo] = _recency.AddLast((task, bytes));
        ClosedBytes += bytes;

        // The row just added stays, even alone over the bound: the caller is about to use it.
        while (ClosedBytes > maxClosedBytes && _recency.First is { } oldest && oldest.Value.Task.TaskNo != task.TaskNo)
        {
            RemoveClosed(oldest.Value.Task.TaskNo);
        }
    }

    public void Clear()
    {
        _open.Clear();
        _closed.Clear();
        _recency.Clear();
        ClosedBytes = 0;
    }

    internal static long SizeOf(StoredTask task) =>
        EntryOverheadBytes + (task.Metadata?.Length ?? 0) + sizeof(char) * (long)(task.TaskId.Length + task.Topic.Length + task.WorkflowRunId.Length
            + (task.ActivityName?.Length ?? 0) + (task.ActivityId?.Length ?? 0) + (task.ProducerId?.Length ?? 0));

    private void RemoveClosed(int taskNo)
    {
        if (_closed.Remove(taskNo, out var node))
        {
            _recency.Remove(node);
            ClosedBytes -= node.Value.Bytes;
        }
    }
}
