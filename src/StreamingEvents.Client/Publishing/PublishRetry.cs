using StreamingEvents.Subscriptions;

namespace StreamingEvents.Publishing;

/// <summary>
/// Sends a publish again, with the same publish sequences (or start), while its outcome is unknown — a timeout, a silo
/// that died, storage that did not confirm — until it gets a definite answer, the retry budget is spent, or the caller's
/// token is canceled. Safe because the stream stores a repeated publish once and answers it with the original numbers.
/// </summary>
internal sealed class PublishRetry(TimeSpan budget, TimeProvider time)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether the call may have been stored or not: a definite answer did not come.</summary>
    public static bool IsUnknownOutcome(Exception exception) => TransientErrors.IsTransient(exception);

    /// <summary>A refusal: nothing was stored, and sending the same again gets the same answer.</summary>
    public static bool IsDefiniteRefusal(Exception exception) => exception is StreamingEventsException { IsTransient: false };

    /// <returns>The call's result, or its definite refusal (thrown).</returns>
    /// <exception cref="PublishOutcomeUnknownException">The budget was spent, or <paramref name="cancellationToken"/> canceled, without an answer.</exception>
    public async Task<T> RunAsync<T>(Func<Task<T>> call, string taskId, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            Exception unknown;
            try
            {
                return await call();
            }
            catch (Exception exception) when (IsUnknownOutcome(exception))
            {
                unknown = exception;
            }

            if (cancellationToken.IsCancellationRequested || time.GetElapsedTime(started) + delay > budget)
            {
                throw new PublishOutcomeUnknownException(taskId, attempt, unknown);
            }

            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new PublishOutcomeUnknownException(taskId, attempt, unknown);
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }
}
