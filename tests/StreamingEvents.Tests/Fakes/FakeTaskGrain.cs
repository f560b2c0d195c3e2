using StreamingEvents.Contracts;

namespace StreamingEvents.Tests.Fakes;

/// <summary>
/// A task grain in memory that stores like the real stream does: events numbered contiguously, a sequenced request
/// checked against the producer's epoch and publish sequences (a repeat answers its original numbers, a gap is refused).
/// Records every call, and lets a test hold a call (<see cref="HoldUpdate"/>), fail it before anything is stored
/// (<see cref="FailUpdate"/>, <see cref="FailFinish"/>), or store it and then lose the answer
/// (<see cref="LoseUpdateAnswer"/>, <see cref="LoseFinishAnswer"/>).
/// </summary>
internal sealed class FakeTaskGrain : ITaskGrain
{
    private readonly Lock _gate = new();
    private readonly List<TaskEventDraft[]> _updateCalls = [];
    private readonly List<PublishRequest> _requests = [];
    private readonly List<TaskEventDraft> _finishCalls = [];
    private readonly List<TaskEventDraft> _published = [];
    private readonly Dictionary<long, long> _sequenceOfPublish = [];
    private long _head;
    private long _lastPublish;
    private bool _finished;

    public FakeTaskGrain(long startedSequence = 1) => _head = startedSequence;

    /// <summary>The producer epoch requests must carry.</summary>
    public int Epoch { get; set; } = 1;

    /// <summary>Awaited by update call number n (from 0) before it is numbered.</summary>
    public Func<int, Task>? HoldUpdate { get; set; }

    /// <summary>The error, if any, that update call number n (from 0) fails with; nothing is stored then.</summary>
    public Func<int, TaskEventDraft[], Exception?>? FailUpdate { get; set; }

    /// <summary>The error, if any, that finish call number n (from 0) fails with; nothing is stored then.</summary>
    public Func<int, TaskEventDraft, Exception?>? FailFinish { get; set; }

    /// <summary>The error, if any, that update call number n throws after it was stored (its answer is lost).</summary>
    public Func<int, Exception?>? LoseUpdateAnswer { get; set; }

    /// <summary>The error, if any, that finish call number n throws after it was stored (its answer is lost).</summary>
    public Func<int, Exception?>? LoseFinishAnswer { get; set; }

    public List<TaskEventDraft[]> UpdateCalls => Locked(() => _updateCalls.ToList());

    /// <summary>Every request received (updates and terminal events), in order.</summary>
    public List<PublishRequest> Requests => Locked(() => _requests.ToList());

    public List<TaskEventDraft> FinishCalls => Locked(() => _finishCalls.ToList());

    /// <summary>Every event stored, in order: the stream as a subscriber would see it.</summary>
    public List<TaskEventDraft> Published => Locked(() => _published.ToList());

    public Task<TaskStarted> StartAsync(TaskStart start) => throw new NotSupportedException("Handles are made for started tasks.");

    public async Task<AppendReceipt> UpdateAsync(PublishRequest request)
    {
        int call;
        lock (_gate)
        {
            call = _updateCalls.Count;
            _updateCalls.Add(request.Events);
            _requests.Add(request);
        }

        if (HoldUpdate is { } hold)
        {
            await hold(call);
        }

        if (FailUpdate?.Invoke(call, request.Events) is { } failure)
        {
            throw failure;
        }

        var receipt = Store(request);
        return LoseUpdateAnswer?.Invoke(call) is { } lost ? throw lost : receipt;
    }

    public Task<AppendReceipt> FinishAsync(PublishRequest request)
    {
        int call;
        lock (_gate)
        {
            call = _finishCalls.Count;
            _finishCalls.Add(request.Events[0]);
            _requests.Add(request);
        }

        if (FailFinish?.Invoke(call, request.Events[0]) is { } failure)
        {
            return Task.FromException<AppendReceipt>(failure);
        }

        var receipt = Store(request);
        return LoseFinishAnswer?.Invoke(call) is { } lost ? Task.FromException<AppendReceipt>(lost) : Task.FromResult(receipt);
    }

    public Task<TaskInfo> GetInfoAsync() => throw new NotSupportedException();

    public Task<byte[]?> GetStateAsync() => throw new NotSupportedException();

    private AppendReceipt Store(PublishRequest request)
    {
        lock (_gate)
        {
            var first = request.IsSequenced ? request.FirstPublishSequence : _lastPublish + 1;
            if (request.IsSequenced && request.Epoch != Epoch)
            {
                throw new ProducerFencedException("t1", request.Epoch, Epoch);
            }

            if (first > _lastPublish + 1)
            {
                throw new PublishSequenceGapException("t1", _lastPublish + 1, first);
            }

            var sequences = new List<long>();
            var replayed = 0;
            for (var i = 0; i < request.Events.Length; i++)
            {
                var publish = first + i;
                if (publish <= _lastPublish)
                {
                    sequences.Add(_sequenceOfPublish[publish]);
                    replayed++;
                    continue;
                }

                if (_finished)
                {
                    throw new TaskAlreadyFinishedException("t1", CustomTaskStatus.Completed);
                }

                _sequenceOfPublish[publish] = ++_head;
                _lastPublish = publish;
                _published.Add(request.Events[i]);
                sequences.Add(_head);
                _finished |= request.Events[i].Type.IsTerminal();
            }

            return AppendReceipt.For(sequences, replayed);
        }
    }

    private T Locked<T>(Func<T> read)
    {
        lock (_gate)
        {
            return read();
        }
    }
}
