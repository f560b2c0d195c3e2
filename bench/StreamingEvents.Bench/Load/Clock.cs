using System.Diagnostics;

namespace StreamingEvents.Bench.Load;

/// <summary>Stopwatch timestamps: every intended send time and every arrival is one, on this machine's monotonic clock.</summary>
internal static class Clock
{
    public static long Now => Stopwatch.GetTimestamp();

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    public static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    public static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Waits until <paramref name="timestamp"/> (a Stopwatch timestamp).</summary>
    public static Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken = default)
    {
        var wait = timestamp - Now;
        return wait <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds(Seconds(wait)), cancellationToken);
    }
}
