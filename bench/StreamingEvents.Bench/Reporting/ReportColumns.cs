namespace StreamingEvents.Bench.Reporting;

/// <summary>
/// The figures shown per workload in results.md (results.json has every figure). <see cref="Cpu"/> expands to the
/// CPU µs per event of every process of the row; <see cref="Correctness"/> to gaps/duplicates/out-of-order/ack mismatches.
/// </summary>
internal static class ReportColumns
{
    public const string Cpu = "@cpu";
    public const string Correctness = "@correctness";
    public const string Storage = "@storage";

    public static readonly List<string> OpenLoop =
    [
        "offered_rate", "achieved_rate", "ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "ack_p999_ms", "ack_max_ms",
        "deliver_p50_ms", "deliver_p95_ms", "deliver_p99_ms", "deliver_p999_ms", "deliver_max_ms", "late_deliveries", "send_lag_p99_ms",
        Storage, Cpu, "load_generator_cpu_cores", "other_cpu_cores", Correctness,
    ];

    public static readonly List<string> Ladder =
    [
        "offered_rate", "achieved_rate", "achieved_mb_per_s", "ack_p50_ms", "ack_p99_ms", "deliver_p50_ms", "deliver_p95_ms", "deliver_p99_ms", "deliver_p999_ms",
        "deliver_max_ms", "late_deliveries", Storage, Cpu, "other_cpu_cores", Correctness,
    ];

    public static readonly List<string> ClosedLoop =
    [
        "publishers", "achieved_rate", "achieved_mb_per_s", "ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "ack_p999_ms", "ack_max_ms", Storage, Cpu,
        "load_generator_cpu_cores", "other_cpu_cores", Correctness,
    ];

    public static readonly Dictionary<string, string> Headers = new(StringComparer.Ordinal)
    {
        ["offered_rate"] = "offered ev/s",
        ["achieved_rate"] = "acked ev/s",
        ["achieved_mb_per_s"] = "MB/s",
        ["delivered_rate"] = "delivered ev/s",
        ["ack_p50_ms"] = "ack p50",
        ["ack_p95_ms"] = "ack p95",
        ["ack_p99_ms"] = "ack p99",
        ["ack_p999_ms"] = "ack p99.9",
        ["ack_max_ms"] = "ack max",
        ["deliver_p50_ms"] = "deliver p50",
        ["deliver_p95_ms"] = "deliver p95",
        ["deliver_p99_ms"] = "deliver p99",
        ["deliver_p999_ms"] = "deliver p99.9",
        ["deliver_max_ms"] = "deliver max",
        ["late_deliveries"] = "late",
        ["load_generator_cpu_cores"] = "generator CPU (cores)",
        ["publishers"] = "publishers",
        ["other_cpu_cores"] = "other CPU (cores)",
        ["send_lag_p99_ms"] = "send lag p99",
        [Cpu] = "CPU µs/event",
        [Correctness] = "gaps/dup/ooo/ack≠",
        [Storage] = "storage per event",
    };
}
