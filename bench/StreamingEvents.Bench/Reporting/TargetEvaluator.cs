namespace StreamingEvents.Bench.Reporting;

/// <summary>
/// The brief's targets against the measured medians. The ratio is oriented so that ≥ 1 means met: measured / target
/// for a floor, target / measured for a ceiling.
/// </summary>
internal static class TargetEvaluator
{
    public static void Evaluate(BenchReport report)
    {
        var w1 = Row(report, "W1", "StreamingEvents D2");
        if (w1 is not null)
        {
            var p99 = w1.Median("deliver_p99_ms");
            var achieved = w1.Median("achieved_rate");
            var met = p99 <= 50 && w1.Median("late_deliveries") == 0 && achieved >= 0.97 * w1.Median("offered_rate");
            report.Targets.Add(new("W1 sustained at 20k events/s (D2), p99 publish→deliver ≤ 50 ms",
                $"p99 {F(p99)} ms at {achieved:#,0} ev/s acked", Math.Min(50 / p99, achieved / 20_000), met, "W1 median over repeats"));
            Ceiling(report, "≤ 0.05 commits per event at W1 (D2)", w1.Median("commits_per_event"), 0.05, "commits/event", "W1: PostgreSQL transaction ids / acked events");
            Ceiling(report, "≤ 400 bytes of WAL per 100 B event (W1, D2)", w1.Median("wal_bytes_per_event"), 400, "B/event", "W1: pg_current_wal_lsn difference / acked events");
        }

        Ratio(report, "W2-max", "Max D2 rate with 500 concurrent publishers ≥ 1.0× Redis always", "StreamingEvents D2", "Redis always", "achieved_rate", 1.0);
        Ratio(report, "W2-single", "Single awaited publisher ≥ 0.7× Redis 1-client always", "StreamingEvents D2", "Redis always", "achieved_rate", 0.7);

        Ratio(report, "W4-max", "One awaited 1 MB publisher ≥ 0.5× Redis always", "StreamingEvents D2", "Redis always", "achieved_rate", 0.5);

        foreach (var (system, temperature, required) in new[]
        {
            ("StreamingEvents D2", "cold", 300_000), ("StreamingEvents D2", "warm", 600_000),
            ("StreamingEvents SSE D2", "cold", 300_000), ("StreamingEvents SSE D2", "warm", 300_000),
        })
        {
            var replay = Row(report, "W8", system, $"100k x 100 B {temperature}");
            if (replay is not null)
            {
                var rate = replay.Median("events_per_s");
                var path = system.Contains("SSE", StringComparison.Ordinal) ? "over HTTP (SSE)" : "through the SDK";
                report.Targets.Add(new($"Replay from 0 {path} ≥ {required / 1000:#,0}k events/s ({temperature})", $"{rate:#,0} ev/s", rate / required, rate >= required, "W8 100k × 100 B"));
            }
        }

        var memory = report.Workloads.FirstOrDefault(w => w.Id == "W6")?.Rows.FirstOrDefault();
        if (memory is not null)
        {
            Ceiling(report, "≤ 1 KB per deactivated idle stream", memory.Median("heap_bytes_per_stream_idle"), 1024, "B/stream", "W6: GC heap after forced full GC");
            Ceiling(report, "≤ 16 KB per active stream", memory.Median("heap_bytes_per_stream_active"), 16 * 1024, "B/stream", "W6: GC heap after forced full GC");
        }
    }

    private static SystemResult? Row(BenchReport report, string workload, string system, string variant = "") =>
        report.Workloads.FirstOrDefault(w => w.Id == workload)?.Rows.FirstOrDefault(r => r.System == system && r.Variant == variant);

    private static void Ceiling(BenchReport report, string target, double measured, double limit, string unit, string basis)
    {
        if (double.IsNaN(measured))
        {
            report.Targets.Add(new(target, "not measured", double.NaN, false, basis));
            return;
        }

        report.Targets.Add(new(target, $"{F(measured)} {unit}", measured <= 0 ? double.PositiveInfinity : limit / measured, measured <= limit, basis));
    }

    private static void Ratio(BenchReport report, string workload, string target, string ours, string peer, string figure, double required)
    {
        var a = Row(report, workload, ours)?.Median(figure) ?? double.NaN;
        var b = Row(report, workload, peer)?.Median(figure) ?? double.NaN;
        var ratio = a / b;
        report.Targets.Add(new(target, $"{a:#,0} vs {b:#,0} ev/s = {ratio:0.00}×", ratio / required, ratio >= required, $"{workload}, same run"));
    }

    public static string F(double value) => Format.Number(value);
}

/// <summary>Number formatting for the tables: three significant digits, thousands separators for large values.</summary>
internal static class Format
{
    public static string Number(double value) => value switch
    {
        double.NaN => "–",
        double.PositiveInfinity => "∞",
        _ when Math.Abs(value) >= 1000 => value.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 100 => value.ToString("0", System.Globalization.CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 10 => value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 1 || value == 0 => value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture),
    };
}
