using System.Runtime.CompilerServices;
using System.Threading.Channels;
using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>
/// Settings of a subscription over many executions: <c>MaxExecutions</c> it follows at once, and <c>BufferBytes</c> of
/// live events its executions' buffers hold together.
/// </summary>
internal sealed record MultiSubscriptionSettings(SubscriptionSettings PerExecution, TimeSpan DiscoveryInterval, int MaxExecutions, long BufferBytes);

/// <summary>
/// Follows every execution matching a query — those that exist and those created while it runs — each through an exact
/// <see cref="ExecutionSubscription"/>, and merges them: each execution's events stay in order, the interleaving is
/// arrival order. After every event it yields the cursor from which a new subscription resumes every execution exactly.
/// An execution whose lifecycle ended is followed until its last event is delivered, then let go; one that ended before
/// the cursor's position for it is not followed at all. What the executions buffer for a slow consumer is bounded in
/// bytes all together (past it, an execution's buffer is dropped and it catches up from storage), and the hand-off to the
/// consumer holds at most <see cref="MergeCapacity"/> events (1 MiB each at most).
/// </summary>
internal static class MultiExecutionSubscription
{
    private const int PageSize = 500;
    private const int MergeCapacity = 16;

    /// <summary>Executions that ended before they were found are replayed this many at a time, the rest queued.</summary>
    private const int EndedAtOnce = 4;

    public static async IAsyncEnumerable<CursorEvent> RunAsync(
        IExecutionDirectory directory,
        ExecutionQuery query,
        WildcardCursor cursor,
        string? topic,
        MultiSubscriptionSettings settings,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Where each execution starts comes from the cursor as given; the live cursor below only moves forward.
        var start = WildcardCursor.Decode(cursor.Encode());
        var merged = Channel.CreateBounded<(ExecutionSummary Execution, StreamEvent Event)>(
            new BoundedChannelOptions(MergeCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var announced = Channel.CreateUnbounded<ExecutionSummary>(new UnboundedChannelOptions { SingleReader = true });
        var followed = new Dictionary<long, Task>();           // running executions (bounded by MaxExecutions) and ended ones being replayed
        var ended = new Queue<(ExecutionSummary Execution, StreamPosition From)>();
        var replayingEnded = 0;
        var known = new HashSet<long>();                        // followed, queued or let go: a listing and an announcement of one are followed once
        var perExecution = settings.PerExecution with { SharedBuffer = new ByteBudget(settings.BufferBytes) };

        var time = settings.PerExecution.Time;
        await using var announcements = await TransientErrors.RetryAsync(() => directory.SubscribeCreatedAsync(query.Namespace, execution =>
        {
            announced.Writer.TryWrite(execution);
            return Task.CompletedTask;
        }, stop.Token), time, stop.Token);
        var discovery = DiscoverAsync();
        try
        {
            await foreach (var (execution, streamEvent) in merged.Reader.ReadAllAsync(stop.Token))
            {
                cursor.Delivered(execution.StreamId, streamEvent.BrokerSequence);
                yield return new CursorEvent(streamEvent, execution.Execution, cursor.Encode());
            }
        }
        finally
        {
            await stop.CancelAsync();
            Task[] pumps;
            lock (followed)
            {
                pumps = [.. followed.Values];
            }

            await WhenAllStoppedAsync([discovery, .. pumps]);
        }

        // Attach first, then list: an execution created in between is either announced or listed, and a lost
        // announcement is found by the next listing (in discovery order, which only grows: re-listing reads only new ones).
        async Task DiscoverAsync()
        {
            try
            {
                var listedUpTo = DiscoveryPosition.Start;
                while (!stop.IsCancellationRequested)
                {
                    DiscoveryPage page;
                    do
                    {
                        page = await TransientErrors.RetryAsync(() => directory.DiscoverAsync(query, listedUpTo, PageSize, stop.Token), time, stop.Token);
                        foreach (var execution in page.Executions)
                        {
                            Follow(execution);
                        }

                        listedUpTo = page.Next;
                    }
                    while (page.Executions.Length == PageSize);

                    using var wait = new CancellationTokenSource(settings.DiscoveryInterval, settings.PerExecution.Time);
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, stop.Token);
                    try
                    {
                        while (await announced.Reader.WaitToReadAsync(either.Token))
                        {
                            while (announced.Reader.TryRead(out var execution))
                            {
                                if (query.Matches(execution.Context))
                                {
                                    Follow(execution);
                                }
                            }
                        }
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        // The discovery interval passed: list again.
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                merged.Writer.TryComplete(exception);
            }
        }

        void Follow(ExecutionSummary execution)
        {
            var from = start.PositionOf(execution.StreamId);
            if (execution.HasEnded && (from.IsLive || from.Sequence > execution.Head))
            {
                // Its last event was delivered before this cursor's position: there is nothing left to follow.
                return;
            }

            lock (followed)
            {
                if (known.Contains(execution.StreamId))
                {
                    return;
                }

                if (execution.HasEnded)
                {
                    // Finite: replayed a few at a time, however many there are, and never counted against the limit.
                    known.Add(execution.StreamId);
                    ended.Enqueue((execution, from));
                    StartEnded();
                    return;
                }

                if (followed.Count - replayingEnded >= settings.MaxExecutions)
                {
                    merged.Writer.TryComplete(new SubscriptionLimitException(settings.MaxExecutions));
                    return;
                }

                known.Add(execution.StreamId);
                followed[execution.StreamId] = PumpAsync(execution, from, through: null);
            }
        }

        void StartEnded()
        {
            while (replayingEnded < EndedAtOnce && ended.TryDequeue(out var next))
            {
                replayingEnded++;
                followed[next.Execution.StreamId] = PumpAsync(next.Execution, next.From, through: next.Execution.Head);
            }
        }

        void LetGo(ExecutionSummary execution, bool wasEnded)
        {
            lock (followed)
            {
                followed.Remove(execution.StreamId);
                if (wasEnded)
                {
                    replayingEnded--;
                    StartEnded();
                }
            }
        }

        async Task PumpAsync(ExecutionSummary execution, StreamPosition from, long? through)
        {
            await Task.Yield();
            try
            {
                var events = ExecutionSubscription.RunAsync(directory.Source(execution), from, topic, perExecution, stop.Token, through);
                await foreach (var streamEvent in events)
                {
                    await merged.Writer.WriteAsync((execution, streamEvent), stop.Token);
                    if (streamEvent.EventType.EndsExecution())
                    {
                        // The execution's last event: it is not listed again (listings only move forward) nor announced
                        // (announcements are of new executions).
                        break;
                    }
                }

                LetGo(execution, wasEnded: through is not null);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // One execution failing (e.g. its position expired) ends the whole subscription with that error.
                merged.Writer.TryComplete(exception);
            }
        }
    }

    private static async Task WhenAllStoppedAsync(Task[] tasks)
    {
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException)
        {
            // Stopping is the expected way for every pump to end; their other failures were already reported.
        }
    }
}
