using System.Text;
using StreamingEvents.Contracts;
using StreamingEvents.Subscriptions;

namespace StreamingEvents.Tests.Fakes;

/// <summary>
/// One execution's stream in memory, with the read semantics of the stream grain (0 = the oldest retained, expired
/// positions refused, topic filtering that still advances the next sequence) and a live push the test drives by hand:
/// it decides what is pushed, when, how often and in which order.
/// </summary>
internal sealed class FakeEventSource(string execution = "default/exec") : IExecutionEventSource
{
    private readonly Lock _gate = new();
    private readonly List<StreamEvent> _events = [];
    private readonly List<LiveSubscription> _subscriptions = [];
    private readonly List<long> _reads = [];
    private readonly TaskCompletionSource _headRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _oldest = 1;
    private int _headRequests;

    /// <summary>Runs at the start of each read, before the page is taken (argument: the read's index, from 0).</summary>
    public Func<int, Task>? BeforeRead { get; set; }

    /// <summary>Runs after each read took its page, before it is returned (argument: the read's index, from 0).</summary>
    public Func<int, Task>? AfterRead { get; set; }

    /// <summary>Runs after each live subscription is registered, before it is returned.</summary>
    public Func<Task>? AfterSubscribe { get; set; }

    public long Head
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>The <c>fromSequence</c> of every read, in order.</summary>
    public IReadOnlyList<long> Reads
    {
        get
        {
            lock (_gate)
            {
                return [.. _reads];
            }
        }
    }

    public int HeadRequests => Volatile.Read(ref _headRequests);

    /// <summary>Completes when the head was first asked for (the value is already decided then).</summary>
    public Task HeadRequested => _headRequested.Task;

    /// <summary>Every live subscription made, in order.</summary>
    public IReadOnlyList<LiveSubscription> Subscriptions
    {
        get
        {
            lock (_gate)
            {
                return [.. _subscriptions];
            }
        }
    }

    /// <summary>Stores <paramref name="count"/> new events of <paramref name="topic"/> without pushing them.</summary>
    public StreamEvent[] Append(int count = 1, string topic = "token")
    {
        lock (_gate)
        {
            var added = new StreamEvent[count];
            for (var i = 0; i < count; i++)
            {
                var sequence = _events.Count + 1L;
                added[i] = new StreamEvent(sequence, topic, "task_" + topic, EventType.CustomTaskInProgress, sequence * 1_000_000,
                    Encoding.UTF8.GetBytes($$"""{"stream":"{{topic}}","broker_sequence":{{sequence}}}"""));
                _events.Add(added[i]);
            }

            return added;
        }
    }

    /// <summary>Stores new events and pushes them as one batch, as the grain does after a commit.</summary>
    public async Task<StreamEvent[]> PublishAsync(int count = 1, string topic = "token")
    {
        var added = Append(count, topic);
        await PushAsync(added);
        return added;
    }

    /// <summary>Pushes a batch to every active live subscription, whatever it holds.</summary>
    public Task PushAsync(IEnumerable<StreamEvent> events) => PushAsync(new StreamEventBatch([.. events]));

    /// <summary>Pushes <paramref name="batch"/> as it is (e.g. one that stands for events it does not carry).</summary>
    public async Task PushAsync(StreamEventBatch batch)
    {
        foreach (var subscription in Subscriptions.Where(s => !s.IsDisposed))
        {
            await subscription.OnBatch(batch);
        }
    }

    public StreamEvent Get(long sequence)
    {
        lock (_gate)
        {
            return _events[(int)(sequence - 1)];
        }
    }

    /// <summary>Retention: events below <paramref name="oldest"/> are gone.</summary>
    public void TrimBefore(long oldest)
    {
        lock (_gate)
        {
            _oldest = oldest;
        }
    }

    public async Task<EventPage> ReadAsync(long fromSequence, int maxEvents, string? topic, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int index;
        lock (_gate)
        {
            index = _reads.Count;
            _reads.Add(fromSequence);
        }

        if (BeforeRead is { } before)
        {
            await before(index);
        }

        EventPage page;
        lock (_gate)
        {
            var from = fromSequence == 0 ? _oldest : fromSequence;
            if (from < _oldest)
            {
                throw new StreamPositionExpiredException(execution, from, _oldest);
            }

            var head = (long)_events.Count;
            if (from > head)
            {
                page = new EventPage([], from, head, _oldest);
            }
            else
            {
                var events = new List<StreamEvent>();
                var next = from;
                for (var scanned = 0; next <= head && scanned < Math.Max(1, maxEvents); scanned++, next++)
                {
                    var streamEvent = _events[(int)(next - 1)];
                    if (topic is null || streamEvent.Stream == topic)
                    {
                        events.Add(streamEvent);
                    }
                }

                page = new EventPage([.. events], next, head, _oldest);
            }
        }

        if (AfterRead is { } after)
        {
            await after(index);
        }

        return page;
    }

    public Task<long> GetHeadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var head = Head;
        Interlocked.Increment(ref _headRequests);
        _headRequested.TrySetResult();
        return Task.FromResult(head);
    }

    public async Task<IAsyncDisposable> SubscribeLiveAsync(Func<StreamEventBatch, Task> onBatch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var subscription = new LiveSubscription(onBatch);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }

        if (AfterSubscribe is { } after)
        {
            await after();
        }

        return subscription;
    }

    internal sealed class LiveSubscription(Func<StreamEventBatch, Task> onBatch) : IAsyncDisposable
    {
        private int _disposals;

        public Func<StreamEventBatch, Task> OnBatch { get; } = onBatch;

        public bool IsDisposed => Volatile.Read(ref _disposals) > 0;

        public int Disposals => Volatile.Read(ref _disposals);

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref _disposals);
            return ValueTask.CompletedTask;
        }
    }
}
