using System.Collections.Concurrent;

namespace StreamingEvents.IntegrationTests.Infrastructure;

/// <summary>
/// Makes chosen grain calls lose or delay their answer after they ran: what a caller sees when a silo dies after a
/// commit, or a reply comes back after the caller's response timeout. Rules are per grain key, so tests sharing a
/// cluster do not disturb each other.
/// </summary>
public sealed class ReplyFaults : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<(string Method, string Key), Fault> Faults = new();

    /// <summary>The next <paramref name="count"/> calls of <paramref name="method"/> on the grain with <paramref name="key"/> run, then throw.</summary>
    public static void LoseAnswers(string method, string key, int count) => Faults[(method, key)] = new Fault(count, TimeSpan.Zero);

    /// <summary>The next <paramref name="count"/> calls run, then answer only after <paramref name="delay"/>.</summary>
    public static void DelayAnswers(string method, string key, int count, TimeSpan delay) => Faults[(method, key)] = new Fault(count, delay);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        var key = (context.ImplementationMethod.Name, context.TargetId.Key.ToString()!);
        if (!Faults.TryGetValue(key, out var fault) || !fault.TryTake())
        {
            return;
        }

        if (fault.Delay == TimeSpan.Zero)
        {
            throw new TimeoutException($"The answer of {key.Item1} was lost after it ran (injected).");
        }

        await Task.Delay(fault.Delay);
    }

    private sealed class Fault(int count, TimeSpan delay)
    {
        private int _left = count;

        public TimeSpan Delay => delay;

        public bool TryTake() => Interlocked.Decrement(ref _left) >= 0;
    }
}
