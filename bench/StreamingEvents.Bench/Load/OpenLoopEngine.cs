using System.Collections.Concurrent;
using System.Diagnostics;
using StreamingEvents.Bench.Systems;

namespace StreamingEvents.Bench.Load;

/// <summary>
/// The open-loop load generator. Every event has an intended send time fixed in advance (stream i sends its k-th event
/// at t0 + phase_i + k / rate); a dedicated pacer thread sends each event when its time comes without waiting for
/// earlier acknowledgements, and both latencies — publish→durable ack and publish→deliver — are measured from the
/// intended time, so a stall of the system (or of the generator) is counted in full instead of silently delaying the
/// next sends (no coordinated omission). The pacer sleeps ~1 ms when nothing is due, so sends are up to ~1 ms late
/// (reported as send lag, and included in the latencies). Latencies are kept per second of intended time: the measured window is the
/// seconds after the warm-up, and W7 compares seconds before and during its reconnect storm. Events not acknowledged
/// or delivered when the drain bound ends are counted late and recorded with the latency they had reached by then.
/// </summary>
internal sealed class OpenLoopEngine
{
    private const int SetupParallelism = 64;

    private readonly IEventSystem _system;
    private readonly LoadShape _shape;
    private readonly PayloadFactory _payloads;
    private readonly RunStatus _status;
    private readonly string _runId;
    private readonly ConcurrentQueue<Slot> _ready = new();
    private readonly ConcurrentBag<StreamRun> _streams = [];
    private readonly ConcurrentBag<string> _errors = [];
    private readonly long _interval;
    private LatencyHistogram[] _ackBySecond = [];
    private LatencyHistogram[] _deliverBySecond = [];
    private long[] _deliveredBytesBySecond = [];
    private long _t0;
    private long _stopAt;
    private long _pendingAcks;
    private long _publishErrors;
    private long _setupTimeouts;
    private long _sent;
    private long _acked;
    private long _delivered;
    private volatile bool _stopping;
    private readonly CorrectnessCounters _correctness = new();

    /// <summary>How late the pacer sent each measured event (the generator's own health).</summary>
    private readonly LatencyHistogram _sendLag = new();

    public OpenLoopEngine(IEventSystem system, LoadShape shape, RunStatus status)
    {
        _system = system;
        _shape = shape;
        _status = status;
        _payloads = new PayloadFactory(shape.PayloadBytes);
        _interval = Clock.Ticks(1 / shape.RatePerStream);
        _runId = "b" + Guid.NewGuid().ToString("N")[..10];
    }

    public IEventSystem System => _system;

    public LoadShape Shape => _shape;

    /// <summary>Every stream opened so far (current and ended).</summary>
    public IReadOnlyCollection<StreamRun> Streams => _streams;

    public long WindowStart => _t0 + Clock.Ticks(_shape.WarmUp);

    public long WindowEnd => _stopAt;

    public void RecordDelivery(long intended, long now, int bytes)
    {
        Interlocked.Increment(ref _delivered);
        var second = SecondOf(intended);
        if (second >= 0)
        {
            _deliverBySecond[second].RecordTicks(now - intended);
            Interlocked.Add(ref _deliveredBytesBySecond[second], bytes);
        }
    }

    /// <summary>Adds a subscriber to <paramref name="stream"/> and starts it.</summary>
    public SubscriberRun Subscribe(StreamRun stream, SubscriberRole role, long fromSequence)
    {
        var subscriber = new SubscriberRun(this, stream, role, fromSequence);
        lock (stream.Subscribers)
        {
            stream.Subscribers.Add(subscriber);
        }

        subscriber.Start(_system);
        return subscriber;
    }

