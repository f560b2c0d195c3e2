using System.Runtime.CompilerServices;
using System.Threading.Channels;
using StreamingEvents.Contracts;

namespace StreamingEvents.Subscriptions;

/// <summary>Settings of a subscription over many executions.</summary>
internal sealed record MultiSubscriptionSettings(SubscriptionSettings PerExecution, TimeSpan DiscoveryInterval, int MaxExecutions);

/// <summary>
/// Follows every execution matching a query — those that exist and those created while it runs — each through an exact
/// <see cref="ExecutionSubscription"/>, and merges them: each execution's events stay in order, the interleaving is
/// arrival order. After every event it yields the cursor from which a new subscription resumes every execution exactly.
/// </summary>
internal static class MultiExecutionSubscription
{
    private const int PageSize = 500;

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
            new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var announced = Channel.CreateUnbounded<ExecutionSummary>(new UnboundedChannelOptions { SingleReader = true });
        var followed = new Dictionary<long, Task>();

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
            await WhenAllStoppedAsync([discovery, .. followed.Values]);
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
            if (followed.ContainsKey(execution.StreamId))
            {
                return;
            }

            if (followed.Count >= settings.MaxExecutions)
            {
                merged.Writer.TryComplete(new SubscriptionLimitException(settings.MaxExecutions));
                return;
            }

            followed[execution.StreamId] = PumpAsync(execution);
        }

        async Task PumpAsync(ExecutionSummary execution)
        {
            await Task.Yield();
            try
            {
                var events = ExecutionSubscription.RunAsync(
                    directory.Source(execution), start.PositionOf(execution.StreamId), topic, settings.PerExecution, stop.Token);
                await foreach (var streamEvent in events)
                {
                    await merged.Writer.WriteAsync((execution, streamEvent), stop.Token);
                }
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
