using StreamingEvents.Contracts;

namespace StreamingEvents.Tests.Fakes;

/// <summary>
/// A task grain in memory: numbers accepted events contiguously, records every call, and lets a test hold a call
/// (<see cref="HoldUpdate"/>) or make it fail (<see cref="FailUpdate"/>, <see cref="FailFinish"/>).
/// </summary>
internal sealed class FakeTaskGrain : ITaskGrain
{
    private readonly Lock _gate = new();
    private readonly List<TaskEventDraft[]> _updateCalls = [];
    private readonly List<TaskEventDraft> _finishCalls = [];
    private readonly List<TaskEventDraft> _published = [];
    private long _head;

    public FakeTaskGrain(long startedSequence = 1) => _head = startedSequence;

    /// <summary>Awaited by update call number n (from 0) before it is numbered.</summary>
    public Func<int, Task>? HoldUpdate { get; set; }

    /// <summary>The error, if any, that update call number n (from 0) fails with; nothing is numbered then.</summary>
    public Func<int, TaskEventDraft[], Exception?>? FailUpdate { get; set; }

    /// <summary>The error, if any, that finish call number n (from 0) fails with; nothing is numbered then.</summary>
    public Func<int, TaskEventDraft, Exception?>? FailFinish { get; set; }

    public List<TaskEventDraft[]> UpdateCalls
    {
        get
        {
            lock (_gate)
            {
                return [.. _updateCalls];
            }
        }
    }

    public List<TaskEventDraft> FinishCalls
    {
        get
        {
            lock (_gate)
            {
                return [.. _finishCalls];
            }
        }
    }

    /// <summary>Every event numbered, in order: the stream as a subscriber would see it.</summary>
    public List<TaskEventDraft> Published
    {
        get
        {
            lock (_gate)
            {
                return [.. _published];
            }
        }
    }

    public Task<TaskStarted> StartAsync(TaskStart start) => throw new NotSupportedException("Handles are made for started tasks.");

    public async Task<AppendReceipt> UpdateAsync(TaskEventDraft[] updates)
    {
        int call;
        lock (_gate)
        {
            call = _updateCalls.Count;
            _updateCalls.Add(updates);
        }

        if (HoldUpdate is { } hold)
        {
            await hold(call);
        }

        if (FailUpdate?.Invoke(call, updates) is { } failure)
        {
            throw failure;
        }

        return Number(updates);
    }

    public Task<AppendReceipt> FinishAsync(TaskEventDraft terminal)
    {
        int call;
        lock (_gate)
        {
            call = _finishCalls.Count;
            _finishCalls.Add(terminal);
        }

        return FailFinish?.Invoke(call, terminal) is { } failure ? Task.FromException<AppendReceipt>(failure) : Task.FromResult(Number([terminal]));
    }

    public Task<TaskInfo> GetInfoAsync() => throw new NotSupportedException();

    public Task<byte[]?> GetStateAsync() => throw new NotSupportedException();

    private AppendReceipt Number(TaskEventDraft[] drafts)
    {
        lock (_gate)
        {
            var first = _head + 1;
            _head += drafts.Length;
            _published.AddRange(drafts);
            return new AppendReceipt(first, drafts.Length);
        }
    }
}
