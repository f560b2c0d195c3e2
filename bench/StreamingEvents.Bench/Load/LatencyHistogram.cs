using System.Diagnostics;

namespace StreamingEvents.Bench.Load;

/// <summary>
/// A log-linear latency histogram in microseconds, HdrHistogram-style: values below 128 µs are exact, above that every
/// power of two is split into 128 linear buckets, so a reported value is within 0.8 % of the recorded one. Recording is
/// lock-free (one interlocked increment); the maximum is kept exactly. Range: 0 µs to 2^41 µs (25 days).
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxExponent = 41;
    private const int BucketCount = SubBuckets + ((MaxExponent - SubBucketBits) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sum;
    private long _max;

    public long Count => Interlocked.Read(ref _count);

    public void RecordTicks(long stopwatchTicks) => Record(stopwatchTicks * 1_000_000 / Stopwatch.Frequency);

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        Interlocked.Increment(ref _counts[Index(microseconds)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, microseconds);
        long max;
        while (microseconds > (max = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, microseconds, max) != max)
        {
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            if (other._counts[i] != 0)
            {
                Interlocked.Add(ref _counts[i], other._counts[i]);
            }
        }

        Interlocked.Add(ref _count, other._count);
        Interlocked.Add(ref _sum, other._sum);
        long max;
        while (other._max > (max = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, other._max, max) != max)
        {
        }
    }

    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> histograms)
    {
        var merged = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        return merged;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1) in milliseconds; NaN when empty.</summary>
    public double QuantileMilliseconds(double q)
    {
        var count = Count;
        if (count == 0)
        {
            return double.NaN;
        }

        if (q >= 1)
        {
            return Interlocked.Read(ref _max) / 1000.0;
        }

        var rank = (long)Math.Ceiling(q * count);
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= Math.Max(1, rank))
            {
                return Math.Min(Representative(i), Interlocked.Read(ref _max)) / 1000.0;
            }
        }

        return Interlocked.Read(ref _max) / 1000.0;
    }

    public LatencySummary Summarize() => new(
        Count,
        QuantileMilliseconds(0.50),
        QuantileMilliseconds(0.95),
        QuantileMilliseconds(0.99),
        QuantileMilliseconds(0.999),
        Count == 0 ? double.NaN : Interlocked.Read(ref _max) / 1000.0,
        Count == 0 ? double.NaN : Interlocked.Read(ref _sum) / 1000.0 / Count);

    private static int Index(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var exponent = Math.Min(63 - (int)long.LeadingZeroCount(value), MaxExponent - 1);
        var shift = exponent - SubBucketBits;
        var sub = (int)Math.Min((value >> shift) - SubBuckets, SubBuckets - 1);
        return SubBuckets + (shift * SubBuckets) + sub;
    }

    private static long Representative(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var shift = (index - SubBuckets) / SubBuckets;
        var sub = (index - SubBuckets) % SubBuckets;
        var low = (long)(SubBuckets + sub) << shift;
        return low + ((1L << shift) / 2);
    }
}

/// <summary>Percentiles of one latency distribution, in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50, double P95, double P99, double P999, double Max, double Mean);
