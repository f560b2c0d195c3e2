namespace StreamingEvents.Bench.Load;

/// <summary>The outcome of one open-loop run: latencies of the measured window, counts, correctness and server figures.</summary>
internal sealed record LoadResult(
    LoadShape Shape,
    LatencyHistogram Ack,
    LatencyHistogram Deliver,
    long Offered,
    long LateAcks,
    long LateDeliveries,
    long PublishErrors,
    long SubscriberFailures,
    long SetupTimeouts,
    CorrectnessCounters Correctness,
    WindowMeasurement Window,
    double MeasureSeconds,
    long DeliveredBytes,
    List<string> Errors,
    List<LatencySummary> AckBySecond,
    List<LatencySummary> DeliverBySecond,
    int StreamsOpened,
    LatencySummary SendLag)
{
    /// <summary>Events acknowledged within the drain bound, per second of window.</summary>
    public double AchievedRate => (Ack.Count - LateAcks) / MeasureSeconds;

    public double DeliveredRate => (Deliver.Count - LateDeliveries) / MeasureSeconds;

    /// <summary>The figures reported for this run (latencies in ms, rates per second).</summary>
    public Dictionary<string, double> Figures()
    {
        var figures = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["offered_rate"] = Offered / MeasureSeconds,
            ["achieved_rate"] = AchievedRate,
            ["achieved_mb_per_s"] = AchievedRate * Shape.PayloadBytes / 1e6,
            ["delivered_rate"] = DeliveredRate,
            ["delivered_mb_per_s"] = DeliveredBytes / MeasureSeconds / 1e6,
            ["late_acks"] = LateAcks,
            ["late_deliveries"] = LateDeliveries,
            ["publish_errors"] = PublishErrors,
            ["subscriber_failures"] = SubscriberFailures,
            ["setup_timeouts"] = SetupTimeouts,
            ["streams_opened"] = StreamsOpened,
            ["gaps"] = Correctness.Gaps,
            ["duplicates"] = Correctness.Duplicates,
            ["out_of_order"] = Correctness.OutOfOrder,
            ["ack_mismatches"] = Correctness.AckMismatches,
        };
        AddLatency(figures, "ack", Ack.Summarize());
        AddLatency(figures, "deliver", Deliver.Summarize());
        figures["send_lag_p99_ms"] = SendLag.P99;
        figures["send_lag_max_ms"] = SendLag.Max;
        Window.AddFigures(figures, Ack.Count - LateAcks);
        return figures;
    }

    public static void AddLatency(IDictionary<string, double> figures, string prefix, LatencySummary summary)
    {
        figures[$"{prefix}_p50_ms"] = summary.P50;
        figures[$"{prefix}_p95_ms"] = summary.P95;
        figures[$"{prefix}_p99_ms"] = summary.P99;
        figures[$"{prefix}_p999_ms"] = summary.P999;
        figures[$"{prefix}_max_ms"] = summary.Max;
        figures[$"{prefix}_count"] = summary.Count;
    }
}
