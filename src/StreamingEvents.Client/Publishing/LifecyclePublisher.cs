using StreamingEvents.Contracts;

namespace StreamingEvents.Publishing;

/// <summary>
/// Publishes the lifecycle events of an execution or an activity (a task of kind <see cref="TaskKind.Workflow"/> or
/// <see cref="TaskKind.Activity"/>): one event at a time, numbered with the start's producer epoch and a publish sequence,
/// sent again while its outcome is unknown — stored exactly once, like a <see cref="TaskHandle{TState}"/>'s updates. An
/// event whose outcome stayed unknown past the retry budget is sent again, with its numbers, before the next one.
/// </summary>
internal sealed class LifecyclePublisher : IDisposable
{
    private readonly ITaskGrain _grain;
    private readonly PublishRetry _retry;
    private readonly SemaphoreSlim _order = new(1, 1);
    private long _nextPublishSequence = 1;
    private readonly Action _endedFromOutside;
    private (PublishRequest Request, bool Terminal)? _unresolved;

    private LifecyclePublisher(ITaskGrain grain, PublishRetry retry, TaskStarted started, Action endedFromOutside)
    {
        _grain = grain;
        _retry = retry;
        _endedFromOutside = endedFromOutside;
        Started = started;
    }

    public TaskStarted Started { get; }

    public string TaskId => Started.TaskId;

    /// <summary>Whether a terminal event was stored, or refused because the task had already ended.</summary>
    public bool Ended { get; private set; }

    /// <summary>
    /// Publishes the start (sent again while unknown; the same producer id is stored once). <paramref name="endedFromOutside"/>
    /// runs when an event is refused because someone else ended the lifecycle (a cancel whose notice has not come yet).
    /// </summary>
    public static async Task<LifecyclePublisher> StartAsync(IGrainFactory grains, TaskStart start, PublishRetry retry, Action endedFromOutside,
        CancellationToken cancellationToken)
    {
        var grain = grains.GetTaskGrain(start.Address);
        var started = await retry.RunAsync(() => grain.StartAsync(start), start.TaskId, cancellationToken);
        return new LifecyclePublisher(grain, retry, started, endedFromOutside);
    }

    /// <summary>Publishes <paramref name="draft"/>; the terminal one ends the lifecycle.</summary>
    /// <returns>Its <c>broker_sequence</c>, once durable.</returns>
    /// <exception cref="TaskAlreadyFinishedException">The lifecycle ended already (canceled from outside, timed out).</exception>
    /// <exception cref="PublishOutcomeUnknownException">No answer within the retry budget; sent again before the next event.</exception>
    public async Task<long> PublishAsync(TaskEventDraft draft, CancellationToken cancellationToken = default)
    {
        await _order.WaitAsync(cancellationToken);
        try
        {
            if (_unresolved is { } unresolved)
            {
                await SendAsync(unresolved.Request, unresolved.Terminal);
            }

            if (Ended)
            {
                throw new TaskAlreadyFinishedException(TaskId, CustomTaskStatus.Completed);
            }

            return await SendAsync(new PublishRequest([draft], Started.Epoch, _nextPublishSequence), draft.Type.IsTerminal());
        }
        finally
        {
            _order.Release();
        }
    }

    public void Dispose() => _order.Dispose();

    private async Task<long> SendAsync(PublishRequest request, bool terminal)
    {
        try
        {
            var receipt = await _retry.RunAsync(() => terminal ? _grain.FinishAsync(request) : _grain.UpdateAsync(request), TaskId, CancellationToken.None);
            _unresolved = null;
            _nextPublishSequence = request.FirstPublishSequence + 1;
            Ended |= terminal;
            return receipt.LastSequence;
        }
        catch (PublishOutcomeUnknownException)
        {
            _unresolved = (request, terminal);
            throw;
        }
        catch (Exception refused) when (refused is TaskAlreadyFinishedException or ExecutionFinishedException)
        {
            _unresolved = null;
            Ended = true;
            _endedFromOutside();
            throw;
        }
    }
}
