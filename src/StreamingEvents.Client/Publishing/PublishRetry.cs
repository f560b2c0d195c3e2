using StreamingEvents.Subscriptions;

namespace StreamingEvents.Publishing;

/// <summary>
/// Sends a publish again, with the same publish sequences (or start), while its outcome is unknown — a timeout, a silo
/// that died, storage that did not confirm — until it gets a definite answer, the retry budget is spent, or the caller's
/// token is canceled. Safe because the stream stores a repeated publish once and answers it with the original numbers.
/// </summary>
/// <remarks>
/// A call that gets no answer within the hedge delay is sent once more while the first one is still out (a hedged
/// request): a call routed to a silo that just died waits for the client's whole response timeout, because the gateway
/// that forwarded it cannot tell the client that its answer will never come; the second call is routed afresh once the
/// cluster has declared the silo dead. The first answer of either is taken.
/// </remarks>
internal sealed class PublishRetry(TimeSpan budget, TimeProvider time, TimeSpan? hedgeDelay = null)
{
    private const int MaxInFlight = 4;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);

    private readonly TimeSpan _hedgeDelay = hedgeDelay ?? TimeSpan.FromSeconds(1);

    /// <summary>Whether the call may have been stored or not: a definite answer did not come.</summary>
    public static bool IsUnknownOutcome(Exception exception) => TransientErrors.IsTransient(exception);

    /// <summary>A refusal: nothing was stored, and sending the same again gets the same answer.</summary>
    public static bool IsDefiniteRefusal(Exception exception) => exception is StreamingEventsException { IsTransient: false };

    /// <returns>The call's result, or its definite refusal (thrown).</returns>
    /// <exception cref="PublishOutcomeUnknownException">The budget was spent, or <paramref name="cancellationToken"/> canceled, without an answer.</exception>
    public async Task<T> RunAsync<T>(Func<Task<T>> call, string taskId, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var backoff = FirstDelay;
        var attempts = 0;
        Exception? unknown = null;
        var inFlight = new List<Task<T>>(MaxInFlight);

        // When the next attempt goes out: at once, then a hedge delay after each attempt, or a back-off after a failure.
        var nextAttempt = TimeSpan.Zero;
        try
        {
            while (true)
            {
                var elapsed = time.GetElapsedTime(started);
                if (cancellationToken.IsCancellationRequested || elapsed >= budget)
                {
                    throw new PublishOutcomeUnknownException(taskId, attempts, unknown ?? new TimeoutException("No answer within the retry budget."));
                }

                if (elapsed >= nextAttempt && inFlight.Count < MaxInFlight)
                {
                    attempts++;
                    inFlight.Add(call());
                    nextAttempt = elapsed + _hedgeDelay;
                }

                var until = (inFlight.Count < MaxInFlight ? nextAttempt : budget) - elapsed;
                var left = budget - elapsed;
                using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var wait = Task.Delay(until < left ? until : left, time, stopWaiting.Token);
                var done = await Task.WhenAny([.. inFlight, wait]);
                if (done == wait)
                {
                    continue;
                }

                await stopWaiting.CancelAsync();
                var answered = (Task<T>)done;
                inFlight.Remove(answered);
                try
                {
                    return await answered;
                }
                catch (Exception exception) when (IsUnknownOutcome(exception))
                {
                    // No answer from this one: the next goes out after a back-off, whether or not others are still out.
                    unknown = exception;
                    var retryAt = time.GetElapsedTime(started) + backoff;
                    nextAttempt = retryAt < nextAttempt ? retryAt : nextAttempt;
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxDelay.Ticks));
                    if (inFlight.Count == 0 && retryAt >= budget)
                    {
                        throw new PublishOutcomeUnknownException(taskId, attempts, unknown);
                    }
                }
            }
        }
        finally
        {
            // Attempts still out when an answer came: their outcome no longer matters.
            foreach (var abandoned in inFlight)
            {
                _ = abandoned.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
    }
}