    /// <summary>Runs the workload: setup, warm-up, window, drain. <paramref name="duringWindow"/> runs from the window start.</summary>
    public async Task<LoadResult> RunAsync(Func<OpenLoopEngine, Task>? duringWindow = null)
    {
        var totalSeconds = (int)Math.Ceiling((_shape.WarmUp + _shape.Measure).TotalSeconds) + 1;
        _ackBySecond = [.. Enumerable.Range(0, totalSeconds).Select(_ => new LatencyHistogram())];
        _deliverBySecond = [.. Enumerable.Range(0, totalSeconds).Select(_ => new LatencyHistogram())];
        _deliveredBytesBySecond = new long[totalSeconds];
        var lifetimeEvents = (int)Math.Ceiling(_shape.RatePerStream * _shape.Lifetime.TotalSeconds);
        var runEvents = (int)Math.Ceiling(_shape.RatePerStream * (_shape.WarmUp + _shape.Measure).TotalSeconds) + 2;

        _status.Phase = "setup";
        var slots = new Slot[_shape.Streams];
        using (var gate = new SemaphoreSlim(SetupParallelism))
        {
            await Task.WhenAll(Enumerable.Range(0, _shape.Streams).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    // First lifetimes are staggered so that streams end and are replaced evenly over time.
                    var capacity = lifetimeEvents >= runEvents ? runEvents : Math.Max(1, (int)((long)lifetimeEvents * (i + 1) / _shape.Streams));
                    slots[i] = new Slot(i) { Stream = await OpenStreamAsync(i, 0, capacity) };
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        _t0 = Clock.Now + Clock.Ticks(0.05);
        _stopAt = WindowStart + Clock.Ticks(_shape.Measure);
        foreach (var slot in slots)
        {
            slot.Start = _t0 + (_interval * slot.Index / _shape.Streams);
            slot.NextDue = slot.Start;
        }

        var pacer = new Thread(() => Pace(slots, lifetimeEvents, runEvents)) { IsBackground = true, Name = "open-loop pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        _status.Phase = "warm-up";
        await Clock.DelayUntilAsync(WindowStart);
        _status.Phase = "measuring";
        var probe = await WindowProbe.StartAsync(_system);
        var during = duringWindow is null ? Task.CompletedTask : Task.Run(() => duringWindow(this));
        await Clock.DelayUntilAsync(_stopAt);
        var window = await probe.EndAsync();
        await Task.Run(pacer.Join);

        _status.Phase = "draining";
        await CompleteStreamsAsync(slots);
        var drainEnd = Clock.Now + Clock.Ticks(_shape.DrainBound);
        while (Clock.Now < drainEnd && (Interlocked.Read(ref _pendingAcks) > 0 || _streams.Any(s => s.Subscribers.Any(sub => !sub.Loop.IsCompleted))))
        {
            await Task.Delay(20);
        }

        try
        {
            await during.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception exception)
        {
            _errors.Add("the mid-run action failed: " + exception.Message);
        }

        return await FinishAsync(window);
    }

    private async Task<StreamRun> OpenStreamAsync(int slot, int generation, int capacity)
    {
        var name = $"{_runId}-{slot}-{generation}";
        var publisher = await _system.OpenAsync(name, _payloads.State(0), CancellationToken.None);
        if (_shape.Prefill > 0)
        {
            await PrefillAsync(publisher, _shape.Prefill, _payloads);
        }

        var stream = new StreamRun(name, publisher, capacity);
        _streams.Add(stream);
        if (_system.SupportsSubscribe)
        {
            var subscribers = Enumerable.Range(0, _shape.SubscribersOf(slot)).Select(_ => Subscribe(stream, SubscriberRole.Observer, 1))
                .Concat(Enumerable.Range(0, _shape.QuietSubscribers).Select(_ => Subscribe(stream, SubscriberRole.Quiet, 1)))
                .ToList();

            // Subscribers attach before the load starts: each has delivered the stream's first event.
            try
            {
                await Task.WhenAll(subscribers.Select(s => s.FirstEvent)).WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref _setupTimeouts);
            }
            catch (Exception exception)
            {
                _errors.Add($"subscriber of {name}: {exception.Message}");
            }
        }

        return stream;
    }

    /// <summary>Publishes <paramref name="events"/> events without awaiting each (at most 2,000 in flight), then awaits them all.</summary>
    public static async Task PrefillAsync(IStreamPublisher publisher, int events, PayloadFactory payloads)
    {
        var inFlight = new Queue<Task<long>>();
        for (var i = 0; i < events; i++)
        {
            inFlight.Enqueue(publisher.PublishAsync(payloads.State(i + 1)));
            if (inFlight.Count >= 2_000)
            {
                await inFlight.Dequeue();
            }
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue();
        }
    }

    /// <summary>Publish→ack latencies of events intended in seconds [<paramref name="from"/>, <paramref name="to"/>) of the run.</summary>
    public LatencyHistogram AckBetween(int from, int to) => LatencyHistogram.Merge(_ackBySecond[Math.Max(0, from)..Math.Min(to, _ackBySecond.Length)]);

    /// <summary>Publish→deliver latencies (observers) of events intended in seconds [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public LatencyHistogram DeliverBetween(int from, int to) => LatencyHistogram.Merge(_deliverBySecond[Math.Max(0, from)..Math.Min(to, _deliverBySecond.Length)]);

    /// <summary>The second of the run (from its start) that <paramref name="timestamp"/> falls in.</summary>
    public int SecondAt(long timestamp) => (int)((timestamp - _t0) / Stopwatch.Frequency);

    private void Pace(Slot[] slots, int lifetimeEvents, int runEvents)
    {
        var queue = new PriorityQueue<Slot, long>(slots.Length);
        foreach (var slot in slots)
        {
            queue.Enqueue(slot, slot.NextDue);
        }

        while (true)
        {
            while (_ready.TryDequeue(out var rotated))
            {
                queue.Enqueue(rotated, rotated.NextDue);
            }

            var now = Clock.Now;
            if (now >= _stopAt)
            {
                break;
            }

            while (queue.TryPeek(out var slot, out var due) && due <= now && due < _stopAt)
            {
                queue.Dequeue();
                var stream = slot.Stream!;
                if (stream.Sent < stream.Capacity)
                {
                    Send(stream, due);
                    slot.NextDue = slot.Start + (_interval * stream.Sent);
                    queue.Enqueue(slot, slot.NextDue);
                }
                else
                {
                    _ = RotateAsync(slot, lifetimeEvents, runEvents);
                }
            }

            // Nothing due: sleep (about 1 ms on Linux) rather than spin — the generator shares the cores with the servers.
            // The pacing delay this adds is part of every measured latency, for every system alike (send lag p99).
            if (!queue.TryPeek(out _, out var nextDue) || nextDue > Clock.Now)
            {
                Thread.Sleep(1);
            }
        }

        _stopping = true;
    }

    private void Send(StreamRun stream, long intended)
    {
        if (intended >= WindowStart)
        {
            _sendLag.RecordTicks(Clock.Now - intended);
        }

        var index = stream.Reserve(intended);
        Interlocked.Increment(ref _sent);
        Interlocked.Increment(ref _pendingAcks);
        Task<long> publish;
        try
        {
            publish = stream.Publisher.PublishAsync(_payloads.State(index + 1));
        }
        catch (Exception exception)
        {
            publish = Task.FromException<long>(exception);
        }

        if (publish.IsCompleted)
        {
            OnAck(publish, stream, index);
        }
        else
        {
            publish.ContinueWith(static (task, state) =>
            {
                var (engine, run, i) = ((OpenLoopEngine, StreamRun, int))state!;
                engine.OnAck(task, run, i);
            }, (this, stream, index), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void OnAck(Task<long> publish, StreamRun stream, int index)
    {
        var now = Clock.Now;
        if (publish.IsCompletedSuccessfully)
        {
            if (publish.Result != stream.BaseSequence + index)
            {
                _correctness.AckMismatch();
            }

            stream.AckedAt[index] = now;
            Interlocked.Increment(ref _acked);
            var second = SecondOf(stream.Intended[index]);
            if (second >= 0)
            {
                _ackBySecond[second].RecordTicks(now - stream.Intended[index]);
            }
        }
        else
        {
            if (Interlocked.Increment(ref _publishErrors) <= 5)
            {
                _errors.Add($"publish to {stream.Name}: {publish.Exception?.GetBaseException().Message}");
            }
        }

        Interlocked.Decrement(ref _pendingAcks);
        _status.Update(Interlocked.Read(ref _sent), Interlocked.Read(ref _acked), Interlocked.Read(ref _delivered));
    }

    private async Task RotateAsync(Slot slot, int lifetimeEvents, int runEvents)
    {
        try
        {
            await CompleteAsync(slot.Stream!);
            if (_stopping)
            {
                return;
            }

            slot.Generation++;
            slot.Stream = await OpenStreamAsync(slot.Index, slot.Generation, Math.Min(lifetimeEvents, runEvents));
            if (_stopping)
            {
                // The run ended while it opened: end it too, so that its subscribers finish.
                await CompleteAsync(slot.Stream);
                return;
            }

            slot.Start = Math.Max(Clock.Now, slot.NextDue);
            slot.NextDue = slot.Start;
            _ready.Enqueue(slot);
        }
        catch (Exception exception)
        {
            _errors.Add($"replacing stream of slot {slot.Index}: {exception.Message}");
        }
    }

    private async Task CompleteAsync(StreamRun stream)
    {
        try
        {
            stream.TerminalSequence = await stream.Publisher.CompleteAsync(_payloads.State(stream.Sent + 1)).WaitAsync(_shape.DrainBound + TimeSpan.FromSeconds(10));
        }
        catch (Exception exception)
        {
            _errors.Add($"terminal event of {stream.Name}: {exception.Message}");
        }
    }

    private async Task CompleteStreamsAsync(Slot[] slots)
    {
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(slots.Where(s => s.Stream is { TerminalSequence: 0 }).Select(async s =>
        {
            await gate.WaitAsync();
            try
            {
                await CompleteAsync(s.Stream!);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private async Task<LoadResult> FinishAsync(WindowMeasurement window)
    {
        var drainEnd = Clock.Now;
        var firstSecond = (int)_shape.WarmUp.TotalSeconds;
        var lastSecond = firstSecond + (int)Math.Ceiling(_shape.Measure.TotalSeconds);
        long offered = 0, lateAcks = 0, lateDeliveries = 0;
        foreach (var stream in _streams)
        {
            for (var i = 0; i < stream.Sent; i++)
            {
                var second = SecondOf(stream.Intended[i]);
                if (second < firstSecond || second >= lastSecond)
                {
                    continue;
                }

                offered++;
                if (stream.AckedAt[i] == 0)
                {
                    lateAcks++;
                    _ackBySecond[second].RecordTicks(drainEnd - stream.Intended[i]);
                }
            }

            List<SubscriberRun> subscribers;
            lock (stream.Subscribers)
            {
                subscribers = [.. stream.Subscribers];
            }

            foreach (var subscriber in subscribers.Where(s => s.Role == SubscriberRole.Observer))
            {
                // Everything below Checker.Next was delivered (or is a counted gap); measured events above it are late.
                for (var seq = Math.Max(subscriber.Checker.Next, stream.BaseSequence); seq < stream.BaseSequence + stream.Sent; seq++)
                {
                    var intended = stream.Intended[seq - stream.BaseSequence];
                    var second = SecondOf(intended);
                    if (second >= firstSecond && second < lastSecond)
                    {
                        lateDeliveries++;
                        _deliverBySecond[second].RecordTicks(drainEnd - intended);
                    }
                }
            }
        }

        var all = _streams.SelectMany(s => s.Subscribers).ToList();
        await Task.WhenAll(all.Select(s => s.StopAsync(TimeSpan.FromSeconds(15))));
        var subscriberFailures = 0;
        foreach (var subscriber in all)
        {
            subscriber.Dispose();
            _correctness.Add(subscriber.Checker);
            if (subscriber.Failure is { } failure)
            {
                subscriberFailures++;
                if (subscriberFailures <= 5)
                {
                    _errors.Add($"subscriber of {subscriber.Stream.Name}: {failure.GetBaseException().Message}");
                }
            }
        }

        var ack = LatencyHistogram.Merge(_ackBySecond[firstSecond..Math.Min(lastSecond, _ackBySecond.Length)]);
        var deliver = LatencyHistogram.Merge(_deliverBySecond[firstSecond..Math.Min(lastSecond, _deliverBySecond.Length)]);
        var measureSeconds = _shape.Measure.TotalSeconds;
        var deliveredBytes = _deliveredBytesBySecond[firstSecond..Math.Min(lastSecond, _deliveredBytesBySecond.Length)].Sum();
        return new LoadResult(_shape, ack, deliver, offered, lateAcks, lateDeliveries, Interlocked.Read(ref _publishErrors), subscriberFailures,
            Interlocked.Read(ref _setupTimeouts), _correctness, window, measureSeconds, deliveredBytes, [.. _errors],
            [.. _ackBySecond.Select(h => h.Summarize())], [.. _deliverBySecond.Select(h => h.Summarize())], _streams.Count, _sendLag.Summarize());
    }

    private int SecondOf(long intended)
    {
        var second = (int)((intended - _t0) / Stopwatch.Frequency);
        return intended < _t0 || second >= _ackBySecond.Length ? -1 : second;
    }

    private sealed class Slot(int index)
    {
        public int Index { get; } = index;

        public int Generation { get; set; }

        public StreamRun? Stream { get; set; }

        public long Start { get; set; }

        public long NextDue { get; set; }
    }
}
