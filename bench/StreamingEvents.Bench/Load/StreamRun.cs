using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Load;

/// <summary>
/// One stream of an open-loop run: its publisher, the intended send time of each event (indexed by the event's order,
/// so by its sequence minus <see cref="BaseSequence"/>) and when each was acknowledged, and its subscribers.
/// </summary>
internal sealed class StreamRun(string name, IStreamPublisher publisher, int capacity)
{
    private int _sent;

    public string Name { get; } = name;

    public IStreamPublisher Publisher { get; } = publisher;

    /// <summary>The sequence of the first measured event (the stream's first event, 1, is its opening).</summary>
    public long BaseSequence { get; } = publisher.NextSequence;

    public int Capacity { get; } = capacity;

    public long[] Intended { get; } = new long[capacity];

    public long[] AckedAt { get; } = new long[capacity];

    public int Sent => Volatile.Read(ref _sent);

    public List<SubscriberRun> Subscribers { get; } = [];

    /// <summary>The terminal event's sequence once published.</summary>
    public long TerminalSequence { get; set; }

    /// <summary>Records the intended time of the next event before it is sent, and returns its index.</summary>
    public int Reserve(long intended)
    {
        var index = _sent;
        Intended[index] = intended;
        Volatile.Write(ref _sent, index + 1);
        return index;
    }
}

/// <summary>What a subscriber records.</summary>
internal enum SubscriberRole
{
    /// <summary>Records publish→deliver latency of every measured event.</summary>
    Observer,

    /// <summary>Only checks order (W7's subscribers that drop and resume).</summary>
    Quiet,
}

/// <summary>
/// One subscription of a stream: checks every delivery's sequence (gaps, duplicates, order) and, as an observer,
/// records publish→deliver latency against the event's intended send time.
/// </summary>
internal sealed class SubscriberRun : ISubscriberSink, IDisposable
{
    private readonly OpenLoopEngine _engine;
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _last;
    private long _caughtUpTarget = long.MaxValue;

    public SubscriberRun(OpenLoopEngine engine, StreamRun stream, SubscriberRole role, long fromSequence)
    {
        _engine = engine;
        Stream = stream;
        Role = role;
        From = fromSequence;
        Checker = new SequenceChecker(Math.Max(1, fromSequence));
    }

    public StreamRun Stream { get; }

    public SubscriberRole Role { get; }

    public long From { get; }

    public SequenceChecker Checker { get; }

    /// <summary>The last sequence delivered (0 before the first).</summary>
    public long LastSequence => Interlocked.Read(ref _last);

    public Task FirstEvent => _first.Task;

    public Task CaughtUp => _caughtUp.Task;

    public long CaughtUpAt { get; private set; }

    public Task Loop { get; private set; } = Task.CompletedTask;

    public bool SawTerminal { get; private set; }

    public Exception? Failure { get; private set; }

    public void Start(IEventSystem system) => Loop = RunAsync(system);

    /// <summary>Completes <see cref="CaughtUp"/> once a sequence ≥ <paramref name="target"/> is delivered.</summary>
    public void WatchCatchUp(long target)
    {
        Interlocked.Exchange(ref _caughtUpTarget, target);
        if (LastSequence >= target)
        {
            CaughtUpAt = Clock.Now;
            _caughtUp.TrySetResult();
        }
    }

    public async Task StopAsync(TimeSpan bound)
    {
        await _stop.CancelAsync();
        try
        {
            await Loop.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            Failure ??= new TimeoutException($"The subscription of {Stream.Name} did not stop within {bound}.");
        }
    }

    public void Dispose() => _stop.Dispose();

    public bool OnEvent(long sequence, int bytes, bool terminal)
    {
        var now = Clock.Now;
        Checker.Observe(sequence);
        Interlocked.Exchange(ref _last, sequence);
        _first.TrySetResult();
        if (terminal)
        {
            SawTerminal = true;
        }

        if (sequence >= Interlocked.Read(ref _caughtUpTarget) && !_caughtUp.Task.IsCompleted)
        {
            CaughtUpAt = now;
            _caughtUp.TrySetResult();
        }

        var index = sequence - Stream.BaseSequence;
        if (Role == SubscriberRole.Observer && index >= 0 && index < Stream.Sent)
        {
            _engine.RecordDelivery(Stream.Intended[index], now, bytes);
        }

        return true;
    }

    private async Task RunAsync(IEventSystem system)
    {
        await Task.Yield();
        try
        {
            await system.SubscribeAsync(Stream.Name, From, this, _stop.Token);
        }
        catch (Exception exception)
        {
            Failure = exception;
            _first.TrySetException(exception);
        }
    }
}
